// Plays a game without a server and records it the way a room's GameRunner does
// (fixed-rate: every tick stepped, steps with inputs recorded, a checkpoint every
// hash_every ticks; event-driven: every step and its hash), for tests and benchmarks.
// The integration tests check that recordings of the live server replay the same way.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "mtown/core/recording.hpp"

namespace mtown::replay {

class OfflineGame {
 public:
  // Throws std::invalid_argument on an unknown game or bad options (games::create_game).
  OfflineGame(core::RecordingHeader header);

  // One step at `tick` with these inputs (fixed-rate games: tick must be the next one).
  void step(core::Tick tick, std::vector<core::GameInput> inputs);
  void finish(const char* status = "completed");  // the end record (with a last checkpoint)

  const core::Game& game() const { return *game_; }
  const core::Recording& recording() const { return recording_; }
  core::Tick tick() const { return tick_; }

 private:
  std::uint64_t hash() const;

  core::Recording recording_;
  std::unique_ptr<core::Game> game_;
  core::Rng rng_;
  core::Tick tick_ = 0;
  std::string tick_hashes_;
};

}  // namespace mtown::replay
