// SQLite: WAL mode (readers never wait for the writer), prepared statements cached per
// SQL text, `$N` parameters rewritten to SQLite's `?N`.
#include <sqlite3.h>

#include <cctype>
#include <map>

#include "dialects.hpp"

namespace mtown::store {
namespace {

bool transient_code(int rc) {
  const int primary = rc & 0xFF;
  return primary == SQLITE_BUSY || primary == SQLITE_LOCKED || primary == SQLITE_IOERR || primary == SQLITE_FULL ||
         primary == SQLITE_CANTOPEN;
}

std::string to_sqlite_params(const std::string& sql) {
  std::string out = sql;
  for (std::size_t i = 0; i + 1 < out.size(); ++i)
    if (out[i] == '$' && std::isdigit(static_cast<unsigned char>(out[i + 1]))) out[i] = '?';
  return out;
}

class SqliteDatabase final : public Database {
 public:
  SqliteDatabase(const std::string& path, int timeout_ms) : path_(path) {
    const int rc = sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                                   nullptr);
    if (rc != SQLITE_OK) {
      const std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
      sqlite3_close(db_);
      db_ = nullptr;
      throw StoreError(true, "cannot open SQLite database " + path + ": " + msg);
    }
    sqlite3_busy_timeout(db_, timeout_ms);
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=NORMAL");
  }
  ~SqliteDatabase() override {
    for (auto& [sql, st] : statements_) sqlite3_finalize(st);
    sqlite3_close(db_);
  }

  Dialect dialect() const override { return Dialect::sqlite; }
  void begin() override { exec("BEGIN IMMEDIATE"); }
  void commit() override { exec("COMMIT"); }
  void rollback() noexcept override { sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr); }

  std::vector<Row> query(const std::string& sql, const std::vector<Param>& params) override {
    sqlite3_stmt* st = statement(sql);
    for (std::size_t i = 0; i < params.size(); ++i) {
      const int idx = static_cast<int>(i) + 1;
      if (params[i]) sqlite3_bind_text(st, idx, params[i]->data(), static_cast<int>(params[i]->size()), SQLITE_TRANSIENT);
      else sqlite3_bind_null(st, idx);
    }
    std::vector<Row> rows;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      Row row;
      for (int c = 0; c < sqlite3_column_count(st); ++c) {
        const auto* p = sqlite3_column_text(st, c);
        if (p) row.emplace_back(std::string(reinterpret_cast<const char*>(p), sqlite3_column_bytes(st, c)));
        else row.emplace_back(std::nullopt);
      }
      rows.push_back(std::move(row));
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE) fail(sql, rc);
    return rows;
  }

  void insert_events(const std::vector<EventRow>& rows) override {
    sqlite3_stmt* st = statement(
        "INSERT INTO game_events (game_id, tick, seq, kind, event_type, seat, player_id, payload)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (game_id, tick, seq) DO NOTHING");
    for (const auto& r : rows) {
      const std::string payload = r.payload.dump();
      sqlite3_bind_text(st, 1, r.game_id.data(), static_cast<int>(r.game_id.size()), SQLITE_STATIC);
      sqlite3_bind_int64(st, 2, static_cast<sqlite3_int64>(r.tick));
      sqlite3_bind_int64(st, 3, r.seq);
      sqlite3_bind_text(st, 4, r.kind.data(), static_cast<int>(r.kind.size()), SQLITE_STATIC);
      sqlite3_bind_text(st, 5, r.event_type.data(), static_cast<int>(r.event_type.size()), SQLITE_STATIC);
      if (r.seat) sqlite3_bind_int64(st, 6, *r.seat);
      else sqlite3_bind_null(st, 6);
      if (!r.player_id.empty()) sqlite3_bind_text(st, 7, r.player_id.data(), static_cast<int>(r.player_id.size()), SQLITE_STATIC);
      else sqlite3_bind_null(st, 7);
      sqlite3_bind_text(st, 8, payload.data(), static_cast<int>(payload.size()), SQLITE_STATIC);
      const int rc = sqlite3_step(st);
      sqlite3_reset(st);
      sqlite3_clear_bindings(st);
      if (rc != SQLITE_DONE) fail("inserting game_events", rc);
    }
  }

 private:
  sqlite3_stmt* statement(const std::string& sql) {
    if (const auto it = statements_.find(sql); it != statements_.end()) return it->second;
    sqlite3_stmt* st = nullptr;
    const auto text = to_sqlite_params(sql);
    const int rc = sqlite3_prepare_v2(db_, text.c_str(), -1, &st, nullptr);
    if (rc != SQLITE_OK) fail(sql, rc);
    statements_.emplace(sql, st);
    return st;
  }

  void exec(const char* sql) {
    const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) fail(sql, rc);
  }

  [[noreturn]] void fail(const std::string& what, int rc) {
    throw StoreError(transient_code(rc), "SQLite " + path_ + ": " + sqlite3_errmsg(db_) + " (" + what.substr(0, 80) + ")");
  }

  std::string path_;
  sqlite3* db_ = nullptr;
  std::map<std::string, sqlite3_stmt*> statements_;
};

}  // namespace

std::unique_ptr<Database> open_sqlite(const std::string& path, int timeout_ms) {
  return std::make_unique<SqliteDatabase>(path, timeout_ms);
}

}  // namespace mtown::store
