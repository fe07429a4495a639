// A game's story for humans: joins, leaves, phases, kills, scores and the end, each with
// its tick and its time since the start. Built from the replayed steps (not from the
// recorded events), so it is what the verified game did.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mtown/core/recording.hpp"
#include "mtown/replay/replayer.hpp"

namespace mtown::replay {

struct TimelineEntry {
  core::Tick tick = 0;
  std::int64_t ms = 0;  // game time since the start
  std::string kind;     // join, leave, takeover, phase, kill, scores, result, end
  std::string text;     // one line for humans
  nlohmann::json data;  // the event or input behind it
};

class Timeline {
 public:
  explicit Timeline(const core::RecordingHeader& header);  // every seat joins at tick 0
  void on_step(const ReplayStep& step, const core::Game& game);
  void on_end(const core::RecordedEnd& end);
  const std::vector<TimelineEntry>& entries() const { return entries_; }

 private:
  void add(core::Tick tick, std::string kind, std::string text, nlohmann::json data);
  std::string seat_name(const nlohmann::json& seat) const;

  const core::RecordingHeader& header_;
  std::vector<TimelineEntry> entries_;
};

nlohmann::json timeline_json(const std::vector<TimelineEntry>& entries, std::int64_t started_at_ms);
std::string format_game_time(std::int64_t ms);  // "+1:02.345"
std::int64_t game_ms(const core::RecordingHeader& header, core::Tick tick);  // game time at `tick`
std::string scores_text(const nlohmann::json& players);  // "Ann 12, Bob 7" from [{name, score}]

}  // namespace mtown::replay
