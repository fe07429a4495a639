// Arena boundaries: room options -> ArenaOptions/ArenaTuning, and input payloads ->
// Command. The one place where a JSON number may be fractional (a move target); it is
// rounded to milli-units here, so rules and state never see a float.
#include <cmath>
#include <stdexcept>
#include <string_view>

#include "arena_rules.hpp"
#include "mtown/core/flat_json.hpp"

namespace mtown::games {
namespace {

using nlohmann::json;

constexpr std::uint32_t kTickHzMin = 1, kTickHzMax = 128;
constexpr std::uint32_t kMatchSecondsMin = 10, kMatchSecondsMax = 3600;
// AI decision intervals in ticks at 60 Hz (easy, medium, hard), scaled to tick_hz.
constexpr core::Tick kAiIntervalAt60[3] = {30, 12, 4};

void check_options(const ArenaOptions& o) {
  if (o.tick_hz < kTickHzMin || o.tick_hz > kTickHzMax)
    throw std::invalid_argument("tick_hz must be an integer in 1..128");
  if (o.match_seconds < kMatchSecondsMin || o.match_seconds > kMatchSecondsMax)
    throw std::invalid_argument("match_seconds must be an integer in 10..3600");
}

std::uint32_t option_int(const json& v, const std::string& name, std::uint32_t lo, std::uint32_t hi) {
  const std::string why = name + " must be an integer in " + std::to_string(lo) + ".." + std::to_string(hi);
  if (!v.is_number_integer()) throw std::invalid_argument(why);
  const bool in_range = v.is_number_unsigned()
                            ? v.get<std::uint64_t>() >= lo && v.get<std::uint64_t>() <= hi
                            : v.get<std::int64_t>() >= lo && v.get<std::int64_t>() <= hi;
  if (!in_range) throw std::invalid_argument(why);
  return v.get<std::uint32_t>();
}

// An integer (or a whole float, as JSON Schema's "integer") within [lo, hi].
std::optional<std::int64_t> whole_in(const json& v, std::int64_t lo, std::int64_t hi) {
  if (v.is_number_unsigned()) {
    const auto u = v.get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(hi) || static_cast<std::int64_t>(u) < lo) return std::nullopt;
    return static_cast<std::int64_t>(u);
  }
  if (v.is_number_integer()) {
    const auto i = v.get<std::int64_t>();
    return (i < lo || i > hi) ? std::nullopt : std::optional(i);
  }
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (!(d >= static_cast<double>(lo) && d <= static_cast<double>(hi)) || std::trunc(d) != d) return std::nullopt;
    return static_cast<std::int64_t>(d);
  }
  return std::nullopt;
}

// A field coordinate 0..1000 (fractional allowed) as milli-units, rounded half away from zero.
std::optional<std::int64_t> coordinate_milli(const json& v) {
  if (v.is_number_integer()) {
    const auto i = whole_in(v, 0, 1000);
    return i ? std::optional(*i * arena::kMilli) : std::nullopt;
  }
  if (!v.is_number_float()) return std::nullopt;
  const double d = v.get<double>();
  if (!(d >= 0.0 && d <= 1000.0)) return std::nullopt;
  return static_cast<std::int64_t>(std::llround(d * 1000.0));
}

// The fields of a move input (null when absent).
struct MoveFields {
  const json* dx = nullptr;
  const json* dy = nullptr;
  const json* x = nullptr;
  const json* y = nullptr;
};

std::optional<arena::Command> parse_move(const MoveFields& f, std::string& error) {
  using Kind = arena::Command::Kind;
  const bool by_direction = f.dx || f.dy;
  const bool by_target = f.x || f.y;
  if (by_direction && by_target) {
    error = std::string(f.x ? "x" : "y") + ": cannot be combined with dx/dy";
    return std::nullopt;
  }
  if (!by_direction && !by_target) {
    error = "dx: is required (move takes dx and dy, or x and y)";
    return std::nullopt;
  }
  const char* missing = by_direction ? (!f.dx ? "dx" : !f.dy ? "dy" : nullptr) : (!f.x ? "x" : !f.y ? "y" : nullptr);
  if (missing) {
    error = std::string(missing) + ": is required";
    return std::nullopt;
  }
  if (by_direction) {
    const auto dx = whole_in(*f.dx, -arena::kDirectionMax, arena::kDirectionMax);
    const auto dy = whole_in(*f.dy, -arena::kDirectionMax, arena::kDirectionMax);
    if (!dx || !dy) {
      error = std::string(dx ? "dy" : "dx") + ": must be an integer in -1000..1000";
      return std::nullopt;
    }
    return arena::Command{Kind::move_direction, *dx, *dy};
  }
  const auto x = coordinate_milli(*f.x);
  const auto y = coordinate_milli(*f.y);
  if (!x || !y) {
    error = std::string(x ? "y" : "x") + ": must be a number in 0..1000";
    return std::nullopt;
  }
  return arena::Command{Kind::move_target, *x, *y};
}

// {"action":"ai_takeover","difficulty":...}: sent by the room only (core::ai_takeover_input_data).
std::optional<arena::Command> parse_takeover(const json& data, std::string& error) {
  const auto it = data.find("difficulty");
  const auto d = it != data.end() && it->is_string() ? core::parse_ai_difficulty(it->get_ref<const std::string&>())
                                                     : std::nullopt;
  if (!d) {
    error = "difficulty: must be one of easy, medium, hard";
    return std::nullopt;
  }
  return arena::Command{arena::Command::Kind::ai_takeover, static_cast<std::int64_t>(*d)};
}

}  // namespace

ArenaOptions parse_arena_options(const json& options) {
  ArenaOptions o;
  if (options.is_null()) return o;
  if (!options.is_object()) throw std::invalid_argument("arena options must be an object");
  for (const auto& [key, value] : options.items()) {
    if (key == "tick_hz")
      o.tick_hz = option_int(value, key, kTickHzMin, kTickHzMax);
    else if (key == "match_seconds")
      o.match_seconds = option_int(value, key, kMatchSecondsMin, kMatchSecondsMax);
    else
      throw std::invalid_argument("unknown option " + key);
  }
  return o;
}

ArenaTuning ArenaTuning::from(const ArenaOptions& o) {
  check_options(o);
  ArenaTuning t;
  t.speed_per_tick = arena::kSpeedPerSecond / o.tick_hz;
  t.attack_cooldown_ticks = arena::ms_to_ticks(arena::kAttackCooldownMs, o.tick_hz);
  t.ability_cooldown_ticks = arena::ms_to_ticks(arena::kAbilityCooldownMs, o.tick_hz);
  t.respawn_ticks = arena::ms_to_ticks(arena::kRespawnMs, o.tick_hz);
  t.match_ticks = static_cast<core::Tick>(o.match_seconds) * o.tick_hz;
  t.max_lead_ticks = o.tick_hz;
  for (std::size_t i = 0; i < 3; ++i)
    t.ai_interval_ticks[i] = std::max<core::Tick>(1, (kAiIntervalAt60[i] * o.tick_hz + 30) / 60);
  return t;
}

std::unique_ptr<core::Game> make_arena(const json& options) {
  return std::make_unique<ArenaGame>(parse_arena_options(options));
}

bool arena_parse_input_text(std::string_view data, core::ParsedInput& out) {
  core::FlatJsonObject object(data);
  std::string_view key, value, action;
  bool has_action = false;
  core::FlatKind kind;
  json numbers[4];  // dx, dy, x, y: scalars, no allocation
  MoveFields f;
  const json** slots[4] = {&f.dx, &f.dy, &f.x, &f.y};
  while (object.next(key, value, kind)) {
    const int i = key == "dx" ? 0 : key == "dy" ? 1 : key == "x" ? 2 : key == "y" ? 3 : -1;
    if (i >= 0 && kind == core::FlatKind::number && !*slots[i]) {
      auto n = core::flat_number(value);
      if (!n) return false;
      numbers[i] = *n;
      *slots[i] = &numbers[i];
    } else if (key == "action" && kind == core::FlatKind::string && !has_action) {
      action = value;
      has_action = true;
    } else {
      return false;  // repeated, unknown or mistyped: check_input's to refuse
    }
  }
  if (!object.complete()) return false;
  using Kind = arena::Command::Kind;
  const bool has_fields = f.dx || f.dy || f.x || f.y;
  std::optional<arena::Command> cmd;
  if (action == "move") {
    std::string error;
    cmd = parse_move(f, error);
  } else if ((action == "attack" || action == "ability") && !has_fields) {
    cmd = arena::Command{action == "attack" ? Kind::attack : Kind::ability};
  }
  if (!cmd) return false;
  out = {true, static_cast<int>(cmd->kind), cmd->a, cmd->b};
  return true;
}

namespace arena {

std::optional<Command> parse_command(const json& data, std::string& error) {
  if (!data.is_object()) {
    error = "input: must be an object";
    return std::nullopt;
  }
  const auto action = data.find("action");
  if (action == data.end()) {
    error = "action: is required";
    return std::nullopt;
  }
  if (!action->is_string()) {
    error = "action: must be a string";
    return std::nullopt;
  }
  const std::string_view name = action->get_ref<const std::string&>();  // compared by length first
  if (name != "move" && name != "attack" && name != "ability" && name != "leave" && name != "ai_takeover") {
    error = "action: must be one of move, attack, ability, leave, ai_takeover";
    return std::nullopt;
  }
  const bool move = name == "move";
  const bool takeover = name == "ai_takeover";
  // One pass over the fields, in key order: the first unknown one is refused, and a move's
  // coordinates are picked up on the way.
  MoveFields f;
  for (const auto& [key, value] : data.get_ref<const json::object_t&>()) {
    const std::string_view k = key;
    const json** slot = !move ? nullptr
                        : k == "dx" ? &f.dx
                        : k == "dy" ? &f.dy
                        : k == "x"  ? &f.x
                        : k == "y"  ? &f.y
                                    : nullptr;
    if (slot) *slot = &value;
    else if (k != "action" && !(takeover && k == "difficulty")) {
      error = key + ": is not a known field";
      return std::nullopt;
    }
  }
  if (move) return parse_move(f, error);
  if (name == "attack") return Command{Command::Kind::attack};
  if (name == "ability") return Command{Command::Kind::ability};
  if (takeover) return parse_takeover(data, error);
  return Command{Command::Kind::leave};
}

}  // namespace arena
}  // namespace mtown::games
