// Arena AI: chase the nearest living enemy, blast when 2+ are close, swing when in range.
// Difficulty sets how often it decides, how often it really swings, and whether it leads.
#include "arena_ai.hpp"

#include <algorithm>

namespace mtown::games::arena {
namespace {

std::size_t level(core::AiDifficulty d) { return static_cast<std::size_t>(d); }

// Where to run to: the target itself, or (hard) where it will be when we get there,
// assuming it keeps last tick's velocity, looking at most max_lead_ticks ahead.
void aim_point(const ArenaPlayer& me, const ArenaPlayer& q, const ArenaTuning& t,
               std::int64_t& ax, std::int64_t& ay) {
  ax = q.x;
  ay = q.y;
  if (me.difficulty != core::AiDifficulty::hard) return;
  const std::int64_t dist = isqrt_ceil(static_cast<std::uint64_t>(dist2(me, q)));
  const auto lead = std::min<std::int64_t>(dist / t.speed_per_tick, static_cast<std::int64_t>(t.max_lead_ticks));
  ax = std::clamp<std::int64_t>(q.x + q.vx * lead, 0, kFieldMax);
  ay = std::clamp<std::int64_t>(q.y + q.vy * lead, 0, kFieldMax);
}

int enemies_within(const std::vector<ArenaPlayer>& players, const ArenaPlayer& me, std::int64_t radius) {
  int n = 0;
  for (const auto& q : players)
    if (q.seat != me.seat && is_target(q) && dist2(me, q) <= radius * radius) ++n;
  return n;
}

}  // namespace

void ai_schedule_first(std::vector<ArenaPlayer>& players, const ArenaTuning& t, core::Rng& rng) {
  for (auto& p : players) {
    if (!p.ai) continue;
    const auto interval = static_cast<std::uint32_t>(t.ai_interval_ticks[level(p.difficulty)]);
    p.ai_next_decision_tick = 1 + rng.below(interval);
  }
}

std::vector<Command> ai_decide(std::vector<ArenaPlayer>& players, std::uint32_t seat, core::Tick tick,
                               const ArenaTuning& t, core::Rng& rng) {
  ArenaPlayer& me = players[seat];
  if (!me.ai || !is_target(me) || tick < me.ai_next_decision_tick) return {};
  me.ai_next_decision_tick = tick + t.ai_interval_ticks[level(me.difficulty)];

  const auto target = nearest_enemy(players, seat);
  if (!target) return {Command{Command::Kind::move_direction, 0, 0}};
  const ArenaPlayer& q = players[*target];

  std::vector<Command> cmds;
  if (tick >= me.ability_ready_tick && enemies_within(players, me, kAbilityRadius) >= 2)
    cmds.push_back(Command{Command::Kind::ability});
  if (tick >= me.attack_ready_tick && dist2(me, q) <= kAttackRange * kAttackRange &&
      rng.chance(kAiAccuracyPercent[level(me.difficulty)], 100))
    cmds.push_back(Command{Command::Kind::attack});
  std::int64_t ax = 0;
  std::int64_t ay = 0;
  aim_point(me, q, t, ax, ay);
  cmds.push_back(Command{Command::Kind::move_target, ax, ay});
  return cmds;
}

}  // namespace mtown::games::arena
