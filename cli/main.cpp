// mtown: one binary, a table of subcommands. Parsing and wiring only; the work happens
// in the libraries. One catch turns anything that escapes into an exit code.
#include <cstdio>
#include <exception>
#include <map>

#include "commands.hpp"
#include "mtown/core/log.hpp"

int main(int argc, char** argv) {
  using namespace mtown::cli;
  CLI::App app{"mtown: a toolchain for real-time multiplayer games", "mtown"};
  app.set_version_flag("--version", "mtown " MTOWN_VERSION " (" MTOWN_MALLOC_NAME ")");
  app.require_subcommand(1);
  app.fallthrough(false);

  struct Subcommand {
    const char* name;
    const char* description;
    Command (*add)(CLI::App&);
  };
  static constexpr Subcommand kSubcommands[] = {
      {"serve", "run the game server (HTTP + WebSocket)", add_serve},
      {"migrate", "apply, revert and check database schema migrations", add_migrate},
      {"replay", "re-run a recorded game, check every hash, show where it diverged", add_replay},
      {"inspect", "read-only view of the live rooms, players and nodes in Redis", add_inspect},
      {"loadtest", "bot clients against a server: latency, rates, thresholds for CI", add_loadtest},
      {"token", "mint a player token (JWT) for ops and tests", add_token},
  };
  std::map<CLI::App*, Command> commands;
  for (const auto& s : kSubcommands) {
    auto* sub = app.add_subcommand(s.name, s.description);
    commands[sub] = s.add(*sub);
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);  // prints help, version or the usage error
    return code == 0 ? kExitOk : kExitUsage;
  }
  try {
    for (auto& [sub, run] : commands)
      if (sub->parsed()) return run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mtown: error: %s\n", e.what());
    return kExitFailed;
  }
  return kExitUsage;
}
