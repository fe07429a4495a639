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
#include <random>
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

}  // namespace

TEST_CASE("migrate up, down and up again round-trips the schema", "[migrate]") {
  const std::string dialect = GENERATE(as<std::string>{}, "sqlite", "postgres");
  INFO(dialect);
  auto db = make_db(dialect);

  auto r = migrate(*db, {"up"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("applying 0001_initial ... ok (") != std::string::npos);
  CHECK(r.out.find("applying 0002_game_events_kind ... ok (") != std::string::npos);
  for (const auto& t : kInitialTables) CHECK(db->has_relation(t));
  CHECK(db->has_column("game_events", "kind"));
  CHECK(db->applied_rows() == 2);
  if (dialect == "postgres") {
    CHECK(db->scalar("SELECT COUNT(*) FROM pg_matviews WHERE matviewname = 'leaderboard'") == 1);
    db->exec("REFRESH MATERIALIZED VIEW CONCURRENTLY leaderboard");
  }

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
  CHECK(r.out.find("0001_initial") != std::string::npos);
  CHECK(r.out.find("0002_game_events_kind") != std::string::npos);
  CHECK(r.out.find("1 pending") != std::string::npos);

  r = migrate(*db, {"status", "--json"});
  REQUIRE(r.exit_code == 0);
  const auto status = json::parse(r.out);
  CHECK(status["dialect"] == dialect);
  CHECK(status["pending"] == 1);
  REQUIRE(status["migrations"].size() == 2);
  CHECK(status["migrations"][0]["version"] == 1);
  CHECK(status["migrations"][0]["state"] == "ok");
  CHECK(status["migrations"][0]["checksum"].get<std::string>().size() == 64);
  CHECK(status["migrations"][0]["applied_at"].get<std::string>().ends_with("Z"));
  CHECK(status["migrations"][1]["state"] == "pending");
  CHECK(status["migrations"][1]["applied_at"].is_null());

  r = migrate(*db, {"verify"});
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("ok") != std::string::npos);
  r = migrate(*db, {"verify", "--json"});
  CHECK(r.exit_code == 0);
  CHECK(json::parse(r.out)["ok"] == true);

  r = migrate(*db, {"up", "--json"});
  REQUIRE(r.exit_code == 0);
  const auto up = json::parse(r.out);
  REQUIRE(up["steps"].size() == 1);
  CHECK(up["steps"][0]["version"] == 2);
  CHECK(up["steps"][0]["direction"] == "up");
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
  CHECK(db->applied_rows() == 2);
  CHECK(db->scalar("SELECT COUNT(DISTINCT version) FROM mtown_migrations") == 2);
  // Between them each version was applied by exactly one process.
  const auto count = [](const std::string& s, const std::string& what) {
    std::size_t n = 0;
    for (auto p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
    return n;
  };
  CHECK(count(a.out + b.out, "applying 0001_initial ... ok") == 1);
  CHECK(count(a.out + b.out, "applying 0002_game_events_kind ... ok") == 1);
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
  CHECK_FALSE(db->has_relation("players"));
  CHECK_FALSE(db->has_relation("mtown_migrations"));

  REQUIRE(migrate(*db, {"up"}).exit_code == 0);
  r = migrate(*db, {"down", "--steps", "2", "--dry-run"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("DROP TABLE players") != std::string::npos);
  CHECK(db->has_relation("players"));
  CHECK(db->applied_rows() == 2);
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
  CHECK(db.applied_rows() == 2);
}

TEST_CASE("verify reports a version applied by a newer binary as missing", "[migrate]") {
  SqliteDb db;
  REQUIRE(migrate(db, {"up"}).exit_code == 0);
  db.exec("INSERT INTO mtown_migrations (version, name, checksum, duration_ms) VALUES (99, 'from_the_future', 'x', 0)");
  const auto r = migrate(db, {"verify"});
  CHECK(r.exit_code == 4);
  CHECK(r.out.find("0099_from_the_future: applied but not in this binary") != std::string::npos);
  CHECK(json::parse(migrate(db, {"status", "--json"}).out)["migrations"][2]["state"] == "missing");
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
