// Session resume over real sockets: replay after a killed connection, snapshot fallback,
// seat grace, takeover of a half-open connection, heartbeats, and 50 clients at once.
// WsClient checks every message's schema and that seq goes on exactly across connections.
#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "test_server.hpp"
#include "ws_client.hpp"

using namespace mtown::test;

namespace {

using Clients = std::vector<std::unique_ptr<WsClient>>;
using Clock = std::chrono::steady_clock;

std::vector<std::string> serve_args(const std::vector<std::string>& sets = {}) {
  // The tests chat more than the default 10 a minute to mark points in the stream.
  std::vector<std::string> args{"--database", "none", "--set", "server.shutdown_timeout_ms=500",
                                "--set", "limits.chat_per_min=600"};
  for (const auto& s : sets) args.insert(args.end(), {"--set", s});
  return args;
}

std::string create(WsClient& c, const std::string& game = "party", json extra = json::object()) {
  json msg{{"type", "create_room"}, {"game", game}, {"name", "host"}};
  msg.update(extra);
  c.send(msg);
  const std::string code = c.expect("room_joined")["room"]["code"];
  c.expect("room_state");
  return code;
}

void join(WsClient& c, const std::string& code, const std::vector<WsClient*>& members) {
  c.send({{"type", "join_room"}, {"code", code}, {"name", "guest"}});
  c.expect("room_joined");
  c.expect("room_state");
  for (auto* m : members) {
    m->expect("player_joined");
    m->expect("room_state");
  }
}

bool connected_in(const json& room_state, const std::string& player_id) {
  for (const auto& p : room_state["room"]["players"])
    if (p["id"] == player_id) return p["connected"];
  FAIL("player " << player_id << " is not in the room");
  return false;
}

// Resumes `old`'s session; returns the messages before `resumed` (the replay) and `resumed`.
std::unique_ptr<WsClient> resume(int port, const WsClient& old, std::vector<json>& replay, json& resumed) {
  auto c = std::make_unique<WsClient>(port, WsClient::resume_options(old));
  for (auto msg = c->recv(); ; msg = c->recv()) {
    if (msg["type"] == "resumed") {
      resumed = msg;
      return c;
    }
    replay.push_back(msg);
  }
}

// Reads `c` until a message of `type`, keeping every message read in `seen`.
json record_until(WsClient& c, std::vector<json>& seen, const std::string& type) {
  do seen.push_back(c.recv(10s));
  while (seen.back()["type"] != type);
  return seen.back();
}

// A stream's chats and states as comparable keys, read up to and including chat `until`.
std::vector<std::string> stream_keys(WsClient& c, std::vector<json>& seen, const std::string& until) {
  while (record_until(c, seen, "chat")["text"] != until) {
  }
  std::vector<std::string> keys;
  for (const auto& m : seen) {
    if (m["type"] == "chat") keys.push_back("chat " + m["text"].get<std::string>());
    if (m["type"] == "state") keys.push_back("state " + std::to_string(m["tick"].get<std::uint64_t>()));
  }
  return keys;
}

double metric(int port, const std::string& series) { return metric_value(http_get(port, "/metrics").body, series); }

}  // namespace

TEST_CASE("a client killed mid-game resumes after 1 s with every missed message exactly once, in order", "[resume]") {
  TestServer server(serve_args());
  WsClient a(server.port()), b(server.port());
  const auto code = create(a);
  join(b, code, {&a});
  a.send({{"type", "add_ai"}});
  a.send({{"type", "start_game"}});
  a.recv_until("game_started");
  b.recv_until("game_started");
  std::vector<json> seen_a, seen_b;  // everything after game_started
  a.send({{"type", "chat"}, {"text", "before"}});
  record_until(a, seen_a, "chat");
  record_until(b, seen_b, "chat");

  b.kill();  // no close frame: as if the process died
  CHECK(record_until(a, seen_a, "player_disconnected")["player_id"] == b.player_id());
  CHECK_FALSE(connected_in(record_until(a, seen_a, "room_state"), b.player_id()));
  for (int i = 0; i < 10; ++i) a.send({{"type", "chat"}, {"text", "missed " + std::to_string(i)}});
  std::this_thread::sleep_for(1s);

  std::vector<json> replay;
  json resumed;
  auto b2 = resume(server.port(), b, replay, resumed);
  CHECK(resumed["snapshot"] == false);
  CHECK(resumed["replayed"] == replay.size());
  CHECK(resumed["code"] == code);
  CHECK(resumed["player_id"] == b.player_id());
  CHECK(resumed["session_id"] == b.welcome()["session_id"]);
  REQUIRE(replay.size() >= 10);
  CHECK(replay.front()["seq"] == b.last_seq() + 1);
  CHECK(record_until(a, seen_a, "player_reconnected")["player_id"] == b.player_id());
  CHECK(connected_in(record_until(a, seen_a, "room_state"), b.player_id()));

  a.send({{"type", "chat"}, {"text", "after"}});
  // B's whole stream (before the kill, replay, live) shows the room's chats and states exactly
  // as A saw them: none lost, none twice, same order.
  for (auto& m : replay) seen_b.push_back(m);
  const auto keys_b = stream_keys(*b2, seen_b, "after");
  const auto keys_a = stream_keys(a, seen_a, "after");
  CHECK(keys_b == keys_a);
  CHECK(std::count(keys_b.begin(), keys_b.end(), "chat missed 9") == 1);
  CHECK(metric(server.port(), R"(mtown_sessions_resumed_total{outcome="replayed"})") == 1);
}

TEST_CASE("a resume whose gap the buffer no longer holds gets a fresh snapshot", "[resume]") {
  SECTION("more messages than the buffer keeps (arena at 60 Hz, 2 s away)") {
    TestServer server(serve_args({"session.resume_buffer_messages=20"}));
    WsClient a(server.port());
    create(a, "arena", {{"max_players", 2}});
    a.send({{"type", "add_ai"}});
    a.send({{"type", "start_game"}});
    a.recv_until("game_started");
    a.expect("room_state");
    a.expect("state");
    a.drop();
    std::this_thread::sleep_for(2s);
    std::vector<json> replay;
    json resumed;
    auto a2 = resume(server.port(), a, replay, resumed);
    CHECK(replay.empty());
    CHECK(resumed["snapshot"] == true);
    CHECK(resumed["replayed"] == 0);
    CHECK(resumed["seq"].get<std::uint64_t>() > a.last_seq() + 20);
    // Deltas may come before the snapshot (older ticks, to be ignored); after it, every tick.
    a2->recv_until("room_state");
    const auto snap = a2->recv_until("game_started");
    REQUIRE(snap.contains("tick"));
    CHECK(snap["snapshot"]["players"].size() == 2);
    CHECK(snap["snapshot"]["tick"] == snap["tick"]);
    auto tick = snap["tick"].get<std::uint64_t>();
    for (int i = 0; i < 10; ++i) CHECK(a2->expect("state")["tick"] == ++tick);
    CHECK(metric(server.port(), R"(mtown_sessions_resumed_total{outcome="snapshot"})") == 1);
  }
  SECTION("messages older than resume_buffer_ms") {
    TestServer server(serve_args({"session.resume_buffer_ms=200"}));
    WsClient a(server.port()), b(server.port());
    const auto code = create(a);
    join(b, code, {&a});
    b.drop();
    a.recv_until("player_disconnected");
    a.send({{"type", "chat"}, {"text", "too old by the time b is back"}});
    std::this_thread::sleep_for(700ms);
    std::vector<json> replay;
    json resumed;
    auto b2 = resume(server.port(), b, replay, resumed);
    CHECK(resumed["snapshot"] == true);
    const auto state = b2->recv_until("room_state");
    CHECK(state["room"]["code"] == code);
    CHECK(state["room"]["players"].size() == 2);
  }
}

TEST_CASE("after the grace period the seat is released and the token is dead", "[resume]") {
  TestServer server(serve_args({"session.seat_grace_s=1"}));
  WsClient a(server.port()), b(server.port());
  const auto code = create(a);
  join(b, code, {&a});
  CHECK(b.welcome()["session"]["seat_grace_s"] == 1);
  b.drop();
  CHECK(a.expect("player_disconnected")["player_id"] == b.player_id());
  const auto away = a.expect("room_state");
  CHECK(away["room"]["players"].size() == 2);
  CHECK_FALSE(connected_in(away, b.player_id()));
  const auto left = a.expect("player_left", 5s);  // about 1 s later
  CHECK(left["player_id"] == b.player_id());
  CHECK(left["reason"] == "disconnected");
  CHECK(a.expect("room_state")["room"]["players"].size() == 1);
  CHECK(metric(server.port(), "mtown_seats_released_total") == 1);

  WsClient late(server.port(), WsClient::resume_options(b));
  const auto welcome = late.expect("welcome");
  CHECK(welcome["resume_refused"]["code"] == "RESUME_FAILED");
  CHECK(welcome["player_id"] != b.player_id());
  late.send({{"type", "chat"}, {"text", "hello?"}});
  CHECK(late.expect("error")["code"] == "NOT_IN_ROOM");

  SECTION("a malformed last_seq or an unknown token is refused the same way") {
    for (const auto& target : {"/ws?resume=" + a.resume_token() + "&last_seq=x", std::string("/ws?resume=r_00&last_seq=1")}) {
      WsClient::Options o;
      o.target = target;
      WsClient c(server.port(), o);
      CHECK(c.welcome()["resume_refused"]["code"] == "RESUME_FAILED");
      CHECK(c.player_id() != a.player_id());
    }
    CHECK(metric(server.port(), "mtown_resumes_refused_total") == 3);
  }
}

TEST_CASE("a resume while the old connection looks alive takes the session over at once", "[resume]") {
  TestServer server(serve_args());
  WsClient a(server.port()), b(server.port());
  const auto code = create(a);
  join(b, code, {&a});
  a.send({{"type", "chat"}, {"text", "unread by b"}});
  a.expect("chat");
  // b's socket stays open and silent, as after a network drop the server has not noticed.
  const auto started = Clock::now();
  std::vector<json> replay;
  json resumed;
  auto b2 = resume(server.port(), b, replay, resumed);
  CHECK(Clock::now() - started < 2s);
  REQUIRE(replay.size() == 1);
  CHECK(replay[0]["text"] == "unread by b");
  CHECK(resumed["replayed"] == 1);
  CHECK(resumed["snapshot"] == false);
  // The stale connection is closed; its unread message was the last it had.
  CHECK(b.recv()["text"] == "unread by b");
  const int close_code = b.wait_closed();
  CHECK((close_code == 4009 || close_code == -1));
  // The room never saw the seat go: no player_disconnected, no player_reconnected.
  b2->send({{"type", "chat"}, {"text", "still here"}});
  const auto chat = a.expect("chat");
  CHECK(chat["from"] == b.player_id());
  CHECK(b2->expect("chat")["text"] == "still here");
  CHECK(metric(server.port(), R"(mtown_ws_closed_total{reason="superseded"})") == 1);
}

TEST_CASE("heartbeats cut a silent connection; a reading one stays; the cut one resumes", "[resume][heartbeat]") {
  TestServer server(serve_args({"session.heartbeat_interval_ms=500", "session.heartbeat_timeout_ms=1500"}));
  WsClient a(server.port()), b(server.port());
  const auto code = create(a);
  const auto started = Clock::now();  // b's last frame to the server comes after this
  join(b, code, {&a});
  // b never reads, so it never answers the server's pings; a keeps reading (and answering).
  CHECK(a.expect("player_disconnected", 10s)["player_id"] == b.player_id());
  CHECK(Clock::now() - started >= 1500ms);
  a.expect("room_state");
  CHECK_FALSE(a.try_recv(1500ms).has_value());  // a, reading all along, is not cut
  CHECK(metric(server.port(), R"(mtown_ws_closed_total{reason="heartbeat_timeout"})") == 1);

  std::vector<json> replay;
  json resumed;
  auto b2 = resume(server.port(), b, replay, resumed);
  CHECK(resumed["snapshot"] == false);
  CHECK(a.expect("player_reconnected")["player_id"] == b.player_id());
}

TEST_CASE("50 clients drop at once and all resume without a gap or a duplicate", "[resume][load]") {
  // A long window: the subject is concurrency, and 50 resumes take a while under sanitizers.
  TestServer server(serve_args({"session.resume_buffer_ms=60000"}));
  constexpr int kRooms = 10, kPerRoom = 5;
  std::vector<Clients> rooms(kRooms);
  for (auto& room : rooms) {
    room.push_back(std::make_unique<WsClient>(server.port()));
    const auto code = create(*room[0]);
    for (int i = 1; i < kPerRoom; ++i) {
      auto c = std::make_unique<WsClient>(server.port());
      std::vector<WsClient*> members;
      for (auto& m : room) members.push_back(m.get());
      join(*c, code, members);
      room.push_back(std::move(c));
    }
  }
  for (auto& room : rooms)
    for (auto& c : room) c->kill();
  std::this_thread::sleep_for(1s);

  std::vector<Clients> back(kRooms);
  for (int r = 0; r < kRooms; ++r)
    for (auto& old : rooms[r]) back[r].push_back(std::make_unique<WsClient>(server.port(), WsClient::resume_options(*old)));
  for (int r = 0; r < kRooms; ++r) {
    for (auto& c : back[r]) {
      std::uint64_t before = 0;
      auto msg = c->recv();
      for (; msg["type"] != "resumed"; msg = c->recv()) ++before;
      CHECK(msg["snapshot"] == false);
      CHECK(msg["replayed"] == before);
    }
    back[r][0]->send({{"type", "chat"}, {"text", "all back"}});
    for (auto& c : back[r]) CHECK(c->recv_until("chat", 10s)["text"] == "all back");
  }
  CHECK(metric(server.port(), R"(mtown_sessions_resumed_total{outcome="replayed"})") == kRooms * kPerRoom);
  CHECK(metric(server.port(), "mtown_seats_released_total") == 0);
  CHECK(metric(server.port(), "mtown_sessions") == kRooms * kPerRoom);
}
