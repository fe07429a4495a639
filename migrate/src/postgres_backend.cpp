// PostgreSQL backend: a session advisory lock on a fixed key serializes whole runs; each
// version runs in one pqxx::work, statement by statement (split at top-level `;`) so a
// failure names its statement.
#include <pqxx/pqxx>

#include <chrono>
#include <cstdlib>
#include <thread>

#include "backend.hpp"

namespace mtown::migrate {
namespace {

constexpr long long kLockKey = 0x6d746f776e6d6967;  // "mtownmig"

constexpr const char* kCreatePgTable =
    "CREATE TABLE IF NOT EXISTS mtown_migrations ("
    " version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL,"
    " applied_at TIMESTAMPTZ NOT NULL DEFAULT now(), duration_ms BIGINT NOT NULL)";

// Runs f, translating libpqxx's exceptions into Error at this boundary.
template <class F>
auto guarded(const char* what, F&& f) {
  try {
    return f();
  } catch (const Error&) {
    throw;
  } catch (const pqxx::broken_connection& e) {
    throw Error(ExitCode::connect, std::string("PostgreSQL connection lost while ") + what + ": " + e.what());
  } catch (const std::exception& e) {
    throw Error(ExitCode::failed, std::string("PostgreSQL error while ") + what + ": " + e.what());
  }
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

class PostgresBackend final : public Backend {
 public:
  PostgresBackend(const std::string& url, std::chrono::milliseconds lock_timeout) : timeout_(lock_timeout) {
    ::setenv("PGCONNECT_TIMEOUT", "10", 0);  // an unreachable host fails in bounded time
    try {
      conn_ = std::make_unique<pqxx::connection>(url);
    } catch (const std::exception& e) {
      throw Error(ExitCode::connect, "cannot connect to PostgreSQL: " + trimmed(e.what()));
    }
  }

  void lock() override {
    guarded("taking the migration lock", [&] {
      const auto deadline = std::chrono::steady_clock::now() + timeout_;
      for (;;) {
        pqxx::nontransaction tx(*conn_);
        if (tx.exec1("SELECT pg_try_advisory_lock(" + std::to_string(kLockKey) + ")")[0].as<bool>()) return;
        if (std::chrono::steady_clock::now() >= deadline)
          throw Error(ExitCode::lock, "another `mtown migrate` holds the migration lock (pg_advisory_lock " +
                                          std::to_string(kLockKey) + "); gave up after " + std::to_string(timeout_.count()) + " ms");
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    });
    locked_ = true;
  }

  void unlock() noexcept override {
    if (!locked_) return;
    locked_ = false;
    try {
      pqxx::nontransaction tx(*conn_);
      tx.exec("SELECT pg_advisory_unlock(" + std::to_string(kLockKey) + ")");
    } catch (const std::exception&) {
      // The session lock goes away with the connection anyway.
    }
  }

  void ensure_table() override {
    guarded("creating mtown_migrations", [&] {
      pqxx::work tx(*conn_);
      tx.exec(kCreatePgTable);
      tx.commit();
    });
  }

  std::vector<AppliedRow> applied() override {
    return guarded("reading mtown_migrations", [&] {
      std::vector<AppliedRow> rows;
      pqxx::read_transaction tx(*conn_);
      if (tx.exec1("SELECT to_regclass('mtown_migrations') IS NOT NULL")[0].as<bool>() == false) return rows;
      for (const auto& r : tx.exec("SELECT version, name, checksum,"
                                   " to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),"
                                   " duration_ms FROM mtown_migrations ORDER BY version"))
        rows.push_back({r[0].as<int>(), r[1].as<std::string>(), r[2].as<std::string>(), r[3].as<std::string>(),
                        r[4].as<std::int64_t>()});
      return rows;
    });
  }

  bool run(const Migration& m, bool up, std::int64_t& duration_ms) override {
    return guarded("running a migration", [&] {
      pqxx::work tx(*conn_);
      const bool is_applied = !tx.exec_params("SELECT 1 FROM mtown_migrations WHERE version = $1", m.version).empty();
      if (is_applied == up) return false;
      const auto t0 = std::chrono::steady_clock::now();
      for (const auto& stmt : split_statements(up ? m.up_sql : m.down_sql)) {
        try {
          tx.exec(stmt);
        } catch (const pqxx::broken_connection&) {
          throw;
        } catch (const pqxx::sql_error& e) {
          throw_statement_failed(m, up, stmt, trimmed(e.what()));  // ~work rolls back
        }
      }
      duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
      if (up)
        tx.exec_params("INSERT INTO mtown_migrations (version, name, checksum, duration_ms) VALUES ($1, $2, $3, $4)",
                       m.version, m.name, m.checksum, duration_ms);
      else
        tx.exec_params("DELETE FROM mtown_migrations WHERE version = $1", m.version);
      tx.commit();
      return true;
    });
  }

 private:
  std::unique_ptr<pqxx::connection> conn_;
  std::chrono::milliseconds timeout_;
  bool locked_ = false;
};

}  // namespace

std::unique_ptr<Backend> open_postgres(const std::string& url, std::chrono::milliseconds lock_timeout) {
  return std::make_unique<PostgresBackend>(url, lock_timeout);
}

}  // namespace mtown::migrate
