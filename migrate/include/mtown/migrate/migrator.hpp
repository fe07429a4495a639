// Versioned schema migrations (schemas/migrations/<dialect>/NNNN_name.{up,down}.sql,
// embedded in the binary) applied to SQLite or PostgreSQL, one transaction per version,
// recorded in the mtown_migrations table. Not thread-safe: one Migrator per thread.
#pragma once
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace mtown::migrate {

// Doubles as the process exit code of `mtown migrate` (docs/migrations.md).
enum class ExitCode : int { ok = 0, failed = 1, usage = 2, connect = 3, checksum = 4, lock = 5 };

// Everything the library throws; storage-library exceptions never escape it.
class Error : public std::runtime_error {
 public:
  Error(ExitCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ExitCode code() const { return code_; }

 private:
  ExitCode code_;
};

enum class Dialect { sqlite, postgres };
// "0002_game_events_kind"
std::string version_label(int version, const std::string& name);
const char* dialect_name(Dialect d);

struct Migration {
  int version = 0;
  std::string name;       // "game_events_kind"
  std::string up_path;    // "postgres/0002_game_events_kind.up.sql" (relative to schemas/migrations)
  std::string down_path;
  std::string up_sql;
  std::string down_sql;
  std::string checksum;   // sha256 hex of up_sql
  std::string label() const;  // "0002_game_events_kind"
};

// The embedded migrations of one dialect, by version. Throws Error if a version lacks
// its up or down file.
const std::vector<Migration>& embedded_migrations(Dialect d);

std::string sha256_hex(std::string_view text);

// Splits a script into statements at top-level `;` (outside quotes, comments and
// $tag$ bodies); blank/comment-only pieces are dropped.
std::vector<std::string> split_statements(std::string_view sql);

// `create NAME`: writes empty NNNN_name.{up,down}.sql for both dialects under dir, NNNN
// one past the highest version found there. Returns the paths written.
std::vector<std::filesystem::path> create_migration_files(const std::filesystem::path& dir, const std::string& name);

enum class State { ok, changed, missing, pending };
const char* state_name(State s);

struct MigrationStatus {
  int version = 0;
  std::string name;
  std::optional<std::string> applied_at;  // ISO-8601 UTC
  std::optional<std::int64_t> duration_ms;
  std::string checksum;  // recorded one if applied, else the embedded one
  State state = State::pending;
};

struct StepResult {
  int version = 0;
  std::string name;
  bool up = true;
  std::int64_t duration_ms = 0;
  bool skipped = false;  // another process applied/reverted it first
  bool dry_run = false;
};

struct ApplyResult {
  std::vector<StepResult> steps;
};

// Progress hooks: started before a version runs (with its SQL, for --dry-run output),
// finished after it committed.
struct Observer {
  std::function<void(const Migration&, bool up, bool dry_run)> started;
  std::function<void(const StepResult&)> finished;
};

struct Options {
  std::chrono::milliseconds lock_timeout{30000};
  // For status, verify and --dry-run: a SQLite file that does not exist is not created
  // but read as an empty database (its directory must exist). Writing then throws.
  bool read_only = false;
};

class Backend;

class Migrator {
 public:
  // url: sqlite:PATH or postgres://... Throws Error(usage) for a bad URL, Error(connect).
  static std::unique_ptr<Migrator> open(const std::string& url, Options options = {});
  ~Migrator();

  Dialect dialect() const { return dialect_; }
  std::vector<MigrationStatus> status();
  // Applied versions whose checksum changed or whose file is not embedded.
  std::vector<MigrationStatus> problems();
  int pending();
  ApplyResult up(std::optional<int> to, bool dry_run, const Observer& observer = {});
  // Reverts `steps` versions (default 1), or every applied version above `to`.
  ApplyResult down(std::optional<int> steps, std::optional<int> to, bool dry_run, const Observer& observer = {});
  ApplyResult redo(bool dry_run, const Observer& observer = {});

 private:
  Migrator(Dialect dialect, std::unique_ptr<Backend> backend);
  ApplyResult revert(std::optional<int> steps, std::optional<int> to, bool dry_run, const Observer& observer);  // lock held
  Dialect dialect_;
  std::unique_ptr<Backend> backend_;
};

}  // namespace mtown::migrate
