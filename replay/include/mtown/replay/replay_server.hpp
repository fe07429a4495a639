// `mtown replay --serve`: plays a recording to WebSocket clients as if it were live, at
// `speed` times real time, over the same protocol as `mtown serve` (a client that can
// watch a room can watch a replay). Runs until SIGINT/SIGTERM.
#pragma once
#include <cstdint>
#include <string>

#include "mtown/core/recording.hpp"

namespace mtown::replay {

struct ServeOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;  // 0: any free port (the "listening" log line names it)
  double speed = 1.0;         // > 0
};

// Returns true after a clean shutdown, false when it cannot listen (logged).
// Throws core::RecordingError when the recording cannot be replayed at all.
bool serve_recording(const core::Recording& recording, const ServeOptions& options);

}  // namespace mtown::replay
