#include "mtown/server/resume_gate.hpp"

namespace mtown::server {

// Hook for the abuse limits (issue 6, auth half): a per-address budget of resume attempts
// goes here. Until then every attempt proceeds; tokens are 128 random bits, so guessing
// one is hopeless anyway.
bool resume_allowed(ServerContext& ctx, const ResumeAttempt& attempt) {
  (void)ctx;
  (void)attempt;
  return true;
}

}  // namespace mtown::server
