// Arena AI: turns state + Rng into the same Commands a client could send. Runs inside
// ArenaGame::step(); its inputs are not recorded (replays regenerate them).
#pragma once
#include <vector>

#include "arena_rules.hpp"

namespace mtown::games::arena {

// Percent chance that an AI attacks when it is able to (easy, medium, hard).
inline constexpr std::uint32_t kAiAccuracyPercent[3] = {30, 60, 90};

// Staggers the AI seats' first decisions over their interval (one Rng draw per AI seat).
void ai_schedule_first(std::vector<ArenaPlayer>& players, const ArenaTuning& t, core::Rng& rng);

// The commands AI seat `seat` issues at `tick` (empty between decisions); advances its
// next decision tick. Only commands that are valid at this moment.
std::vector<Command> ai_decide(std::vector<ArenaPlayer>& players, std::uint32_t seat, core::Tick tick,
                               const ArenaTuning& t, core::Rng& rng);

}  // namespace mtown::games::arena
