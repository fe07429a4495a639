// Pure logic behind the Redis live state: key names and their classification, Redis URLs
// with credentials, the circuit breaker and backoff, and the LiveMirror's commands.
#include <algorithm>
#include <chrono>

#include <catch2/catch.hpp>

#include "mtown/core/circuit_breaker.hpp"
#include "mtown/core/dependency_probe.hpp"
#include "mtown/core/redis_client.hpp"
#include "mtown/core/redis_keys.hpp"
#include "mtown/server/live_mirror.hpp"

using namespace mtown;
using namespace std::chrono_literals;
namespace keys = core::redis_keys;
using Command = server::LiveMirror::Command;

namespace {

server::LiveRoom room_abcd() {
  server::LiveRoom r;
  r.code = "ABCD";
  r.game = "party";
  r.status = "waiting";
  r.phase = "lobby";
  r.max_players = 8;
  r.host = "p_1";
  r.players = {{"p_1", "Ann", true, false, true}, {"ai_1", "Robot", false, true, true}};
  r.created_at_ms = 1000;
  r.expires_at_ms = 2000;
  return r;
}

bool has(const std::vector<Command>& cmds, const Command& want) {
  return std::find(cmds.begin(), cmds.end(), want) != cmds.end();
}

const Command* find_cmd(const std::vector<Command>& cmds, const std::string& name, const std::string& key) {
  for (const auto& c : cmds)
    if (c.size() > 1 && c[0] == name && c[1] == key) return &c;
  return nullptr;
}

std::string field(const Command& hset, const std::string& name) {
  for (std::size_t i = 2; i + 1 < hset.size(); i += 2)
    if (hset[i] == name) return hset[i + 1];
  return "<missing>";
}

}  // namespace

TEST_CASE("redis key names follow seeds 000 and 002", "[redis]") {
  CHECK(keys::room("ABCD") == "room:ABCD");
  CHECK(keys::player("p_1") == "player:p_1");
  CHECK(keys::votes_elimination("ABCD") == "votes:elimination:ABCD");
  CHECK(keys::votes_final("ABCD") == "votes:final:ABCD");
  CHECK(keys::ratelimit("p_1", "chat") == "ratelimit:p_1:chat");
  CHECK(keys::node("h:8080") == "node:h:8080");
  CHECK(keys::game_state("ABCD") == "game:ABCD:state");
  CHECK(keys::room_events("ABCD") == "room:ABCD:events");
}

TEST_CASE("redis keys are classified; mtown prefixes with a bad id are unknown formats", "[redis]") {
  using K = keys::KeyKind;
  const auto c = [](std::string_view k) { return keys::classify(k); };
  CHECK(c("room:ABCD").kind == K::room);
  CHECK(c("room:ABCD").valid);
  CHECK(c("room:ABCD").id == "ABCD");
  CHECK_FALSE(c("room:hello").valid);
  CHECK_FALSE(c("room:ABC1").valid);  // 1 is not in the alphabet
  CHECK(c("player:p_0123456789abcdef").valid);
  CHECK_FALSE(c("player:").valid);
  CHECK_FALSE(c("player:has space").valid);
  CHECK(c("votes:elimination:ABCD").kind == K::votes_elimination);
  CHECK(c("votes:final:ABCD").kind == K::votes_final);
  CHECK(c("game:ABCD:state").kind == K::game_state);
  CHECK(c("ratelimit:p_1:chat").valid);
  CHECK_FALSE(c("ratelimit:p_1").valid);
  CHECK(c("node:host:8080").kind == K::node);
  CHECK(c("rooms:active").kind == K::rooms_active);
  CHECK(c("session:42").kind == K::other);
  CHECK(c("other:1").kind == K::other);
  CHECK(c("game:ABCD").kind == K::other);
}

TEST_CASE("redis URLs carry a password, an ACL user and a db", "[redis]") {
  auto u = core::parse_redis_url("redis://:s3cret@127.0.0.1:6380/2");
  REQUIRE(u);
  CHECK(u->host == "127.0.0.1");
  CHECK(u->port == 6380);
  CHECK(u->db == 2);
  CHECK(u->user.empty());
  CHECK(u->password == "s3cret");
  u = core::parse_redis_url("redis://ops:pw@redis.local");
  REQUIRE(u);
  CHECK(u->user == "ops");
  CHECK(u->password == "pw");
  CHECK(u->port == 6379);
  u = core::parse_redis_url("redis://127.0.0.1:6379");
  REQUIRE(u);
  CHECK(u->password.empty());
  CHECK_FALSE(core::parse_redis_url("redis://:pw@"));
  CHECK_FALSE(core::parse_redis_url("http://x"));
}

TEST_CASE("auth refusals are told apart from other Redis errors", "[redis]") {
  CHECK(core::is_auth_error("NOAUTH Authentication required."));
  CHECK(core::is_auth_error("WRONGPASS invalid username-password pair or user is disabled."));
  CHECK(core::is_auth_error("ERR AUTH <password> called without any password configured for the default user."));
  CHECK_FALSE(core::is_auth_error("ERR DB index is out of range"));
}

TEST_CASE("circuit breaker opens at the threshold, half-opens after the reset timeout", "[redis][breaker]") {
  using S = core::CircuitBreaker::State;
  core::CircuitBreaker b(3, 1000ms);
  const auto t0 = core::CircuitBreaker::Clock::time_point{} + 1h;
  CHECK(b.allow(t0));
  b.on_failure(t0);
  b.on_failure(t0);
  CHECK(b.state() == S::closed);
  b.on_success();  // failures must be in a row
  b.on_failure(t0);
  b.on_failure(t0);
  CHECK(b.state() == S::closed);
  b.on_failure(t0);
  CHECK(b.state() == S::open);
  CHECK_FALSE(b.allow(t0 + 999ms));
  CHECK(b.allow(t0 + 1000ms));
  CHECK(b.state() == S::half_open);
  b.on_failure(t0 + 1000ms);  // the trial failed: open again for a full timeout
  CHECK(b.state() == S::open);
  CHECK_FALSE(b.allow(t0 + 1999ms));
  CHECK(b.allow(t0 + 2000ms));
  b.on_success();
  CHECK(b.state() == S::closed);
  CHECK(b.failures() == 0);
  CHECK(core::breaker_state_name(S::half_open) == "half_open");
}

TEST_CASE("retry backoff doubles from 200 ms with jitter, capped", "[redis][breaker]") {
  CHECK(core::retry_backoff(1, 0) == 200ms);
  CHECK(core::retry_backoff(2, 50) == 450ms);
  CHECK(core::retry_backoff(3, 100) == 900ms);
  CHECK(core::retry_backoff(10, 0) == 2000ms);
  CHECK(core::retry_backoff(3, 500) == 900ms);  // jitter is at most 100 ms
}

TEST_CASE("live mirror: a room's first write is its hash, TTL and index entry, and its human players", "[redis][mirror]") {
  server::LiveMirror m({"node-1", 60});
  m.room_changed(room_abcd(), 5000);
  const auto batch = m.take();
  const auto* hset = find_cmd(batch.commands, "HSET", "room:ABCD");
  REQUIRE(hset);
  CHECK(field(*hset, "code") == "ABCD");
  CHECK(field(*hset, "node") == "node-1");
  CHECK(field(*hset, "phase") == "lobby");
  CHECK(field(*hset, "player_count") == "2");
  CHECK(field(*hset, "ai") == "1");
  CHECK(field(*hset, "host") == "p_1");
  CHECK(field(*hset, "id").rfind("r_", 0) == 0);
  const auto players = nlohmann::json::parse(field(*hset, "players"));
  REQUIRE(players.size() == 2);
  CHECK(players[0] == nlohmann::json{{"id", "p_1"}, {"name", "Ann"}, {"host", true}, {"ai", false}, {"connected", true}});
  CHECK(has(batch.commands, {"EXPIRE", "room:ABCD", "60"}));
  CHECK(has(batch.commands, {"SADD", "rooms:active", "ABCD"}));
  const auto* player = find_cmd(batch.commands, "HSET", "player:p_1");
  REQUIRE(player);
  CHECK(field(*player, "room") == "ABCD");
  CHECK(field(*player, "connected") == "1");
  CHECK_FALSE(find_cmd(batch.commands, "HSET", "player:ai_1"));  // AI seats have no player key
  CHECK(m.take().empty());  // nothing changed since
}

TEST_CASE("live mirror: one HSET per vote, cleared by a new round", "[redis][mirror]") {
  server::LiveMirror m({"n", 60});
  m.room_changed(room_abcd(), 1);
  m.take();
  m.vote("ABCD", "elimination", "p_1", "a2");
  m.vote("ABCD", "elimination", "p_2", "a3");
  m.vote("ABCD", "elimination", "p_1", "a4");  // latest wins
  auto batch = m.take();
  CHECK(has(batch.commands, {"HSET", "votes:elimination:ABCD", "p_1", "a4"}));
  CHECK(has(batch.commands, {"HSET", "votes:elimination:ABCD", "p_2", "a3"}));
  CHECK_FALSE(has(batch.commands, {"HSET", "votes:elimination:ABCD", "p_1", "a2"}));
  CHECK(has(batch.commands, {"EXPIRE", "votes:elimination:ABCD", "60"}));
  m.vote("ABCD", "final", "p_1", "a1");
  m.clear_votes("ABCD");
  batch = m.take();
  CHECK(has(batch.commands, {"DEL", "votes:elimination:ABCD", "votes:final:ABCD"}));
  CHECK_FALSE(find_cmd(batch.commands, "HSET", "votes:final:ABCD"));
}

TEST_CASE("live mirror: a closed room is deleted and leaves the index; its players keep no room", "[redis][mirror]") {
  server::LiveMirror m({"n", 60});
  m.room_changed(room_abcd(), 1);
  m.game_snapshot("ABCD", R"({"phase":"question"})");
  m.take();
  m.room_closed("ABCD");
  const auto batch = m.take();
  CHECK(batch.finals == batch.commands.size());
  CHECK(has(batch.commands, {"DEL", "room:ABCD", "game:ABCD:state", "votes:elimination:ABCD", "votes:final:ABCD"}));
  CHECK(has(batch.commands, {"SREM", "rooms:active", "ABCD"}));
  const auto* player = find_cmd(batch.commands, "HSET", "player:p_1");
  REQUIRE(player);
  CHECK(field(*player, "room") == "");
  CHECK_FALSE(m.owns("ABCD"));
  CHECK(m.player_count() == 0);
}

TEST_CASE("live mirror: a disconnected player is written as such, once", "[redis][mirror]") {
  server::LiveMirror m({"n", 60});
  m.room_changed(room_abcd(), 1);
  m.take();
  m.player_left("ABCD", "p_1", true, 77);
  auto r = room_abcd();
  r.players.erase(r.players.begin());
  m.room_changed(r, 78);
  const auto batch = m.take();
  int writes = 0;
  for (const auto& c : batch.commands)
    if (c[0] == "HSET" && c[1] == "player:p_1") {
      ++writes;
      CHECK(field(c, "connected") == "0");
      CHECK(field(c, "last_activity_ms") == "77");
    }
  CHECK(writes == 1);
}

TEST_CASE("live mirror: a failed batch owes its deletions again and rewrites everything", "[redis][mirror]") {
  server::LiveMirror m({"n", 60});
  auto other = room_abcd();
  other.code = "WXYZ";
  other.players.clear();
  m.room_changed(room_abcd(), 1);
  m.room_changed(other, 1);
  m.game_snapshot("ABCD", "{}");
  m.vote("ABCD", "final", "p_1", "a1");
  m.take();
  m.room_closed("WXYZ");
  auto failed = m.take();
  m.failed(std::move(failed));
  const auto again = m.take();
  CHECK(has(again.commands, {"SREM", "rooms:active", "WXYZ"}));
  CHECK(find_cmd(again.commands, "HSET", "room:ABCD"));
  CHECK(has(again.commands, {"SET", "game:ABCD:state", "{}", "EX", "60"}));
  CHECK(has(again.commands, {"DEL", "votes:elimination:ABCD", "votes:final:ABCD"}));
  CHECK(has(again.commands, {"HSET", "votes:final:ABCD", "p_1", "a1"}));
  CHECK(find_cmd(again.commands, "HSET", "player:p_1"));
  CHECK_FALSE(find_cmd(again.commands, "HSET", "room:WXYZ"));
}

TEST_CASE("live mirror: events queue bounded, the oldest dropped and counted", "[redis][mirror]") {
  server::LiveMirror m({"n", 60, 3});
  for (int i = 0; i < 5; ++i) m.publish("room:ABCD:events", std::to_string(i));
  CHECK(m.dropped_events() == 2);
  const auto batch = m.take();
  REQUIRE(batch.commands.size() == 3);
  CHECK(batch.commands[0] == Command{"PUBLISH", "room:ABCD:events", "2"});
  CHECK(batch.commands[2] == Command{"PUBLISH", "room:ABCD:events", "4"});
}

TEST_CASE("live mirror: the heartbeat refreshes the TTL of every owned key", "[redis][mirror]") {
  server::LiveMirror m({"n", 45});
  m.room_changed(room_abcd(), 1);
  m.game_snapshot("ABCD", "{}");
  m.vote("ABCD", "elimination", "p_1", "a1");
  const auto ttls = m.refresh_ttls();
  CHECK(has(ttls, {"EXPIRE", "room:ABCD", "45"}));
  CHECK(has(ttls, {"EXPIRE", "game:ABCD:state", "45"}));
  CHECK(has(ttls, {"EXPIRE", "votes:elimination:ABCD", "45"}));
  CHECK_FALSE(has(ttls, {"EXPIRE", "votes:final:ABCD", "45"}));
  CHECK(has(ttls, {"EXPIRE", "player:p_1", "45"}));
}

TEST_CASE("live mirror: rate-limit counts coalesce per player and action into fixed-window counters", "[redis][mirror]") {
  server::LiveMirror m({"n", 60});
  for (int i = 0; i < 5; ++i) m.rate_taken("p_1", "input", 1);
  m.rate_taken("p_1", "chat", 60);
  m.rate_taken("p_2", "chat", 60);
  CHECK(m.dirty());
  auto batch = m.take();
  CHECK(batch.finals == 0);
  CHECK(has(batch.commands, {"SET", "ratelimit:p_1:input", "0", "EX", "1", "NX"}));
  CHECK(has(batch.commands, {"INCRBY", "ratelimit:p_1:input", "5"}));
  CHECK(has(batch.commands, {"SET", "ratelimit:p_1:chat", "0", "EX", "60", "NX"}));
  CHECK(has(batch.commands, {"INCRBY", "ratelimit:p_1:chat", "1"}));
  CHECK(has(batch.commands, {"INCRBY", "ratelimit:p_2:chat", "1"}));
  CHECK(batch.commands.size() == 6);
  // The SET NX comes first, so a new window's key gets its TTL before it counts.
  const auto set = std::find(batch.commands.begin(), batch.commands.end(), Command{"SET", "ratelimit:p_1:input", "0", "EX", "1", "NX"});
  CHECK(*(set + 1) == Command{"INCRBY", "ratelimit:p_1:input", "5"});
  // Counted since the last take only.
  m.rate_taken("p_1", "input", 1);
  batch = m.take();
  CHECK(batch.commands == std::vector<Command>{{"SET", "ratelimit:p_1:input", "0", "EX", "1", "NX"},
                                               {"INCRBY", "ratelimit:p_1:input", "1"}});
  CHECK(m.take().empty());
}

TEST_CASE("live mirror: pending rate-limit counts are bounded by players, not actions", "[redis][mirror]") {
  server::LiveMirror::Options o{"n", 60};
  o.max_rate_players = 2;
  server::LiveMirror m(o);
  for (int i = 0; i < 1000; ++i) m.rate_taken("p_1", "input", 1);
  m.rate_taken("p_2", "chat", 60);
  m.rate_taken("p_3", "chat", 60);  // a third player past the cap: dropped, counted
  m.rate_taken("p_1", "chat", 60);  // a known player's new action still counts
  CHECK(m.dropped_updates() == 1);
  const auto batch = m.take();
  CHECK(has(batch.commands, {"INCRBY", "ratelimit:p_1:input", "1000"}));
  CHECK(has(batch.commands, {"INCRBY", "ratelimit:p_1:chat", "1"}));
  CHECK_FALSE(find_cmd(batch.commands, "INCRBY", "ratelimit:p_3:chat"));
  // A failed batch does not owe its counts again: the windows they counted are over.
  server::LiveMirror f({"n", 60});
  f.rate_taken("p_1", "chat", 60);
  f.failed(f.take());
  CHECK_FALSE(find_cmd(f.take().commands, "INCRBY", "ratelimit:p_1:chat"));
}

TEST_CASE("live mirror: owed deletions stay bounded while Redis is down; pairs stay whole", "[redis][mirror]") {
  server::LiveMirror::Options o{"n", 60};
  o.max_finals = 3;
  server::LiveMirror m(o);
  // Room churn while every flush fails: each closed room owes a DEL and an SREM.
  for (int i = 0; i < 10; ++i) {
    auto r = room_abcd();
    r.code = std::string("ROOM") + static_cast<char>('A' + i);
    r.players.clear();
    m.room_changed(r, 1);
    m.room_closed(r.code);
    if (i % 2 == 1) m.failed(m.take());
  }
  CHECK(m.dropped_updates() == 7);
  const auto batch = m.take();
  REQUIRE(batch.finals == 6);
  for (std::size_t i = 0; i < batch.finals; i += 2) {
    CHECK(batch.commands[i][0] == "DEL");
    CHECK(batch.commands[i + 1][0] == "SREM");
    CHECK(batch.commands[i][1] == "room:" + batch.commands[i + 1][2]);
  }
  // The oldest owed deletions are the ones kept.
  CHECK(has(batch.commands, {"SREM", "rooms:active", "ROOMA"}));
  CHECK(has(batch.commands, {"SREM", "rooms:active", "ROOMC"}));
  CHECK_FALSE(has(batch.commands, {"SREM", "rooms:active", "ROOMD"}));
  CHECK(m.take().empty());
}

TEST_CASE("live mirror: a failed batch merged with newer finals is cut to the cap, whole pairs", "[redis][mirror]") {
  server::LiveMirror::Options o{"n", 60};
  o.max_finals = 2;
  server::LiveMirror m(o);
  for (const char* code : {"AAAA", "BBBB"}) {
    auto r = room_abcd();
    r.code = code;
    r.players.clear();
    m.room_changed(r, 1);
    m.room_closed(code);
  }
  auto lost = m.take();  // in flight: AAAA, BBBB
  REQUIRE(lost.finals == 4);
  m.room_changed(room_abcd(), 2);
  m.player_left("ABCD", "p_1", true, 3);  // owed while the batch is in flight
  m.failed(std::move(lost));
  CHECK(m.dropped_updates() == 1);
  const auto again = m.take();
  REQUIRE(again.finals == 4);
  CHECK(again.commands[1] == Command{"SREM", "rooms:active", "AAAA"});
  CHECK(again.commands[3] == Command{"SREM", "rooms:active", "BBBB"});
}
