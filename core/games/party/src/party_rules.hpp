// The party game's state machine: lobby -> question -> elimination -> voting -> results ->
// (question | final). Applies inputs, fires timers and AI actions at their ticks, and
// emits events. Deterministic: every random draw comes from the room Rng, in a fixed order.
#pragma once
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "mtown/core/game.hpp"
#include "party_state.hpp"

namespace mtown::games::party {

class Rules {
 public:
  explicit Rules(Config config);

  // Enters round 1's question phase at tick 0.
  void start(std::vector<core::GameSeat> seats, core::Rng& rng);
  // Fires every deadline <= tick (in time order), then applies the inputs in order.
  void step(Tick tick, std::span<const core::GameInput> inputs, core::Rng& rng, core::StepOutput& out);
  std::optional<Tick> next_deadline() const;
  const State& state() const { return s_; }

 private:
  void fire_due(Tick t, core::Rng& rng, core::StepOutput& out);
  void apply(const core::GameInput& in, Tick t, core::Rng& rng, core::StepOutput& out);
  void on_answer(const core::GameInput& in, Tick t, core::Rng& rng, core::StepOutput& out);
  void on_vote(const core::GameInput& in, Tick t, core::Rng& rng, core::StepOutput& out);
  void on_leave(const core::GameInput& in, Tick t, core::Rng& rng, core::StepOutput& out);
  void on_ai_takeover(const core::GameInput& in, Tick t, core::Rng& rng, core::StepOutput& out);
  void ai_act(std::uint32_t seat, Tick t, core::Rng& rng, core::StepOutput& out);

  void record_answer(std::uint32_t seat, std::string text, core::StepOutput& out);
  void record_vote(std::uint32_t seat, int index, core::StepOutput& out);
  // Why `seat` may not vote for shown[index] in this phase, or "" when it may.
  std::string vote_problem(std::uint32_t seat, int index) const;
  std::vector<int> allowed_votes(std::uint32_t seat) const;

  bool everyone_acted() const;
  void close_if_everyone_acted(Tick t, core::Rng& rng, core::StepOutput& out);
  void close_phase(Tick t, core::Rng& rng, core::StepOutput& out);
  void enter(Phase p, Tick t, std::optional<Tick> duration_ms, core::StepOutput& out);
  void enter_question(Tick t, core::Rng& rng, core::StepOutput& out);
  void enter_elimination(Tick t, core::Rng& rng, core::StepOutput& out);
  void resolve_elimination(core::StepOutput& out);
  void schedule_ai(Tick t, core::Rng& rng);
  void schedule_seat_ai(SeatState& seat, Tick t, core::Rng& rng);
  bool has_acted(const SeatState& seat) const;

  State s_;
};

}  // namespace mtown::games::party
