// `mtown migrate` against real SQLite files and the throwaway PostgreSQL
// (MTOWN_TEST_PG_URL; every PostgreSQL test fails without it). Each PostgreSQL test
// runs in a database of its own, created and dropped by the test.
#include <catch2/catch.hpp>

#include <sqlite3.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <pqxx/pqxx>
#include <map>
#include <random>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "mtown/migrate/migrator.hpp"
#include "test_server.hpp"

using namespace mtown::test;
using nlohmann::json;

namespace {

std::string temp_dir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "mtown-migrate-XXXXXX").string();
  REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
  return tmpl;
}

std::string pg_base_url() {
  const char* url = std::getenv("MTOWN_TEST_PG_URL");
  if (!url || !*url) FAIL("MTOWN_TEST_PG_URL is not set: run tests/services.sh start DIR and source DIR/env");
  return url;
}

// One database under test, whichever the dialect; queries go around the binary.
class Db {
 public:
  virtual ~Db() = default;
  virtual std::string url() const = 0;
  virtual void exec(const std::string& sql) = 0;
  virtual long long scalar(const std::string& sql) = 0;
  virtual bool has_relation(const std::string& name) = 0;
  virtual bool has_column(const std::string& table, const std::string& column) = 0;
  // An index of that name on `table` over exactly `columns` ("a, b"), in that order.
  virtual bool has_index(const std::string& table, const std::string& name, const std::string& columns) = 0;
  long long applied_rows() { return has_relation("mtown_migrations") ? scalar("SELECT COUNT(*) FROM mtown_migrations") : 0; }
};

class SqliteDb final : public Db {
 public:
  SqliteDb() : dir_(temp_dir()), path_(dir_ + "/mtown.db") {}
  ~SqliteDb() override {
    if (db_) sqlite3_close(db_);
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  std::string url() const override { return "sqlite:" + path_; }
  const std::string& path() const { return path_; }
  void exec(const std::string& sql) override {
    char* err = nullptr;
    const int rc = sqlite3_exec(handle(), sql.c_str(), nullptr, nullptr, &err);
    INFO(sql << ": " << (err ? err : ""));
    sqlite3_free(err);
    REQUIRE(rc == SQLITE_OK);
  }
  long long scalar(const std::string& sql) override {
    sqlite3_stmt* st = nullptr;
    REQUIRE(sqlite3_prepare_v2(handle(), sql.c_str(), -1, &st, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_step(st) == SQLITE_ROW);
    const long long v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
  }
  bool has_relation(const std::string& name) override {
    return scalar("SELECT COUNT(*) FROM sqlite_master WHERE name = '" + name + "'") == 1;
  }
  bool has_column(const std::string& table, const std::string& column) override {
    return scalar("SELECT COUNT(*) FROM pragma_table_info('" + table + "') WHERE name = '" + column + "'") == 1;
  }
  bool has_index(const std::string& table, const std::string& name, const std::string& columns) override {
    return scalar("SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = '" + name + "' AND tbl_name = '" +
                  table + "'") == 1 &&
           scalar("SELECT group_concat(name, ', ') = '" + columns + "' FROM (SELECT name FROM pragma_index_info('" + name +
                  "') ORDER BY seqno)") == 1;
  }
  sqlite3* handle() {
    if (!db_) REQUIRE(sqlite3_open(path_.c_str(), &db_) == SQLITE_OK);
    return db_;
  }

 private:
  std::string dir_, path_;
  sqlite3* db_ = nullptr;
};

class PgDb final : public Db {
 public:
  PgDb() : base_(pg_base_url()) {
    std::random_device rd;
    name_ = "mtown_mig_" + std::to_string(rd()) + std::to_string(rd() % 1000);
    pqxx::connection admin(base_);
    pqxx::nontransaction(admin).exec("CREATE DATABASE " + name_);
    url_ = base_.substr(0, base_.rfind('/') + 1) + name_;
  }
  ~PgDb() override {
    conn_.reset();
    try {
      pqxx::connection admin(base_);
      pqxx::nontransaction(admin).exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
    } catch (const std::exception& e) {
      WARN("dropping " << name_ << ": " << e.what());
    }
  }
  std::string url() const override { return url_; }
  void exec(const std::string& sql) override { pqxx::nontransaction(conn()).exec(sql); }
  long long scalar(const std::string& sql) override { return pqxx::nontransaction(conn()).exec1(sql)[0].as<long long>(); }
  bool has_relation(const std::string& name) override {
    return scalar("SELECT COUNT(*) FROM pg_class WHERE relname = '" + name + "' AND relnamespace = 'public'::regnamespace") == 1;
  }
  bool has_column(const std::string& table, const std::string& column) override {
    return scalar("SELECT COUNT(*) FROM information_schema.columns WHERE table_name = '" + table + "' AND column_name = '" +
                  column + "'") == 1;
  }
  bool has_index(const std::string& table, const std::string& name, const std::string& columns) override {
    return scalar("SELECT COUNT(*) FROM pg_indexes WHERE schemaname = 'public' AND indexname = '" + name +
                  "' AND tablename = '" + table + "' AND indexdef LIKE '%(" + columns + ")'") == 1;
  }
  pqxx::connection& conn() {
    if (!conn_) conn_ = std::make_unique<pqxx::connection>(url_);
    return *conn_;
  }

 private:
  std::string base_, name_, url_;
  std::unique_ptr<pqxx::connection> conn_;
};

std::unique_ptr<Db> make_db(const std::string& dialect) {
  if (dialect == "sqlite") return std::make_unique<SqliteDb>();
  return std::make_unique<PgDb>();
}

CommandResult migrate(Db& db, std::vector<std::string> args) {
  std::vector<std::string> full{"migrate", "--database", db.url()};
  full.insert(full.end(), args.begin(), args.end());
  auto r = run_mtown(full);
  UNSCOPED_INFO("mtown migrate " << args.front() << " -> " << r.exit_code << "\nstdout:\n" << r.out << "\nstderr:\n" << r.err);
  return r;
}

const std::vector<std::string> kInitialTables = {"players", "games", "game_participants", "game_events", "agent_behaviors",
                                                 "questions", "player_game_stats", "leaderboard", "room_history",
                                                 "connection_metrics"};

// The seeds' indexes (000, 002, 004) as the schema has them (docs/migrations.md, "Seed
// tables and indexes"); the first three come with 0003_seed_indexes.
struct SeedIndex {
  const char *table, *name, *columns;
};
const std::vector<SeedIndex> kSeedIndexes = {
    {"games", "games_room_code_idx", "room_code"},
    {"games", "games_started_at_idx", "started_at"},
    {"players", "players_last_seen_idx", "last_seen_at"},
    {"game_events", "game_events_game_tick_seq_idx", "game_id, tick, seq"},
    {"player_game_stats", "player_game_stats_player_idx", "player_id"},
    {"room_history", "room_history_game_idx", "game_id"},
    {"room_history", "room_history_created_idx", "created_at"},
    {"connection_metrics", "connection_metrics_player_time_idx", "player_id, recorded_at"}};
constexpr std::size_t kIndexesOf0003 = 3;

// The text table of `status`: the first column -> the line's columns.
std::map<std::string, std::vector<std::string>> status_table(const std::string& out) {
  std::map<std::string, std::vector<std::string>> rows;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    std::istringstream cols(line);
    std::vector<std::string> v;
    for (std::string c; cols >> c;) v.push_back(c);
    if (!v.empty()) rows[v[0]] = v;
  }
  return rows;
}

}  // namespace

TEST_CASE("migrate up, down and up again round-trips the schema", "[migrate]") {
  const std::string dialect = GENERATE(as<std::string>{}, "sqlite", "postgres");
  INFO(dialect);
  auto db = make_db(dialect);

  auto r = migrate(*db, {"up"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("applying 0001_initial ... ok (") != std::string::npos);
  CHECK(r.out.find("applying 0002_game_events_kind ... ok (") != std::string::npos);
  CHECK(r.out.find("applying 0003_seed_indexes ... ok (") != std::string::npos);
  for (const auto& t : kInitialTables) CHECK(db->has_relation(t));
  CHECK(db->has_column("game_events", "kind"));
  for (const auto& i : kSeedIndexes) CHECK(db->has_index(i.table, i.name, i.columns));
  CHECK(db->applied_rows() == 3);
  if (dialect == "postgres") {
    CHECK(db->scalar("SELECT COUNT(*) FROM pg_matviews WHERE matviewname = 'leaderboard'") == 1);
    db->exec("REFRESH MATERIALIZED VIEW CONCURRENTLY leaderboard");
  }

  REQUIRE(migrate(*db, {"down"}).exit_code == 0);  // 0003: its indexes go, the others stay
  for (std::size_t i = 0; i < kSeedIndexes.size(); ++i) {
    const auto& x = kSeedIndexes[i];
    INFO(x.name);
    CHECK(db->has_index(x.table, x.name, x.columns) == (i >= kIndexesOf0003));
    CHECK(db->has_relation(x.name) == (i >= kIndexesOf0003));
  }
  CHECK(db->has_column("game_events", "kind"));
  CHECK(db->applied_rows() == 2);

  REQUIRE(migrate(*db, {"down"}).exit_code == 0);
  CHECK_FALSE(db->has_column("game_events", "kind"));
  CHECK(db->has_relation("players"));
  CHECK(db->applied_rows() == 1);

  r = migrate(*db, {"down", "--to", "0"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("reverting 0001_initial ... ok") != std::string::npos);
  for (const auto& t : kInitialTables) CHECK_FALSE(db->has_relation(t));
  CHECK(db->applied_rows() == 0);

  REQUIRE(migrate(*db, {"up", "--to", "1"}).exit_code == 0);
  CHECK(db->applied_rows() == 1);
  CHECK_FALSE(db->has_column("game_events", "kind"));
  REQUIRE(migrate(*db, {"redo"}).exit_code == 0);
  CHECK(db->applied_rows() == 1);
  REQUIRE(migrate(*db, {"up"}).exit_code == 0);
  CHECK(db->has_column("game_events", "kind"));
  for (const auto& i : kSeedIndexes) CHECK(db->has_index(i.table, i.name, i.columns));
  r = migrate(*db, {"up"});
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("nothing to do") != std::string::npos);
}

TEST_CASE("migrate status and verify report in text and JSON", "[migrate]") {
  const std::string dialect = GENERATE(as<std::string>{}, "sqlite", "postgres");
  INFO(dialect);
  auto db = make_db(dialect);
  REQUIRE(migrate(*db, {"up", "--to", "1"}).exit_code == 0);

  auto r = migrate(*db, {"status"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("2 pending") != std::string::npos);
  const auto table = status_table(r.out);

  r = migrate(*db, {"status", "--json"});
  REQUIRE(r.exit_code == 0);
  const auto status = json::parse(r.out);
  // Text columns: version, name, applied_at, duration_ms, checksum (12), state.
  REQUIRE(table.count("version"));
  CHECK(table.at("version") == std::vector<std::string>{"version", "name", "applied_at", "duration_ms", "checksum", "state"});
  REQUIRE(table.count("0001"));
  const auto& applied = table.at("0001");
  REQUIRE(applied.size() == 6);
  CHECK(applied[1] == "initial");
  CHECK(applied[2] == status["migrations"][0]["applied_at"]);
  CHECK(applied[3] == std::to_string(status["migrations"][0]["duration_ms"].get<long long>()));
  CHECK(status["migrations"][0]["duration_ms"].get<long long>() >= 0);
  CHECK(applied[4] == status["migrations"][0]["checksum"].get<std::string>().substr(0, 12));
  CHECK(applied[5] == "ok");
  CHECK(table.at("0002") == std::vector<std::string>{"0002", "game_events_kind", "-", "-",
                                                     status["migrations"][1]["checksum"].get<std::string>().substr(0, 12), "pending"});
  REQUIRE(table.count("0003"));
  CHECK(table.at("0003")[1] == "seed_indexes");
  CHECK(status["dialect"] == dialect);
  CHECK(status["pending"] == 2);
  REQUIRE(status["migrations"].size() == 3);
  CHECK(status["migrations"][0]["version"] == 1);
  CHECK(status["migrations"][0]["state"] == "ok");
  CHECK(status["migrations"][0]["checksum"].get<std::string>().size() == 64);
  CHECK(status["migrations"][0]["applied_at"].get<std::string>().ends_with("Z"));
  CHECK(status["migrations"][1]["state"] == "pending");
  CHECK(status["migrations"][1]["applied_at"].is_null());
  CHECK(status["migrations"][2]["name"] == "seed_indexes");
  CHECK(status["migrations"][2]["state"] == "pending");

  r = migrate(*db, {"verify"});
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("ok") != std::string::npos);
  r = migrate(*db, {"verify", "--json"});
  CHECK(r.exit_code == 0);
  CHECK(json::parse(r.out)["ok"] == true);

  r = migrate(*db, {"up", "--json"});
  REQUIRE(r.exit_code == 0);
  const auto up = json::parse(r.out);
  REQUIRE(up["steps"].size() == 2);
  CHECK(up["steps"][0]["version"] == 2);
  CHECK(up["steps"][0]["direction"] == "up");
  CHECK(up["steps"][1]["version"] == 3);
  CHECK(up["steps"][0]["file"] == dialect + "/0002_game_events_kind.up.sql");
  CHECK_FALSE(up["steps"][0].contains("sql"));  // only with --dry-run

  r = migrate(*db, {"redo"});
  REQUIRE(r.exit_code == 0);
  const auto reverting = r.out.find("reverting 0003_seed_indexes ... ok (");
  CHECK(reverting != std::string::npos);
  CHECK(r.out.find("applying 0003_seed_indexes ... ok (") > reverting);
  r = migrate(*db, {"redo", "--json"});
  REQUIRE(r.exit_code == 0);
  const auto redo = json::parse(r.out);
  CHECK(redo["command"] == "redo");
  CHECK(redo["dry_run"] == false);
  REQUIRE(redo["steps"].size() == 2);
  CHECK(redo["steps"][0]["version"] == 3);
  CHECK(redo["steps"][0]["direction"] == "down");
  CHECK(redo["steps"][0]["file"] == dialect + "/0003_seed_indexes.down.sql");
  CHECK(redo["steps"][1]["version"] == 3);
  CHECK(redo["steps"][1]["direction"] == "up");
  CHECK(redo["steps"][1]["skipped"] == false);
  CHECK(db->applied_rows() == 3);
  r = migrate(*db, {"down", "--steps", "2", "--json"});
  REQUIRE(r.exit_code == 0);
  const auto down = json::parse(r.out);
  CHECK(down["command"] == "down");
  REQUIRE(down["steps"].size() == 2);
  CHECK(down["steps"][0]["version"] == 3);
  CHECK(down["steps"][1]["version"] == 2);
  CHECK(down["steps"][1]["name"] == "game_events_kind");
  CHECK(down["steps"][1]["direction"] == "down");
  CHECK(down["steps"][1]["duration_ms"].get<long long>() >= 0);
  CHECK(db->applied_rows() == 1);
  r = migrate(*db, {"down", "--to", "1", "--json"});
  REQUIRE(r.exit_code == 0);
  CHECK(json::parse(r.out)["steps"].empty());
}

TEST_CASE("a tampered checksum fails verify and stops up with exit 4", "[migrate]") {
  const std::string dialect = GENERATE(as<std::string>{}, "sqlite", "postgres");
  INFO(dialect);
  auto db = make_db(dialect);
  REQUIRE(migrate(*db, {"up", "--to", "1"}).exit_code == 0);
  db->exec("UPDATE mtown_migrations SET checksum = 'deadbeef' WHERE version = 1");

  auto r = migrate(*db, {"verify"});
  CHECK(r.exit_code == 4);
  CHECK(r.out.find("0001_initial") != std::string::npos);
  r = migrate(*db, {"verify", "--json"});
  CHECK(r.exit_code == 4);
  const auto v = json::parse(r.out);
  CHECK(v["ok"] == false);
  REQUIRE(v["problems"].size() == 1);
  CHECK(v["problems"][0]["version"] == 1);
  CHECK(v["problems"][0]["state"] == "changed");
  CHECK(json::parse(migrate(*db, {"status", "--json"}).out)["migrations"][0]["state"] == "changed");

  r = migrate(*db, {"up"});
  CHECK(r.exit_code == 4);
  CHECK(r.err.find("0001_initial") != std::string::npos);
  CHECK(r.err.find("changed") != std::string::npos);
  CHECK(db->applied_rows() == 1);
  CHECK_FALSE(db->has_column("game_events", "kind"));
}

TEST_CASE("a failing migration is rolled back, keeps earlier versions and exits 1", "[migrate]") {
  const std::string dialect = GENERATE(as<std::string>{}, "sqlite", "postgres");
  INFO(dialect);
  auto db = make_db(dialect);
  REQUIRE(migrate(*db, {"up", "--to", "1"}).exit_code == 0);
  // 0002 adds game_events.kind, then creates this index: the second statement fails.
  db->exec("CREATE INDEX game_events_kind_idx ON players (username)");

  const auto r = migrate(*db, {"up"});
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("applying 0002_game_events_kind ... FAILED") != std::string::npos);
  CHECK(r.err.find("0002_game_events_kind") != std::string::npos);
  CHECK(r.err.find(dialect + "/0002_game_events_kind.up.sql") != std::string::npos);
  CHECK(r.err.find("CREATE INDEX game_events_kind_idx ON game_events (game_id, kind);") != std::string::npos);
  CHECK(r.err.find("already exists") != std::string::npos);  // the database's own message
  CHECK_FALSE(db->has_column("game_events", "kind"));       // the ALTER was rolled back
  CHECK(db->applied_rows() == 1);
  CHECK(db->has_relation("players"));
}

TEST_CASE("two concurrent up runs apply each version exactly once", "[migrate]") {
  const std::string dialect = GENERATE(as<std::string>{}, "sqlite", "postgres");
  INFO(dialect);
  auto db = make_db(dialect);
  CommandResult a{}, b{};
  std::thread ta([&] { a = run_mtown({"migrate", "--database", db->url(), "up"}); });
  std::thread tb([&] { b = run_mtown({"migrate", "--database", db->url(), "up"}); });
  ta.join();
  tb.join();
  INFO("a: " << a.exit_code << "\n" << a.out << a.err << "\nb: " << b.exit_code << "\n" << b.out << b.err);
  CHECK(a.exit_code == 0);
  CHECK(b.exit_code == 0);
  CHECK(db->applied_rows() == 3);
  CHECK(db->scalar("SELECT COUNT(DISTINCT version) FROM mtown_migrations") == 3);
  // Between them each version was applied by exactly one process.
  const auto count = [](const std::string& s, const std::string& what) {
    std::size_t n = 0;
    for (auto p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
    return n;
  };
  CHECK(count(a.out + b.out, "applying 0001_initial ... ok") == 1);
  CHECK(count(a.out + b.out, "applying 0002_game_events_kind ... ok") == 1);
  CHECK(count(a.out + b.out, "applying 0003_seed_indexes ... ok") == 1);
}

TEST_CASE("a held migration lock makes up give up with exit 5", "[migrate]") {
  SECTION("sqlite") {
    SqliteDb db;
    db.exec("BEGIN EXCLUSIVE");
    const auto r = migrate(db, {"--lock-timeout", "1", "up"});
    CHECK(r.exit_code == 5);
    CHECK(r.err.find("locked") != std::string::npos);
    db.exec("ROLLBACK");
  }
  SECTION("postgres") {
    PgDb db;
    db.exec("SELECT pg_advisory_lock(" + std::to_string(0x6d746f776e6d6967LL) + ")");
    const auto r = migrate(db, {"--lock-timeout", "1", "up"});
    CHECK(r.exit_code == 5);
    CHECK(r.err.find("lock") != std::string::npos);
    CHECK(db.applied_rows() == 0);
  }
}

TEST_CASE("--dry-run prints the SQL and changes nothing", "[migrate]") {
  const std::string dialect = GENERATE(as<std::string>{}, "sqlite", "postgres");
  INFO(dialect);
  auto db = make_db(dialect);
  auto r = migrate(*db, {"up", "--dry-run"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("CREATE TABLE players") != std::string::npos);
  CHECK(r.out.find("ALTER TABLE game_events ADD COLUMN kind") != std::string::npos);

  // --json carries each step's file and SQL.
  r = migrate(*db, {"up", "--dry-run", "--json"});
  REQUIRE(r.exit_code == 0);
  const auto plan = json::parse(r.out);
  CHECK(plan["dry_run"] == true);
  REQUIRE(plan["steps"].size() == 3);
  CHECK(plan["steps"][0]["file"] == dialect + "/0001_initial.up.sql");
  CHECK(plan["steps"][0]["sql"].get<std::string>().find("CREATE TABLE players") != std::string::npos);
  CHECK(plan["steps"][1]["sql"].get<std::string>().find("ALTER TABLE game_events ADD COLUMN kind") != std::string::npos);
  CHECK(plan["steps"][2]["file"] == dialect + "/0003_seed_indexes.up.sql");
  CHECK(plan["steps"][2]["sql"].get<std::string>().find("CREATE INDEX games_room_code_idx ON games (room_code);") !=
        std::string::npos);
  if (dialect == "sqlite") CHECK_FALSE(std::filesystem::exists(dynamic_cast<SqliteDb&>(*db).path()));
  CHECK_FALSE(db->has_relation("players"));
  CHECK_FALSE(db->has_relation("mtown_migrations"));

  REQUIRE(migrate(*db, {"up"}).exit_code == 0);
  r = migrate(*db, {"down", "--steps", "3", "--dry-run"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("DROP INDEX games_room_code_idx") != std::string::npos);
  CHECK(r.out.find("DROP TABLE players") != std::string::npos);
  CHECK(db->has_relation("players"));
  CHECK(db->applied_rows() == 3);
  r = migrate(*db, {"down", "--dry-run", "--json"});
  REQUIRE(r.exit_code == 0);
  const auto down = json::parse(r.out)["steps"];
  REQUIRE(down.size() == 1);
  CHECK(down[0]["direction"] == "down");
  CHECK(down[0]["file"] == dialect + "/0003_seed_indexes.down.sql");
  CHECK(down[0]["sql"].get<std::string>().find("DROP INDEX games_room_code_idx;") != std::string::npos);
  CHECK(db->applied_rows() == 3);
}

TEST_CASE("status, verify and --dry-run leave a missing SQLite file uncreated", "[migrate]") {
  SqliteDb db;
  const auto missing = [&] { return !std::filesystem::exists(db.path()); };
  auto r = migrate(db, {"status"});
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("3 pending") != std::string::npos);
  CHECK(missing());
  r = migrate(db, {"status", "--json"});
  CHECK(r.exit_code == 0);
  CHECK(json::parse(r.out)["pending"] == 3);
  r = migrate(db, {"verify"});
  CHECK(r.exit_code == 0);
  r = migrate(db, {"up", "--dry-run"});
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("CREATE TABLE players") != std::string::npos);
  r = migrate(db, {"down", "--dry-run"});
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("nothing to do") != std::string::npos);
  r = migrate(db, {"redo", "--dry-run", "--json"});
  CHECK(r.exit_code == 0);
  CHECK(missing());
  // A read-only command on a file in a missing directory still cannot open it.
  CHECK(run_mtown({"migrate", "--database", "sqlite:" + db.path() + ".d/x.db", "status"}).exit_code == 3);
  CHECK(run_mtown({"migrate", "--database", "sqlite:" + db.path() + ".d/x.db", "up", "--dry-run"}).exit_code == 3);
  // A writing command creates it.
  REQUIRE(migrate(db, {"up"}).exit_code == 0);
  CHECK_FALSE(missing());
  CHECK(db.applied_rows() == 3);
}

TEST_CASE("migrate create writes the next-numbered files for both dialects", "[migrate]") {
  const std::string dir = temp_dir();
  std::filesystem::copy(source_dir() + "/schemas/migrations", dir + "/migrations", std::filesystem::copy_options::recursive);
  auto r = run_mtown({"migrate", "create", "add_rating", "--dir", dir + "/migrations"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  int highest = 0;
  for (const auto& e : std::filesystem::directory_iterator(source_dir() + "/schemas/migrations/sqlite"))
    highest = std::max(highest, std::stoi(e.path().filename().string().substr(0, 4)));
  char num[16];
  std::snprintf(num, sizeof num, "%04d", highest + 1);
  for (const char* d : {"sqlite", "postgres"})
    for (const char* w : {"up", "down"})
      CHECK(std::filesystem::exists(dir + "/migrations/" + d + "/" + num + "_add_rating." + w + ".sql"));

  // Default --dir is ./schemas/migrations, numbering from 0001 in an empty tree.
  r = run_mtown({"migrate", "create", "first"}, {}, dir);
  REQUIRE(r.exit_code == 0);
  CHECK(std::filesystem::exists(dir + "/schemas/migrations/postgres/0001_first.up.sql"));
  CHECK(std::filesystem::exists(dir + "/schemas/migrations/sqlite/0001_first.down.sql"));
  CHECK(run_mtown({"migrate", "create", "Bad-Name"}, {}, dir).exit_code == 2);
  r = run_mtown({"migrate", "create", "second", "--json"}, {}, dir);
  REQUIRE(r.exit_code == 0);
  const auto files = json::parse(r.out)["files"];
  REQUIRE(files.size() == 4);
  for (const auto& f : files) {
    CHECK(std::filesystem::path(f.get<std::string>()).filename().string().starts_with("0002_second."));
    CHECK(std::filesystem::exists(std::filesystem::path(dir) / f.get<std::string>()));
  }
  CHECK(files[0] == "schemas/migrations/sqlite/0002_second.up.sql");
  std::filesystem::remove_all(dir);
}

TEST_CASE("migrate exit codes for bad URLs and unreachable databases", "[migrate]") {
  CHECK(run_mtown({"migrate", "--database", "mysql://x", "status"}).exit_code == 2);
  CHECK(run_mtown({"migrate", "status"}, {{"MTOWN_DATABASE_URL", ""}}).exit_code == 2);
  CHECK(run_mtown({"migrate", "--database", "sqlite:/nonexistent-dir/x/y.db", "status"}).exit_code == 3);
  CHECK(run_mtown({"migrate", "frobnicate"}).exit_code == 2);

  // Port 1 on loopback: nothing listens there, so the connection is refused.
  std::string base = pg_base_url();
  const auto at = base.find('@');
  const auto colon = base.find(':', at);
  const auto slash = base.find('/', colon);
  const auto r = run_mtown({"migrate", "--database", base.substr(0, colon) + ":1" + base.substr(slash), "status"});
  CHECK(r.exit_code == 3);
  CHECK(r.err.find("cannot connect") != std::string::npos);

  // MTOWN_DATABASE_URL stands in for --database.
  SqliteDb db;
  CHECK(run_mtown({"migrate", "up"}, {{"MTOWN_DATABASE_URL", db.url()}}).exit_code == 0);
  CHECK(db.applied_rows() == 3);
}

TEST_CASE("verify reports a version applied by a newer binary as missing", "[migrate]") {
  SqliteDb db;
  REQUIRE(migrate(db, {"up"}).exit_code == 0);
  db.exec("INSERT INTO mtown_migrations (version, name, checksum, duration_ms) VALUES (99, 'from_the_future', 'x', 0)");
  const auto r = migrate(db, {"verify"});
  CHECK(r.exit_code == 4);
  CHECK(r.out.find("0099_from_the_future: applied but not in this binary") != std::string::npos);
  CHECK(json::parse(migrate(db, {"status", "--json"}).out)["migrations"][3]["state"] == "missing");
  CHECK(migrate(db, {"down"}).exit_code == 4);  // cannot revert what it has no file for
}

TEST_CASE("split_statements splits at top-level semicolons only", "[migrate]") {
  using mtown::migrate::split_statements;
  const auto s = split_statements(
      "-- a comment; not a statement\n"
      "CREATE TABLE t (x TEXT DEFAULT 'a;b''c');\n"
      "/* block; comment */ INSERT INTO \"we;ird\" VALUES (1);\n"
      "CREATE FUNCTION f() RETURNS int AS $body$ BEGIN RETURN 1; END; $body$ LANGUAGE plpgsql;\n"
      "DO $$ BEGIN PERFORM 1; END $$\n"
      "-- trailing comment only\n");
  REQUIRE(s.size() == 4);
  CHECK(s[0] == "-- a comment; not a statement\nCREATE TABLE t (x TEXT DEFAULT 'a;b''c');");
  CHECK(s[1] == "/* block; comment */ INSERT INTO \"we;ird\" VALUES (1);");
  CHECK(s[2] == "CREATE FUNCTION f() RETURNS int AS $body$ BEGIN RETURN 1; END; $body$ LANGUAGE plpgsql;");
  CHECK(s[3].starts_with("DO $$ BEGIN PERFORM 1; END $$"));
  CHECK(split_statements("  -- nothing\n\n").empty());
}
