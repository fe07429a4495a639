// Round scoring and final standings. The numbers are the game's rules: changing one
// changes every recorded game's hash, so bump kVersion with it (docs/games/party.md).
#pragma once
#include <cstdint>
#include <vector>

#include "party_state.hpp"

namespace mtown::games::party {

inline constexpr std::int64_t kCorrectPoints = 1000;   // final vote on the true answer
inline constexpr std::int64_t kRobotSpotPoints = 500;  // elimination vote on the robot answer
inline constexpr std::int64_t kFoolPoints = 500;       // per other player whose final vote is your fake
inline constexpr std::int64_t kRobotPenalty = -500;    // final vote on the robot answer

// Scores the round from the shown answers and the seats' votes: fills each seat's
// `points`, adds them to its totals and sets State::scored. Seats that left score nothing.
void score_round(State& s);

// Seat indices best first: score, then correct finds, then seat order.
std::vector<std::uint32_t> standings_order(const State& s);

}  // namespace mtown::games::party
