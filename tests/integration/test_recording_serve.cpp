// `mtown serve` recording games into SQLite and PostgreSQL: the schema check at start,
// recorded arena and party games equal to what the clients sent and had acknowledged,
// the API over the database, a PostgreSQL restart mid-game, and the dropped metric.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>
#include <fstream>
#include <thread>

#include "game_helpers.hpp"
#include "mtown/store/recordings.hpp"
#include "recording_helpers.hpp"

using namespace mtown::test;
using namespace mtown::test::games;
using mtown::test::recording::TestDatabase;
namespace store = mtown::store;

namespace {

std::vector<std::string> rec_args(const std::string& url, std::vector<std::string> extra = {}) {
  std::vector<std::string> a{"--database", url, "--set", "server.shutdown_timeout_ms=3000", "--set",
                             "recording.batch_max_ms=50", "--set", "recording.retry_max_backoff_ms=200"};
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

// A metric's value from /metrics text (0 when absent).
double metric(int port, const std::string& name_and_labels) {
  const auto text = http_get(port, "/metrics").body;
  const auto at = text.find("\n" + name_and_labels + " ");
  return at == std::string::npos ? 0 : std::stod(text.substr(at + name_and_labels.size() + 2));
}

// Two clients fill an arena room (it starts when full); returns the game_id.
std::string start_arena(Clients& c, int port) {
  c.push_back(std::make_unique<WsClient>(port));
  c.push_back(std::make_unique<WsClient>(port));
  const auto code = create_room(*c[0], "arena", "Ann", {{"max_players", 2}});
  join_room(*c[1], code, "Ben", ptrs(c, 1));
  std::string id;
  for (auto& cl : c) id = cl->recv_until("game_started")["game_id"];
  return id;
}

// Each client sends `n` moves (input_seq from first_seq) and reads states until its
// seat's ack covers them. Returns the data sent, per seat.
void play_arena(Clients& c, std::uint64_t first_seq, int n, std::vector<std::map<std::uint64_t, json>>& sent) {
  sent.resize(c.size());
  for (int i = 0; i < n; ++i) {
    for (std::size_t s = 0; s < c.size(); ++s) {
      const std::uint64_t seq = first_seq + static_cast<std::uint64_t>(i);
      json data{{"action", "move"}, {"dx", (i % 3) - 1}, {"dy", static_cast<int>(s) * 10 + i}};
      c[s]->send({{"type", "input"}, {"input_seq", seq}, {"data", data}});
      sent[s][seq] = data;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(8));
  }
  const auto last = first_seq + static_cast<std::uint64_t>(n) - 1;
  for (std::size_t s = 0; s < c.size(); ++s) {
    const auto until = Clock::now() + std::chrono::seconds(10);
    for (;;) {
      REQUIRE(Clock::now() < until);
      const auto m = c[s]->recv();
      if (m["type"] == "state" && m.contains("acks") && m["acks"][s].get<std::uint64_t>() >= last) break;
    }
  }
}

// The input rows of a game, per seat: input_seq -> data (leave inputs the room adds excluded).
std::vector<std::map<std::uint64_t, json>> recorded_inputs(store::Database& db, const std::string& game_id, std::size_t seats) {
  std::vector<std::map<std::uint64_t, json>> out(seats);
  for (const auto& r : db.query("SELECT seat, payload FROM game_events WHERE game_id = $1 AND kind = 'input' ORDER BY seq",
                                {game_id})) {
    const auto payload = json::parse(*r.at(1));
    if (payload["data"].value("action", "") == "leave") continue;
    out.at(std::stoul(*r.at(0)))[payload["input_seq"].get<std::uint64_t>()] = payload["data"];
  }
  return out;
}

int free_port() {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor a(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

// A PostgreSQL of this test's own (initdb as the postgres user when root, as
// tests/services.sh does), so it can be stopped and started mid-game. The postmaster is
// this process's child (spawn), not pg_ctl's daemon, so it dies with the test.
class OwnPostgres {
 public:
  OwnPostgres() : port_(free_port()) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "mtown-ownpg-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    dir_ = tmpl;
    ::chmod(dir_.c_str(), 0755);
    std::filesystem::create_directories(dir_ + "/pg");
    std::filesystem::create_directories(dir_ + "/sock");
    std::ofstream(dir_ + "/pg.log").flush();
    if (::geteuid() == 0) REQUIRE(sh("chown postgres: '" + dir_ + "/pg' '" + dir_ + "/sock' '" + dir_ + "/pg.log'") == 0);
    REQUIRE(sh(as_pg() + bin("initdb") + " -D '" + dir_ + "/pg' -U mtown --auth=trust -E UTF8 --locale=C --no-sync >'" + dir_ +
               "/initdb.log' 2>&1") == 0);
    start();
  }
  ~OwnPostgres() {
    if (pid_ > 0) stop();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  std::string url() const { return "postgres://mtown@127.0.0.1:" + std::to_string(port_) + "/postgres"; }
  void start() {
    REQUIRE(pid_ <= 0);
    const std::string postgres = bin("postgres"), port = std::to_string(port_), data = dir_ + "/pg",
                      sock = dir_ + "/sock", log = dir_ + "/pg.log";
    // As root, setpriv drops to postgres and only then sets the parent-death signal (a change
    // of user clears it); setpriv execs postgres, so the postmaster is still our child.
    std::vector<std::string> args;
    if (::geteuid() == 0)
      args = {"/usr/bin/setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--pdeathsig=KILL", "--"};
    args.insert(args.end(), {postgres, "-D", data, "-p", port, "-k", sock, "-c", "listen_addresses=127.0.0.1",
                             "-c", "fsync=off"});
    pid_ = spawn(args, {}, dir_, "/dev/null", log);  // the postmaster logs to stderr
    const std::string ready = bin("pg_isready") + " -q -h 127.0.0.1 -p " + port;
    REQUIRE(wait_until([&] { return exited() || sh(ready) == 0; }, std::chrono::seconds(30)));
    if (exited()) FAIL("postgres exited at start; its log: " << slurp(log));
  }
  // Fast shutdown of the postmaster we started, by its PID, and reaped.
  void stop() {
    REQUIRE(pid_ > 0);
    REQUIRE(::kill(pid_, SIGINT) == 0);
    REQUIRE(wait_until([&] { return exited(); }, std::chrono::seconds(30)));
  }

 private:
  // Reaps the postmaster if it has exited (then pid_ is -1).
  bool exited() {
    if (pid_ <= 0) return true;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) != pid_) return false;
    pid_ = -1;
    return true;
  }
  static std::string slurp(const std::string& path) {
    std::ifstream in(path);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  static std::string bin(const char* name) {
    const char* dir = std::getenv("PG_BIN");
    return std::string(dir && *dir ? dir : "/usr/lib/postgresql/15/bin") + "/" + name;
  }
  std::string as_pg() const { return ::geteuid() == 0 ? "cd '" + dir_ + "' && runuser -u postgres -- " : ""; }
  static int sh(const std::string& cmd) { return std::system(cmd.c_str()); }

  int port_;
  std::string dir_;
  pid_t pid_ = -1;
};

}  // namespace

TEST_CASE("serve refuses a database with pending migrations, naming them; --migrate applies them", "[recording]") {
  for (const char* dialect : {"sqlite", "postgres"}) {
    INFO(dialect);
    TestDatabase t(dialect, false);
    auto res = run_mtown({"serve", "--dev", "--port", "0", "--database", t.url()});
    CHECK(res.exit_code == 4);
    CHECK(res.err.find("0001_initial") != std::string::npos);
    CHECK(res.err.find("0002_game_events_kind") != std::string::npos);
    CHECK(res.err.find("--migrate") != std::string::npos);
    mtown::migrate::Migrator::open(t.url())->up(1, false);
    res = run_mtown({"serve", "--dev", "--port", "0", "--database", t.url()});
    CHECK(res.exit_code == 4);
    CHECK(res.err.find("0001_initial") == std::string::npos);
    CHECK(res.err.find("0002_game_events_kind") != std::string::npos);
    TestServer server(rec_args(t.url()));  // TestServer passes --migrate
    CHECK(server.log().find("migration_applied") != std::string::npos);
    CHECK(mtown::migrate::Migrator::open(t.url())->pending() == 0);
    CHECK(server.stop() == 0);
  }
}

namespace {

// `serve` on `url`, with and without --migrate: refused with `exit_code`, the message
// naming `names`, the log line `event`, and never listening.
void check_serve_refuses(const std::string& url, int exit_code, const std::string& names, const std::string& event) {
  for (const bool migrate : {false, true}) {
    INFO("--migrate " << migrate);
    std::vector<std::string> args{"serve", "--dev", "--port", "0", "--database", url};
    if (migrate) args.push_back("--migrate");
    const auto res = run_mtown(args);
    INFO(res.err);
    CHECK(res.exit_code == exit_code);
    CHECK(res.err.find(names) != std::string::npos);
    CHECK(res.err.find("\"event\":\"" + event + "\"") != std::string::npos);
    CHECK(res.err.find("listening") == std::string::npos);
  }
}

}  // namespace

TEST_CASE("serve refuses a database whose applied migration changed, with or without --migrate", "[recording]") {
  for (const char* dialect : {"sqlite", "postgres"}) {
    INFO(dialect);
    TestDatabase t(dialect);
    t.db().query("UPDATE mtown_migrations SET checksum = 'deadbeef' WHERE version = 2");
    check_serve_refuses(t.url(), 5, "applied migration 0002_game_events_kind changed", "migration_changed");
    CHECK(t.scalar("SELECT COUNT(*) FROM mtown_migrations WHERE checksum = 'deadbeef'") == 1);
  }
}

TEST_CASE("serve refuses a database a newer mtown migrated, with or without --migrate", "[recording]") {
  for (const char* dialect : {"sqlite", "postgres"}) {
    INFO(dialect);
    TestDatabase t(dialect);
    t.db().query("INSERT INTO mtown_migrations (version, name, checksum, duration_ms) VALUES (9999, 'from_the_future', 'ab', 1)");
    check_serve_refuses(t.url(), 6, "9999_from_the_future", "database_newer_than_binary");
    // Nothing was applied or removed on the way out.
    CHECK(t.scalar("SELECT COUNT(*) FROM mtown_migrations") == 4);
  }
}

TEST_CASE("an arena game is recorded with exactly the acknowledged inputs; the API reads it", "[recording][arena]") {
  for (const char* dialect : {"sqlite", "postgres"}) {
    INFO(dialect);
    TestDatabase t(dialect);
    TestServer server(rec_args(t.url()));
    Clients c;
    const auto game_id = start_arena(c, server.port());
    std::vector<std::map<std::uint64_t, json>> sent;
    play_arena(c, 1, 40, sent);

    // While it runs: the games row is there (active), the API finds it.
    json game;
    REQUIRE(wait_until([&] {
      const auto res = http_get(server.port(), "/api/games/" + game_id);
      if (res.status == 200) game = res.body_json()["game"];
      return res.status == 200;
    }, std::chrono::seconds(5)));
    CHECK(game["status"] == "active");
    CHECK(game["game"] == "arena");
    REQUIRE(game["participants"].size() == 2);
    CHECK(game["participants"][0]["player_id"] == c[0]->player_id());
    CHECK(game["participants"][1]["name"] == "Ben");
    auto res = http_get(server.port(), "/api/games/g_doesnotexist");
    CHECK(res.status == 404);
    CHECK(res.body_json()["code"] == "GAME_NOT_FOUND");
    res = http_get(server.port(), "/api/games/bad!id");
    CHECK(res.status == 400);
    CHECK(res.body_json()["code"] == "BAD_REQUEST");
    CHECK(http_get(server.port(), "/api/leaderboard?limit=0").status == 400);
    CHECK(http_request(server.port(), "POST", "/api/leaderboard").status == 405);

    // Shutdown ends the game (aborted) and flushes every record before exiting.
    CHECK(server.stop() == 0);
    CHECK(recorded_inputs(t.db(), game_id, 2) == sent);
    CHECK(t.scalar("SELECT COUNT(*) FROM games WHERE id = $1 AND status = 'aborted' AND ended_at IS NOT NULL", {game_id}) == 1);
    CHECK(t.scalar("SELECT COUNT(*) FROM game_events WHERE game_id = $1 AND event_type = 'end'", {game_id}) == 1);
    CHECK(t.scalar("SELECT COUNT(*) FROM game_events WHERE game_id = $1 AND event_type = 'hash'", {game_id}) >= 1);
    const auto rec = store::load_recording(t.db(), game_id);
    REQUIRE(rec);
    CHECK(rec->header.game == "arena");
    CHECK(rec->header.tick_hz == 60);
    CHECK(rec->header.hash_every == 60);
    CHECK(rec->header.seats.size() == 2);
    CHECK(std::holds_alternative<mtown::core::RecordedEnd>(rec->entries.back()));
  }
}

TEST_CASE("a party game is recorded to its result, stats and leaderboard", "[recording][party]") {
  for (const char* dialect : {"sqlite", "postgres"}) {
    INFO(dialect);
    TestDatabase t(dialect);
    TestServer server(rec_args(t.url()));
    Clients c;
    c.push_back(std::make_unique<WsClient>(server.port()));
    c.push_back(std::make_unique<WsClient>(server.port()));
    const auto code = create_room(*c[0], "party", "Ann", {{"max_players", 2}});
    join_room(*c[1], code, "Ben", ptrs(c, 1));
    std::vector<PartyBot> bots(2);
    for (std::size_t i = 0; i < 2; ++i) {
      bots[i].c = c[i].get();
      bots[i].name = i == 0 ? "Ann" : "Ben";
      bots[i].host = i == 0;
    }
    c[0]->send({{"type", "start_game"},
                {"options", {{"rounds", 8}, {"question_ms", 5000}, {"elimination_ms", 5000}, {"voting_ms", 5000}, {"results_ms", 5000}}}});
    run_until({&bots[0], &bots[1]}, [&] { return bots[0].game_over && bots[1].game_over; }, std::chrono::seconds(90), "party game over");
    const auto game_id = bots[0].game_id;
    REQUIRE_FALSE(game_id.empty());

    json game;
    REQUIRE(wait_until([&] {
      game = http_get(server.port(), "/api/games/" + game_id).body_json();
      return game.contains("game") && game["game"]["status"] == "completed";
    }, std::chrono::seconds(5)));
    CHECK(game["game"]["result"] == (*bots[0].game_over)["result"]);
    const auto& standings = (*bots[0].game_over)["result"]["standings"];
    for (const auto& p : game["game"]["participants"]) {
      for (const auto& s : standings)
        if (s["player_id"] == p["player_id"]) CHECK(p["score"] == s["score"]);
    }
    // PostgreSQL refreshes its materialized view just after the commit that ended the game.
    json board;
    CHECK(wait_until([&] {
      board = http_get(server.port(), "/api/leaderboard").body_json()["leaderboard"];
      return board.size() == 2;
    }, std::chrono::seconds(5)));
    REQUIRE(board.size() == 2);
    CHECK(board[0]["player_name"] == standings[0]["name"]);
    CHECK(board[0]["wins"] == 1);
    CHECK(board[0]["games_played"] == 1);
    CHECK(t.scalar("SELECT COUNT(*) FROM player_game_stats WHERE game_id = $1", {game_id}) == 2);
    CHECK(t.scalar("SELECT COUNT(*) FROM room_history WHERE game_id = $1", {game_id}) == 1);
    // Every input each client sent is a row of its seat, in its order.
    const auto inputs = recorded_inputs(t.db(), game_id, 2);
    for (std::size_t s = 0; s < 2; ++s) {
      INFO("seat " << s);
      REQUIRE(inputs[s].size() == bots[s].input_seq);
      std::uint64_t expect = 1;
      for (const auto& [seq, data] : inputs[s]) CHECK(seq == expect++);
      for (const auto& [round, text] : bots[s].texts) {
        bool found = false;
        for (const auto& [seq, data] : inputs[s]) found |= data.value("text", "") == text;
        CHECK(found);
      }
    }
    CHECK(server.stop() == 0);
  }
}

TEST_CASE("a PostgreSQL restart during a game loses no record; past the queue limit drops are counted",
          "[recording][postgres]") {
  OwnPostgres pg;
  {
    TestServer server(rec_args(pg.url()));
    Clients c;
    const auto game_id = start_arena(c, server.port());
    std::vector<std::map<std::uint64_t, json>> sent, more;
    play_arena(c, 1, 20, sent);
    pg.stop();
    // The game goes on; readiness says the recorder cannot write.
    play_arena(c, 21, 30, more);
    for (std::size_t s = 0; s < 2; ++s) sent[s].insert(more[s].begin(), more[s].end());
    json ready;
    REQUIRE(wait_until([&] {
      const auto res = http_get(server.port(), "/health/ready");
      ready = res.body_json();
      return res.status == 503 && ready["checks"]["recording"]["ok"] == false;
    }, std::chrono::seconds(10)));
    CHECK(metric(server.port(), "mtown_recording_database_up") == 0);
    pg.start();
    play_arena(c, 51, 10, more);
    for (std::size_t s = 0; s < 2; ++s) sent[s].insert(more[s].begin(), more[s].end());
    REQUIRE(wait_until([&] { return http_get(server.port(), "/health/ready").status == 200; }, std::chrono::seconds(15)));
    CHECK(metric(server.port(), "mtown_recording_dropped_total{reason=\"queue_full\"}") == 0);
    const int rc = server.stop();
    INFO(server.log().substr(server.log().size() > 4000 ? server.log().size() - 4000 : 0));
    CHECK(rc == 0);
    CHECK(server.log().find("recording_database_down") != std::string::npos);
    auto db = store::Database::open(pg.url());
    CHECK(recorded_inputs(*db, game_id, 2) == sent);
    // Nothing else was lost either: seq runs 1..N without a gap, the game ended once, and
    // the recording loads back (hash checkpoints included) from the restarted server.
    const auto seqs = db->query("SELECT COUNT(*), COUNT(DISTINCT seq), MIN(seq), MAX(seq) FROM game_events WHERE game_id = $1",
                                {game_id});
    REQUIRE(seqs.size() == 1);
    const auto n = std::stoll(*seqs[0].at(0));
    CHECK(n > 120);  // 120 inputs plus the steps, hashes and the end
    CHECK(std::stoll(*seqs[0].at(1)) == n);
    CHECK(std::stoll(*seqs[0].at(2)) == 1);
    CHECK(std::stoll(*seqs[0].at(3)) == n);
    const auto count = [&](const std::string& type) {
      return std::stoll(*db->query("SELECT COUNT(*) FROM game_events WHERE game_id = $1 AND event_type = $2", {game_id, type})
                             .at(0).at(0));
    };
    CHECK(count("end") == 1);
    CHECK(count("hash") >= 1);
    const auto rec = store::load_recording(*db, game_id);
    REQUIRE(rec);
    CHECK(rec->header.game == "arena");
    CHECK(rec->header.seats.size() == 2);
    std::size_t hashes = 0;
    for (const auto& e : rec->entries) hashes += std::holds_alternative<mtown::core::RecordedHash>(e);
    CHECK(hashes == static_cast<std::size_t>(count("hash")));
    REQUIRE_FALSE(rec->entries.empty());
    CHECK(std::holds_alternative<mtown::core::RecordedEnd>(rec->entries.back()));
  }
  {
    TestServer server(rec_args(pg.url(), {"--set", "recording.queue_max_records=10", "--set", "server.shutdown_timeout_ms=1000"}));
    Clients c;
    start_arena(c, server.port());
    pg.stop();
    std::vector<std::map<std::uint64_t, json>> sent;
    play_arena(c, 1, 30, sent);  // 60 inputs and a hash a second: far past 10 records
    REQUIRE(wait_until([&] { return metric(server.port(), "mtown_recording_dropped_total{reason=\"queue_full\"}") > 0; },
                       std::chrono::seconds(10)));
    CHECK(server.log().find("recording_dropped") != std::string::npos);
    const auto counted = metric(server.port(), "mtown_recording_dropped_total{reason=\"queue_full\"}");
    server.stop();
    CHECK(server.log().find("\"reason\":\"queue_full\"") != std::string::npos);
    // Every drop counted is in a log line too, the throttled ones at the latest at stop.
    auto logged = mtown::test::recording::logged_drops(server.log());
    CHECK(static_cast<double>(logged["queue_full"]) >= counted);
  }
}

TEST_CASE("party questions come from the questions table once it has rows; the file wins", "[recording][party]") {
  TestDatabase t("sqlite");
  const auto add = [&](int from, int to) {
    for (int i = from; i <= to; ++i)
      t.db().query("INSERT INTO questions (id, text, correct, robot, decoys) VALUES ($1, $2, 'yes', 'no', '[\"a\",\"b\",\"c\"]')",
                   {"db" + std::to_string(100 + i), "Table question " + std::to_string(i) + "?"});
  };
  add(1, 5);  // too few for a 12-round game: refused, naming the source
  auto res = run_mtown({"serve", "--dev", "--port", "0", "--database", t.url()});
  CHECK(res.exit_code == 2);
  CHECK(res.err.find("questions table") != std::string::npos);
  add(6, 12);
  {
    TestServer server(rec_args(t.url()));
    CHECK(server.log().find("\"source\":\"questions table\"") != std::string::npos);
    WsClient a(server.port()), b(server.port());
    const auto code = create_room(a, "party", "Ann", {{"max_players", 2}});
    join_room(b, code, "Ben", {&a});
    a.send({{"type", "start_game"}, {"options", {{"rounds", 8}}}});
    const auto started = a.recv_until("game_started");
    CHECK(started["snapshot"]["question"]["text"].get<std::string>().starts_with("Table question"));
    CHECK(server.stop() == 0);
  }
  TestServer with_file(rec_args(t.url(), {"--set", "games.party_questions=" + source_dir() + "/examples/questions.json"}));
  CHECK(with_file.log().find("\"source\":\"games.party_questions\"") != std::string::npos);
  CHECK(with_file.stop() == 0);
}
