// The arena game: a server-authoritative real-time free-for-all for up to 8 seats on a
// 1000x1000 field. State is integers only (positions in milli-units); the rules, the
// AI and the wire shapes are documented in docs/games/arena.md. Runs on the room's strand.
#pragma once
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mtown/core/game.hpp"

namespace mtown::games {

struct ArenaOptions {
  std::uint32_t tick_hz = 60;        // 1..128
  std::uint32_t match_seconds = 120;  // 10..3600
};
// Validates a room's options object (null = defaults). Throws std::invalid_argument
// naming the option on a bad value or an unknown key.
ArenaOptions parse_arena_options(const nlohmann::json& options);

// Per-tick rule numbers derived from the per-second constants and tick_hz (integer math;
// the rounding is documented in docs/games/arena.md).
struct ArenaTuning {
  std::int64_t speed_per_tick = 0;  // milli-units per tick, floor(300000 / tick_hz)
  core::Tick attack_cooldown_ticks = 0;
  core::Tick ability_cooldown_ticks = 0;
  core::Tick respawn_ticks = 0;
  core::Tick match_ticks = 0;
  core::Tick max_lead_ticks = 0;  // hard AI looks at most this far ahead (1 s)
  std::array<core::Tick, 3> ai_interval_ticks{};  // indexed by core::AiDifficulty
  static ArenaTuning from(const ArenaOptions& options);
};

enum class ArenaMove : std::uint8_t { none = 0, direction = 1, target = 2 };

struct ArenaPlayer {
  std::uint32_t seat = 0;
  std::string id;
  std::string name;
  bool ai = false;
  core::AiDifficulty difficulty = core::AiDifficulty::medium;
  std::int64_t x = 0, y = 0;        // milli-units, 0..1'000'000
  std::int64_t fx = 1000, fy = 0;   // facing: direction vector of length ~1000
  std::int64_t vx = 0, vy = 0;      // displacement of the last tick (milli-units)
  std::int64_t hp = 100;
  bool alive = true;
  core::Tick respawn_tick = 0;      // when dead: the tick it respawns at
  std::int64_t score = 0;           // kills
  std::int64_t deaths = 0;
  std::uint64_t last_input_seq = 0;
  core::Tick attack_ready_tick = 0;   // attack allowed when tick >= this
  core::Tick ability_ready_tick = 0;
  bool left = false;
  // Movement intent, set by move inputs: a direction (mx, my in -1000..1000) or a target
  // point (mx, my in milli-units).
  ArenaMove move = ArenaMove::none;
  std::int64_t mx = 0, my = 0;
  core::Tick ai_next_decision_tick = 0;  // AI seats only
};

// The fields of a player a state delta reports (docs/games/arena.md), kept per tick
// without the strings so remembering the previous tick costs no allocation.
struct ArenaPublicFields {
  std::int64_t ability_ready_tick = 0;
  bool alive = true;
  std::int64_t attack_ready_tick = 0, deaths = 0, fx = 0, fy = 0, hp = 0;
  std::uint64_t last_input_seq = 0;
  bool left = false;
  std::int64_t respawn_tick = 0, score = 0, x = 0, y = 0;
  static ArenaPublicFields of(const ArenaPlayer& p);
  bool operator==(const ArenaPublicFields&) const = default;
};

// Seats in standings order: present before left, then score desc, deaths asc, seat asc.
std::vector<std::uint32_t> arena_ranking(std::span<const ArenaPlayer> players);

class ArenaGame final : public core::Game {
 public:
  static constexpr std::size_t kMaxSeats = 8;

  explicit ArenaGame(ArenaOptions options = {});

  std::string_view name() const override { return "arena"; }
  std::uint32_t version() const override { return 1; }
  std::uint32_t tick_hz() const override { return options_.tick_hz; }

  std::optional<core::InputRefusal> validate_input(const nlohmann::json& data) const override;
  // Also keeps the parsed command in in.parsed, for step.
  std::optional<core::InputRefusal> check_input(core::GameInput& in) const override;

  // Throws std::invalid_argument past kMaxSeats seats.
  void start(std::vector<core::GameSeat> seats, core::Rng& rng) override;
  void step(core::Tick tick, std::span<const core::GameInput> inputs, core::Rng& rng,
            core::StepOutput& out) override;
  std::optional<core::Tick> next_deadline() const override { return std::nullopt; }

  nlohmann::json snapshot() const override;
  nlohmann::json delta() const override;
  bool write_delta_json(std::string& out) const override;
  void hash(core::StateHasher& h) const override;
  std::vector<std::uint64_t> acks() const override;
  bool finished() const override { return finished_; }
  nlohmann::json result() const override;

  const std::vector<ArenaPlayer>& players() const { return players_; }
  const ArenaTuning& tuning() const { return tuning_; }
  core::Tick tick() const { return tick_; }

 private:
  void apply_input(const core::GameInput& in, core::StepOutput& out, bool& accepted);
  void run_ai(core::Rng& rng, core::StepOutput& out);
  void remember_public_fields();

  ArenaOptions options_;
  ArenaTuning tuning_;
  core::Tick tick_ = 0;
  bool finished_ = false;
  std::vector<ArenaPlayer> players_;
  std::vector<ArenaPublicFields> prev_;  // the players before the last step, for delta()
};

// The factory the server's game registry calls; validates options (see parse_arena_options).
std::unique_ptr<core::Game> make_arena(const nlohmann::json& options);

// The fast path of check_input for an input's data as compact JSON text
// (core/flat_json.hpp): a move, attack or ability that check_input would accept fills `out`
// exactly as it would, and returns true. False for anything else (another shape, a
// refusal, leave, ai_takeover): the caller then parses the text and uses check_input.
bool arena_parse_input_text(std::string_view data, core::ParsedInput& out);

}  // namespace mtown::games
