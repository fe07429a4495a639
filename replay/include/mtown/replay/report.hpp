// Replaying a whole recording (or up to a tick) at full speed: the summary, the
// divergence if any, the state at a chosen tick and the timeline.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mtown/core/recording.hpp"
#include "mtown/replay/replayer.hpp"
#include "mtown/replay/timeline.hpp"

namespace mtown::replay {

struct ReplayOptions {
  std::optional<core::Tick> until;        // stop once this tick has been replayed and checked
  std::optional<core::Tick> print_state;  // keep the state at this tick
  bool timeline = false;
};

struct ReplayReport {
  std::string game_id, game;
  std::int64_t started_at_ms = 0;
  core::Tick ticks = 0;  // the last tick replayed
  std::int64_t game_ms = 0;
  std::size_t steps = 0, inputs = 0, events = 0, tick_hashes = 0, checkpoints = 0;
  // "completed" / "aborted" (as recorded), "incomplete" (no end record), "stopped" (--until)
  std::string status;
  bool end_checked = false;
  std::optional<Divergence> divergence;
  nlohmann::json result;  // the replayed game's result(): standings and winner
  std::optional<nlohmann::json> state;  // --print-state: {tick, replayed_tick, hash, state}
  std::vector<TimelineEntry> timeline;
  double elapsed_s = 0;

  bool verified() const { return !divergence; }
  double ticks_per_second() const { return elapsed_s > 0 ? static_cast<double>(ticks) / elapsed_s : 0; }
  double real_time_factor() const { return elapsed_s > 0 ? static_cast<double>(game_ms) / 1000.0 / elapsed_s : 0; }
};

// Throws core::RecordingError (unknown_game, corrupt) and std::out_of_range when
// `print_state` is past the recording's last tick.
ReplayReport replay_recording(const core::Recording& recording, const ReplayOptions& options = {});

nlohmann::json report_json(const ReplayReport& r);
std::string report_text(const ReplayReport& r);  // the summary (and divergence) for a terminal

}  // namespace mtown::replay
