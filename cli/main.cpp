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
  app.set_version_flag("--version", "mtown " MTOWN_VERSION);
  app.require_subcommand(1);
  app.fallthrough(false);

  std::map<CLI::App*, Command> commands;
  auto* serve = app.add_subcommand("serve", "run the game server (HTTP + WebSocket)");
  commands[serve] = add_serve(*serve);
  auto* migrate = app.add_subcommand("migrate", "apply, revert and check database schema migrations");
  commands[migrate] = add_migrate(*migrate);
  auto* replay = app.add_subcommand("replay", "re-run a recorded game, check every hash, show where it diverged");
  commands[replay] = add_replay(*replay);
  auto* inspect = app.add_subcommand("inspect", "read-only view of the live rooms, players and nodes in Redis");
  commands[inspect] = add_inspect(*inspect);
  auto* loadtest = app.add_subcommand("loadtest", "bot clients against a server: latency, rates, thresholds for CI");
  commands[loadtest] = add_loadtest(*loadtest);
  auto* token = app.add_subcommand("token", "mint a player token (JWT) for ops and tests");
  commands[token] = add_token(*token);

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
