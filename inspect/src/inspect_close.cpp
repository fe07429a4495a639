// The one write of `mtown inspect`: a close request published on room:{code}:events,
// which the owning server (named in room:{code}'s node field) answers on the same channel.
#include <poll.h>

#include "inspect_internal.hpp"
#include "mtown/core/ids.hpp"
#include "mtown/core/redis_keys.hpp"

namespace mtown::inspect {

json request_close(core::RedisClient& c, const core::RedisUrl& url, const InspectOptions& o) {
  namespace keys = core::redis_keys;
  const auto model = read_room(c, o);  // throws not found
  const std::string code = model["room"]["code"], node = model["room"]["node"];
  const std::string channel = keys::room_events(code);
  // Listen before asking, so the answer cannot slip past.
  core::RedisClient listener;
  connect_or_throw(listener, url, o.timeout_ms);
  std::vector<core::RedisReply> messages;
  if (!listener.send({"SUBSCRIBE", channel})) throw InspectError(inspect_unreachable, listener.last_error().message);
  const std::string request_id = core::random_id("close_");
  const json request{{"type", "close_request"}, {"code", code}, {"node", node}, {"request_id", request_id}};
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(o.close_wait_ms);
  bool subscribed = false, published = false;
  while (std::chrono::steady_clock::now() < deadline) {
    for (const auto& m : messages) {
      if (m.elements.size() != 3) continue;
      if (m.elements[0].str == "subscribe") subscribed = true;
      if (m.elements[0].str != "message") continue;
      const auto body = json::parse(m.elements[2].str, nullptr, false);
      if (body.is_object() && body.value("type", "") == "close_result" && body.value("request_id", "") == request_id) {
        if (!body.value("closed", false))
          throw InspectError(inspect_close_unconfirmed, "node " + node + " did not close room " + code + ": " +
                                                            body.value("detail", std::string("no reason given")));
        return body;
      }
    }
    messages.clear();
    if (subscribed && !published) {
      published = true;
      const auto r = c.command({"PUBLISH", channel, request.dump()});
      if (!r) throw InspectError(inspect_unreachable, c.last_error().message);
      if (r->integer <= 1)  // only our own listener heard it
        throw InspectError(inspect_close_unconfirmed,
                           "no server is listening for room " + code + " (node " + node +
                               "): the node may have died; its keys expire after its redis.key_ttl_s");
    }
    pollfd pfd{listener.fd(), POLLIN, 0};
    if (::poll(&pfd, 1, 100) > 0 && !listener.read_available(messages))
      throw InspectError(inspect_unreachable, "lost the connection to Redis: " + listener.last_error().message);
  }
  throw InspectError(inspect_close_unconfirmed, "node " + node + " did not answer the close request for room " + code +
                                                    " within " + std::to_string(o.close_wait_ms) + " ms: check its logs");
}

}  // namespace mtown::inspect
