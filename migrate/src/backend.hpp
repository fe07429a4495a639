// The storage side of a Migrator: one implementation per dialect. Implementations throw
// only mtown::migrate::Error (they translate their library's exceptions).
#pragma once
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "mtown/core/embedded.hpp"
#include "mtown/migrate/migrator.hpp"

namespace mtown::core::embedded {
// schemas/migrations/*/*.sql (generated from migrate/CMakeLists.txt).
const std::vector<File>& migration_files();
}  // namespace mtown::core::embedded

namespace mtown::migrate {

struct AppliedRow {
  int version = 0;
  std::string name;
  std::string checksum;
  std::string applied_at;
  std::int64_t duration_ms = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;
  // Held for the whole run (PostgreSQL advisory lock; a no-op on SQLite, whose run()
  // takes BEGIN EXCLUSIVE per version). Throws Error(lock) after the timeout.
  virtual void lock() = 0;
  virtual void unlock() noexcept = 0;
  virtual void ensure_table() = 0;
  virtual std::vector<AppliedRow> applied() = 0;  // by version; empty if no table yet
  // One transaction: re-check the bookkeeping row, run the script, record or delete the
  // row. Returns false (and changes nothing) when the version was already in that state.
  virtual bool run(const Migration& m, bool up, std::int64_t& duration_ms) = 0;
};

std::unique_ptr<Backend> open_sqlite(const std::string& path, std::chrono::milliseconds lock_timeout, bool read_only);
std::unique_ptr<Backend> open_postgres(const std::string& url, std::chrono::milliseconds lock_timeout);

// Throws Error(failed) naming the version, file, statement and the database's message.
[[noreturn]] void throw_statement_failed(const Migration& m, bool up, const std::string& statement,
                                         const std::string& db_message);

}  // namespace mtown::migrate
