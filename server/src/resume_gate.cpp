#include "mtown/server/resume_gate.hpp"

#include <string>

#include "mtown/server/server_context.hpp"

namespace mtown::server {

// Reconnects are limited per session (limits: reconnect class, 5/min by default), keyed by
// the token the client presents: one player's flapping connection cannot spin the server,
// while many players behind one address (a NAT, the 50-client test) still resume at once.
// Guessing tokens is no threat to limit per address: they carry 128 random bits.
bool resume_allowed(ServerContext& ctx, std::string_view resume_token) {
  return ctx.limiter.try_take("resume:" + std::string(resume_token), core::ActionClass::reconnect).allowed;
}

}  // namespace mtown::server
