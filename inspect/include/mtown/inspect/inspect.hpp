// `mtown inspect` as a library call: reads what `mtown serve` keeps in Redis (docs/redis.md)
// and prints it as a table or as JSON. Read-only, except `room CODE --close --yes`, which
// asks the owning server (through pub/sub) to close the room.
#pragma once
#include <cstddef>
#include <ostream>
#include <string>

namespace mtown::inspect {

// Exit codes (README.md).
enum InspectExit : int {
  inspect_ok = 0,
  inspect_failed = 1,
  inspect_usage = 2,
  inspect_unreachable = 3,     // cannot connect to Redis
  inspect_auth = 4,            // Redis refused the credentials (or wants some)
  inspect_not_found = 5,       // no such room
  inspect_unknown_keys = 6,    // keys under mtown's names that mtown did not write
  inspect_close_unconfirmed = 7,  // --close: no server answered, or it could not close the room
};

enum class View { rooms, room, players, nodes, stats };

struct InspectOptions {
  View view = View::rooms;
  std::string redis_url;  // redis://[:PASSWORD@]HOST:PORT[/DB]
  std::string game;       // rooms: only this game
  std::string phase;      // rooms: only this phase
  std::string room;       // room: the code; players: only this room
  bool json = false;
  int watch_s = 0;        // > 0: redraw every watch_s seconds until Ctrl-C
  bool close = false;     // room: ask the owning server to close it
  bool yes = false;       // confirms --close
  int timeout_ms = 2000;  // Redis connect/command timeout
  int close_wait_ms = 5000;
  std::size_t scan_count = 1000;  // SCAN ... COUNT
};

int run_inspect(const InspectOptions& options, std::ostream& out, std::ostream& err);

}  // namespace mtown::inspect
