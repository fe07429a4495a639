// `mtown inspect`: connect, read one view, print it (table or JSON); with --watch, again
// every N seconds until Ctrl-C. Errors map to the documented exit codes.
#include "mtown/inspect/inspect.hpp"

#include <atomic>
#include <csignal>
#include <thread>

#include "inspect_internal.hpp"

namespace mtown::inspect {
namespace {

std::atomic<bool> interrupted{false};
extern "C" void on_sigint(int) { interrupted.store(true); }

json read_view(core::RedisClient& c, const InspectOptions& o) {
  switch (o.view) {
    case View::rooms: return read_rooms(c, o);
    case View::room: return read_room(c, o);
    case View::players: return read_players(c, o);
    case View::nodes: return read_nodes(c, o);
    case View::stats: return read_stats(c, o);
  }
  return {};
}

// One read and print; the exit code of this round.
int once(core::RedisClient& c, const core::RedisUrl& url, const InspectOptions& o, std::ostream& out) {
  if (!c.connected()) connect_or_throw(c, url, o.timeout_ms);
  if (o.close) {
    const auto result = request_close(c, url, o);
    out << (o.json ? result.dump() + "\n" : render_close(result));
    return inspect_ok;
  }
  const auto model = read_view(c, o);
  out << (o.json ? model.dump() + "\n" : render(o.view, model));
  if (!model["unknown_keys"].empty()) {
    throw InspectError(inspect_unknown_keys,
                       std::to_string(model["unknown_keys"].size()) +
                           " key(s) under mtown's names were not written by mtown serve (listed above): check that no other "
                           "application uses room:/player:/node:/votes:/game: keys in this Redis db, or point --redis at "
                           "the db mtown uses");
  }
  return inspect_ok;
}

}  // namespace

int run_inspect(const InspectOptions& o, std::ostream& out, std::ostream& err) {
  const auto url = core::parse_redis_url(o.redis_url);
  if (o.redis_url.empty() || !url) {
    err << "mtown inspect: " << (o.redis_url.empty() ? "no Redis given: use --redis redis://HOST:PORT[/DB] or set MTOWN_REDIS_URL"
                                                     : "--redis: expected redis://[:PASSWORD@]HOST:PORT[/DB], got \"" + o.redis_url + "\"")
        << "\n";
    return inspect_usage;
  }
  if (o.close && !o.yes) {
    err << "mtown inspect: --close closes a live room for its players: add --yes to confirm\n";
    return inspect_usage;
  }
  if (o.close && o.watch_s > 0) {
    err << "mtown inspect: --close and --watch do not go together\n";
    return inspect_usage;
  }
  core::RedisClient client;
  if (o.watch_s <= 0) {
    try {
      return once(client, *url, o, out);
    } catch (const InspectError& e) {
      err << "mtown inspect: " << e.what() << "\n";
      return e.exit_code();
    }
  }
  interrupted.store(false);
  const auto previous = std::signal(SIGINT, on_sigint);
  while (!interrupted.load()) {
    if (!o.json) out << "\x1b[H\x1b[2J" << "every " << o.watch_s << "s, Ctrl-C to stop\n\n";
    try {
      once(client, *url, o, out);
    } catch (const InspectError& e) {
      err << "mtown inspect: " << e.what() << "\n";
      client.close();
    }
    out.flush();
    for (int i = 0; i < o.watch_s * 10 && !interrupted.load(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::signal(SIGINT, previous);
  return inspect_ok;
}

}  // namespace mtown::inspect
