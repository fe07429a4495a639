// `mtown serve`: flags -> Config (defaults < yaml < env < flags) -> run_server().
#include <cstdio>
#include <memory>

#include "commands.hpp"
#include "config_loader.hpp"
#include "mtown/core/auth.hpp"
#include "mtown/core/config.hpp"
#include "mtown/core/dependency_probe.hpp"
#include "mtown/core/log.hpp"
#include "mtown/migrate/migrator.hpp"
#include "mtown/server/server.hpp"

namespace mtown::cli {
namespace {

struct ServeFlags {
  std::string config_path;
  bool print_config = false;
  bool migrate = false;
  bool dev = false;
  core::ConfigOverrides overrides;
  std::vector<std::string> sets;
};

// Flags that stand for a config key: `--port 9000` is `--set server.port=9000`.
constexpr std::pair<const char*, const char*> kShortcuts[] = {
    {"--host", "server.host"},       {"--port", "server.port"},     {"--threads", "server.threads"},
    {"--log-level", "log.level"},    {"--log-format", "log.format"}, {"--database", "database.url"},
    {"--redis", "redis.url"},
};

void check_urls(const core::Config& c) {
  if (!core::parse_database_url(c.str("database.url")))
    throw core::ConfigError("database.url", "expected sqlite:PATH, postgres://... or none, got \"" + c.str("database.url") + "\"");
  const auto& redis = c.str("redis.url");
  if (!redis.empty() && !core::parse_redis_url(redis))
    throw core::ConfigError("redis.url", "expected redis://HOST:PORT[/DB], got \"" + redis + "\"");
}

// The schema must be current before games are recorded: pending versions refuse the
// start (naming them) unless --migrate applies them; an applied version whose file
// changed since refuses it even with --migrate (as `migrate up` does). An unreachable
// database does not (even with --migrate): the server starts degraded and the recorder
// retries (docs/operations.md).
int check_schema(const core::ServeConfig& serve, bool migrate) {
  const auto db = core::parse_database_url(serve.database_url);
  if (!db || db->kind == core::DatabaseUrl::Kind::none) return kExitOk;
  try {
    auto m = migrate::Migrator::open(serve.database_url);
    std::vector<std::string> pending, changed, unknown;
    for (const auto& s : m->status()) {
      if (s.state == migrate::State::pending) pending.push_back(migrate::version_label(s.version, s.name));
      if (s.state == migrate::State::changed) changed.push_back(migrate::version_label(s.version, s.name));
      if (s.state == migrate::State::missing) unknown.push_back(migrate::version_label(s.version, s.name));
    }
    const auto join = [](const std::vector<std::string>& v) {
      std::string out;
      for (const auto& p : v) out += (out.empty() ? "" : ", ") + p;
      return out;
    };
    // A newer mtown migrated this database: its schema may not be the one this binary
    // writes, and --migrate must not build on it.
    if (!unknown.empty()) {
      core::log_error("database_newer_than_binary", {{"unknown", unknown}, {"version", MTOWN_VERSION}});
      std::fprintf(stderr, "mtown serve: the database has migrations this mtown (" MTOWN_VERSION ") does not know: %s; "
                   "run a newer mtown, or `mtown migrate down` with the binary that applied them\n", join(unknown).c_str());
      return server::serve_newer_database;
    }
    if (!changed.empty()) {
      core::log_error("migration_changed", {{"changed", changed}, {"hint", "run `mtown migrate verify`"}});
      std::fprintf(stderr, "mtown serve: applied migration %s changed since it was applied (checksum differs); "
                   "run `mtown migrate verify`\n", join(changed).c_str());
      return server::serve_changed_migration;
    }
    if (migrate) {
      for (const auto& step : m->up(std::nullopt, false).steps)
        core::log_info("migration_applied", {{"version", migrate::version_label(step.version, step.name)},
                                             {"duration_ms", step.duration_ms}});
      return kExitOk;
    }
    if (pending.empty()) return kExitOk;
    core::log_error("pending_migrations", {{"database", db->kind == core::DatabaseUrl::Kind::sqlite ? db->target : "postgres"},
                                           {"pending", pending},
                                           {"hint", "run `mtown serve --migrate` or `mtown migrate up`"}});
    std::fprintf(stderr, "mtown serve: the database has pending migrations: %s; start with --migrate or run `mtown migrate up`\n",
                 join(pending).c_str());
    return server::serve_pending_migrations;
  } catch (const migrate::Error& e) {
    if (e.code() == migrate::ExitCode::connect) {  // with or without --migrate: start degraded
      core::log_warn("database_unreachable", {{"error", e.what()},
                                              {"effect", "schema not checked; recording retries until it answers"}});
      return kExitOk;
    }
    core::log_error("migration_check_failed", {{"error", e.what()}});
    std::fprintf(stderr, "mtown serve: %s\n", e.what());
    return kExitFailed;
  }
}

int run(const ServeFlags& flags) {
  const auto config = load_config(flags.config_path, flags.sets, flags.overrides);
  check_urls(config);
  if (flags.print_config) {
    std::fputs(config.to_yaml().c_str(), stdout);
    return kExitOk;
  }
  auto serve = core::ServeConfig::from(config);
  core::resolve_auth(serve, flags.dev);
  core::Logger::instance().configure(*core::parse_log_level(serve.log_level), *core::parse_log_format(serve.log_format));
  if (const int rc = check_schema(serve, flags.migrate); rc != kExitOk) return rc;
  return server::run_server(serve);
}

}  // namespace

Command add_serve(CLI::App& app) {
  auto flags = std::make_shared<ServeFlags>();
  app.add_option("-c,--config", flags->config_path, "YAML config file (default: ./mtown.yaml if present, or $MTOWN_CONFIG)");
  for (const auto& [flag, key] : kShortcuts) {
    app.add_option_function<std::string>(
        flag, [flags, key = key](const std::string& v) { flags->overrides.emplace_back(key, v); },
        std::string("sets ") + key);
  }
  app.add_option("--set", flags->sets, "set any config key: --set rooms.ttl_s=600 (repeatable)");
  app.add_flag("--print-config", flags->print_config, "print the effective configuration and exit");
  app.add_flag("--migrate", flags->migrate, "apply pending schema migrations to database.url before serving");
  app.add_flag("--dev", flags->dev,
               "development mode: runs without a JWT secret (a public one is used) and auth.mode auto means optional");
  app.footer("Exit codes: 0 clean shutdown, 1 failure, 2 bad flag or config value (also: no auth.jwt_secret\n"
             "outside --dev), 3 cannot listen, 4 the database has pending migrations (start with --migrate),\n"
             "5 an applied migration changed since it was applied (see mtown migrate verify),\n"
             "6 the database has migrations this mtown does not know (a newer mtown applied them).\n"
             "Every key is listed in examples/mtown.yaml; MTOWN_<SECTION>_<KEY> sets one from the environment.");
  return config_checked("serve", [flags] { return run(*flags); });
}

}  // namespace mtown::cli
