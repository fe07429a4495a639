// The one place that may refuse a resume attempt before its token is looked up, e.g. a
// rate limiter keyed by peer address (failed guesses count as much as good tokens).
#pragma once
#include <string_view>

namespace mtown::server {

struct ServerContext;

struct ResumeAttempt {
  std::string_view peer_address;  // the client's IP address, as text
  std::string_view resume_token;  // as sent; not yet checked
};

// True lets the attempt proceed; false refuses it with RATE_LIMITED (welcome.resume_refused).
// Called on the connection's strand; must not block.
bool resume_allowed(ServerContext& ctx, const ResumeAttempt& attempt);

}  // namespace mtown::server
