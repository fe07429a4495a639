// One connection to the recording database (SQLite file or PostgreSQL), used by one
// thread at a time. Implementations translate their library's exceptions into
// StoreError, marking the ones worth retrying (connection lost, database busy).
#pragma once
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "mtown/store/rows.hpp"

namespace mtown::store {

class StoreError : public std::runtime_error {
 public:
  StoreError(bool transient, const std::string& what) : std::runtime_error(what), transient_(transient) {}
  // true: the database is unreachable or busy, the same write may succeed later;
  // false: the statement itself failed (a bug or a schema mismatch).
  bool transient() const { return transient_; }

 private:
  bool transient_;
};

enum class Dialect { sqlite, postgres };

using Param = std::optional<std::string>;  // nullopt is NULL
using Row = std::vector<std::optional<std::string>>;

class Database {
 public:
  // url: sqlite:PATH or postgres://... Throws StoreError (transient when unreachable).
  // timeout_ms bounds each statement (PostgreSQL statement_timeout, SQLite busy wait).
  static std::unique_ptr<Database> open(const std::string& url, int timeout_ms = 5000);
  virtual ~Database() = default;

  virtual Dialect dialect() const = 0;
  virtual void begin() = 0;
  virtual void commit() = 0;
  virtual void rollback() noexcept = 0;
  // `sql` names parameters $1, $2, ...; each is bound as text (NULL for nullopt).
  virtual std::vector<Row> query(const std::string& sql, const std::vector<Param>& params = {}) = 0;
  // Inside a transaction; rows already stored (same game_id, tick, seq) are skipped.
  virtual void insert_events(const std::vector<EventRow>& rows) = 0;

  // SQL for a timestamp column read back as "2026-11-21T12:00:00.000Z".
  std::string iso(const std::string& column) const;
};

}  // namespace mtown::store
