// Arena movement, combat, death and respawn. Integer math only: lengths use a ceiling
// square root so a computed step never exceeds the speed cap.
#include "arena_rules.hpp"

#include <algorithm>
#include <cstdlib>

namespace mtown::games::arena {
namespace {

using nlohmann::json;

std::uint64_t isqrt_floor(std::uint64_t v) {
  std::uint64_t r = 0;
  std::uint64_t bit = 1ull << 62;
  while (bit > v) bit >>= 2;
  while (bit != 0) {
    if (v >= r + bit) {
      v -= r + bit;
      r = (r >> 1) + bit;
    } else {
      r >>= 1;
    }
    bit >>= 2;
  }
  return r;
}

std::int64_t clamp_field(std::int64_t v) { return std::clamp<std::int64_t>(v, 0, kFieldMax); }

void kill(ArenaPlayer& killer, ArenaPlayer& victim, core::Tick tick, const ArenaTuning& t,
          core::StepOutput& out) {
  victim.hp = 0;
  victim.alive = false;
  victim.respawn_tick = tick + t.respawn_ticks;
  victim.move = ArenaMove::none;
  victim.vx = victim.vy = 0;
  victim.deaths += 1;
  killer.score += 1;
  out.events.push_back(json{{"event", "kill"}, {"attacker", killer.seat}, {"target", victim.seat}});
}

void damage(ArenaPlayer& attacker, ArenaPlayer& target, std::int64_t amount, const char* kind,
            core::Tick tick, const ArenaTuning& t, core::StepOutput& out) {
  target.hp -= amount;
  out.events.push_back(json{{"event", "hit"},
                            {"attacker", attacker.seat},
                            {"target", target.seat},
                            {"damage", amount},
                            {"kind", kind},
                            {"hp", std::max<std::int64_t>(target.hp, 0)}});
  if (target.hp <= 0) kill(attacker, target, tick, t, out);
}

void attack(std::vector<ArenaPlayer>& players, ArenaPlayer& p, core::Tick tick, const ArenaTuning& t,
            core::StepOutput& out) {
  p.attack_ready_tick = tick + t.attack_cooldown_ticks;
  const auto target = nearest_enemy(players, p.seat);
  const bool in_range = target && dist2(p, players[*target]) <= kAttackRange * kAttackRange;
  out.events.push_back(json{{"event", "attack"}, {"seat", p.seat},
                            {"target", in_range ? json(*target) : json(nullptr)}});
  if (!in_range) return;
  ArenaPlayer& q = players[*target];
  face_toward(p, q.x - p.x, q.y - p.y);
  damage(p, q, kAttackDamage, "attack", tick, t, out);
}

void ability(std::vector<ArenaPlayer>& players, ArenaPlayer& p, core::Tick tick, const ArenaTuning& t,
             core::StepOutput& out) {
  p.ability_ready_tick = tick + t.ability_cooldown_ticks;
  out.events.push_back(json{{"event", "ability"}, {"seat", p.seat}, {"x", p.x}, {"y", p.y}});
  for (auto& q : players)
    if (q.seat != p.seat && is_target(q) && dist2(p, q) <= kAbilityRadius * kAbilityRadius)
      damage(p, q, kAbilityDamage, "ability", tick, t, out);
}

// The displacement one tick of the player's intent asks for, at most speed_per_tick long.
void intended_step(const ArenaPlayer& p, std::int64_t speed, std::int64_t& sx, std::int64_t& sy) {
  sx = sy = 0;
  if (p.move == ArenaMove::direction) {
    const std::int64_t len = isqrt_ceil(static_cast<std::uint64_t>(p.mx * p.mx + p.my * p.my));
    if (len == 0) return;
    const std::int64_t step = speed * std::min(len, kDirectionMax) / kDirectionMax;
    sx = p.mx * step / len;
    sy = p.my * step / len;
  } else if (p.move == ArenaMove::target) {
    const std::int64_t dx = p.mx - p.x;
    const std::int64_t dy = p.my - p.y;
    const std::int64_t len = isqrt_ceil(static_cast<std::uint64_t>(dx * dx + dy * dy));
    if (len == 0) return;
    if (len <= speed) {  // arrives this tick
      sx = dx;
      sy = dy;
    } else {
      sx = dx * speed / len;
      sy = dy * speed / len;
    }
  }
}

}  // namespace

std::int64_t isqrt_ceil(std::uint64_t v) {
  const std::uint64_t r = isqrt_floor(v);
  return static_cast<std::int64_t>(r * r < v ? r + 1 : r);
}

std::int64_t dist2(const ArenaPlayer& a, const ArenaPlayer& b) {
  const std::int64_t dx = a.x - b.x;
  const std::int64_t dy = a.y - b.y;
  return dx * dx + dy * dy;
}

core::Tick ms_to_ticks(std::int64_t ms, std::uint32_t hz) {
  const auto ticks = static_cast<core::Tick>((ms * hz + 500) / 1000);
  return std::max<core::Tick>(ticks, 1);
}

bool is_target(const ArenaPlayer& p) { return p.alive && !p.left; }

void face_toward(ArenaPlayer& p, std::int64_t vx, std::int64_t vy) {
  const std::int64_t big = std::max(std::llabs(vx), std::llabs(vy));
  if (big == 0) return;
  const std::int64_t k = std::max<std::int64_t>(1, 1'000'000 / big);  // keep ~6 digits of direction
  vx *= k;
  vy *= k;
  const std::int64_t len = isqrt_ceil(static_cast<std::uint64_t>(vx * vx + vy * vy));
  p.fx = vx * kFacingLength / len;
  p.fy = vy * kFacingLength / len;
}

std::optional<std::uint32_t> nearest_enemy(const std::vector<ArenaPlayer>& players, std::uint32_t seat) {
  std::optional<std::uint32_t> best;
  std::int64_t best_d2 = 0;
  const ArenaPlayer& me = players[seat];
  for (const auto& q : players) {
    if (q.seat == seat || !is_target(q)) continue;
    const std::int64_t d2 = dist2(me, q);
    if (!best || d2 < best_d2) {  // seat order: a tie keeps the lower seat
      best = q.seat;
      best_d2 = d2;
    }
  }
  return best;
}

std::optional<Refusal> apply_command(std::vector<ArenaPlayer>& players, std::uint32_t seat,
                                     const Command& cmd, core::Tick tick, const ArenaTuning& t,
                                     core::StepOutput& out) {
  using Kind = Command::Kind;
  if (seat >= players.size())
    return Refusal{core::ErrorCode::not_a_player, "seat " + std::to_string(seat) + " is not in this game"};
  ArenaPlayer& p = players[seat];
  if (p.left) return Refusal{core::ErrorCode::not_a_player, "seat has left the match"};
  if (cmd.kind == Kind::leave) {
    p.left = true;
    p.alive = false;
    p.move = ArenaMove::none;
    p.vx = p.vy = 0;
    return std::nullopt;
  }
  if (cmd.kind == Kind::ai_takeover) {
    // The seat keeps its score, position and life; the AI decides from this tick on.
    if (p.ai) return Refusal{core::ErrorCode::invalid_input, "seat is already played by the AI"};
    p.ai = true;
    p.difficulty = static_cast<core::AiDifficulty>(cmd.a);
    p.ai_next_decision_tick = tick;
    out.events.push_back(nlohmann::json{{"event", "ai_takeover"}, {"seat", seat},
                                        {"difficulty", core::ai_difficulty_name(p.difficulty)}});
    return std::nullopt;
  }
  if (!p.alive) return Refusal{core::ErrorCode::invalid_input, "dead until respawn"};
  switch (cmd.kind) {
    case Kind::move_direction:
      p.move = (cmd.a == 0 && cmd.b == 0) ? ArenaMove::none : ArenaMove::direction;
      p.mx = cmd.a;
      p.my = cmd.b;
      break;
    case Kind::move_target:
      p.move = ArenaMove::target;
      p.mx = cmd.a;
      p.my = cmd.b;
      break;
    case Kind::attack:
      if (tick < p.attack_ready_tick)
        return Refusal{core::ErrorCode::invalid_input,
                       "attack: on cooldown until tick " + std::to_string(p.attack_ready_tick)};
      attack(players, p, tick, t, out);
      break;
    case Kind::ability:
      if (tick < p.ability_ready_tick)
        return Refusal{core::ErrorCode::invalid_input,
                       "ability: on cooldown until tick " + std::to_string(p.ability_ready_tick)};
      ability(players, p, tick, t, out);
      break;
    case Kind::leave:
    case Kind::ai_takeover: break;  // handled above
  }
  return std::nullopt;
}

void respawn_due(std::vector<ArenaPlayer>& players, core::Tick tick, core::Rng& rng, core::StepOutput& out) {
  for (auto& p : players) {
    if (p.alive || p.left || tick < p.respawn_tick) continue;
    const SpawnPoint& s = kSpawns[rng.below(static_cast<std::uint32_t>(std::size(kSpawns)))];
    p.x = s.x;
    p.y = s.y;
    p.hp = kMaxHp;
    p.alive = true;
    p.move = ArenaMove::none;
    p.vx = p.vy = 0;
    face_toward(p, kFieldMax / 2 - p.x, kFieldMax / 2 - p.y);
    out.events.push_back(json{{"event", "respawn"}, {"seat", p.seat}, {"x", p.x}, {"y", p.y}});
  }
}

void move_all(std::vector<ArenaPlayer>& players, const ArenaTuning& t) {
  for (auto& p : players) {
    p.vx = p.vy = 0;
    if (!is_target(p)) continue;
    std::int64_t sx = 0;
    std::int64_t sy = 0;
    intended_step(p, t.speed_per_tick, sx, sy);
    if (sx == 0 && sy == 0) continue;
    face_toward(p, sx, sy);
    const std::int64_t nx = clamp_field(p.x + sx);
    const std::int64_t ny = clamp_field(p.y + sy);
    p.vx = nx - p.x;
    p.vy = ny - p.y;
    p.x = nx;
    p.y = ny;
  }
}

}  // namespace mtown::games::arena
