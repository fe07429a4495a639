// The HTTP side of `mtown serve`: health probes (with real and dead backing services),
// Prometheus metrics, routing errors, keep-alive and oversized requests.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <functional>
#include <optional>
#include <sstream>
#include <thread>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "test_server.hpp"
#include "ws_client.hpp"

using namespace mtown::test;
namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;

namespace {

// A required service URL; the test fails (never skips) when the harness did not set it.
std::string required_env(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) FAIL(name << " is not set: start the services (tests/services.sh start DIR && source DIR/env)");
  return v;
}

// The value of one series, e.g. `mtown_rooms{game="party"}`; nullopt when absent.
std::optional<double> metric(const std::string& text, const std::string& series) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  return std::nullopt;
}

std::string metrics_text(int port) {
  const auto res = http_get(port, "/metrics");
  REQUIRE(res.status == 200);
  return res.body;
}

// Polls /health/ready until `done(body)` holds (or 5 s pass); returns the last answer.
HttpResult ready_when(int port, const std::function<bool(const json&)>& done) {
  HttpResult last;
  wait_until(
      [&] {
        last = http_get(port, "/health/ready");
        return done(last.body_json());
      },
      5s);
  INFO(last.body);
  return last;
}

bool contains(const json& array, const std::string& value) {
  return std::find(array.begin(), array.end(), value) != array.end();
}

}  // namespace

TEST_CASE("/health/live answers 200 alive", "[http][health]") {
  TestServer server({"--database", "none"});
  const auto res = http_get(server.port(), "/health/live");
  CHECK(res.status == 200);
  CHECK(res.content_type == "application/json");
  CHECK(res.body_json()["status"] == "alive");
}

TEST_CASE("/health/live stays 200 while the database and redis are down", "[http][health]") {
  TestServer server({"--redis", "redis://127.0.0.1:1", "--database", "postgres://mtown@127.0.0.1:1/mtown"});
  // Let the first (failing) probe finish: liveness must not depend on it.
  ready_when(server.port(), [](const json& b) { return b["checks"]["redis"].value("error", "").rfind("redis:", 0) == 0; });
  const auto res = http_get(server.port(), "/health/live");
  CHECK(res.status == 200);
  CHECK(res.body_json()["status"] == "alive");
}

TEST_CASE("/health/ready with --database none is ready at once", "[http][health]") {
  TestServer server({"--database", "none"});
  const auto res = http_get(server.port(), "/health/ready");
  INFO(res.body);
  CHECK(res.status == 200);
  CHECK(res.body_json()["status"] == "ready");
  CHECK_FALSE(res.body_json().contains("failed"));
}

TEST_CASE("/health/ready checks the default SQLite database in the working directory", "[http][health]") {
  TestServer server;
  const auto res = ready_when(server.port(), [](const json& b) { return b["checks"]["database"]["ok"] == true; });
  CHECK(res.status == 200);
  const auto body = res.body_json();
  CHECK(body["status"] == "ready");
  CHECK(body["checks"]["database"]["ok"] == true);
}

TEST_CASE("/health/ready with real redis and PostgreSQL reports both ok", "[http][health][services]") {
  const auto redis = required_env("MTOWN_TEST_REDIS_URL");
  const auto pg = required_env("MTOWN_TEST_PG_URL");
  TestServer server({"--redis", redis, "--database", pg});
  const auto res = ready_when(server.port(), [](const json& b) {
    return b["checks"]["redis"]["ok"] == true && b["checks"]["database"]["ok"] == true;
  });
  CHECK(res.status == 200);
  const auto body = res.body_json();
  CHECK(body["status"] == "ready");
  CHECK(body["checks"]["redis"]["ok"] == true);
  CHECK(body["checks"]["database"]["ok"] == true);
  CHECK_FALSE(body.contains("failed"));
}

TEST_CASE("/health/ready is 503 naming redis when redis is down", "[http][health]") {
  TestServer server({"--database", "none", "--redis", "redis://127.0.0.1:1"});
  const auto res =
      ready_when(server.port(), [](const json& b) { return b["checks"]["redis"].value("error", "").rfind("redis:", 0) == 0; });
  CHECK(res.status == 503);
  const auto body = res.body_json();
  CHECK(body["status"] == "not_ready");
  CHECK(contains(body["failed"], "redis"));
  CHECK(body["checks"]["redis"]["ok"] == false);
  CHECK(body["checks"]["redis"]["error"].get<std::string>().size() > std::string("redis: ").size());
}

TEST_CASE("/health/ready is 503 naming the database when PostgreSQL is down, without the password",
          "[http][health]") {
  const std::string secret = "pw-s3cret-Zq9";
  TestServer server({"--database", "postgres://mtown:" + secret + "@127.0.0.1:1/mtown"});
  const auto res = ready_when(server.port(), [](const json& b) {
    return b["checks"]["database"].value("error", "").rfind("postgres:", 0) == 0;
  });
  CHECK(res.status == 503);
  const auto body = res.body_json();
  CHECK(contains(body["failed"], "database"));
  CHECK(body["checks"]["database"]["ok"] == false);
  CHECK(body["checks"]["database"]["error"].get<std::string>().size() > std::string("postgres: ").size());
  CHECK(res.body.find(secret) == std::string::npos);
  CHECK(server.log().find(secret) == std::string::npos);
}

TEST_CASE("/metrics exposes every family and counts a client's session exactly", "[http][metrics]") {
  TestServer server({"--database", "none"});
  const auto res = http_get(server.port(), "/metrics");
  REQUIRE(res.status == 200);
  CHECK(res.content_type.rfind("text/plain", 0) == 0);
  for (const char* needle :
       {"# TYPE mtown_ws_connections gauge", "mtown_rooms{game=\"arena\"} 0", "mtown_messages_in_total{",
        "mtown_bytes_out_total{", "mtown_errors_total{", "mtown_send_queue_bytes ", "mtown_tick_duration_seconds_bucket{",
        "process_resident_memory_bytes "}) {
    INFO(needle);
    CHECK(res.body.find(needle) != std::string::npos);
  }
  CHECK(metric(res.body, "mtown_ws_connections") == 0.0);
  CHECK(metric(res.body, "process_resident_memory_bytes").value_or(0) > 0);

  {
    WsClient a(server.port());
    a.send({{"type", "create_room"}, {"game", "party"}, {"name", "Ada"}});
    a.expect("room_joined");
    a.expect("room_state");
    a.send({{"type", "chat"}, {"text", "hello metrics"}});
    a.expect("chat");

    const auto text = metrics_text(server.port());
    INFO(text);
    CHECK(metric(text, "mtown_ws_connections") == 1.0);
    CHECK(metric(text, "mtown_ws_connections_total") == 1.0);
    CHECK(metric(text, "mtown_messages_in_total{type=\"create_room\"}") == 1.0);
    CHECK(metric(text, "mtown_messages_in_total{type=\"chat\"}") == 1.0);
    CHECK(metric(text, "mtown_messages_in_total{type=\"join_room\"}") == 0.0);
    CHECK(metric(text, "mtown_rooms{game=\"party\"}") == 1.0);
    CHECK(metric(text, "mtown_rooms{game=\"arena\"}") == 0.0);
    CHECK(metric(text, "mtown_messages_out_total{type=\"welcome\"}") == 1.0);
    CHECK(metric(text, "mtown_messages_out_total{type=\"room_joined\"}") == 1.0);
    CHECK(metric(text, "mtown_messages_out_total{type=\"chat\"}") == 1.0);
    CHECK(metric(text, "mtown_bytes_out_total{type=\"welcome\"}").value_or(0) > 0);
    a.close();
  }
  CHECK(wait_until([&] { return metric(metrics_text(server.port()), "mtown_ws_connections") == 0.0; }, 3s));
}

TEST_CASE("HTTP routing: index, 404, 405 and bad parameters", "[http]") {
  TestServer server({"--database", "none"});
  SECTION("GET / describes the server") {
    const auto res = http_get(server.port(), "/");
    REQUIRE(res.status == 200);
    const auto body = res.body_json();
    CHECK(body["name"] == "mtown");
    CHECK(body["version"] == "0.1.0");
    CHECK(body["websocket"] == "/ws");
    CHECK(contains(body["subprotocols"], "mtown.v1.json"));
    CHECK(contains(body["games"], "arena"));
    CHECK(contains(body["games"], "party"));
    CHECK(contains(body["endpoints"], "/metrics"));
  }
  SECTION("an unknown path is 404 NOT_FOUND") {
    const auto res = http_get(server.port(), "/no/such/thing");
    CHECK(res.status == 404);
    CHECK(res.content_type == "application/json");
    CHECK(res.body_json()["code"] == "NOT_FOUND");
  }
  SECTION("POST /metrics is 405") {
    const auto res = http_request(server.port(), "POST", "/metrics", "x=1");
    CHECK(res.status == 405);
    CHECK(res.content_type == "application/json");
    CHECK(res.body_json()["code"] == "METHOD_NOT_ALLOWED");
  }
  SECTION("/api/rooms refuses an unknown parameter") {
    const auto res = http_get(server.port(), "/api/rooms?colour=red");
    CHECK(res.status == 400);
    CHECK(res.body_json()["code"] == "BAD_REQUEST");
    CHECK(http_get(server.port(), "/api/rooms?has_space=maybe").status == 400);
    const auto ok = http_get(server.port(), "/api/rooms?game=party&has_space=true");
    CHECK(ok.status == 200);
    CHECK(ok.body_json()["rooms"].is_array());
  }
}

TEST_CASE("HTTP keep-alive answers two requests on one connection", "[http]") {
  TestServer server({"--database", "none"});
  net::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.expires_after(5s);
  stream.connect({net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(server.port())});
  beast::flat_buffer buffer;
  for (const char* target : {"/health/live", "/api/rooms"}) {
    http::request<http::empty_body> req{http::verb::get, target, 11};
    req.set(http::field::host, "127.0.0.1");
    req.keep_alive(true);
    http::write(stream, req);
    http::response<http::string_body> res;
    http::read(stream, buffer, res);
    INFO(target);
    CHECK(res.result_int() == 200);
    CHECK(res.keep_alive());
  }
}

TEST_CASE("a 100 KB request body is refused and the server keeps serving", "[http]") {
  TestServer server({"--database", "none"});
  {
    net::io_context ioc;
    beast::tcp_stream stream(ioc);
    stream.expires_after(5s);
    stream.connect({net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(server.port())});
    http::request<http::string_body> req{http::verb::post, "/api/rooms", 11};
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::content_type, "application/json");
    req.body() = std::string(100 * 1024, 'x');
    req.prepare_payload();
    beast::error_code ec;
    http::write(stream, req, ec);  // may fail: the server may answer and close before reading it all
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(stream, buffer, res, ec);
    if (!ec) {
      CHECK(res.result_int() == 413);
      CHECK(json::parse(res.body())["code"] == "TOO_LARGE");
      CHECK_FALSE(res.keep_alive());
    } else {
      INFO(ec.message());
      CHECK(ec != beast::error::timeout);  // closed, not left hanging
    }
  }
  CHECK(http_get(server.port(), "/health/live").status == 200);
}
