// mtown replay against games recorded by the real server, as .mtrec files
// (recording.mtrec_dir) and in SQLite and PostgreSQL: an arena match of 6 clients and 2 AI
// seats, 8-client arena games on 1 and 4 server threads, a full party game; replay list;
// an altered input, a newer format, a corrupt file, an unknown game; export; and --serve
// played to real WebSocket clients that validate every message.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "game_helpers.hpp"
#include "recording_helpers.hpp"
#include "temp_dir.hpp"

using namespace mtown::test;
using namespace mtown::test::games;
namespace fs = std::filesystem;

namespace {

// A server that writes .mtrec files to dir/rec, and records to `database` too when given.
std::vector<std::string> recording_args(const TempDir& dir, const std::string& threads = "2",
                                        const std::string& database = "none") {
  return {"--database", database, "--set", "server.shutdown_timeout_ms=500", "--threads", threads,
          "--set", "recording.mtrec_dir=" + dir.file("rec")};
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void spit(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

std::vector<json> lines_of(const std::string& text) {
  std::vector<json> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(json::parse(line));
  return out;
}

std::string join_lines(const std::vector<json>& lines) {
  std::string out;
  for (const auto& l : lines) out += l.dump() + "\n";
  return out;
}

// The recording of `game_id`, once the server's writer has put it on disk.
std::string wait_for_recording(const TempDir& dir, const std::string& game_id) {
  return wait_for_file(dir.file("rec/" + game_id + ".mtrec"));
}

// `mtown replay ARGS --json`: the exit code and the report.
std::pair<int, json> replay_json(std::vector<std::string> args) {
  args.insert(args.begin(), "replay");
  args.push_back("--json");
  const auto r = run_mtown(args);
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  const auto report = json::parse(r.out, nullptr, false);
  if (r.exit_code == 0 || r.exit_code == 3) REQUIRE(report.is_object());
  return {r.exit_code, report};
}

void check_verified(const std::string& file, const json& game_over_result, const std::string& status = "completed") {
  const auto [code, report] = replay_json({file});
  INFO(report.dump(2));
  CHECK(code == 0);
  CHECK(report["verified"] == true);
  CHECK(report["status"] == status);
  CHECK(report["end_checked"] == true);
  CHECK(report["tick_hashes"].get<std::uint64_t>() + report["checkpoints"].get<std::uint64_t>() > 0);
  if (!game_over_result.is_null()) CHECK(report["result"] == game_over_result);
}

json move_input(std::uint64_t seq, std::size_t seat) {
  static const int dirs[8][2] = {{1000, 0}, {707, 707}, {0, 1000}, {-707, 707}, {-1000, 0}, {-707, -707}, {0, -1000}, {500, -300}};
  const auto* d = dirs[(seq / 6 + seat) % 8];
  json data = seq % 5 == 0 ? json{{"action", "attack"}} : json{{"action", "move"}, {"dx", d[0]}, {"dy", d[1]}};
  return {{"type", "input"}, {"input_seq", seq}, {"data", data}};
}

// Every human sends an input every 50 ms until each has seen game_over (or `run` passes).
// Returns the game_over of the first client, or null.
json play_arena(Clients& clients, std::chrono::milliseconds run) {
  std::vector<std::uint64_t> seq(clients.size(), 0);
  std::vector<std::optional<json>> over(clients.size());
  const auto t0 = Clock::now();
  auto next_send = t0;
  while (Clock::now() - t0 < run) {
    if (std::all_of(over.begin(), over.end(), [](const auto& o) { return o.has_value(); })) break;
    const bool send = Clock::now() >= next_send;
    if (send) next_send += std::chrono::milliseconds(50);
    for (std::size_t i = 0; i < clients.size(); ++i) {
      if (send && !over[i]) clients[i]->send(move_input(++seq[i], i));
      while (auto m = clients[i]->try_recv(std::chrono::milliseconds(1)))
        if ((*m)["type"] == "game_over") over[i] = *m;
    }
  }
  return over[0] ? *over[0] : json();
}

// An arena room of `humans` clients and `ai` AI seats (filled at start_game, with a
// `match_seconds` match); a room of 8 humans starts by itself when full (a 120 s match).
// Returns game_started.
json start_arena(Clients& clients, TestServer& server, int humans, int ai, int match_seconds = 0) {
  for (int i = 0; i < humans; ++i) clients.push_back(std::make_unique<WsClient>(server.port()));
  json extra{{"max_players", humans + ai}};
  if (ai > 0) extra["ai_fill"] = "hard";
  const auto code = create_room(*clients[0], "arena", "A0", extra);
  for (int i = 1; i < humans; ++i)
    join_room(*clients[static_cast<std::size_t>(i)], code, "A" + std::to_string(i), ptrs(clients, static_cast<std::size_t>(i)));
  if (ai > 0) clients[0]->send({{"type", "start_game"}, {"options", {{"match_seconds", match_seconds}}}});
  json started;
  for (auto& c : clients) started = c->recv_until("game_started", std::chrono::seconds(10));
  return started;
}

// The last move of the first seat that moved in a step at tick >= `from`, with no later
// input of that seat in the step; it is changed to a different direction.
// Reverses one human move in the ticks [from, until), which must end at a checkpoint:
// a move of a living player far enough from the walls that the reversed step cannot be
// clamped away before the checkpoint (5 field units a tick, so <= 75 units in 15 ticks).
// A move of a dead player, or one pushing into a wall, changes only hashed intent, which
// the checkpoint's public fields cannot show. Returns the altered tick.
std::uint64_t alter_one_move(std::vector<json>& lines, const std::string& file, std::uint64_t from,
                             std::uint64_t until) {
  constexpr std::int64_t kMargin = 100'000;  // milli-units
  for (auto& l : lines) {
    if (l.value("t", "") != "step") continue;
    const auto tick = l["tick"].get<std::uint64_t>();
    if (tick < from || tick >= until) continue;
    const auto before = run_mtown({"replay", file, "--print-state", std::to_string(tick - 1)});
    REQUIRE(before.exit_code == 0);
    const auto players = json::parse(before.out)["state"]["players"];
    auto& inputs = l["inputs"];
    for (std::size_t i = inputs.size(); i-- > 0;) {
      auto& data = inputs[i]["data"];
      if (data["action"] != "move" || !data.contains("dx")) continue;
      const auto& p = players.at(inputs[i]["seat"].get<std::size_t>());
      const auto x = p["x"].get<std::int64_t>();
      if (!p["alive"].get<bool>() || x < kMargin || x > 1'000'000 - kMargin) continue;
      data["dx"] = data["dx"] == -1000 ? 1000 : -1000;
      data["dy"] = 0;
      return tick;
    }
  }
  FAIL("no move of a living player away from the walls in ticks " << from << ".." << until);
  return 0;
}

// One arena match of 6 clients and 2 AI seats (10 s), recorded by the server, shared by
// the test cases below (played once per run).
struct RecordedArena {
  TempDir dir;
  json started, game_over;
  std::string file;
};

const RecordedArena& recorded_arena() {
  static const auto arena = [] {
    auto a = std::make_unique<RecordedArena>();
    TestServer server(recording_args(a->dir));
    Clients clients;
    a->started = start_arena(clients, server, 6, 2, 10);
    REQUIRE(a->started["seats"].size() == 8);
    a->game_over = play_arena(clients, std::chrono::seconds(40));
    REQUIRE(a->game_over.is_object());
    a->file = wait_for_recording(a->dir, a->started["game_id"]);
    CHECK(server.stop() == 0);
    return a;
  }();
  return *arena;
}

}  // namespace

TEST_CASE("replay: an arena match of 6 clients and 2 AI recorded by the server verifies", "[replay]") {
  const auto& a = recorded_arena();
  check_verified(a.file, a.game_over["result"]);
  const auto [code, report] = replay_json({a.file, "--timeline"});
  CHECK(code == 0);
  CHECK(report["ticks"] == 600);
  CHECK(report["game_ms"] == 10000);
  CHECK(report["tick_hashes"] == 600);
  CHECK(report["checkpoints"] == 10);
  CHECK(report["inputs"].get<int>() > 6 * 20);
  std::size_t joins = 0, ai = 0;
  for (const auto& e : report["timeline"]) {
    joins += e["kind"] == "join";
    ai += e["kind"] == "join" && e["data"]["ai"] == true;
  }
  CHECK(joins == 8);
  CHECK(ai == 2);
  CHECK(report["timeline"].back()["kind"] == "end");
  const auto text = run_mtown({"replay", a.file});
  CHECK(text.exit_code == 0);
  CHECK_THAT(text.out, Catch::Contains("verified"));
}

TEST_CASE("replay: --print-state and --until", "[replay]") {
  const auto& a = recorded_arena();
  const auto state = run_mtown({"replay", a.file, "--print-state", "300"});
  REQUIRE(state.exit_code == 0);
  const auto s = json::parse(state.out);
  CHECK(s["tick"] == 300);
  CHECK(s["state"]["tick"] == 300);
  CHECK(s["state"]["players"].size() == 8);
  CHECK_THAT(state.err, Catch::Contains("verified"));  // the summary goes to stderr then
  // The state at a checkpoint is the one the server recorded.
  for (const auto& l : lines_of(slurp(a.file)))
    if (l.value("t", "") == "hash" && l["tick"] == 300) CHECK(s["state"] == l["state"]);
  CHECK(run_mtown({"replay", a.file, "--print-state", "601"}).exit_code == 2);
  const auto [code, until] = replay_json({a.file, "--until", "200"});
  CHECK(code == 0);
  CHECK(until["status"] == "stopped");
  CHECK(until["ticks"] == 200);
  CHECK(until["tick_hashes"] == 180);  // checked up to the last checkpoint before 200
}

TEST_CASE("replay: one altered input is reported at its tick with the fields that differ", "[replay]") {
  const auto& a = recorded_arena();
  TempDir dir;
  auto lines = lines_of(slurp(a.file));
  const auto tick = alter_one_move(lines, a.file, 45, 60);  // checkpoints every 60 ticks
  spit(dir.file("altered.mtrec"), join_lines(lines));
  const auto [code, report] = replay_json({dir.file("altered.mtrec")});
  INFO(report.dump(2));
  CHECK(code == 3);
  CHECK(report["verified"] == false);
  const auto& d = report["divergence"];
  CHECK(d["tick"] == tick);
  CHECK(d["what"] == "state hash");
  REQUIRE_FALSE(d["fields"].empty());
  bool position = false;
  for (const auto& f : d["fields"]) {
    CHECK(f["expected"] != f["actual"]);
    const std::string path = f["path"];
    position = position || path.ends_with("/x") || path.ends_with("/y");
  }
  CHECK(position);
  const auto text = run_mtown({"replay", dir.file("altered.mtrec")});
  CHECK(text.exit_code == 3);
  CHECK_THAT(text.out, Catch::Contains("DIVERGED at tick " + std::to_string(tick)));
}

TEST_CASE("replay: a recording cut between a step and its events verifies up to the cut", "[replay]") {
  const auto& a = recorded_arena();
  TempDir dir;
  const auto lines = lines_of(slurp(a.file));
  // The server stopped mid-write right after a step whose events it never wrote.
  std::size_t cut = 0;
  for (std::size_t i = 1; i < lines.size() && cut == 0; ++i)
    if (lines[i].value("t", "") == "event" && lines[i - 1].value("t", "") == "step" &&
        lines[i - 1]["tick"] == lines[i]["tick"])
      cut = i;
  REQUIRE(cut > 0);
  spit(dir.file("cut.mtrec"), join_lines({lines.begin(), lines.begin() + static_cast<std::ptrdiff_t>(cut)}));
  const auto [code, report] = replay_json({dir.file("cut.mtrec")});
  INFO(report.dump(2));
  CHECK(code == 0);
  CHECK(report["status"] == "incomplete");
  CHECK(report["ticks"] == lines[cut]["tick"]);
  CHECK_FALSE(report.contains("divergence"));
}

TEST_CASE("replay: refused files: newer format, corrupt, unknown game, missing; a game id needs a database", "[replay]") {
  const auto& a = recorded_arena();
  TempDir dir;
  const auto lines = lines_of(slurp(a.file));
  auto newer = lines;
  newer[0]["mtrec"] = 2;
  spit(dir.file("newer.mtrec"), join_lines(newer));
  auto r = run_mtown({"replay", dir.file("newer.mtrec")});
  CHECK(r.exit_code == 6);
  CHECK_THAT(r.err, Catch::Contains("newer") && Catch::Contains("upgrade mtown"));

  auto text = join_lines(lines);
  text.resize(text.find('\n', text.size() * 2 / 3) + 10);  // cut mid-line: 10 characters of a record
  spit(dir.file("cut.mtrec"), text);
  r = run_mtown({"replay", dir.file("cut.mtrec")});
  CHECK(r.exit_code == 5);
  CHECK_THAT(r.err, Catch::Contains("not valid JSON") && Catch::Contains("line "));

  auto chess = lines;
  chess[0]["game"] = "chess";
  spit(dir.file("chess.mtrec"), join_lines(chess));
  r = run_mtown({"replay", dir.file("chess.mtrec")});
  CHECK(r.exit_code == 7);
  CHECK_THAT(r.err, Catch::Contains("chess"));

  CHECK(run_mtown({"replay", dir.file("missing.mtrec")}).exit_code == 4);
  CHECK(run_mtown({"replay", "g_12345"}).exit_code == 2);
  CHECK(run_mtown({"replay"}).exit_code == 2);
}

TEST_CASE("replay: --export writes a file that replays the same", "[replay]") {
  const auto& a = recorded_arena();
  TempDir dir;
  const auto out = dir.file("copy.mtrec");
  const auto r = run_mtown({"replay", a.file, "--export", out});
  CHECK(r.exit_code == 0);
  CHECK(lines_of(slurp(out)) == lines_of(slurp(a.file)));
  check_verified(out, a.game_over["result"]);
}

TEST_CASE("replay: --serve plays a recording to WebSocket clients as if live", "[replay]") {
  const auto& a = recorded_arena();
  TestServer replay_server({}, {}, {"replay", a.file, "--serve", "--speed", "5"});
  WsClient watcher(replay_server.port());  // checks seq and every message's schema
  const auto t0 = Clock::now();
  CHECK(watcher.expect("room_state")["room"]["players"].size() == 8);
  const auto first = watcher.expect("game_started");
  CHECK(first["game_id"] == a.started["game_id"]);
  CHECK(first["snapshot"]["tick"] == 0);
  CHECK(first["snapshot"] == a.started["snapshot"]);
  CHECK(first["seats"] == a.started["seats"]);
  watcher.send({{"type", "ping"}, {"rid", 1}});
  watcher.send({{"type", "input"}, {"input_seq", 7}, {"data", {{"action", "attack"}}}});
  std::uint64_t tick = 0;
  bool pong = false, refused = false;
  std::unique_ptr<WsClient> late;
  json over;
  while (over.is_null()) {
    const auto m = watcher.recv(std::chrono::seconds(10));
    const std::string type = m["type"];
    if (type == "state") {
      CHECK(m["tick"] == tick + 1);
      tick = m["tick"];
      if (tick == 300) late = std::make_unique<WsClient>(replay_server.port(), encoding("mtown.v1.msgpack"));
    } else if (type == "pong") {
      pong = m["rid"] == 1;
    } else if (type == "error") {
      refused = m["code"] == "NOT_A_PLAYER" && m["input_seq"] == 7;
    } else if (type == "game_over") {
      over = m;
    }
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  CHECK(tick == 600);
  CHECK(pong);
  CHECK(refused);
  CHECK(over["result"] == a.game_over["result"]);
  CHECK(seconds > 1.5);  // 10 s of play at 5x: about 2 s, never instantly
  CHECK(watcher.expect("room_state")["room"]["status"] == "completed");
  // A watcher who came in the middle starts from the state of that moment.
  REQUIRE(late);
  late->expect("room_state");
  const auto mid = late->expect("game_started");
  CHECK(mid["snapshot"]["tick"].get<int>() >= 300);
  CHECK(mid["tick"] == mid["snapshot"]["tick"]);  // said like a resumed client's snapshot
  CHECK(late->recv_until("game_over", std::chrono::seconds(10))["result"] == a.game_over["result"]);
  CHECK(replay_server.stop() == 0);
}

TEST_CASE("replay: 8-client arena games verify whatever the server's thread count", "[replay]") {
  for (const std::string threads : {"1", "4"}) {
    INFO("--threads " << threads);
    TempDir dir;
    TestServer server(recording_args(dir, threads));
    Clients clients;
    const auto started = start_arena(clients, server, 8, 0);
    CHECK(started["seats"].size() == 8);
    play_arena(clients, std::chrono::milliseconds(2500));
    CHECK(server.stop() == 0);  // the room closes: the game ends "aborted" and is written
    const auto file = wait_for_recording(dir, started["game_id"]);
    check_verified(file, nullptr, "aborted");
    const auto [code, report] = replay_json({file});
    CHECK(report["ticks"].get<int>() > 60);
  }
}

TEST_CASE("replay: games recorded in SQLite and PostgreSQL replay from the database", "[replay][database]") {
  for (const std::string dialect : {"sqlite", "postgres"}) {
    INFO(dialect);
    mtown::test::recording::TestDatabase db(dialect);
    TempDir dir;
    json started;
    {
      TestServer server(recording_args(dir, "2", db.url()));
      Clients clients;
      started = start_arena(clients, server, 8, 0);
      play_arena(clients, std::chrono::milliseconds(2000));
      CHECK(server.stop() == 0);  // flushes the database writer
    }
    const std::string game_id = started["game_id"];
    const auto [code, report] = replay_json({game_id, "--database", db.url()});
    INFO(report.dump(2));
    CHECK(code == 0);
    CHECK(report["verified"] == true);
    CHECK(report["status"] == "aborted");
    CHECK(report["end_checked"] == true);
    CHECK(report["ticks"].get<int>() > 60);
    // The database holds exactly what the file holds.
    const auto file = wait_for_recording(dir, game_id);
    const auto exported = dir.file("from-db.mtrec");
    CHECK(run_mtown({"replay", game_id, "--database", db.url(), "--export", exported}).exit_code == 0);
    CHECK(lines_of(slurp(exported)) == lines_of(slurp(file)));

    const auto list = run_mtown({"replay", "list", "--database", db.url(), "--json"});
    REQUIRE(list.exit_code == 0);
    const auto games = json::parse(list.out);
    REQUIRE(games.size() == 1);
    CHECK(games[0]["game_id"] == game_id);
    CHECK(games[0]["game"] == "arena");
    CHECK(games[0]["status"] == "aborted");
    CHECK(games[0]["ticks"] == report["ticks"]);
    CHECK(games[0]["players"].size() == 8);
    CHECK(games[0]["duration_ms"].get<std::int64_t>() >= 1000);
    const auto text = run_mtown({"replay", "list", "--database", db.url()});
    CHECK(text.exit_code == 0);
    CHECK_THAT(text.out, Catch::Contains(game_id) && Catch::Contains("A7"));

    CHECK(run_mtown({"replay", "g_0000000000000000", "--database", db.url()}).exit_code == 4);
  }
  CHECK(run_mtown({"replay", "list", "--database", "postgres://nobody@127.0.0.1:1/none"}).exit_code == 8);
  CHECK(run_mtown({"replay", "list"}).exit_code == 2);
}

TEST_CASE("replay: a full party game recorded by the server verifies", "[replay]") {
  static const std::vector<std::string> kNames{"Ann", "Ben", "Cat", "Dan", "Eve", "Fay", "Gus", "Hal"};
  TempDir dir;
  TestServer server(recording_args(dir));
  Clients clients;
  for (int i = 0; i < 8; ++i) clients.push_back(std::make_unique<WsClient>(server.port()));
  const auto code = create_room(*clients[0], "party", kNames[0], {{"max_players", 8}});
  for (std::size_t i = 1; i < 8; ++i) join_room(*clients[i], code, kNames[i], ptrs(clients, i));
  std::vector<PartyBot> bots(8);
  std::vector<PartyBot*> bot_ptrs;
  for (std::size_t i = 0; i < 8; ++i) {
    bots[i].c = clients[i].get();
    bots[i].name = kNames[i];
    bots[i].host = i == 0;
    bot_ptrs.push_back(&bots[i]);
  }
  clients[0]->send({{"type", "start_game"},
                    {"options", {{"rounds", 8}, {"question_ms", 30000}, {"elimination_ms", 30000}, {"voting_ms", 30000}, {"results_ms", 30000}}}});
  run_until(bot_ptrs, [&] { return std::all_of(bots.begin(), bots.end(), [](const PartyBot& b) { return b.game_over.has_value(); }); },
            std::chrono::seconds(120), "game_over at every client");
  const auto file = wait_for_recording(dir, bots[0].game_id);
  check_verified(file, (*bots[0].game_over)["result"]);
  const auto [rc, report] = replay_json({file, "--timeline"});
  std::size_t phases = 0, scores = 0;
  for (const auto& e : report["timeline"]) {
    phases += e["kind"] == "phase";
    scores += e["kind"] == "scores";
  }
  CHECK(phases == bots[0].phases.size() - 1);  // the first question starts with the game
  CHECK(scores == 8);
  CHECK(report["checkpoints"] == report["steps"]);
  CHECK(server.stop() == 0);
}
