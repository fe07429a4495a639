// Hostile and malformed input: every case gets its documented error (or close code), the
// connection stays usable, nothing changes, and the server keeps serving others.
#include <catch2/catch.hpp>

#include <optional>
#include <sstream>
#include <string>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include "test_server.hpp"
#include "ws_client.hpp"

using namespace mtown::test;

namespace {

namespace beast = boost::beast;
namespace http = beast::http;

// Chat is not rate limited here: check_unharmed chats after every case (tests/abuse covers limits).
std::vector<std::string> serve_args(const std::vector<std::string>& sets = {}) {
  std::vector<std::string> args{"--database", "none", "--set", "server.shutdown_timeout_ms=500", "--set",
                                "limits.chat_per_min=0"};
  for (const auto& s : sets) args.insert(args.end(), {"--set", s});
  return args;
}

// A WebSocket upgrade request sent by hand, so a refusal's status and body can be read.
HttpResult raw_upgrade(int port, const std::string& target, const std::string& protocols) {
  boost::asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.expires_after(std::chrono::seconds(5));
  stream.connect({boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)});
  http::request<http::empty_body> req{http::verb::get, target, 11};
  req.set(http::field::host, "127.0.0.1");
  req.set(http::field::upgrade, "websocket");
  req.set(http::field::connection, "Upgrade");
  req.set(http::field::sec_websocket_key, "dGhlIHNhbXBsZSBub25jZQ==");
  req.set(http::field::sec_websocket_version, "13");
  if (!protocols.empty()) req.set(http::field::sec_websocket_protocol, protocols);
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res);
  return {static_cast<int>(res.result_int()), std::string(res[http::field::content_type]), res.body()};
}

WsClient::Options offering(const std::string& subprotocol, const std::string& target = "/ws") {
  WsClient::Options o;
  o.subprotocol = subprotocol;
  o.target = target;
  return o;
}

// Nothing is queued for `c`, and it stays usable: a ping's pong is the very next message.
void expect_quiet(WsClient& c) {
  c.send({{"type", "ping"}, {"rid", "quiet"}});
  CHECK(c.expect("pong")["rid"] == "quiet");
}

// A full 2-player room (host, member) and a loner in no room.
struct Fixture {
  TestServer server;
  WsClient host, member, loner;
  std::string code;

  explicit Fixture(const std::vector<std::string>& sets = {})
      : server(serve_args(sets)), host(server.port()), member(server.port()), loner(server.port()) {
    host.send({{"type", "create_room"}, {"game", "party"}, {"name", "host"}, {"max_players", 2}});
    code = host.expect("room_joined")["room"]["code"].get<std::string>();
    host.expect("room_state");
    member.send({{"type", "join_room"}, {"code", code}, {"name", "member"}});
    member.expect("room_joined");
    member.expect("room_state");
    host.expect("player_joined");
    host.expect("room_state");
  }

  // `sender` still works, the room and the loner are as before, a new client is served.
  void check_unharmed(WsClient& sender) {
    sender.send({{"type", "ping"}, {"rid", "after"}});
    CHECK(sender.expect("pong")["rid"] == "after");
    expect_quiet(host);
    member.send({{"type", "chat"}, {"text", "still here"}});
    CHECK(host.expect("chat")["from"] == member.player_id());
    CHECK(member.expect("chat")["code"] == code);
    loner.send({{"type", "leave_room"}});
    CHECK(loner.expect("error")["code"] == "NOT_IN_ROOM");
    WsClient fresh(server.port());
    fresh.send({{"type", "ping"}});
    fresh.expect("pong");
  }

  // Sends `text` from `sender`; the reply must be exactly one error of `code` (with `field`
  // and `rid` when given, and no rid otherwise); then nothing may have changed.
  void expect_refused(WsClient& sender, const std::string& text, const std::string& error_code,
                      const std::optional<std::string>& field = std::nullopt, const json& rid = nullptr) {
    INFO("sent: " << text.substr(0, 120));
    sender.send_text(text);
    const auto err = sender.expect("error");
    CHECK(err["code"] == error_code);
    if (field) CHECK(err.value("field", "<none>") == *field);
    if (rid.is_null()) CHECK_FALSE(err.contains("rid"));
    else CHECK(err["rid"] == rid);
    check_unharmed(sender);
  }
};

}  // namespace

TEST_CASE("frames that are not a JSON object are BAD_JSON and counted in /metrics", "[bad_input]") {
  Fixture f;
  const std::vector<std::string> bad{
      "{", "hello", "", "[1,2,3]", "[]", "\"just a string\"", "42", "null", "true",
      R"({"type":"ping",})", R"({"type":"ping"} trailing)",
      std::string(5000, '[') + std::string(5000, ']'),
      R"({"type":"ping","x":)" + std::string(100, '[') + std::string(100, ']') + "}",
      R"({"type":"chat","text":"\ud800"})",  // an escaped lone surrogate is not Unicode
      R"({"type":"chat","text":"\u00"})"};
  for (const auto& text : bad) f.expect_refused(f.member, text, "BAD_JSON");

  // Brackets inside strings are text, not nesting.
  const std::string brackets = std::string("\\\"") + std::string(100, '[');
  f.member.send_text(R"({"type":"chat","text":")" + brackets + "\"}");
  CHECK(f.member.expect("chat")["text"] == "\"" + std::string(100, '['));
  f.host.expect("chat");

  const auto metrics = http_get(f.server.port(), "/metrics");
  REQUIRE(metrics.status == 200);
  // A fresh server: exactly the BAD_JSON errors sent here.
  CHECK(metric_value(metrics.body, R"(mtown_errors_total{code="BAD_JSON"})") == static_cast<double>(bad.size()));
  CHECK(f.server.running());
}

TEST_CASE("raw invalid UTF-8 in a text frame fails the connection with 1007 (RFC 6455)", "[bad_input]") {
  Fixture f;
  f.member.send_text("{\"type\":\"chat\",\"text\":\"a\xff\xfe\"}");
  CHECK(f.member.wait_closed() == 1007);
  // The seat waits out its grace (session.seat_grace_s) for a resume.
  CHECK(f.host.expect("player_disconnected")["player_id"] == f.member.player_id());
  f.host.expect("room_state");
  WsClient fresh(f.server.port());
  fresh.send({{"type", "ping"}});
  fresh.expect("pong");
}

TEST_CASE("a bad or missing type is UNKNOWN_TYPE or BAD_MESSAGE /type", "[bad_input]") {
  Fixture f;
  f.expect_refused(f.member, R"({"type":"dance","rid":"r1"})", "UNKNOWN_TYPE", std::nullopt, "r1");
  f.expect_refused(f.member, R"({"type":"dance","rid":3})", "UNKNOWN_TYPE", std::nullopt, 3);
  f.expect_refused(f.member, R"({"type":"dance"})", "UNKNOWN_TYPE");
  f.expect_refused(f.member, R"({"rid":5})", "BAD_MESSAGE", "/type", 5);
  f.expect_refused(f.member, R"({})", "BAD_MESSAGE", "/type");
  f.expect_refused(f.member, R"({"type":7,"rid":"x"})", "BAD_MESSAGE", "/type", "x");
  f.expect_refused(f.member, R"({"type":null})", "BAD_MESSAGE", "/type");
}

TEST_CASE("missing, mistyped, out-of-range and unknown fields are BAD_MESSAGE naming the field", "[bad_input]") {
  Fixture f;
  const std::string n32(32, 'n'), n33(33, 'n');
  std::string e33;
  for (int i = 0; i < 33; ++i) e33 += "\u00e9";
  struct Case {
    std::string text;
    std::string field;
  };
  const std::vector<Case> create_join{
      {R"({"type":"create_room","game":"party"})", "/name"},
      {R"({"type":"create_room","name":"a"})", "/game"},
      {R"({"type":"create_room","game":"party","name":"a","max_players":"8"})", "/max_players"},
      {R"({"type":"create_room","game":"party","name":"a","max_players":9})", "/max_players"},
      {R"({"type":"create_room","game":"party","name":"a","max_players":1})", "/max_players"},
      {R"({"type":"create_room","game":"party","name":"a","max_players":0})", "/max_players"},
      {R"({"type":"create_room","game":"party","name":"a","max_players":2.5})", "/max_players"},
      {R"({"type":"create_room","game":"party","name":"a","public":"yes"})", "/public"},
      {R"({"type":"create_room","game":1,"name":"a"})", "/game"},
      {R"({"type":"create_room","game":"party","name":5})", "/name"},
      {R"({"type":"create_room","game":"party","name":""})", "/name"},
      {R"({"type":"create_room","game":"party","name":")" + n33 + "\"}", "/name"},
      {R"({"type":"create_room","game":"party","name":")" + e33 + "\"}", "/name"},
      {R"({"type":"create_room","game":"party","name":"\u0001\u0002"})", "/name"},
      {R"({"type":"create_room","game":"party","name":"a","max_player":4})", "/max_player"},
      {R"({"type":"join_room","name":"a"})", "/code"},
      {R"({"type":"join_room","code":"ABCD"})", "/name"},
      {R"({"type":"join_room","code":1234,"name":"a"})", "/code"},
      {R"({"type":"join_room","code":"ABC","name":"a"})", "/code"},
      {R"({"type":"join_room","code":"ABCDE","name":"a"})", "/code"},
      {R"({"type":"join_room","code":"AB0O","name":"a"})", "/code"},
      {R"({"type":"join_room","code":"ab1i","name":"a"})", "/code"},
      {R"({"type":"join_room","code":"","name":"a"})", "/code"},
      {R"({"type":"join_room","code":"ABCD","name":")" + n33 + "\"}", "/name"},
  };
  for (const auto& c : create_join) f.expect_refused(f.loner, c.text, "BAD_MESSAGE", c.field);

  const std::vector<Case> in_room{
      {R"({"type":"chat"})", "/text"},
      {R"({"type":"chat","text":5})", "/text"},
      {R"({"type":"chat","text":""})", "/text"},
      {R"({"type":"chat","text":")" + std::string(501, 'x') + "\"}", "/text"},
      {R"({"type":"chat","text":"hi","txt":"hi"})", "/txt"},
      {R"({"type":"ping","extra":1})", "/extra"},
      {R"({"type":"leave_room","now":true})", "/now"},
      {R"({"type":"list_rooms","has_space":"true"})", "/has_space"},
      {R"({"type":"list_rooms","game":7})", "/game"},
      {R"({"type":"ping","rid":true})", "/rid"},
      {R"({"type":"ping","rid":1.5})", "/rid"},
      {R"({"type":"ping","rid":""})", "/rid"},
      {R"({"type":"ping","rid":")" + std::string(65, 'r') + "\"}", "/rid"},  // a malformed rid is not echoed
  };
  for (const auto& c : in_room) f.expect_refused(f.member, c.text, "BAD_MESSAGE", c.field);
  // A valid rid is echoed even when another field is bad.
  f.expect_refused(f.member, R"({"type":"chat","text":"","rid":"keep"})", "BAD_MESSAGE", "/text", "keep");

  // The boundaries themselves are accepted.
  std::string e32, rid64(64, 'r');
  for (int i = 0; i < 32; ++i) e32 += "\u00e9";
  for (const auto& name : {n32, e32}) {
    f.loner.send({{"type", "create_room"}, {"game", "arena"}, {"name", name}, {"rid", rid64}});
    const auto joined = f.loner.expect("room_joined");
    CHECK(joined["rid"] == rid64);
    CHECK(joined["room"]["players"][0]["name"] == name);
    f.loner.expect("room_state");
    f.loner.send({{"type", "leave_room"}});
    f.loner.expect("room_left");
  }
}

TEST_CASE("unknown game, unknown room and full room are refused without joining", "[bad_input]") {
  Fixture f;
  f.expect_refused(f.loner, R"({"type":"create_room","game":"chess","name":"a","rid":"g"})", "UNKNOWN_GAME", std::nullopt, "g");
  const std::string other = f.code == "ZZZZ" ? "YYYY" : "ZZZZ";
  f.expect_refused(f.loner, R"({"type":"join_room","code":")" + other + R"(","name":"a","rid":1})", "ROOM_NOT_FOUND",
                   std::nullopt, 1);
  f.expect_refused(f.loner, R"({"type":"join_room","code":")" + f.code + R"(","name":"a","rid":2})", "ROOM_FULL",
                   std::nullopt, 2);
}

TEST_CASE("errors are checked message first, then connection state, then room", "[bad_input]") {
  Fixture f;
  const std::string other = f.code == "ZZZZ" ? "YYYY" : "ZZZZ";
  f.expect_refused(f.member, R"({"type":"create_room","game":"chess","name":"a","rid":1})", "UNKNOWN_GAME", std::nullopt, 1);
  f.expect_refused(f.member, R"({"type":"create_room","game":"party","name":"\u0001"})", "BAD_MESSAGE", "/name");
  f.expect_refused(f.member, R"({"type":"join_room","code":")" + other + R"(","name":"a"})", "ALREADY_IN_ROOM");
  f.expect_refused(f.member, R"({"type":"join_room","code":")" + f.code + R"(","name":"a"})", "ALREADY_IN_ROOM");
  f.expect_refused(f.loner, R"({"type":"chat","text":"\u0001 ","rid":"e"})", "BAD_MESSAGE", "/text", "e");
  f.expect_refused(f.loner, R"({"type":"chat","text":"hi","rid":"n"})", "NOT_IN_ROOM", std::nullopt, "n");
}

TEST_CASE("a binary frame is UNSUPPORTED_FRAME and the connection stays open", "[bad_input]") {
  Fixture f;
  for (const auto& data : {std::string(R"({"type":"ping","rid":1})"), std::string(), std::string("\x00\x01\x02", 3)}) {
    f.member.send_binary(data);
    CHECK(f.member.expect("error")["code"] == "UNSUPPORTED_FRAME");
    f.check_unharmed(f.member);
  }
}

TEST_CASE("a frame over limits.max_frame_bytes closes with 1009; the server keeps serving", "[bad_input]") {
  Fixture f({"limits.max_frame_bytes=1024"});
  REQUIRE(f.member.welcome()["limits"]["max_frame_bytes"] == 1024);
  // Exactly 1024 bytes is allowed: 23 + 999 + 2.
  std::string text = "a";
  for (int i = 0; i < 499; ++i) text += "\u00e9";
  const std::string at_limit = R"({"type":"chat","text":")" + text + "\"}";
  REQUIRE(at_limit.size() == 1024);
  f.member.send_text(at_limit);
  f.member.expect("chat");
  f.host.expect("chat");

  f.member.send_text(at_limit + " ");
  CHECK(f.member.wait_closed() == 1009);
  CHECK(f.host.expect("player_disconnected")["player_id"] == f.member.player_id());
  f.host.expect("room_state");

  WsClient big(f.server.port());
  big.send_text(R"({"type":"chat","text":")" + std::string(1990, 'x') + "\"}");
  CHECK(big.wait_closed() == 1009);
  // Megabytes in one message, sent as fast as the socket takes them: still the close
  // handshake, not a reset (a server reading through io_uring stops taking bytes past its
  // bound and lets TCP hold the rest: ring_inbox.hpp).
  WsClient huge(f.server.port());
  huge.send_text(R"({"type":"chat","text":")" + std::string(8 << 20, 'x') + "\"}");
  CHECK(huge.wait_closed() == 1009);
  expect_quiet(f.host);
  WsClient fresh(f.server.port());
  fresh.send({{"type", "ping"}});
  fresh.expect("pong");
  CHECK(f.server.running());
}

TEST_CASE("handshakes: unknown subprotocol and wrong path are refused; none offered works", "[bad_input][handshake]") {
  TestServer server(serve_args());
  const int port = server.port();
  CHECK_THROWS(WsClient(port, offering("foo")));
  const auto refused = raw_upgrade(port, "/ws", "foo");
  CHECK(refused.status == 400);
  CHECK(refused.body_json()["code"] == "UNSUPPORTED_SUBPROTOCOL");

  CHECK_THROWS(WsClient(port, offering("mtown.v1.json", "/nope")));
  const auto wrong_path = raw_upgrade(port, "/nope", "mtown.v1.json");
  CHECK(wrong_path.status == 404);
  CHECK(wrong_path.body_json().contains("code"));

  const auto plain = http_get(port, "/ws");  // no upgrade headers
  CHECK(plain.status >= 400);
  CHECK(plain.status < 500);
  CHECK(plain.body_json().contains("code"));
  CHECK(http_get(port, "/health/live").status == 200);

  WsClient among(port, offering("foo, mtown.v1.json"));
  CHECK(among.negotiated_subprotocol() == "mtown.v1.json");

  WsClient none(port, offering(""));
  CHECK(none.welcome()["protocol"] == "mtown.v1.json");
  none.send({{"type", "create_room"}, {"game", "party"}, {"name", "plain"}, {"rid", 1}});
  CHECK(none.expect("room_joined")["rid"] == 1);
  none.expect("room_state");
  none.send({{"type", "chat"}, {"text", "works"}});
  CHECK(none.expect("chat")["text"] == "works");
  CHECK(server.running());
}
