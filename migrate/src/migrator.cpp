// Migrator: plans up/down/redo against the embedded catalog and the bookkeeping rows;
// the backend runs each version in its own transaction.
#include <algorithm>
#include <map>

#include "backend.hpp"
#include "mtown/core/dependency_probe.hpp"

namespace mtown::migrate {
namespace {

// Releases the backend's run lock on every path out of a run.
class RunLock {
 public:
  explicit RunLock(Backend& b) : b_(b) { b_.lock(); }
  ~RunLock() { b_.unlock(); }
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;

 private:
  Backend& b_;
};

const Migration* find(Dialect d, int version) {
  for (const auto& m : embedded_migrations(d))
    if (m.version == version) return &m;
  return nullptr;
}

StepResult run_one(Backend& b, const Migration& m, bool up, bool dry_run, const Observer& obs) {
  if (obs.started) obs.started(m, up, dry_run);
  StepResult r{m.version, m.name, up, 0, false, dry_run};
  if (!dry_run) r.skipped = !b.run(m, up, r.duration_ms);
  if (obs.finished) obs.finished(r);
  return r;
}

}  // namespace

Migrator::Migrator(Dialect dialect, std::unique_ptr<Backend> backend) : dialect_(dialect), backend_(std::move(backend)) {}
Migrator::~Migrator() = default;

std::unique_ptr<Migrator> Migrator::open(const std::string& url, Options options) {
  const auto parsed = core::parse_database_url(url);
  if (!parsed || parsed->kind == core::DatabaseUrl::Kind::none)
    throw Error(ExitCode::usage, "expected a database URL sqlite:PATH or postgres://..., got \"" + url + "\"");
  const auto dialect = parsed->kind == core::DatabaseUrl::Kind::sqlite ? Dialect::sqlite : Dialect::postgres;
  embedded_migrations(dialect);  // a broken catalog fails before touching the database
  auto backend = dialect == Dialect::sqlite ? open_sqlite(parsed->target, options.lock_timeout, options.read_only)
                                            : open_postgres(parsed->target, options.lock_timeout);
  return std::unique_ptr<Migrator>(new Migrator(dialect, std::move(backend)));
}

std::vector<MigrationStatus> Migrator::status() {
  std::map<int, MigrationStatus> rows;
  for (const auto& m : embedded_migrations(dialect_)) rows[m.version] = {m.version, m.name, {}, {}, m.checksum, State::pending};
  for (const auto& a : backend_->applied()) {
    const auto* m = find(dialect_, a.version);
    auto& s = rows[a.version];
    s = {a.version, a.name, a.applied_at, a.duration_ms, a.checksum, State::ok};
    if (!m) s.state = State::missing;
    else if (m->checksum != a.checksum) s.state = State::changed;
  }
  std::vector<MigrationStatus> out;
  for (auto& [v, s] : rows) out.push_back(std::move(s));
  return out;
}

std::vector<MigrationStatus> Migrator::problems() {
  auto all = status();
  std::erase_if(all, [](const MigrationStatus& s) { return s.state == State::ok || s.state == State::pending; });
  return all;
}

int Migrator::pending() {
  const auto all = status();
  return static_cast<int>(std::count_if(all.begin(), all.end(), [](const auto& s) { return s.state == State::pending; }));
}

ApplyResult Migrator::up(std::optional<int> to, bool dry_run, const Observer& obs) {
  RunLock lock(*backend_);
  if (!dry_run) backend_->ensure_table();
  const auto all = status();
  for (const auto& s : all)
    if (s.state == State::changed)
      throw Error(ExitCode::checksum, "migration " + version_label(s.version, s.name) +
                                          " was changed after it was applied (checksum differs); refusing to migrate");
  ApplyResult result;
  for (const auto& s : all) {
    if (s.state != State::pending || (to && s.version > *to)) continue;
    result.steps.push_back(run_one(*backend_, *find(dialect_, s.version), true, dry_run, obs));
  }
  return result;
}

ApplyResult Migrator::down(std::optional<int> steps, std::optional<int> to, bool dry_run, const Observer& obs) {
  RunLock lock(*backend_);
  return revert(steps, to, dry_run, obs);
}

ApplyResult Migrator::revert(std::optional<int> steps, std::optional<int> to, bool dry_run, const Observer& obs) {
  auto applied = backend_->applied();
  std::reverse(applied.begin(), applied.end());
  std::vector<const Migration*> plan;
  for (const auto& a : applied) {
    if (to ? a.version <= *to : static_cast<int>(plan.size()) >= steps.value_or(1)) break;
    const auto* m = find(dialect_, a.version);
    if (!m) throw Error(ExitCode::checksum, "cannot revert " + version_label(a.version, a.name) + ": this binary has no such migration");
    plan.push_back(m);
  }
  ApplyResult result;
  for (const auto* m : plan) result.steps.push_back(run_one(*backend_, *m, false, dry_run, obs));
  return result;
}

ApplyResult Migrator::redo(bool dry_run, const Observer& obs) {
  RunLock lock(*backend_);  // one lock for both halves: nobody migrates in between
  auto result = revert(1, std::nullopt, dry_run, obs);
  if (!result.steps.empty())
    result.steps.push_back(run_one(*backend_, *find(dialect_, result.steps.back().version), true, dry_run, obs));
  return result;
}

}  // namespace mtown::migrate
