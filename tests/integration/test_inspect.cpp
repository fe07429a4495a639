// `mtown inspect` against a redis-server of the test's own: a database of 100,000
// unrelated keys, JSON against tables, --watch, and every documented error exit code.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>

#include "game_helpers.hpp"
#include "redis_helpers.hpp"

using namespace mtown::test;
using namespace mtown::test::games;

namespace {

CommandResult inspect(const RedisProcess& redis, std::vector<std::string> args, const std::string& url = {}) {
  args.insert(args.begin(), "inspect");
  args.insert(args.end(), {"--redis", url.empty() ? redis.url() : url});
  return run_mtown(args);
}

json inspect_json(const RedisProcess& redis, std::vector<std::string> args) {
  args.push_back("--json");
  const auto r = inspect(redis, args);
  INFO("exit " << r.exit_code << ": " << r.err);
  REQUIRE(r.exit_code == 0);
  return json::parse(r.out);
}

void fill_unrelated(RedisLook& look, int count) {
  std::vector<std::vector<std::string>> batch;
  for (int i = 0; i < count; ++i) {
    if (i % 2) batch.push_back({"SET", "other:" + std::to_string(i), "x"});
    else batch.push_back({"HSET", "session:" + std::to_string(i), "user", "u" + std::to_string(i)});
    if (batch.size() == 10000 || i + 1 == count) {
      std::vector<mtown::core::RedisReply> replies;
      REQUIRE(look.client().pipeline(batch, replies));
      batch.clear();
    }
  }
}

// "45s", "1m15s", "2h01m" (the tables' durations) in seconds; "none"/"gone" are -1/-2.
double seconds_of(const std::string& cell) {
  if (cell == "none") return -1;
  if (cell == "gone") return -2;
  double total = 0, n = 0;
  for (const char ch : cell) {
    if (ch >= '0' && ch <= '9') n = n * 10 + (ch - '0');
    else {
      total += n * (ch == 'h' ? 3600 : ch == 'm' ? 60 : 1);
      n = 0;
    }
  }
  return total;
}

// A table of one row, as `rooms` and `nodes` print one room or node: its cells split on spaces.
struct OneRowTable {
  std::string header;
  std::vector<std::string> cells;
  std::string total;
};
OneRowTable one_row_table(const std::string& text) {
  OneRowTable t;
  std::istringstream lines(text);
  std::string row;
  std::getline(lines, t.header);
  std::getline(lines, row);
  std::getline(lines, t.total);
  std::istringstream cells(row);
  t.cells.assign(std::istream_iterator<std::string>(cells), {});
  return t;
}

// The indented rows under a `title` line of `inspect room`, up to the next blank line,
// without the column header.
std::vector<std::string> section_rows(const std::string& text, const std::string& title) {
  const auto at = text.find(title);
  REQUIRE(at != std::string::npos);
  std::istringstream in(text.substr(at));
  std::string line;
  std::getline(in, line);  // the title
  std::getline(in, line);  // the header
  std::vector<std::string> rows;
  while (std::getline(in, line) && !line.empty()) rows.push_back(line);
  return rows;
}

std::string stat_line(const std::string& info, const std::string& name) {
  const auto at = info.find("cmdstat_" + name + ":");
  return at == std::string::npos ? "" : info.substr(at, info.find('\n', at) - at);
}

}  // namespace

TEST_CASE("inspect on a Redis holding 100,000 unrelated keys: SCAN only, every call bounded", "[redis][inspect]") {
  RedisProcess redis;
  RedisLook look(redis_at(redis.port()));
  fill_unrelated(look, 100000);
  TestServer server(std::vector<std::string>{"--database", "none", "--redis", redis.url(), "--set", "redis.node_id=big"});
  Clients clients;
  std::vector<std::string> codes;
  for (const char* game : {"party", "arena", "party"}) {
    clients.push_back(std::make_unique<WsClient>(server.port()));
    codes.push_back(create_room(*clients.back(), game, "P" + std::to_string(codes.size())));
  }
  std::sort(codes.begin(), codes.end());
  eventually([&] { return look.smembers("rooms:active") == codes && look.exists("node:big"); }, 5s, "3 rooms and the node");

  // The slow log records every command, to read each one's arguments: how long a command
  // took is the machine's (in one CI run SCAN took 1 ms on average and one call 88 ms),
  // how much it may touch is inspect's.
  look.cmd({"CONFIG", "SET", "slowlog-log-slower-than", "0"});
  look.cmd({"CONFIG", "SET", "slowlog-max-len", "100000"});
  look.cmd({"SLOWLOG", "RESET"});
  look.cmd({"CONFIG", "RESETSTAT"});
  const auto rooms = inspect_json(redis, {"rooms"});
  CHECK(rooms["total"] == 3);
  std::vector<std::string> listed;
  for (const auto& r : rooms["rooms"]) listed.push_back(r["code"]);
  CHECK(listed == codes);
  CHECK(inspect_json(redis, {"rooms", "--game", "party"})["total"] == 2);
  CHECK(inspect_json(redis, {"rooms", "--phase", "lobby"})["total"] == 3);
  CHECK(inspect_json(redis, {"rooms", "--phase", "voting"})["total"] == 0);
  CHECK(inspect_json(redis, {"players"})["total"] == 3);
  CHECK(inspect_json(redis, {"nodes"})["total"] == 1);
  const auto stats = inspect_json(redis, {"stats"});
  CHECK(stats["keys"]["room"] == 3);
  CHECK(stats["keys"]["player"] == 3);
  CHECK(stats["keys"]["node"] == 1);
  CHECK(stats["keys"]["rooms_active"] == 1);
  CHECK(stats["keys"]["ratelimit"] == 3);  // each client's create_room counter (60 s window)
  CHECK(stats["mtown_keys"] == 11);
  CHECK(stats["mtown_memory_bytes"].get<long long>() > 0);
  CHECK(stats["rooms_active"] == 3);
  CHECK(stats["db_keys"].get<long long>() >= 100008);

  const auto info = look.cmd({"INFO", "commandstats"}).str;
  INFO(info);
  CHECK(stat_line(info, "keys").empty());      // never KEYS
  CHECK(stat_line(info, "smembers").empty());  // nor a whole set at once
  CHECK_FALSE(stat_line(info, "scan").empty());
  // Every SCAN and SSCAN asks for at most 1,000 keys, so no call walks the whole keyspace.
  const auto log = look.cmd({"SLOWLOG", "GET", "-1"});
  int scans = 0;
  for (const auto& entry : log.elements) {  // [id, time, usec, [command, args...], client, name]
    REQUIRE(entry.elements.size() > 3);
    const auto& args = entry.elements[3].elements;
    REQUIRE_FALSE(args.empty());
    std::string name = args[0].str;
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char ch) { return std::toupper(ch); });
    CHECK(name != "KEYS");
    CHECK(name != "SMEMBERS");
    if (name != "SCAN" && name != "SSCAN") continue;
    ++scans;
    long long count = -1;
    for (std::size_t i = 1; i + 1 < args.size(); ++i)
      if (args[i].str == "COUNT") count = std::stoll(args[i + 1].str);
    INFO(name << " with COUNT " << count);
    CHECK(count > 0);
    CHECK(count <= 1000);
  }
  CHECK(scans >= 100);  // 100,000 keys at most 1,000 a call: at least 100 calls a full pass
}

TEST_CASE("inspect: --json matches the table; --watch redraws until Ctrl-C", "[redis][inspect]") {
  RedisProcess redis;
  RedisLook look(redis_at(redis.port()));
  // A long key TTL: no heartbeat refreshes it during the test, so TTLs only count down.
  TestServer server(std::vector<std::string>{"--database", "none", "--redis", redis.url(), "--set", "redis.node_id=n1",
                                             "--set", "redis.key_ttl_s=600"});
  WsClient a(server.port()), b(server.port());
  const auto code = create_room(a, "party", "Ann");
  join_room(b, code, "Ben", {&a});
  a.send({{"type", "add_ai"}});
  a.expect("player_joined");
  eventually([&] { return look.hgetall("room:" + code)["ai"] == "1"; }, 5s, "the AI seat in Redis");

  const auto model = inspect_json(redis, {"rooms"});
  const auto table = inspect(redis, {"rooms"});
  REQUIRE(table.exit_code == 0);
  const auto rooms_table = one_row_table(table.out);
  CHECK(rooms_table.header.rfind("CODE", 0) == 0);
  REQUIRE(rooms_table.cells.size() == 8);
  const auto& cells = rooms_table.cells;
  const std::string &c_code = cells[0], &c_game = cells[1], &c_phase = cells[2], &c_players = cells[3], &c_ai = cells[4],
                    &c_node = cells[5], &c_age = cells[6], &c_ttl = cells[7];
  const auto& total = rooms_table.total;
  const auto& r = model["rooms"][0];
  CHECK(c_code == r["code"]);
  CHECK(c_game == r["game"]);
  CHECK(c_phase == r["phase"]);
  CHECK(c_players == std::to_string(r["players"].get<int>()) + "/" + std::to_string(r["max_players"].get<int>()));
  CHECK(c_players == "3/8");
  CHECK(c_ai == "1");
  CHECK(c_node == "n1");
  CHECK(total == "total: 1 rooms, 3 players");
  // AGE and TTL were read a moment apart: equal within 2 s.
  CHECK(std::abs(seconds_of(c_age) - r["age_s"].get<double>()) <= 2);
  CHECK(std::abs(seconds_of(c_ttl) - r["ttl_s"].get<double>()) <= 2);
  CHECK(r["ttl_s"].get<int>() > 590);

  // room CODE: the FIELD/VALUE rows are `fields`, the player rows are `players`, votes counted.
  const auto room = inspect_json(redis, {"room", code});
  const auto room_text = inspect(redis, {"room", code});
  REQUIRE(room_text.exit_code == 0);
  std::map<std::string, std::string> shown;
  for (const auto& row : section_rows(room_text.out, "fields (HGETALL room:" + code + "):")) {
    std::istringstream in(row);
    std::string key, value;
    in >> key >> std::ws;
    std::getline(in, value);
    while (!value.empty() && value.back() == ' ') value.pop_back();
    shown[key] = value;
  }
  CHECK(shown == room["fields"].get<std::map<std::string, std::string>>());
  const auto player_rows = section_rows(room_text.out, "players:");
  REQUIRE(player_rows.size() == room["players"].size());
  for (std::size_t i = 0; i < player_rows.size(); ++i) {
    std::istringstream in(player_rows[i]);
    std::vector<std::string> t{std::istream_iterator<std::string>(in), {}};
    const auto& p = room["players"][i];
    const std::string name = p["name"];  // AI names have spaces: "Robot 1 (normal)"
    const auto name_words = static_cast<std::size_t>(std::count(name.begin(), name.end(), ' ') + 1);
    REQUIRE(t.size() == 1 + name_words + (p["host"] == true ? 1 : 0) + 2);  // HOST is empty for the others
    CHECK(t[0] == p["id"]);
    CHECK(player_rows[i].find("  " + name + "  ") != std::string::npos);
    if (p["host"] == true) CHECK(t[1 + name_words] == "host");
    CHECK(t[t.size() - 2] == (p["ai"] == true ? "ai" : "human"));
    CHECK(t.back() == (p["connected"] == true ? "connected" : "disconnected"));
  }
  CHECK(room_text.out.find("votes:elimination (" + std::to_string(room["votes"]["elimination"].size()) + "):") != std::string::npos);
  CHECK(room_text.out.find("votes:final (" + std::to_string(room["votes"]["final"].size()) + "):") != std::string::npos);

  // nodes: one row per node, its cells the JSON's.
  const auto nodes = inspect_json(redis, {"nodes"});
  const auto nodes_text = inspect(redis, {"nodes"});
  REQUIRE(nodes_text.exit_code == 0);
  REQUIRE(nodes["total"] == 1);
  const auto& n = nodes["nodes"][0];
  const auto nodes_table = one_row_table(nodes_text.out);
  CHECK(nodes_table.header.rfind("ID", 0) == 0);
  const auto& nc = nodes_table.cells;
  REQUIRE(nc.size() == 10);  // HEARTBEAT is "Ns ago"
  CHECK(nc[0] == n["id"]);
  CHECK(nc[1] == n["address"]);
  CHECK(nc[2] == std::to_string(n["rooms"].get<int>()));
  CHECK(nc[3] == std::to_string(n["players"].get<int>()));
  CHECK(nc[4] == std::to_string(n["connections"].get<int>()));
  CHECK(nc[5] == std::to_string(std::lround(n["load"].get<double>() * 100)) + "%");
  CHECK(std::abs(seconds_of(nc[6]) - n["uptime_s"].get<double>()) <= 2);
  CHECK(std::abs(seconds_of(nc[9]) - n["ttl_s"].get<double>()) <= 2);
  CHECK(nodes_table.total == "total: 1 nodes");

  // stats: a row per key kind, and the totals.
  const auto stats = inspect_json(redis, {"stats"});
  const auto stats_text = inspect(redis, {"stats"});
  REQUIRE(stats_text.exit_code == 0);
  std::map<std::string, long long> kinds;
  std::istringstream stat_lines(stats_text.out);
  std::string line;
  std::getline(stat_lines, line);
  CHECK(line.rfind("KEYS", 0) == 0);
  while (std::getline(stat_lines, line) && line.rfind("mtown keys:", 0) != 0) {
    std::istringstream in(line);
    std::string kind;
    long long count = -1;
    in >> kind >> count;
    kinds[kind] = count;
  }
  CHECK(kinds == stats["keys"].get<std::map<std::string, long long>>());
  CHECK(kinds["room"] == 1);
  CHECK(kinds["player"] == 2);
  CHECK(line.rfind("mtown keys: " + std::to_string(stats["mtown_keys"].get<long long>()) + " using ", 0) == 0);
  CHECK(stats_text.out.find("open rooms (rooms:active): " + std::to_string(stats["rooms_active"].get<long long>())) != std::string::npos);
  CHECK(stats_text.out.find("keys in this db: " + std::to_string(stats["db_keys"].get<long long>()) + ",") != std::string::npos);

  const auto players = inspect_json(redis, {"players", "--room", code});
  REQUIRE(players["total"] == 2);  // the AI seat has no player key
  const auto players_table = inspect(redis, {"players", "--room", code});
  for (const auto& p : players["players"]) CHECK(players_table.out.find(p["id"].get<std::string>()) != std::string::npos);
  CHECK(players_table.out.find("total: 2 players, 2 connected") != std::string::npos);

  // --watch: redraws every second until SIGINT, then exits 0.
  const auto out_path = server.dir() + "/watch.out";
  const pid_t pid = spawn({mtown_binary(), "inspect", "rooms", "--watch", "1", "--redis", redis.url()}, {}, {}, out_path,
                          server.dir() + "/watch.err");
  std::this_thread::sleep_for(2500ms);
  ::kill(pid, SIGINT);
  int status = 0;
  ::waitpid(pid, &status, 0);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  std::ifstream in(out_path);
  const std::string watched((std::istreambuf_iterator<char>(in)), {});
  std::size_t draws = 0;
  for (auto at = watched.find("total: 1 rooms"); at != std::string::npos; at = watched.find("total: 1 rooms", at + 1)) ++draws;
  CHECK(draws >= 2);
}

TEST_CASE("inspect errors: each with its exit code and what to check", "[redis][inspect]") {
  RedisProcess redis;
  RedisLook look(redis_at(redis.port()));

  SECTION("Redis unreachable: 3") {
    const auto r = inspect(redis, {"rooms"}, "redis://127.0.0.1:" + std::to_string(free_port()));
    CHECK(r.exit_code == 3);
    CHECK(r.err.find("cannot reach Redis") != std::string::npos);
    CHECK(r.err.find("MTOWN_REDIS_URL") != std::string::npos);
  }
  SECTION("no --redis and no MTOWN_REDIS_URL: 2") {
    const auto r = run_mtown({"inspect", "rooms"});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("MTOWN_REDIS_URL") != std::string::npos);
  }
  SECTION("MTOWN_REDIS_URL is used when --redis is absent") {
    const auto r = run_mtown({"inspect", "rooms", "--json"}, {{"MTOWN_REDIS_URL", redis.url()}});
    CHECK(r.exit_code == 0);
    CHECK(json::parse(r.out)["total"] == 0);
  }
  SECTION("room not found: 5; a bad code: 2") {
    auto r = inspect(redis, {"room", "ZZZZ"});
    CHECK(r.exit_code == 5);
    CHECK(r.err.find("room ZZZZ is not in Redis") != std::string::npos);
    r = inspect(redis, {"room", "nope!"});
    CHECK(r.exit_code == 2);
  }
  SECTION("keys of an unknown format: 6, naming them") {
    look.cmd({"SET", "room:hello", "x"});
    look.cmd({"SADD", "rooms:active", "ABCD"});
    look.cmd({"SET", "room:ABCD", "not a hash"});
    auto r = inspect(redis, {"rooms"});
    CHECK(r.exit_code == 6);
    CHECK(r.out.find("room:ABCD") != std::string::npos);
    CHECK(r.err.find("no other application") != std::string::npos);
    r = inspect(redis, {"stats", "--json"});
    CHECK(r.exit_code == 6);
    const auto stats = json::parse(r.out);
    REQUIRE(stats["unknown_keys"].size() == 1);
    CHECK(stats["unknown_keys"][0]["key"] == "room:hello");
    r = inspect(redis, {"room", "ABCD"});
    CHECK(r.exit_code == 6);
  }
  SECTION("a room hash whose players field is JSON but not the server's list: 6, not a crash") {
    for (const char* players : {R"({"id":"p_1"})", "[1,2]", R"([{"name":"Ann"}])", R"([{"id":"p_1","ai":"yes"}])"}) {
      INFO("players = " << players);
      look.cmd({"HSET", "room:WXYZ", "id", "r_1", "code", "WXYZ", "game", "party", "status", "waiting", "phase", "lobby",
                "round", "0", "host", "", "players", players, "player_count", "1", "max_players", "8", "ai", "0",
                "public", "1", "node", "n", "game_id", "", "created_at_ms", "1", "expires_at_ms", "2", "updated_at_ms", "1"});
      const auto r = inspect(redis, {"room", "WXYZ"});
      CHECK(r.exit_code == 6);
      CHECK(r.err.find("room:WXYZ: field players") != std::string::npos);
    }
  }
  SECTION("--close needs --yes: 2; a room whose server is gone: 7") {
    look.cmd({"HSET", "room:WXYZ", "id", "r_1", "code", "WXYZ", "game", "party", "status", "waiting", "phase", "lobby",
              "round", "0", "host", "", "players", "[]", "player_count", "0", "max_players", "8", "ai", "0", "public", "1",
              "node", "dead-node", "game_id", "", "created_at_ms", "1", "expires_at_ms", "2", "updated_at_ms", "1"});
    auto r = inspect(redis, {"room", "WXYZ", "--close"});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("--yes") != std::string::npos);
    r = inspect(redis, {"room", "WXYZ", "--close", "--yes"});
    CHECK(r.exit_code == 7);
    CHECK(r.err.find("no server is listening") != std::string::npos);
    CHECK(inspect_json(redis, {"room", "WXYZ"})["room"]["node"] == "dead-node");  // nothing changed
  }
}

TEST_CASE("inspect: Redis with a password: 4 without it or with a wrong one", "[redis][inspect]") {
  RedisProcess redis({"--requirepass", "s3cret"});
  const std::string base = "127.0.0.1:" + std::to_string(redis.port());
  auto r = inspect(redis, {"stats"}, "redis://" + base);
  CHECK(r.exit_code == 4);
  CHECK(r.err.find("password") != std::string::npos);
  r = inspect(redis, {"stats"}, "redis://:wrong@" + base);
  CHECK(r.exit_code == 4);
  r = inspect(redis, {"stats", "--json"}, "redis://:s3cret@" + base);
  CHECK(r.exit_code == 0);
  // The server authenticates the same way.
  TestServer server(std::vector<std::string>{"--database", "none", "--redis", "redis://:s3cret@" + base});
  eventually([&] { return http_get(server.port(), "/health/ready").status == 200; }, 10s, "ready with a password");
  // The node's heartbeat is written by the Redis writer thread, shortly after "ready".
  eventually([&] {
    r = inspect(redis, {"nodes", "--json"}, "redis://:s3cret@" + base);
    return r.exit_code == 0 && json::parse(r.out)["total"] == 1;
  }, 10s, "the node listed");
}
