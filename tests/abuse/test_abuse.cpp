// Abuse cases against the real binary, each with its expected outcome; after each, the
// server still serves a bystander and the room list is unchanged (check_unharmed).
#include <functional>
#include <thread>

#include <catch2/catch.hpp>

#include "abuse_support.hpp"

using namespace mtown::test;

namespace {

json rooms_now(int port) { return http_get(port, "/api/rooms").body_json(); }

// Sends `n` messages without reading, then reads until the server closes; returns the
// close code and counts the replies by type and error code.
int flood(WsClient& c, const json& msg, int n, std::map<std::string, int>& seen, json& first_limited) {
  for (int i = 0; i < n; ++i) c.send(msg);
  for (;;) {
    std::optional<json> m;
    try {
      m = c.try_recv(5s);
    } catch (const std::exception& e) {  // "connection closed by the server with code N (reason)"
      const std::string what = e.what();
      const auto at = what.find("with code ");
      return at == std::string::npos ? -1 : std::stoi(what.substr(at + 10));
    }
    if (!m) return 0;
    const std::string key = (*m)["type"] == "error" ? (*m)["code"].get<std::string>() : (*m)["type"].get<std::string>();
    if (key == "RATE_LIMITED" && first_limited.is_null()) first_limited = *m;
    ++seen[key];
  }
}

}  // namespace

TEST_CASE("abuse: malformed messages get an error and change nothing", "[abuse]") {
  Scene scene;
  auto& b = scene.bystander;
  WsClient bad(scene.port());
  SECTION("invalid JSON") {
    bad.send_text("{\"type\": \"chat\", ");
    CHECK(bad.expect("error")["code"] == "BAD_JSON");
  }
  SECTION("a deeply nested document") {
    bad.send_text(std::string(5000, '[') + std::string(5000, ']'));
    CHECK(bad.expect("error")["code"] == "BAD_JSON");
    bad.send_text(R"({"type":"ping","rid":)" + std::string(20, '[') + std::string(20, ']') + "}");
    CHECK(bad.expect("error")["code"] == "BAD_JSON");
  }
  SECTION("an unknown type") {
    bad.send({{"type", "become_admin"}});
    const auto e = bad.expect("error");
    CHECK(e["code"] == "UNKNOWN_TYPE");
    CHECK(e["field"] == "/type");
  }
  SECTION("wrong types") {
    bad.send({{"type", "create_room"}, {"game", 7}, {"name", "x"}});
    CHECK(bad.expect("error")["field"] == "/game");
    bad.send({{"type", "chat"}, {"text", json::array()}});
    CHECK(bad.expect("error")["code"] == "BAD_MESSAGE");
    bad.send({{"type", "join_room"}, {"code", b.code}, {"name", "x"}, {"admin", true}});
    CHECK(bad.expect("error")["code"] == "BAD_MESSAGE");
  }
  SECTION("out-of-range values") {
    bad.send({{"type", "create_room"}, {"game", "arena"}, {"name", "x"}, {"max_players", 99}});
    CHECK(bad.expect("error")["field"] == "/max_players");
    bad.send({{"type", "create_room"}, {"game", "arena"}, {"name", std::string(33, 'n')}});
    CHECK(bad.expect("error")["field"] == "/name");
    bad.send({{"type", "join_room"}, {"code", "O0I1"}, {"name", "x"}});
    CHECK(bad.expect("error")["field"] == "/code");
    bad.send({{"type", "add_ai"}, {"difficulty", "godlike"}});
    CHECK(bad.expect("error")["field"] == "/difficulty");
  }
  SECTION("MessagePack with a string that is not UTF-8") {
    WsClient mp(scene.port(), {.subprotocol = "mtown.v1.msgpack"});
    // {"type": "chat", "text": "\xff"}
    mp.send_binary(std::string("\x82\xa4type\xa4" "chat\xa4text\xa1\xff", 18));
    CHECK(mp.expect("error")["code"] == "BAD_JSON");
  }
  // The connection survives every refusal.
  bad.send({{"type", "ping"}});
  bad.expect("pong");
  scene.check();
}

TEST_CASE("abuse: an oversized frame closes with 1009", "[abuse]") {
  Scene scene({"--set", "limits.max_frame_bytes=1024"});
  WsClient big(scene.port());
  big.send_text(R"({"type":"chat","text":")" + std::string(2000, 'x') + "\"}");
  CHECK(big.wait_closed(5s) == 1009);
  scene.check();
}

TEST_CASE("abuse: a message flood is rate limited, then disconnected with 4029", "[abuse]") {
  Scene scene({"--set", "limits.messages_per_s=50", "--set", "limits.abuse_strikes=10"});
  WsClient flooder(scene.port());
  std::map<std::string, int> seen;
  json limited;
  const int code = flood(flooder, {{"type", "ping"}}, 400, seen, limited);
  INFO(json(seen).dump());
  CHECK(code == 4029);
  CHECK(seen["pong"] >= 100);  // the burst (2 s worth) went through
  CHECK(seen["RATE_LIMITED"] >= 10);
  REQUIRE(limited.is_object());
  CHECK(limited["retry_after_ms"].get<int>() >= 1);
  CHECK(limited["retry_after_ms"].get<int>() <= 20);  // one message at 50/s
  CHECK(metric(scene.port(), "mtown_ws_closed_total{reason=\"rate_limited\"}") == 1.0);
  scene.check();
}

TEST_CASE("abuse: chat and room creation have per-player rates", "[abuse]") {
  Scene scene;
  auto& b = scene.bystander;
  WsClient c(scene.port());
  SECTION("chat: 10 per minute") {
    c.send({{"type", "join_room"}, {"code", b.code}, {"name", "Chatty"}});
    c.expect("room_joined");
    c.expect("room_state");
    b.client.expect("player_joined");
    b.client.expect("room_state");
    for (int i = 0; i < 10; ++i) c.send({{"type", "chat"}, {"text", "hi " + std::to_string(i)}});
    for (int i = 0; i < 10; ++i) CHECK(b.client.expect("chat")["text"] == "hi " + std::to_string(i));
    c.send({{"type", "chat"}, {"text", "one too many"}, {"rid", "c11"}});
    json e;
    int echoes = 0;
    while (echoes < 10 || e.is_null()) {  // its own echoes and the refusal, in either order
      const auto m = c.recv();
      if (m["type"] == "chat") ++echoes;
      else e = m;
    }
    CHECK(e["code"] == "RATE_LIMITED");
    CHECK(e["rid"] == "c11");
    CHECK(e["retry_after_ms"].get<int>() > 5000);  // a token every 6 s
    CHECK(e["retry_after_ms"].get<int>() <= 6000);
    CHECK_FALSE(b.client.try_recv(200ms).has_value());  // never broadcast
    c.send({{"type", "leave_room"}});
    c.recv_until("room_left");
    b.client.expect("player_left");
    b.client.expect("room_state");
  }
  SECTION("create_room: 5 per minute") {
    for (int i = 0; i < 5; ++i) {
      c.send({{"type", "create_room"}, {"game", "party"}, {"name", "Maker"}, {"public", false}});
      c.expect("room_joined");
      c.expect("room_state");
      c.send({{"type", "leave_room"}});
      c.expect("room_left");
    }
    const auto before = rooms_now(scene.port());
    c.send({{"type", "create_room"}, {"game", "party"}, {"name", "Maker"}});
    CHECK(c.expect("error")["code"] == "RATE_LIMITED");
    CHECK(rooms_now(scene.port()) == before);
  }
  scene.rooms_before = rooms_now(scene.port());  // the private rooms made above are not listed
  scene.check();
}

TEST_CASE("abuse: inputs have a per-player burst and rate", "[abuse]") {
  Scene scene({"--set", "limits.input_burst=3", "--set", "limits.input_per_s=2"});
  WsClient c(scene.port());
  const auto input = [&](int seq) {
    c.send({{"type", "input"}, {"input_seq", seq}, {"data", {{"action", "attack"}}}});
    return c.expect("error");
  };
  // The rate is checked before the room: outside one, an admitted input is NOT_IN_ROOM.
  for (int seq = 1; seq <= 3; ++seq) CHECK(input(seq)["code"] == "NOT_IN_ROOM");
  const auto limited = input(4);
  CHECK(limited["code"] == "RATE_LIMITED");
  CHECK(limited["input_seq"] == 4);
  CHECK(limited["retry_after_ms"].get<int>() > 0);
  CHECK(limited["retry_after_ms"].get<int>() <= 500);  // 2 a second
  std::this_thread::sleep_for(std::chrono::milliseconds(limited["retry_after_ms"].get<int>() + 50));
  CHECK(input(5)["code"] == "NOT_IN_ROOM");
  CHECK(input(6)["code"] == "RATE_LIMITED");  // one token came back, one was spent
  // Another player's bucket is their own.
  WsClient other(scene.port());
  other.send({{"type", "input"}, {"input_seq", 1}, {"data", {{"action", "attack"}}}});
  CHECK(other.expect("error")["code"] == "NOT_IN_ROOM");
  scene.check();
}

// Inside a running arena game an input as clients write it takes the server's fast path
// (core/input_frame.hpp); one with a rid takes the decoder. Both are limited alike.
TEST_CASE("abuse: inputs in a running arena game are limited on the fast path too", "[abuse]") {
  Scene scene({"--set", "limits.input_burst=3", "--set", "limits.input_per_s=2"});
  WsClient c(scene.port());
  c.send({{"type", "create_room"}, {"game", "arena"}, {"name", "Solo"}, {"ai_fill", "easy"}, {"max_players", 2}, {"public", false}});
  c.recv_until("room_joined");
  c.send({{"type", "start_game"}});
  c.recv_until("game_started");
  for (int seq = 1; seq <= 3; ++seq)  // the burst: accepted, and acknowledged in state
    c.send({{"type", "input"}, {"input_seq", seq}, {"data", {{"action", "move"}, {"x", 500}, {"y", 500}}}});
  bool acked = false;
  for (int i = 0; i < 180 && !acked; ++i) {
    const auto state = c.recv_until("state");
    for (const auto& ack : state["acks"]) acked = acked || ack == 3;
  }
  CHECK(acked);
  c.send({{"type", "input"}, {"input_seq", 4}, {"data", {{"action", "move"}, {"x", 1}, {"y", 1}}}});
  const auto limited = c.recv_until("error");
  CHECK(limited["code"] == "RATE_LIMITED");
  CHECK(limited.value("input_seq", json()) == 4);
  CHECK_FALSE(limited.contains("rid"));
  c.send({{"type", "input"}, {"input_seq", 5}, {"rid", "r5"}, {"data", {{"action", "move"}, {"x", 1}, {"y", 1}}}});
  const auto limited_with_rid = c.recv_until("error");
  CHECK(limited_with_rid["code"] == "RATE_LIMITED");
  CHECK(limited_with_rid.value("input_seq", json()) == 5);
  CHECK(limited_with_rid.value("rid", json()) == "r5");
  scene.check();
}

TEST_CASE("abuse: room-code guessing is stopped per address", "[abuse]") {
  Scene scene({"--set", "limits.join_misses_per_min=10"});
  auto& b = scene.bystander;
  // Valid codes that are not open: the bystander's is the only room.
  const auto guess = [&](int i) {
    std::string code = "23A";
    code += "BCDEFGHJKLMNPQRSTUVWXYZ23456789"[i];
    return code == b.code ? std::string("ZZZZ") : code;
  };
  WsClient first(scene.port());
  for (int i = 0; i < 10; ++i) {
    first.send({{"type", "join_room"}, {"code", guess(i)}, {"name", "Guesser"}});
    REQUIRE(first.expect("error")["code"] == "ROOM_NOT_FOUND");
  }
  first.send({{"type", "join_room"}, {"code", guess(10)}, {"name", "Guesser"}});
  CHECK(first.expect("error")["code"] == "RATE_LIMITED");
  // A fresh connection (a new anonymous player) from the same address is refused even the
  // right code: past the limit a guess teaches nothing, hit or miss.
  WsClient second(scene.port());
  second.send({{"type", "join_room"}, {"code", b.code}, {"name", "Guesser"}});
  const auto e = second.expect("error");
  CHECK(e["code"] == "RATE_LIMITED");
  CHECK(e["retry_after_ms"].get<int>() > 0);
  CHECK(e["retry_after_ms"].get<int>() <= 6000);
  CHECK_FALSE(b.client.try_recv(200ms).has_value());
  // check_unharmed's newcomer joins from the same address: wait for one token.
  std::this_thread::sleep_for(std::chrono::milliseconds(e["retry_after_ms"].get<int>() + 100));
  scene.check();
}

TEST_CASE("abuse: a slow handshake is cut at limits.handshake_timeout_ms", "[abuse]") {
  Scene scene({"--set", "limits.handshake_timeout_ms=1000"});
  RawSocket slow(scene.port());
  const auto start = Clock::now();
  REQUIRE(slow.write("GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\n"));
  // Dribbles a header line every 200 ms: the whole request must arrive in time, not each byte.
  bool closed = false;
  while (!closed && Clock::now() - start < 8s) {
    slow.write("X-Slow: 1\r\n");
    closed = slow.wait_closed(200ms);
  }
  const auto took = Clock::now() - start;
  CHECK(closed);
  CHECK(took >= 900ms);
  CHECK(took < 6s);
  scene.check();
}

TEST_CASE("abuse: a half-open connection is closed at session.heartbeat_timeout_ms", "[abuse]") {
  Scene scene({"--set", "session.heartbeat_interval_ms=1000", "--set", "session.heartbeat_timeout_ms=2000"});
  // The bystander reads throughout (reading answers the server's pings): silent for the
  // 2 s timeout while this test waits on something else, it would be cut too. It must
  // receive nothing.
  const auto bystander_hears_nothing = [&] { CHECK_FALSE(scene.bystander.client.try_recv(50ms).has_value()); };
  RawSocket silent(scene.port());
  REQUIRE(silent.write(upgrade_request("/ws")));
  REQUIRE(silent.read_until("\r\n\r\n", 5s).rfind("HTTP/1.1 101", 0) == 0);
  CHECK(wait_until([&] {
    bystander_hears_nothing();
    return metric(scene.port(), "mtown_ws_connections") == 2.0;
  }, 2s));
  // It never answers the server's ping: gone after the idle timeout.
  const auto start = Clock::now();
  bool closed = false;
  while (!closed && Clock::now() - start < 10s) {
    closed = silent.wait_closed(100ms);
    CHECK_FALSE(scene.bystander.client.try_recv(100ms).has_value());
  }
  CHECK(closed);
  CHECK(Clock::now() - start >= 1500ms);
  CHECK(wait_until([&] {
    bystander_hears_nothing();
    return metric(scene.port(), "mtown_ws_connections") == 1.0;
  }, 2s));
  scene.check();
}

TEST_CASE("abuse: connections per address and the Origin allow-list", "[abuse]") {
  Scene scene({"--set", "limits.max_connections_per_ip=4", "--set",
               "limits.allowed_origins=https://good.example, https://also.example"});
  {
    WsClient second(scene.port()), third(scene.port()), fourth(scene.port());
    const auto refused = try_upgrade(scene.port(), "/ws");
    CHECK(refused.status == 503);
    CHECK(refused.body["code"] == "TOO_MANY_CONNECTIONS");
  }
  // Slots are released on close (asynchronously: retry briefly).
  int status = 0;
  for (int i = 0; i < 50 && status != 101; ++i) {
    status = try_upgrade(scene.port(), "/ws").status;
    if (status != 101) std::this_thread::sleep_for(20ms);
  }
  CHECK(status == 101);
  const auto evil = try_upgrade(scene.port(), "/ws", {"Origin: https://evil.example"});
  CHECK(evil.status == 403);
  CHECK(evil.body["code"] == "ORIGIN_NOT_ALLOWED");
  CHECK(try_upgrade(scene.port(), "/ws", {"Origin: https://also.example"}).status == 101);
  scene.check();
}
