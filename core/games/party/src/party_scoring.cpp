// Round scoring and standings; pure functions over State.
#include "party_scoring.hpp"

#include <algorithm>
#include <numeric>

namespace mtown::games::party {

void score_round(State& s) {
  for (auto& seat : s.seats) seat.points = RoundPoints{};
  for (std::size_t v = 0; v < s.seats.size(); ++v) {
    SeatState& voter = s.seats[v];
    if (!voter.active) continue;
    if (voter.elimination_vote != kNoVote &&
        s.shown[static_cast<std::size_t>(voter.elimination_vote)].kind == AnswerKind::robot)
      voter.points.robot = kRobotSpotPoints;
    if (voter.final_vote == kNoVote) continue;
    const ShownAnswer& pick = s.shown[static_cast<std::size_t>(voter.final_vote)];
    if (pick.kind == AnswerKind::correct) voter.points.correct = kCorrectPoints;
    if (pick.kind == AnswerKind::robot) voter.points.penalty = kRobotPenalty;
    if (pick.kind != AnswerKind::player) continue;
    for (std::uint32_t author : pick.authors) {
      SeatState& a = s.seats[author];
      if (author == v || !a.active) continue;  // own votes are refused; leavers score nothing
      a.points.fooling += kFoolPoints;
      ++a.points.players_fooled;
    }
  }
  for (auto& seat : s.seats) {
    const RoundPoints& p = seat.points;
    seat.score += p.total();
    seat.correct_finds += p.correct != 0;
    seat.robots_spotted += p.robot != 0;
    seat.fooled_others += p.players_fooled;
    seat.times_fooled += p.penalty != 0;
  }
  s.scored = true;
}

std::vector<std::uint32_t> standings_order(const State& s) {
  std::vector<std::uint32_t> order(s.seats.size());
  std::iota(order.begin(), order.end(), 0u);
  std::stable_sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
    const SeatState& x = s.seats[a];
    const SeatState& y = s.seats[b];
    if (x.score != y.score) return x.score > y.score;
    if (x.correct_finds != y.correct_finds) return x.correct_finds > y.correct_finds;
    return a < b;
  });
  return order;
}

}  // namespace mtown::games::party
