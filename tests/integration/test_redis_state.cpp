// `mtown serve --redis`: live room state in a redis-server of the test's own, read back
// with hiredis, redis-cli and `mtown inspect`; Redis killed mid-game; dead nodes' keys.
#include <catch2/catch.hpp>

#include <cstdio>

#include "game_helpers.hpp"
#include "redis_helpers.hpp"

using namespace mtown::test;
using namespace mtown::test::games;

namespace {

const std::vector<std::string> kNames{"Ann", "Ben", "Cat", "Dan", "Eve", "Fay", "Gus", "Hal"};

std::vector<std::string> redis_args(const RedisProcess& redis, const std::string& node, int key_ttl_s = 60) {
  auto args = serve_args();
  args.insert(args.end(), {"--redis", redis.url(), "--set", "redis.node_id=" + node, "--set",
                           "redis.key_ttl_s=" + std::to_string(key_ttl_s)});
  return args;
}

json inspect_json(const RedisProcess& redis, std::vector<std::string> args) {
  args.insert(args.begin(), "inspect");
  args.insert(args.end(), {"--redis", redis.url(), "--json"});
  const auto r = run_mtown(args);
  INFO("mtown " << args[1] << ": exit " << r.exit_code << ", stderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  return json::parse(r.out);
}

std::vector<std::string> codes_of(const json& rooms_model) {
  std::vector<std::string> out;
  for (const auto& r : rooms_model["rooms"]) out.push_back(r["code"]);
  return out;
}

// `redis-cli HGETALL key` as a map: the tool an operator would compare against.
std::map<std::string, std::string> redis_cli_hgetall(int port, const std::string& key) {
  const std::string cmd = "redis-cli -h 127.0.0.1 -p " + std::to_string(port) + " --no-raw HGETALL " + key + " 2>&1";
  std::FILE* pipe = ::popen(cmd.c_str(), "r");
  REQUIRE(pipe);
  std::vector<std::string> lines;
  char buf[65536];
  while (std::fgets(buf, sizeof buf, pipe)) {
    std::string line(buf);
    if (!line.empty() && line.back() == '\n') line.pop_back();
    // --no-raw prints `1) "value"` with C escapes; values here hold JSON, so unescape \" and \\.
    const auto open = line.find('"');
    REQUIRE(open != std::string::npos);
    std::string value;
    for (std::size_t i = open + 1; i + 1 < line.size(); ++i) {
      if (line[i] == '\\' && i + 2 < line.size()) ++i;
      value += line[i];
    }
    lines.push_back(value);
  }
  ::pclose(pipe);
  std::map<std::string, std::string> out;
  for (std::size_t i = 0; i + 1 < lines.size(); i += 2) out[lines[i]] = lines[i + 1];
  return out;
}

std::vector<PartyBot> make_bots(Clients& clients) {
  std::vector<PartyBot> bots(clients.size());
  for (std::size_t i = 0; i < clients.size(); ++i) {
    bots[i].c = clients[i].get();
    bots[i].name = kNames[i];
  }
  return bots;
}

std::vector<PartyBot*> bot_ptrs(std::vector<PartyBot>& bots) {
  std::vector<PartyBot*> out;
  for (auto& b : bots) out.push_back(&b);
  return out;
}

}  // namespace

TEST_CASE("a real game in Redis: rooms, the room hash, 8 votes at once, close from inspect", "[redis][inspect]") {
  RedisProcess redis;
  RedisLook look(redis_at(redis.port()));
  TestServer server(redis_args(redis, "node-a"));
  Clients clients;
  for (int i = 0; i < 8; ++i) clients.push_back(std::make_unique<WsClient>(server.port()));
  const auto code = create_room(*clients[0], "party", kNames[0], {{"max_players", 8}});
  for (std::size_t i = 1; i < 8; ++i) join_room(*clients[i], code, kNames[i], ptrs(clients, i));
  WsClient arena_client(server.port());
  const auto arena = create_room(arena_client, "arena", "Solo", {{"max_players", 4}});

  // `rooms` lists exactly the open rooms.
  auto expected = std::vector<std::string>{code, arena};
  std::sort(expected.begin(), expected.end());
  eventually([&] { return look.smembers("rooms:active") == expected; }, 5s, "both rooms in rooms:active");
  auto rooms = inspect_json(redis, {"rooms"});
  CHECK(codes_of(rooms) == expected);
  CHECK(rooms["total"] == 2);
  CHECK(rooms["players"] == 9);
  for (const auto& r : rooms["rooms"]) {
    CHECK(r["node"] == "node-a");
    CHECK(r["phase"] == "lobby");
    CHECK(r["ttl_s"].get<int>() > 50);
  }
  CHECK(codes_of(inspect_json(redis, {"rooms", "--game", "arena"})) == std::vector<std::string>{arena});

  // A round where all 8 vote at once; nobody moves on from the results (no host bot).
  std::vector<PartyBot> bots = make_bots(clients);
  for (auto& b : bots) b.play_until_round = 1;
  clients[0]->send({{"type", "start_game"},
                    {"options", {{"rounds", 8}, {"question_ms", 30000}, {"elimination_ms", 30000}, {"voting_ms", 30000}, {"results_ms", 30000}}}});
  run_until(bot_ptrs(bots), [&] {
    return std::all_of(bots.begin(), bots.end(), [](const PartyBot& b) { return b.phase() == "results"; });
  }, 60s, "round 1 results at every client");

  const auto votes = [&](const char* kind) {
    std::map<std::string, std::string> want;
    for (const auto& b : bots) want[b.c->player_id()] = (std::string(kind) == "elimination" ? b.elimination_votes : b.final_votes).at(1);
    return want;
  };
  eventually([&] { return look.hgetall("room:" + code)["phase"] == "results"; }, 5s, "phase results in room:" + code);
  // Each vote is one HSET field: 8 concurrent votes, 8 fields, each the vote the game took.
  CHECK(look.hgetall("votes:elimination:" + code) == votes("elimination"));
  CHECK(look.hgetall("votes:final:" + code) == votes("final"));
  // And they add up to the game's own count.
  std::map<std::string, int> counted;
  for (const auto& [player, answer] : look.hgetall("votes:elimination:" + code)) ++counted[answer];
  const json& elimination = bots[0].round_snapshots.at(0)["elimination"];
  for (const auto& [id, n] : elimination["counts"].items()) CHECK(counted[id] == n.get<int>());

  // `inspect room` shows what HGETALL shows, with players, snapshot and votes.
  const auto hash = look.hgetall("room:" + code);
  CHECK(redis_cli_hgetall(redis.port(), "room:" + code) == hash);
  const auto room = inspect_json(redis, {"room", code});
  CHECK(room["fields"].get<std::map<std::string, std::string>>() == hash);
  CHECK(room["room"]["phase"] == "results");
  CHECK(room["room"]["round"] == 1);
  CHECK(room["room"]["status"] == "active");
  CHECK(room["room"]["host"] == clients[0]->player_id());
  REQUIRE(room["players"].size() == 8);
  for (std::size_t i = 0; i < 8; ++i) {
    CHECK(room["players"][i]["id"] == clients[i]->player_id());
    CHECK(room["players"][i]["connected"] == true);
    CHECK(room["players"][i]["last_activity_ms"].is_number());
  }
  CHECK(room["snapshot"]["phase"] == "results");
  CHECK(room["snapshot"] == bots[0].snapshot);
  CHECK(room["votes"]["elimination"].get<std::map<std::string, std::string>>() == votes("elimination"));
  const auto text = run_mtown({"inspect", "room", code, "--redis", redis.url()});
  REQUIRE(text.exit_code == 0);
  for (const auto& [field, value] : hash) CHECK(text.out.find(field) != std::string::npos);
  CHECK(text.out.find("votes:elimination (8)") != std::string::npos);

  const auto players = inspect_json(redis, {"players", "--room", code});
  CHECK(players["total"] == 8);
  CHECK(players["connected"] == 8);
  const auto nodes = inspect_json(redis, {"nodes"});
  REQUIRE(nodes["total"] == 1);
  CHECK(nodes["nodes"][0]["id"] == "node-a");
  CHECK(nodes["nodes"][0]["address"] == "127.0.0.1:" + std::to_string(server.port()));
  CHECK(nodes["nodes"][0]["rooms"] == 2);

  // The one write: close the arena room through its server.
  const auto closed = run_mtown({"inspect", "room", arena, "--close", "--yes", "--redis", redis.url(), "--json"});
  INFO(closed.err);
  REQUIRE(closed.exit_code == 0);
  CHECK(json::parse(closed.out)["closed"] == true);
  CHECK(arena_client.recv_until("room_closed")["reason"] == "closed_by_operator");
  eventually([&] { return look.smembers("rooms:active") == std::vector<std::string>{code}; }, 5s, "arena room gone");
  CHECK_FALSE(look.exists("room:" + arena));

  // A graceful stop removes the node's rooms, index entries and node key.
  CHECK(server.stop() == 0);
  CHECK(look.smembers("rooms:active").empty());
  CHECK_FALSE(look.exists("room:" + code));
  CHECK_FALSE(look.exists("votes:elimination:" + code));
  CHECK_FALSE(look.exists("node:node-a"));
}

// room:{code}'s players[] entry of `id` (its `connected`, as the server wrote it).
json listed_player(RedisLook& look, const std::string& code, const std::string& id) {
  for (const auto& p : json::parse(look.hgetall("room:" + code)["players"]))
    if (p["id"] == id) return p;
  FAIL("player " << id << " is not listed in room:" << code);
  return {};
}

TEST_CASE("Redis shows a seat in its grace, rate-limit counters and the pub/sub events", "[redis][pubsub]") {
  RedisProcess redis;
  RedisLook look(redis_at(redis.port()));
  RedisSub sub(redis_at(redis.port()), {"system:health"}, {"room:*:events"});
  TestServer server(redis_args(redis, "node-p", 6));
  WsClient a(server.port());
  auto b = std::make_unique<WsClient>(server.port());
  const auto code = create_room(a, "party", "Ann");
  join_room(*b, code, "Ben", {&a});
  const std::string ben = b->player_id();

  // ratelimit:{player}:chat counts the chats the limiter let through, with the 60 s window as TTL.
  for (int i = 0; i < 3; ++i) {
    a.send({{"type", "chat"}, {"text", "hi " + std::to_string(i)}});
    a.expect("chat");
  }
  const std::string counter = "ratelimit:" + a.player_id() + ":chat";
  eventually([&] { return look.cmd({"GET", counter}).str == "3"; }, 5s, counter + " == 3");
  const auto ttl = look.cmd({"TTL", counter}).integer;
  CHECK(ttl > 0);
  CHECK(ttl <= 60);
  CHECK_FALSE(look.exists("ratelimit:" + ben + ":chat"));
  CHECK(inspect_json(redis, {"stats"})["keys"]["ratelimit"].get<int>() >= 1);
  // inspect players shows the counters: Ann created the room and chatted 3 times, Ben joined.
  const auto players = inspect_json(redis, {"players", "--room", code});
  REQUIRE(players["players"].size() == 2);
  for (const auto& p : players["players"]) {
    if (p["id"] == a.player_id()) CHECK(p["ratelimit"] == json{{"chat", 3}, {"create_room", 1}});
    else CHECK(p["ratelimit"] == json{{"join_room", 1}});
  }
  const auto players_text = run_mtown({"inspect", "players", "--room", code, "--redis", redis.url()});
  REQUIRE(players_text.exit_code == 0);
  CHECK(players_text.out.find("chat:3,create_room:1") != std::string::npos);

  // A connection lost without a close frame: the seat waits out its grace, shown disconnected.
  b->drop();
  eventually([&] { return listed_player(look, code, ben)["connected"] == false; }, 5s, "Ben disconnected in room:" + code);
  eventually([&] { return look.hgetall("player:" + ben)["connected"] == "0"; }, 5s, "player:" + ben + " connected 0");
  CHECK(look.hgetall("player:" + ben)["room"] == code);
  auto room = inspect_json(redis, {"room", code});
  REQUIRE(room["players"].size() == 2);
  CHECK(room["players"][1]["id"] == ben);
  CHECK(room["players"][1]["connected"] == false);
  CHECK(room["players"][0]["connected"] == true);
  auto text = run_mtown({"inspect", "room", code, "--redis", redis.url()});
  REQUIRE(text.exit_code == 0);
  const auto ben_row = text.out.find("  " + ben + "  ", text.out.find("\nplayers:\n"));
  REQUIRE(ben_row != std::string::npos);
  CHECK(text.out.substr(ben_row, text.out.find('\n', ben_row) - ben_row).find("disconnected") != std::string::npos);
  // Back within the grace: connected again everywhere.
  auto b2 = std::make_unique<WsClient>(server.port(), WsClient::resume_options(*b));
  b2->recv_until("resumed");
  eventually([&] { return listed_player(look, code, ben)["connected"] == true; }, 5s, "Ben back in room:" + code);
  eventually([&] { return look.hgetall("player:" + ben)["connected"] == "1"; }, 5s, "player:" + ben + " connected 1");
  CHECK(inspect_json(redis, {"room", code})["players"][1]["connected"] == true);

  // room:{code}:events: game_started and each phase, with the round.
  const std::string channel = "room:" + code + ":events";
  a.send({{"type", "start_game"},
          {"options", {{"rounds", 8}, {"question_ms", 1000}, {"elimination_ms", 30000}, {"voting_ms", 30000}, {"results_ms", 30000}}}});
  a.recv_until("game_started");
  const auto started = sub.next(channel, "game_started", 5s);
  CHECK(started["code"] == code);
  CHECK(started["phase"] == "question");
  CHECK(started["round"] == 1);
  CHECK_FALSE(started["game_id"].get<std::string>().empty());
  const auto phase = sub.next(channel, "phase", 10s);
  CHECK(phase["code"] == code);
  CHECK(phase["phase"] != "question");
  CHECK(phase["round"] == 1);
  eventually([&] { return look.hgetall("room:" + code)["phase"] == phase["phase"].get<std::string>(); }, 5s, "the phase in room:" + code);

  // system:health carries what node:{id} holds, load included.
  // Heartbeats from before the room opened are still queued: skip to one that counts it.
  json health;
  do health = sub.next("system:health", "", 10s);
  while (health["rooms"] != 1 || health["players"] != 2);
  const auto node = look.hgetall("node:node-p");
  REQUIRE(health.size() == node.size());
  for (const auto& [field, value] : health.items()) {
    INFO("field " << field);
    REQUIRE(node.contains(field));
    if (field == "heartbeat_at_ms") CHECK(std::stoll(node.at(field)) >= value.get<long long>());
    else if (field != "connections") CHECK(node.at(field) == (value.is_string() ? value.get<std::string>() : value.dump()));
  }
  CHECK(health["id"] == "node-p");
  CHECK(health["rooms"] == 1);
  CHECK(health["load"].get<double>() == Approx(1.0 / health["max_rooms"].get<double>()));

  // A graceful stop closes the room: room_closed on its channel.
  CHECK(server.stop() == 0);
  const auto closed = sub.next(channel, "room_closed", 5s);
  CHECK(closed["code"] == code);
  CHECK_FALSE(closed["reason"].get<std::string>().empty());
}

TEST_CASE("Redis killed mid-game: the game finishes, ready is 503, the room comes back", "[redis][outage]") {
  auto redis = std::make_unique<RedisProcess>();
  const int port = redis->port();
  auto args = redis_args(*redis, "node-b", 6);
  args.insert(args.end(), {"--set", "redis.breaker_threshold=2", "--set", "redis.breaker_reset_ms=500", "--set",
                           "redis.timeout_ms=500"});
  TestServer server(args);
  Clients clients;
  for (int i = 0; i < 2; ++i) clients.push_back(std::make_unique<WsClient>(server.port()));
  const auto code = create_room(*clients[0], "party", kNames[0]);
  join_room(*clients[1], code, kNames[1], ptrs(clients, 1));
  std::vector<PartyBot> bots = make_bots(clients);
  bots[0].host = true;
  for (auto& b : bots) b.play_until_round = 2;
  clients[0]->send({{"type", "start_game"},
                    {"options", {{"rounds", 8}, {"question_ms", 1000}, {"elimination_ms", 1000}, {"voting_ms", 1000}, {"results_ms", 1000}}}});
  run_until(bot_ptrs(bots), [&] { return bots[0].round() >= 3; }, 30s, "round 3");
  {
    RedisLook look(redis_at(port));
    eventually([&] { return look.hgetall("room:" + code)["round"] == "3"; }, 5s, "round 3 in Redis");
  }

  redis->kill_now();
  for (auto& b : bots) b.play_until_round = 100;  // play on, fast, while Redis is gone
  run_until(bot_ptrs(bots), [&] {
    return std::all_of(bots.begin(), bots.end(), [](const PartyBot& b) { return b.game_over && b.room_status == "completed"; });
  }, 60s, "the game to finish without Redis");
  for (const auto& b : bots) CHECK(b.errors.empty());

  HttpResult ready;
  eventually([&] {
    ready = http_get(server.port(), "/health/ready");
    return ready.status == 503 && ready.body_json()["checks"]["redis"].value("error", "").find("circuit breaker") != std::string::npos;
  }, 15s, "ready 503 naming the open breaker");
  CHECK(ready.body_json()["failed"] == json::array({"redis"}));
  const auto metrics = http_get(server.port(), "/metrics").body;
  CHECK(metrics.find("redis_breaker_state 0") == std::string::npos);
  CHECK(metric_value(metrics, "redis_errors_total") >= 2);  // at least the breaker's threshold

  // Redis comes back empty on the same port: the node writes its room again.
  redis->start();
  RedisLook look(redis_at(port));
  eventually([&] { return look.hgetall("room:" + code)["status"] == "completed"; }, 15s, "the room back in Redis");
  auto hash = look.hgetall("room:" + code);
  CHECK(hash["phase"] == "final");
  CHECK(hash["round"] == "8");
  CHECK(hash["node"] == "node-b");
  CHECK(look.smembers("rooms:active") == std::vector<std::string>{code});
  CHECK(json::parse(look.cmd({"GET", "game:" + code + ":state"}).str)["phase"] == "final");
  for (const auto& c : clients) CHECK(look.hgetall("player:" + c->player_id())["room"] == code);
  eventually([&] { return http_get(server.port(), "/health/ready").status == 200; }, 10s, "ready again");
  const auto after = http_get(server.port(), "/metrics").body;
  CHECK(after.find("redis_breaker_state 0") != std::string::npos);
  CHECK(after.find("redis_reconnects_total 0") == std::string::npos);
  CHECK(after.find("redis_latency_seconds_count") != std::string::npos);
  CHECK(server.stop() == 0);
}

// Arena ticks a client sees per second over `window`, from the states' tick numbers (so a
// slow reader does not count); the client sends an input every 50 ms meanwhile.
double ticks_per_s(WsClient& c, std::chrono::milliseconds window, std::uint64_t& seq) {
  std::optional<std::uint64_t> first, last;
  const auto t0 = std::chrono::steady_clock::now();
  auto next_input = t0;
  while (std::chrono::steady_clock::now() - t0 < window) {
    if (std::chrono::steady_clock::now() >= next_input) {
      c.send({{"type", "input"}, {"input_seq", ++seq}, {"data", {{"action", "move"}, {"x", 100 + seq % 800}, {"y", 500}}}});
      next_input += 50ms;
    }
    const auto m = c.try_recv(20ms);
    if (!m || (*m)["type"] != "state") continue;
    if (!first) first = (*m)["tick"].get<std::uint64_t>();
    last = (*m)["tick"].get<std::uint64_t>();
  }
  REQUIRE(first);
  return static_cast<double>(*last - *first) / std::chrono::duration<double>(window).count();
}

TEST_CASE("a hung Redis (SIGSTOP): the arena keeps its 60 Hz, ready is 503, the room is back after SIGCONT", "[redis][outage]") {
  RedisProcess redis;
  auto args = redis_args(redis, "node-s", 6);
  args.insert(args.end(), {"--set", "redis.breaker_threshold=2", "--set", "redis.breaker_reset_ms=500", "--set",
                           "redis.timeout_ms=500"});
  TestServer server(args);
  WsClient host(server.port());
  const auto code = create_room(host, "arena", "Host", {{"max_players", 2}, {"ai_fill", "easy"}});
  host.send({{"type", "start_game"}, {"options", {{"match_seconds", 60}}}});
  host.recv_until("game_started", 10s);
  {
    RedisLook look(redis_at(redis.port()));
    eventually([&] { return look.hgetall("room:" + code)["status"] == "active"; }, 5s, "the game in room:" + code);
  }
  std::uint64_t seq = 0;
  const double before = ticks_per_s(host, 2s, seq);
  CHECK(before > 50);

  // Writes now hang until redis.timeout_ms; the writer thread waits, the room's strand must not.
  redis.pause();
  const double during = ticks_per_s(host, 3s, seq);
  INFO("ticks/s before " << before << ", while Redis hangs " << during);
  CHECK(during > 0.9 * before);
  HttpResult ready;
  eventually([&] {
    ready = http_get(server.port(), "/health/ready");
    return ready.status == 503 && ready.body_json()["failed"] == json::array({"redis"});
  }, 10s, "ready 503 naming redis");
  CHECK(metric_value(http_get(server.port(), "/metrics").body, "redis_errors_total") >= 2);

  redis.resume();
  RedisLook look(redis_at(redis.port()));
  eventually([&] { return http_get(server.port(), "/health/ready").status == 200; }, 10s, "ready again");
  // The room hash may outlive the pause (its TTL was refreshed just before): the reconnect
  // counter shows the node did reconnect and rewrite what it owns.
  eventually([&] { return metric_value(http_get(server.port(), "/metrics").body, "redis_reconnects_total") >= 1; }, 5s,
             "redis_reconnects_total >= 1");
  eventually([&] { return look.hgetall("room:" + code)["node"] == "node-s"; }, 5s, "room:" + code + " written again");
  CHECK(look.smembers("rooms:active") == std::vector<std::string>{code});
  CHECK(look.hgetall("player:" + host.player_id())["room"] == code);
  CHECK(server.stop() == 0);
}

TEST_CASE("keys of a dead node expire and leave the index; a restarted node drops its old rooms", "[redis][restart]") {
  RedisProcess redis;
  RedisLook look(redis_at(redis.port()));
  std::string first;
  {
    TestServer a(redis_args(redis, "node-a", 30));
    WsClient c(a.port());
    first = create_room(c, "party", "Ann");
    eventually([&] { return look.exists("room:" + first); }, 5s, "room:" + first);
    CHECK(a.stop(9) == 128 + 9);  // a crash: nothing cleaned up
  }
  CHECK(look.smembers("rooms:active") == std::vector<std::string>{first});
  // The same node id again: it owns none of the rooms Redis says it has, and drops them.
  TestServer again(redis_args(redis, "node-a", 6));
  eventually([&] { return look.smembers("rooms:active").empty(); }, 5s, "node-a's old room swept at start");
  CHECK_FALSE(look.exists("room:" + first));

  // Another node dies: its keys expire after its key TTL and the living node sweeps the index.
  std::string second;
  {
    TestServer c_node(redis_args(redis, "node-c", 3));
    WsClient c(c_node.port());
    second = create_room(c, "arena", "Cy");
    eventually([&] { return look.exists("player:" + c.player_id()) && look.exists("node:node-c"); }, 5s, "node-c's keys");
    const auto ttl = look.cmd({"TTL", "room:" + second}).integer;
    CHECK(ttl > 0);
    CHECK(ttl <= 3);
    CHECK(c_node.stop(9) == 128 + 9);
  }
  eventually([&] { return !look.exists("room:" + second) && !look.exists("node:node-c"); }, 10s, "node-c's keys to expire");
  eventually([&] { return look.smembers("rooms:active").empty(); }, 10s, "node-a to sweep node-c's room from the index");
  const auto rooms = inspect_json(redis, {"rooms"});
  CHECK(rooms["total"] == 0);
  const auto nodes = inspect_json(redis, {"nodes"});
  REQUIRE(nodes["total"] == 1);
  CHECK(nodes["nodes"][0]["id"] == "node-a");
}
