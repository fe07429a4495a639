// Runs one game for a room, on the room's strand: queues inputs, steps the game (every
// tick for fixed-rate games, on input and at deadlines for event-driven ones), encodes
// each step's state message once and hands it to the room to broadcast. Never blocks.
#pragma once
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <nlohmann/json.hpp>

#include "mtown/core/game.hpp"
#include "mtown/core/protocol.hpp"
#include "mtown/core/recording.hpp"
#include "mtown/core/tick_lanes.hpp"
#include "mtown/server/server_metrics.hpp"

namespace mtown::server {

namespace net = boost::asio;

// What the runner needs from its room. Called on the room's strand.
class GameHost {
 public:
  virtual ~GameHost() = default;
  virtual void broadcast(const core::SharedMessage& message) = 0;
  virtual void send_to_seat(std::uint32_t seat, const core::SharedMessage& message) = 0;
  virtual void game_over(const nlohmann::json& result) = 0;
  // Every step's output before it is published (events still in place), e.g. for Redis.
  virtual void on_step(const core::StepOutput& out) { (void)out; }
};

struct GameSetup {
  std::string code;     // the room's
  std::string game;     // "arena", "party"
  std::string game_id;  // unique per game
  std::uint64_t seed = 0;
  nlohmann::json options;  // complete (games::prepare_options)
  std::vector<core::GameSeat> seats;
  std::shared_ptr<core::GameRecorder> recorder;  // null: not recorded
  std::uint32_t hash_every = 60;                 // fixed-rate games: a hash record every N ticks
  std::chrono::microseconds debug_tick_delay{0};  // test only: each step sleeps this long first
};

// The messages a game broadcasts, built the same way for a live room and a replay.
// `tick` (a resumed client's or a late watcher's snapshot): the tick the snapshot was taken at.
core::SharedMessage game_started_message(const GameSetup& setup, const core::Game& game,
                                         std::optional<core::Tick> tick = std::nullopt);
// The `state` message after a step (moves out.events); null when an event-driven step
// changed nothing public. `size_hint` (optional): the last message's size, updated, so
// the next one's buffer is reserved once.
core::SharedMessage state_message(const std::string& code, core::Tick tick, core::StepOutput& out,
                                  const core::Game& game, std::size_t* size_hint = nullptr);

class GameRunner : public std::enable_shared_from_this<GameRunner> {
 public:
  using Executor = net::strand<net::io_context::executor_type>;
  // Inputs one seat may queue for a single tick; more are refused with RATE_LIMITED.
  static constexpr std::size_t kMaxInputsPerSeatPerTick = 16;
  // A fixed-rate room this many ticks behind drops them rather than running them back to back.
  static constexpr std::uint64_t kMaxCatchUpTicks = 5;

  // `lanes` (may be null): where a fixed-rate game takes the phase of its ticks.
  GameRunner(Executor strand, GameSetup setup, std::unique_ptr<core::Game> game, GameHost& host,
             ServerMetrics& metrics, core::TickLanes* lanes = nullptr);

  // All on the room's strand.
  void start();  // broadcasts game_started and starts the clock
  void stop();   // cancels timers; the game is abandoned
  // `data` has passed Game::validate_input. Refusals go to the seat as errors, echoing `rid`.
  void submit(std::uint32_t seat, std::uint64_t input_seq, nlohmann::json data, nlohmann::json rid = nullptr);
  // The same, for an input that has passed Game::check_input (keeps its `parsed`).
  void submit(core::GameInput input, nlohmann::json rid = nullptr);
  // An AI plays `seat` from its next step on (core::ai_takeover_input_data, so recorded);
  // a fresh game_started then lists the seat as AI.
  void take_over(std::uint32_t seat, core::AiDifficulty difficulty);

  const GameSetup& setup() const { return setup_; }
  // The seat `player_id` plays; nullopt when it has none in this game.
  // `hint`: the seat to check first (a seat found before); any value is safe.
  std::optional<std::uint32_t> seat_of(std::string_view player_id, std::uint32_t hint = ~0u) const;
  const core::Game& game() const { return *game_; }
  bool finished() const { return finished_; }
  core::Tick tick() const { return tick_; }
  // game_started with the current snapshot; `with_tick` adds the tick it was taken at
  // (a resumed client's fresh snapshot).
  core::SharedMessage started_message(bool with_tick = false) const;

 private:
  void schedule_tick();
  void on_tick();
  void schedule_deadline();
  core::Tick now_tick() const;  // event-driven: ms since start, never going back
  void run_step(core::Tick tick);
  void publish(core::Tick tick, core::StepOutput& out);
  void record_step(core::Tick tick, std::vector<core::GameInput>& inputs, const core::StepOutput& out);
  void record_end(const char* status);
  std::uint64_t state_hash() const;

  Executor strand_;
  GameSetup setup_;
  std::unique_ptr<core::Game> game_;
  GameHost& host_;
  ServerMetrics& metrics_;
  core::Rng rng_;
  net::steady_timer timer_;
  core::TickLanes* lanes_;
  core::TickLanes::Lease lane_;  // held while a fixed-rate game runs
  std::chrono::steady_clock::time_point started_at_;
  std::chrono::steady_clock::time_point next_tick_at_;
  std::chrono::nanoseconds period_{0};
  core::Tick tick_ = 0;
  std::vector<core::GameInput> pending_;
  std::vector<nlohmann::json> pending_rids_;  // parallel to pending_
  std::vector<std::size_t> pending_per_seat_;
  bool finished_ = false;
  bool stopped_ = false;
  std::size_t last_state_bytes_ = 256;  // to reserve the next state message's buffer
  std::string tick_hashes_;  // recorded fixed-rate games: per-tick hashes since the last checkpoint
};

}  // namespace mtown::server
