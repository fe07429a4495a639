// Arena rules on plain player vectors: constants, input parsing, movement, combat,
// death and respawn. Integer math only; private to mtown_game_arena.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mtown/core/game.hpp"
#include "mtown/games/arena.hpp"

namespace mtown::games::arena {

// Field units are 1000 milli-units; every constant here is in milli-units or whole ticks.
inline constexpr std::int64_t kMilli = 1000;
inline constexpr std::int64_t kFieldMax = 1000 * kMilli;
inline constexpr std::int64_t kMaxHp = 100;
inline constexpr std::int64_t kSpeedPerSecond = 300 * kMilli;
inline constexpr std::int64_t kAttackRange = 60 * kMilli;
inline constexpr std::int64_t kAttackDamage = 20;
inline constexpr std::int64_t kAttackCooldownMs = 500;
inline constexpr std::int64_t kAbilityRadius = 120 * kMilli;
inline constexpr std::int64_t kAbilityDamage = 35;
inline constexpr std::int64_t kAbilityCooldownMs = 5000;
inline constexpr std::int64_t kRespawnMs = 3000;
inline constexpr std::int64_t kDirectionMax = 1000;  // |dx|, |dy| of a direction input
inline constexpr std::int64_t kFacingLength = 1000;

struct SpawnPoint {
  std::int64_t x, y;
};
// Seat i starts at kSpawns[i]; a respawn picks rng.below(8).
inline constexpr SpawnPoint kSpawns[8] = {
    {100 * kMilli, 100 * kMilli}, {900 * kMilli, 900 * kMilli}, {900 * kMilli, 100 * kMilli},
    {100 * kMilli, 900 * kMilli}, {500 * kMilli, 100 * kMilli}, {500 * kMilli, 900 * kMilli},
    {100 * kMilli, 500 * kMilli}, {900 * kMilli, 500 * kMilli}};

// Smallest r with r*r >= v (so a length computed with it never overstates a step).
std::int64_t isqrt_ceil(std::uint64_t v);
std::int64_t dist2(const ArenaPlayer& a, const ArenaPlayer& b);
// Round-half-up of ms * hz / 1000, at least 1.
core::Tick ms_to_ticks(std::int64_t ms, std::uint32_t hz);

struct Command {
  enum class Kind { move_direction, move_target, attack, ability, leave, ai_takeover } kind;
  std::int64_t a = 0, b = 0;  // dx, dy or target x, y in milli-units; ai_takeover: a = difficulty
};
// Parses a payload; on failure returns nullopt and sets `error` to "<field>: <reason>".
std::optional<Command> parse_command(const nlohmann::json& data, std::string& error);

struct Refusal {
  core::ErrorCode code;
  std::string message;
};

// Applies one command of `seat` at `tick`; nullopt when accepted. Refusals change nothing.
std::optional<Refusal> apply_command(std::vector<ArenaPlayer>& players, std::uint32_t seat,
                                     const Command& cmd, core::Tick tick, const ArenaTuning& t,
                                     core::StepOutput& out);

// Dead players whose respawn_tick has come back at a random spawn point, in seat order.
void respawn_due(std::vector<ArenaPlayer>& players, core::Tick tick, core::Rng& rng,
                 core::StepOutput& out);
// Moves every living player one tick along its intent (speed cap, field clamp).
void move_all(std::vector<ArenaPlayer>& players, const ArenaTuning& t);

// A living enemy of `seat` (not itself, alive, not left), nearest first, ties to the lower
// seat; nullopt when none.
std::optional<std::uint32_t> nearest_enemy(const std::vector<ArenaPlayer>& players, std::uint32_t seat);
bool is_target(const ArenaPlayer& p);
void face_toward(ArenaPlayer& p, std::int64_t vx, std::int64_t vy);

}  // namespace mtown::games::arena
