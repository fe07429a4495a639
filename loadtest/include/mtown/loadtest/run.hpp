// `mtown loadtest` as a library call: plan the bots, optionally spawn the server, ramp,
// measure a window, cross-check with the server's /metrics, judge the thresholds, write
// the reports. Progress goes to stderr, the summary to stdout.
#pragma once
#include "mtown/loadtest/options.hpp"

namespace mtown::loadtest {

// Exit codes (documented in README.md and docs/loadtest.md).
inline constexpr int kExitPassed = 0;           // every threshold met (or none given)
inline constexpr int kExitFailed = 1;           // the generator itself failed (a bug, a report it could not write)
inline constexpr int kExitUsage = 2;            // bad flags
inline constexpr int kExitCannotConnect = 3;    // no bot could connect, or --spawn failed
inline constexpr int kExitThresholdMissed = 4;  // the run completed and a threshold was missed

// Options must have passed validate(). Returns one of the exit codes above.
int run_loadtest(Options options);

}  // namespace mtown::loadtest
