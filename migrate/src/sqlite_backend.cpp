// SQLite backend: each version runs inside BEGIN EXCLUSIVE (waiting up to the lock
// timeout via busy_timeout), so two processes never apply the same version twice.
#include <sqlite3.h>

#include <chrono>
#include <filesystem>

#include "backend.hpp"

namespace mtown::migrate {
namespace {

constexpr const char* kCreateSqliteTable =
    "CREATE TABLE IF NOT EXISTS mtown_migrations ("
    " version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL,"
    " applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')), duration_ms INTEGER NOT NULL)";

class SqliteBackend final : public Backend {
 public:
  SqliteBackend(const std::string& path, std::chrono::milliseconds lock_timeout, bool read_only) : timeout_(lock_timeout) {
    std::error_code ec;
    if (read_only && !std::filesystem::exists(path, ec)) {  // nothing to read, and nothing to create
      const auto dir = std::filesystem::path(path).parent_path();
      if (!std::filesystem::is_directory(dir.empty() ? "." : dir, ec))
        throw Error(ExitCode::connect, "cannot open SQLite database " + path + ": no such directory");
      return;
    }
    const int rc = sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
    if (rc != SQLITE_OK) {
      const std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
      sqlite3_close(db_);
      throw Error(ExitCode::connect, "cannot open SQLite database " + path + ": " + msg);
    }
    sqlite3_busy_timeout(db_, static_cast<int>(lock_timeout.count()));
    sqlite3_extended_result_codes(db_, 0);
  }
  ~SqliteBackend() override { sqlite3_close(db_); }

  void lock() override {}
  void unlock() noexcept override {}

  void ensure_table() override {
    if (!db_) throw Error(ExitCode::failed, "the SQLite database was opened read-only");
    exec(kCreateSqliteTable, "creating mtown_migrations");
  }

  std::vector<AppliedRow> applied() override {
    std::vector<AppliedRow> rows;
    if (!db_ || !has_table()) return rows;
    sqlite3_stmt* st = prepare("SELECT version, name, checksum, applied_at, duration_ms FROM mtown_migrations ORDER BY version");
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      rows.push_back({sqlite3_column_int(st, 0), text(st, 1), text(st, 2), text(st, 3), sqlite3_column_int64(st, 4)});
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) fail("reading mtown_migrations", rc);
    return rows;
  }

  bool run(const Migration& m, bool up, std::int64_t& duration_ms) override {
    if (!db_) throw Error(ExitCode::failed, "the SQLite database was opened read-only");
    exec("BEGIN EXCLUSIVE", "taking the migration lock");
    try {
      if (is_applied(m.version) == up) {
        exec("ROLLBACK", "rollback");
        return false;
      }
      const auto t0 = std::chrono::steady_clock::now();
      run_script(m, up);
      duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
      record(m, up, duration_ms);
      exec("COMMIT", "commit");
      return true;
    } catch (const Error&) {
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
  }

 private:
  // Steps every statement of the script; sqlite3_prepare_v2's tail pointer walks it.
  void run_script(const Migration& m, bool up) {
    const std::string& sql = up ? m.up_sql : m.down_sql;
    const char* pos = sql.c_str();
    while (*pos) {
      sqlite3_stmt* st = nullptr;
      const char* tail = nullptr;
      int rc = sqlite3_prepare_v2(db_, pos, -1, &st, &tail);
      if (rc == SQLITE_OK && st) {
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {}
        if (rc == SQLITE_DONE) rc = SQLITE_OK;
      }
      const std::string err = rc == SQLITE_OK ? "" : sqlite3_errmsg(db_);
      sqlite3_finalize(st);
      if (rc != SQLITE_OK) {
        const auto rest = split_statements(pos);
        throw_statement_failed(m, up, rest.empty() ? std::string(pos) : rest.front(), err);
      }
      if (!tail || tail == pos) break;
      pos = tail;
    }
  }

  void record(const Migration& m, bool up, std::int64_t duration_ms) {
    sqlite3_stmt* st = prepare(up ? "INSERT INTO mtown_migrations (version, name, checksum, duration_ms) VALUES (?, ?, ?, ?)"
                                  : "DELETE FROM mtown_migrations WHERE version = ?");
    sqlite3_bind_int(st, 1, m.version);
    if (up) {
      sqlite3_bind_text(st, 2, m.name.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(st, 3, m.checksum.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64(st, 4, duration_ms);
    }
    const int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) fail("recording " + m.label(), rc);
  }

  bool is_applied(int version) {
    sqlite3_stmt* st = prepare("SELECT 1 FROM mtown_migrations WHERE version = ?");
    sqlite3_bind_int(st, 1, version);
    const int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) fail("reading mtown_migrations", rc);
    return rc == SQLITE_ROW;
  }

  bool has_table() {
    sqlite3_stmt* st = prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'mtown_migrations'");
    const int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) fail("reading sqlite_master", rc);
    return rc == SQLITE_ROW;
  }

  sqlite3_stmt* prepare(const char* sql) {
    sqlite3_stmt* st = nullptr;
    const int rc = sqlite3_prepare_v2(db_, sql, -1, &st, nullptr);
    if (rc != SQLITE_OK) fail(sql, rc);
    return st;
  }

  void exec(const char* sql, const std::string& what) {
    const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) fail(what, rc);
  }

  [[noreturn]] void fail(const std::string& what, int rc) {
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
      throw Error(ExitCode::lock, "SQLite database still locked by another process after " +
                                      std::to_string(timeout_.count()) + " ms (" + what + ")");
    throw Error(ExitCode::failed, what + ": " + sqlite3_errmsg(db_));
  }

  static std::string text(sqlite3_stmt* st, int col) {
    const auto* p = sqlite3_column_text(st, col);
    return p ? reinterpret_cast<const char*>(p) : "";
  }

  sqlite3* db_ = nullptr;
  std::chrono::milliseconds timeout_;
};

}  // namespace

std::unique_ptr<Backend> open_sqlite(const std::string& path, std::chrono::milliseconds lock_timeout, bool read_only) {
  return std::make_unique<SqliteBackend>(path, lock_timeout, read_only);
}

}  // namespace mtown::migrate
