// TLS on the serve port (tls.cert_file, tls.key_file): wss and https with a self-signed
// certificate made by the test, a plain client refused without harm to others, a client
// silent in the TLS handshake cut at the handshake timeout, and the startup errors for a
// half-set config and for files that are not a certificate.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <stdlib.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include "test_server.hpp"
#include "ws_client.hpp"

using namespace mtown::test;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

namespace {

// A self-signed certificate for 127.0.0.1 in a temp dir, made once per test run.
struct CertFiles {
  std::string dir, cert, key;
  CertFiles() {
    char tmpl[] = "/tmp/mtown-tls-XXXXXX";
    if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
    dir = tmpl;
    cert = dir + "/cert.pem";
    key = dir + "/key.pem";
    const std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -days 1 -keyout " + key +
                            " -out " + cert + " 2>" + dir + "/openssl.err";
    if (std::system(cmd.c_str()) != 0) throw std::runtime_error("openssl req failed: " + cmd);
  }
  ~CertFiles() {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
  std::vector<std::string> serve_args() const { return {"--set", "tls.cert_file=" + cert, "--set", "tls.key_file=" + key}; }
};

const CertFiles& certs() {
  static const CertFiles files;
  return files;
}

// Trusts only the test's certificate, so a handshake proves the server presents it.
struct ClientTls {
  ssl::context ctx{ssl::context::tls_client};
  ClientTls() {
    ctx.load_verify_file(certs().cert);
    ctx.set_verify_mode(ssl::verify_peer);
  }
};

// Runs the asynchronous step `start` begins to completion; every step is bounded by the
// stream's 10 s deadline.
template <class Start>
beast::error_code await(net::io_context& ioc, beast::tcp_stream& tcp_layer, Start start) {
  beast::error_code result = net::error::would_block;
  tcp_layer.expires_after(std::chrono::seconds(10));
  start([&result](beast::error_code ec, auto&&...) { result = ec; });
  ioc.restart();
  ioc.run();
  return result;
}

// A minimal wss client speaking mtown.v1.json.
class WssClient {
 public:
  explicit WssClient(int port) {
    auto& tcp_layer = beast::get_lowest_layer(ws_);
    const tcp::endpoint ep(net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port));
    REQUIRE_FALSE(await(ioc_, tcp_layer, [&](auto h) { tcp_layer.async_connect(ep, h); }));
    REQUIRE_FALSE(await(ioc_, tcp_layer, [&](auto h) { ws_.next_layer().async_handshake(ssl::stream_base::client, h); }));
    ws_.set_option(websocket::stream_base::decorator(
        [](websocket::request_type& req) { req.set(http::field::sec_websocket_protocol, "mtown.v1.json"); }));
    const auto host = "127.0.0.1:" + std::to_string(port);
    REQUIRE_FALSE(await(ioc_, tcp_layer, [&](auto h) { ws_.async_handshake(host, "/ws", h); }));
  }
  void send(const json& msg) {
    const auto text = msg.dump();
    REQUIRE_FALSE(await(ioc_, beast::get_lowest_layer(ws_), [&](auto h) { ws_.async_write(net::buffer(text), h); }));
  }
  json recv() {
    beast::flat_buffer buffer;
    REQUIRE_FALSE(await(ioc_, beast::get_lowest_layer(ws_), [&](auto h) { ws_.async_read(buffer, h); }));
    auto msg = json::parse(beast::buffers_to_string(buffer.data()));
    check_server_message(msg);
    return msg;
  }
  void close() {
    await(ioc_, beast::get_lowest_layer(ws_), [&](auto h) { ws_.async_close(websocket::close_code::normal, h); });
  }

 private:
  net::io_context ioc_;
  ClientTls tls_;
  websocket::stream<beast::ssl_stream<beast::tcp_stream>> ws_{ioc_, tls_.ctx};
};

HttpResult https_get(int port, const std::string& target) {
  net::io_context ioc;
  ClientTls tls;
  beast::ssl_stream<beast::tcp_stream> stream(ioc, tls.ctx);
  auto& tcp_layer = beast::get_lowest_layer(stream);
  const tcp::endpoint ep(net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port));
  REQUIRE_FALSE(await(ioc, tcp_layer, [&](auto h) { tcp_layer.async_connect(ep, h); }));
  REQUIRE_FALSE(await(ioc, tcp_layer, [&](auto h) { stream.async_handshake(ssl::stream_base::client, h); }));
  http::request<http::empty_body> req(http::verb::get, target, 11);
  req.set(http::field::host, "127.0.0.1");
  REQUIRE_FALSE(await(ioc, tcp_layer, [&](auto h) { http::async_write(stream, req, h); }));
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  REQUIRE_FALSE(await(ioc, tcp_layer, [&](auto h) { http::async_read(stream, buffer, res, h); }));
  return {static_cast<int>(res.result_int()), std::string(res[http::field::content_type]), res.body()};
}

// `mtown serve` with these TLS files (an empty one is left unset), as a process that is
// expected to exit at startup.
auto serve_tls(const std::string& cert, const std::string& key) {
  std::vector<std::string> args{"serve", "--port", "0", "--dev", "--database", "none"};
  if (!cert.empty()) args.insert(args.end(), {"--set", "tls.cert_file=" + cert});
  if (!key.empty()) args.insert(args.end(), {"--set", "tls.key_file=" + key});
  return run_mtown(args);
}

}  // namespace

TEST_CASE("under TLS one io thread opens no io_uring for reads: TLS connections read through OpenSSL", "[tls]") {
  auto args = certs().serve_args();
  args.insert(args.end(), {"--threads", "1"});
  TestServer server(args);
  CHECK(server.log().find("\"reads\":\"epoll\"") != std::string::npos);
  WssClient a(server.port());
  CHECK(a.recv().at("type") == "welcome");
}

TEST_CASE("wss and https on the TLS port; a plain client is refused and the server keeps serving", "[tls]") {
  TestServer server(certs().serve_args());
  CHECK(server.log().find("\"wss://") != std::string::npos);

  WssClient a(server.port());
  CHECK(a.recv().at("type") == "welcome");
  a.send({{"type", "create_room"}, {"game", "party"}, {"name", "Ada"}, {"rid", 1}});
  const auto joined = a.recv();
  CHECK(joined.at("type") == "room_joined");
  CHECK(joined.at("rid") == 1);
  CHECK(a.recv().at("type") == "room_state");

  const auto live = https_get(server.port(), "/health/live");
  CHECK(live.status == 200);

  // ws:// to the TLS port: the TLS handshake fails on the HTTP request and the server hangs up.
  CHECK_THROWS(WsClient(server.port()));

  WssClient b(server.port());
  CHECK(b.recv().at("type") == "welcome");
  b.send({{"type", "join_room"}, {"code", joined.at("room").at("code")}, {"name", "Bo"}, {"rid", 2}});
  CHECK(b.recv().at("type") == "room_joined");
  CHECK(a.recv().at("type") == "player_joined");  // Ada sees Bo arrive
  CHECK(a.recv().at("type") == "room_state");
  a.close();
  b.close();
  CHECK(server.running());
  CHECK(server.stop() == 0);
}

TEST_CASE("a client silent in the TLS handshake is cut at limits.handshake_timeout_ms and blocks no one", "[tls]") {
  auto args = certs().serve_args();
  args.insert(args.end(), {"--set", "limits.handshake_timeout_ms=1000"});
  TestServer server(args);
  net::io_context ioc;
  beast::tcp_stream silent(ioc);
  const tcp::endpoint ep(net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(server.port()));
  const auto connected_at = std::chrono::steady_clock::now();
  REQUIRE_FALSE(await(ioc, silent, [&](auto h) { silent.async_connect(ep, h); }));

  // Meanwhile every other client is served.
  CHECK(https_get(server.port(), "/health/live").status == 200);
  WssClient other(server.port());
  CHECK(other.recv().at("type") == "welcome");

  char byte = 0;
  const auto ec = await(ioc, silent, [&](auto h) { silent.async_read_some(net::buffer(&byte, 1), h); });
  const auto after = std::chrono::steady_clock::now() - connected_at;
  CHECK((ec == net::error::eof || ec == net::error::connection_reset));
  CHECK(after >= std::chrono::milliseconds(900));
  CHECK(after < std::chrono::seconds(5));
  other.close();
  CHECK(server.stop() == 0);
}

TEST_CASE("a TLS config with one file of the pair exits 2 naming the missing key", "[tls]") {
  const auto r = serve_tls(certs().cert, "");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("tls.key_file") != std::string::npos);
}

TEST_CASE("a certificate file that cannot be read or is not PEM fails at start naming the file", "[tls]") {
  const std::string garbage = certs().dir + "/garbage.pem";
  std::ofstream(garbage) << "not a certificate\n";
  auto r = serve_tls(garbage, certs().key);
  CHECK(r.exit_code == 2);
  CHECK(r.err.find(garbage) != std::string::npos);
  CHECK(r.err.find("listening") == std::string::npos);

  const std::string missing = certs().dir + "/missing.pem";
  r = serve_tls(certs().cert, missing);
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("cannot read " + missing) != std::string::npos);

  // A key file that holds no private key.
  r = serve_tls(certs().cert, garbage);
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("tls.key_file") != std::string::npos);
}
