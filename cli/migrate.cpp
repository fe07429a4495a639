// `mtown migrate`: flags -> a Migrator call (mtown_migrate) -> text or JSON -> exit code.
#include <cstdio>
#include <memory>
#include <optional>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "mtown/migrate/migrator.hpp"

namespace mtown::cli {
namespace {

using migrate::ExitCode;
using migrate::Migrator;
using nlohmann::json;

struct MigrateFlags {
  std::string database;
  bool dry_run = false;
  bool json_out = false;
  int lock_timeout_s = 30;
  std::optional<int> to;
  std::optional<int> steps;
  std::string dir = "schemas/migrations";
  std::string name;
};

struct Subs {
  CLI::App *up, *down, *status, *redo, *verify, *create;
};

json to_json(const migrate::MigrationStatus& s) {
  return {{"version", s.version}, {"name", s.name}, {"applied_at", s.applied_at ? json(*s.applied_at) : json(nullptr)},
          {"duration_ms", s.duration_ms ? json(*s.duration_ms) : json(nullptr)}, {"checksum", s.checksum},
          {"state", migrate::state_name(s.state)}};
}

// True while a progress line waits for its "ok": an error then starts on a new line.
bool g_line_open = false;

// Progress on stdout: "applying 0002_x ... ok (12 ms)"; with --dry-run, the SQL instead.
migrate::Observer progress(const MigrateFlags& f) {
  if (f.json_out) return {};
  migrate::Observer obs;
  obs.started = [](const migrate::Migration& m, bool up, bool dry_run) {
    if (dry_run) {
      std::printf("-- %s %s (%s)\n%s\n", m.label().c_str(), up ? "up" : "down", (up ? m.up_path : m.down_path).c_str(),
                  (up ? m.up_sql : m.down_sql).c_str());
    } else {
      std::printf("%s %s ... ", up ? "applying" : "reverting", m.label().c_str());
      g_line_open = true;
    }
    std::fflush(stdout);
  };
  obs.finished = [](const migrate::StepResult& r) {
    if (r.dry_run) return;
    g_line_open = false;
    if (r.skipped) std::printf("skipped (done by another process)\n");
    else std::printf("ok (%lld ms)\n", static_cast<long long>(r.duration_ms));
    std::fflush(stdout);
  };
  return obs;
}

// One step of up/down/redo --json: the file it ran and, with --dry-run, its SQL.
json step_json(migrate::Dialect d, const migrate::StepResult& s, bool dry_run) {
  json j{{"version", s.version}, {"name", s.name}, {"direction", s.up ? "up" : "down"},
         {"duration_ms", s.duration_ms}, {"skipped", s.skipped}};
  for (const auto& m : migrate::embedded_migrations(d)) {
    if (m.version != s.version) continue;
    j["file"] = s.up ? m.up_path : m.down_path;
    if (dry_run) j["sql"] = s.up ? m.up_sql : m.down_sql;
  }
  return j;
}

int report_apply(const MigrateFlags& f, const Migrator& m, const char* command, const migrate::ApplyResult& r) {
  if (f.json_out) {
    json steps = json::array();
    for (const auto& s : r.steps) steps.push_back(step_json(m.dialect(), s, f.dry_run));
    std::printf("%s\n", json{{"command", command}, {"dry_run", f.dry_run}, {"steps", steps}}.dump().c_str());
  } else if (r.steps.empty()) {
    std::printf("nothing to do\n");
  }
  return kExitOk;
}

int run_status(const MigrateFlags& f, Migrator& m) {
  const auto rows = m.status();
  int pending = 0;
  for (const auto& s : rows) pending += s.state == migrate::State::pending;
  if (f.json_out) {
    json list = json::array();
    for (const auto& s : rows) list.push_back(to_json(s));
    std::printf("%s\n", json{{"dialect", migrate::dialect_name(m.dialect())}, {"migrations", list}, {"pending", pending}}.dump().c_str());
    return kExitOk;
  }
  std::printf("%-7s  %-24s %-24s %11s  %-12s  %s\n", "version", "name", "applied_at", "duration_ms", "checksum", "state");
  for (const auto& s : rows) {
    std::printf("%04d     %-24s %-24s %11s  %-12s  %s\n", s.version, s.name.c_str(), s.applied_at.value_or("-").c_str(),
                s.duration_ms ? std::to_string(*s.duration_ms).c_str() : "-", s.checksum.substr(0, 12).c_str(),
                migrate::state_name(s.state));
  }
  std::printf("%d pending\n", pending);
  return kExitOk;
}

int run_verify(const MigrateFlags& f, Migrator& m) {
  const auto bad = m.problems();
  if (f.json_out) {
    json list = json::array();
    for (const auto& s : bad) list.push_back(to_json(s));
    std::printf("%s\n", json{{"ok", bad.empty()}, {"problems", list}}.dump().c_str());
  } else if (bad.empty()) {
    std::printf("ok: every applied migration matches its embedded file\n");
  } else {
    for (const auto& s : bad)
      std::printf("%s: %s\n", migrate::version_label(s.version, s.name).c_str(),
                  s.state == migrate::State::changed ? "checksum changed since it was applied" : "applied but not in this binary");
  }
  return bad.empty() ? kExitOk : static_cast<int>(ExitCode::checksum);
}

int run_create(const MigrateFlags& f) {
  const auto paths = migrate::create_migration_files(f.dir, f.name);
  if (f.json_out) {
    json list = json::array();
    for (const auto& p : paths) list.push_back(p.string());
    std::printf("%s\n", json{{"files", list}}.dump().c_str());
  } else {
    for (const auto& p : paths) std::printf("created %s\n", p.string().c_str());
  }
  return kExitOk;
}

int run(const MigrateFlags& f, const Subs& subs) {
  if (subs.create->parsed()) return run_create(f);
  if (f.database.empty()) throw migrate::Error(ExitCode::usage, "--database or MTOWN_DATABASE_URL is required");
  const bool read_only = f.dry_run || subs.status->parsed() || subs.verify->parsed();
  const auto m = Migrator::open(f.database, {std::chrono::seconds(f.lock_timeout_s), read_only});
  const auto obs = progress(f);
  if (subs.status->parsed()) return run_status(f, *m);
  if (subs.verify->parsed()) return run_verify(f, *m);
  if (subs.up->parsed()) return report_apply(f, *m, "up", m->up(f.to, f.dry_run, obs));
  if (subs.down->parsed()) {
    if (f.to && f.steps) throw migrate::Error(ExitCode::usage, "down takes --steps or --to, not both");
    return report_apply(f, *m, "down", m->down(f.steps, f.to, f.dry_run, obs));
  }
  if (subs.redo->parsed()) return report_apply(f, *m, "redo", m->redo(f.dry_run, obs));
  return kExitUsage;
}

}  // namespace

Command add_migrate(CLI::App& app) {
  auto flags = std::make_shared<MigrateFlags>();
  app.require_subcommand(1);
  app.fallthrough(true);  // `mtown migrate up --database X` as well as `mtown migrate --database X up`
  app.add_option("--database", flags->database, "sqlite:PATH or postgres://... (default: $MTOWN_DATABASE_URL)")
      ->envname("MTOWN_DATABASE_URL");
  app.add_flag("--dry-run", flags->dry_run, "print the SQL that would run; change nothing");
  app.add_flag("--json", flags->json_out, "machine-readable output");
  app.add_option("--lock-timeout", flags->lock_timeout_s, "seconds to wait for another migrate run (default 30)")
      ->check(CLI::Range(0, 3600));
  Subs subs{};
  subs.up = app.add_subcommand("up", "apply pending migrations");
  subs.up->add_option("--to", flags->to, "stop after this version");
  subs.down = app.add_subcommand("down", "revert applied migrations (default: the last one)");
  auto* steps = subs.down->add_option("--steps", flags->steps, "revert this many versions")->check(CLI::PositiveNumber);
  subs.down->add_option("--to", flags->to, "revert every version above this one")->excludes(steps);
  subs.status = app.add_subcommand("status", "list versions: applied_at, duration, checksum state, pending");
  subs.redo = app.add_subcommand("redo", "revert the last version and apply it again");
  subs.verify = app.add_subcommand("verify", "compare applied checksums with the embedded files");
  subs.create = app.add_subcommand("create", "write the next NNNN_NAME.{up,down}.sql for both dialects");
  subs.create->add_option("name", flags->name, "lower_snake_case name")->required();
  subs.create->add_option("--dir", flags->dir, "migrations folder (default ./schemas/migrations)");
  app.footer("Exit codes: 0 ok, 1 a migration failed (rolled back), 2 usage or bad URL, 3 cannot connect,\n"
             "4 checksum mismatch (verify, or up refusing), 5 migration lock not acquired in time.\n"
             "See docs/migrations.md.");
  return [flags, subs] {
    try {
      return run(*flags, subs);
    } catch (const migrate::Error& e) {
      if (flags->json_out)
        std::printf("%s\n", json{{"error", e.what()}, {"exit_code", static_cast<int>(e.code())}}.dump().c_str());
      if (g_line_open) std::printf("FAILED\n");
      std::fflush(stdout);
      std::fprintf(stderr, "mtown migrate: error: %s\n", e.what());
      return static_cast<int>(e.code());
    }
  };
}

}  // namespace mtown::cli
