// The one place that may refuse a resume attempt before its token is looked up.
#pragma once
#include <string_view>

namespace mtown::server {

struct ServerContext;

// True lets the attempt proceed; false refuses it with RATE_LIMITED (welcome.resume_refused).
// `resume_token` is as sent, not yet checked. Called on the connection's strand; must not block.
bool resume_allowed(ServerContext& ctx, std::string_view resume_token);

}  // namespace mtown::server
