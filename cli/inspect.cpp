// `mtown inspect`: flags -> InspectOptions -> run_inspect(). Exit codes in README.md.
#include <cstdlib>
#include <iostream>
#include <memory>

#include "commands.hpp"
#include "mtown/inspect/inspect.hpp"

namespace mtown::cli {

Command add_inspect(CLI::App& app) {
  using inspect::View;
  auto o = std::make_shared<inspect::InspectOptions>();
  app.require_subcommand(1);
  std::vector<std::pair<CLI::App*, View>> views;
  const auto view = [&](const char* name, View v, const char* help) {
    auto* sub = app.add_subcommand(name, help);
    sub->add_option("--redis", o->redis_url, "redis://[:PASSWORD@]HOST:PORT[/DB] (default: $MTOWN_REDIS_URL)");
    sub->add_flag("--json", o->json, "JSON instead of a table (field names: docs/redis.md)");
    sub->add_option("--watch", o->watch_s, "redraw every SECONDS until Ctrl-C")->check(CLI::Range(1, 3600));
    views.emplace_back(sub, v);
    return sub;
  };
  auto* rooms = view("rooms", View::rooms, "open rooms: code, game, phase, players/max, AI, node, age, TTL");
  rooms->add_option("--game", o->game, "only rooms of this game");
  rooms->add_option("--phase", o->phase, "only rooms in this phase (lobby, question, voting, playing, ...)");
  auto* room = view("room", View::room, "one room: every field, its players, the game snapshot, the votes so far");
  room->add_option("CODE", o->room, "the room code")->required();
  room->add_flag("--close", o->close, "ask the owning server to close the room (needs --yes)");
  room->add_flag("--yes", o->yes, "confirm --close");
  auto* players = view("players", View::players, "players in rooms: room, node, connection, idle time");
  players->add_option("--room", o->room, "only players of this room");
  view("nodes", View::nodes, "servers writing to this Redis: address, rooms, players, load, heartbeat");
  view("stats", View::stats, "counts of mtown's keys and the memory they use");
  app.footer("Exit codes: 0 ok, 1 failed, 2 usage, 3 Redis unreachable, 4 Redis auth failed, 5 room not found,\n"
             "6 keys of an unknown format, 7 --close not confirmed. Read-only except room CODE --close --yes.");
  return [o, views] {
    for (const auto& [sub, v] : views)
      if (sub->parsed()) o->view = v;
    if (o->redis_url.empty())
      if (const char* env = std::getenv("MTOWN_REDIS_URL")) o->redis_url = env;
    return inspect::run_inspect(*o, std::cout, std::cerr);
  };
}

}  // namespace mtown::cli
