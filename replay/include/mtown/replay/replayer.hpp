// Re-runs a recorded game exactly as its room ran it (same seed, same start, the same
// steps with the same inputs in the same order) and checks every record on the way: the
// low 32 bits of each tick's state hash, every checkpoint's full hash, the public events
// and the end. Pure and single-threaded: no clock, no I/O; the caller paces it.
#pragma once
#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "mtown/core/game.hpp"
#include "mtown/core/recording.hpp"
#include "mtown/replay/state_diff.hpp"

namespace mtown::replay {

// Where the replay first disagreed with the recording.
struct Divergence {
  core::Tick tick = 0;         // the first tick whose state (or events, or end) differs
  core::Tick compared_at = 0;  // the tick of the recorded state the fields were compared with
  std::string what;            // "state hash", "event", "end"
  std::string expected;        // the recorded hash (8 hex digits per tick, 16 at a checkpoint) or value
  std::string actual;
  std::vector<FieldDiff> fields;  // recorded vs replayed at `compared_at`
  std::string note;               // one line for humans
};

// One step as the room ran it.
struct ReplayStep {
  core::Tick tick = 0;
  std::span<const core::GameInput> inputs;  // into the recording
  core::StepOutput out;
};

class Replayer {
 public:
  // `recording` must outlive the Replayer. Throws core::RecordingError: unknown_game (the
  // game is not built in, or its rules version differs) or corrupt (options or seats the
  // game refuses).
  explicit Replayer(const core::Recording& recording);
  ~Replayer();

  // Runs the next step (fixed-rate games: every tick; event-driven: every recorded step)
  // and checks the records that belong to it. Null once the recording is exhausted or
  // after a divergence. Throws core::RecordingError (corrupt) on records out of order.
  const ReplayStep* next();

  const core::RecordingHeader& header() const { return recording_.header; }
  const core::Game& game() const { return *game_; }
  core::Tick tick() const { return tick_; }
  std::uint64_t state_hash() const;
  const std::optional<Divergence>& divergence() const { return divergence_; }
  const core::RecordedEnd* end() const { return end_; }  // once its tick has been replayed
  bool done() const { return done_; }
  core::Tick last_tick() const { return last_tick_; }  // the recording's last tick
  // The tick next() will run (meaningless once done()).
  core::Tick next_tick() const;

  std::size_t steps() const { return steps_; }
  std::size_t inputs() const { return inputs_; }
  std::size_t events() const { return events_; }  // recorded public events checked
  std::size_t tick_hashes_checked() const { return tick_hashes_checked_; }
  std::size_t checkpoints_checked() const { return checkpoints_checked_; }

 private:
  bool fixed_rate() const { return recording_.header.tick_hz > 0; }
  void run(core::Tick tick, std::span<const core::GameInput> inputs);
  void settle();  // checks every record at or before the current tick
  void check_event(const core::RecordedEvent& e);
  void check_hash(const core::RecordedHash& h);
  void check_end(const core::RecordedEnd& e);
  void diverge(Divergence d);
  [[noreturn]] void corrupt(const std::string& what) const;

  const core::Recording& recording_;
  std::unique_ptr<core::Game> game_;
  core::Rng rng_;
  ReplayStep step_;
  std::size_t cursor_ = 0;      // next record to check or run
  std::size_t event_index_ = 0;  // next of step_.out.events to match a recorded event
  core::Tick tick_ = 0;
  core::Tick last_tick_ = 0;
  core::Tick segment_start_ = 1;  // fixed-rate: first tick since the last checkpoint
  std::string tick_hashes_;       // fixed-rate: low 32 bits of each tick's hash since then
  std::optional<Divergence> divergence_;
  const core::RecordedEnd* end_ = nullptr;
  bool done_ = false;
  std::size_t steps_ = 0, inputs_ = 0, events_ = 0, tick_hashes_checked_ = 0, checkpoints_checked_ = 0;
};

}  // namespace mtown::replay
