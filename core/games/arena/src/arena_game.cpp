// ArenaGame: the step order, snapshot/delta/hash/result. Called on the room's strand only.
// Step order per tick: respawns, inputs in arrival order, AI seats in seat order,
// movement, match timer. The wire shapes and the hash order are in docs/games/arena.md.
#include <algorithm>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "arena_ai.hpp"
#include "arena_rules.hpp"
#include "mtown/core/text.hpp"

namespace mtown::games {
namespace {

using nlohmann::json;

json player_json(const ArenaPlayer& p) {
  return json{{"seat", p.seat},
              {"id", p.id},
              {"name", p.name},
              {"ai", p.ai},
              {"difficulty", p.ai ? json(core::ai_difficulty_name(p.difficulty)) : json(nullptr)},
              {"x", p.x},
              {"y", p.y},
              {"fx", p.fx},
              {"fy", p.fy},
              {"hp", p.hp},
              {"alive", p.alive},
              {"respawn_tick", p.respawn_tick},
              {"score", p.score},
              {"deaths", p.deaths},
              {"last_input_seq", p.last_input_seq},
              {"attack_ready_tick", p.attack_ready_tick},
              {"ability_ready_tick", p.ability_ready_tick},
              {"left", p.left}};
}

// One field of a player's delta, in the order nlohmann's json (sorted keys) writes them,
// so the text equals delta().dump() byte for byte. `key` is written with its quotes and
// colon: ",\"x\":" (the first field's comma becomes the object's brace).
template <std::size_t N, class T>
void write_field(std::string& out, bool& first, const char (&key)[N], const T& before, const T& after) {
  if (before == after) return;
  out.append(key, N - 1);
  if (first) out[out.size() - (N - 1)] = '{';
  first = false;
  if constexpr (std::is_same_v<T, bool>) out += after ? "true" : "false";
  else core::append_decimal(out, after);
}

// Appends `"seat":{...}` for a player that changed; false when nothing did.
bool write_player_diff(std::string& out, std::size_t seat, const ArenaPublicFields& a, const ArenaPublicFields& b) {
  if (a == b) return false;
  out += '"';
  core::append_decimal(out, seat);
  out += "\":";
  bool first = true;
  write_field(out, first, ",\"ability_ready_tick\":", a.ability_ready_tick, b.ability_ready_tick);
  write_field(out, first, ",\"alive\":", a.alive, b.alive);
  write_field(out, first, ",\"attack_ready_tick\":", a.attack_ready_tick, b.attack_ready_tick);
  write_field(out, first, ",\"deaths\":", a.deaths, b.deaths);
  write_field(out, first, ",\"fx\":", a.fx, b.fx);
  write_field(out, first, ",\"fy\":", a.fy, b.fy);
  write_field(out, first, ",\"hp\":", a.hp, b.hp);
  write_field(out, first, ",\"last_input_seq\":", a.last_input_seq, b.last_input_seq);
  write_field(out, first, ",\"left\":", a.left, b.left);
  write_field(out, first, ",\"respawn_tick\":", a.respawn_tick, b.respawn_tick);
  write_field(out, first, ",\"score\":", a.score, b.score);
  write_field(out, first, ",\"x\":", a.x, b.x);
  write_field(out, first, ",\"y\":", a.y, b.y);
  out += '}';
  return true;
}

}  // namespace

std::vector<std::uint32_t> arena_ranking(std::span<const ArenaPlayer> players) {
  std::vector<const ArenaPlayer*> order;
  for (const auto& p : players) order.push_back(&p);
  std::sort(order.begin(), order.end(), [](const ArenaPlayer* a, const ArenaPlayer* b) {
    if (a->left != b->left) return !a->left;
    if (a->score != b->score) return a->score > b->score;
    if (a->deaths != b->deaths) return a->deaths < b->deaths;
    return a->seat < b->seat;
  });
  std::vector<std::uint32_t> seats;
  for (const auto* p : order) seats.push_back(p->seat);
  return seats;
}

ArenaPublicFields ArenaPublicFields::of(const ArenaPlayer& p) {
  return {static_cast<std::int64_t>(p.ability_ready_tick), p.alive, static_cast<std::int64_t>(p.attack_ready_tick),
          p.deaths, p.fx, p.fy, p.hp, p.last_input_seq, p.left, static_cast<std::int64_t>(p.respawn_tick), p.score,
          p.x, p.y};
}

ArenaGame::ArenaGame(ArenaOptions options) : options_(options), tuning_(ArenaTuning::from(options)) {}

void ArenaGame::remember_public_fields() {
  prev_.resize(players_.size());
  for (std::size_t i = 0; i < players_.size(); ++i) prev_[i] = ArenaPublicFields::of(players_[i]);
}

std::optional<core::InputRefusal> ArenaGame::validate_input(const json& data) const {
  std::string error;
  if (arena::parse_command(data, error)) return std::nullopt;
  return core::InputRefusal{0, 0, core::ErrorCode::bad_message, error};
}

std::optional<core::InputRefusal> ArenaGame::check_input(core::GameInput& in) const {
  std::string error;
  const auto cmd = arena::parse_command(in.data, error);
  if (!cmd) return core::InputRefusal{0, 0, core::ErrorCode::bad_message, error};
  in.parsed = {true, static_cast<int>(cmd->kind), cmd->a, cmd->b};
  return std::nullopt;
}

void ArenaGame::start(std::vector<core::GameSeat> seats, core::Rng& rng) {
  if (seats.size() > kMaxSeats)
    throw std::invalid_argument("arena takes at most 8 seats, got " + std::to_string(seats.size()));
  players_.clear();
  for (std::size_t i = 0; i < seats.size(); ++i) {
    ArenaPlayer p;
    p.seat = static_cast<std::uint32_t>(i);
    p.id = std::move(seats[i].player_id);
    p.name = std::move(seats[i].name);
    p.ai = seats[i].ai;
    p.difficulty = seats[i].difficulty;
    p.x = arena::kSpawns[i].x;
    p.y = arena::kSpawns[i].y;
    arena::face_toward(p, arena::kFieldMax / 2 - p.x, arena::kFieldMax / 2 - p.y);
    players_.push_back(std::move(p));
  }
  arena::ai_schedule_first(players_, tuning_, rng);
  tick_ = 0;
  finished_ = false;
  remember_public_fields();
}

void ArenaGame::apply_input(const core::GameInput& in, core::StepOutput& out, bool& accepted) {
  std::string error;
  const auto cmd = in.parsed.set ? std::optional(arena::Command{static_cast<arena::Command::Kind>(in.parsed.kind),
                                                                in.parsed.a, in.parsed.b})
                                 : arena::parse_command(in.data, error);
  std::optional<arena::Refusal> refusal;
  if (!cmd)
    refusal = arena::Refusal{core::ErrorCode::bad_message, error};
  else if (finished_ && cmd->kind != arena::Command::Kind::leave)
    refusal = arena::Refusal{core::ErrorCode::wrong_phase, "the match is over"};
  else
    refusal = arena::apply_command(players_, in.seat, *cmd, tick_, tuning_, out);
  if (refusal) {
    out.refusals.push_back(core::InputRefusal{in.seat, in.input_seq, refusal->code, std::move(refusal->message)});
    return;
  }
  accepted = true;
  auto& seq = players_[in.seat].last_input_seq;
  seq = std::max(seq, in.input_seq);
}

void ArenaGame::run_ai(core::Rng& rng, core::StepOutput& out) {
  for (std::uint32_t seat = 0; seat < players_.size(); ++seat)
    for (const auto& cmd : arena::ai_decide(players_, seat, tick_, tuning_, rng))
      // The AI only issues commands valid at the moment it decides; a refusal here would
      // be an AI bug and, like any refusal, changes nothing.
      (void)arena::apply_command(players_, seat, cmd, tick_, tuning_, out);
}

void ArenaGame::step(core::Tick tick, std::span<const core::GameInput> inputs, core::Rng& rng,
                     core::StepOutput& out) {
  remember_public_fields();
  bool accepted = false;
  if (finished_) {  // only leaves still apply; the clock has stopped
    for (const auto& in : inputs) apply_input(in, out, accepted);
  } else {
    tick_ = tick;
    arena::respawn_due(players_, tick_, rng, out);
    for (const auto& in : inputs) apply_input(in, out, accepted);
    run_ai(rng, out);
    arena::move_all(players_, tuning_);
    if (tick_ >= tuning_.match_ticks) {
      finished_ = true;
      json over = result();
      over["event"] = "match_over";
      out.events.push_back(std::move(over));
    }
  }
  bool changed = false;
  for (std::size_t i = 0; i < players_.size() && !changed; ++i)
    changed = !(prev_[i] == ArenaPublicFields::of(players_[i]));
  out.state_changed = accepted || !out.events.empty() || changed;
}

bool ArenaGame::write_delta_json(std::string& out) const {
  out += "{\"players\":{";
  bool any = false;
  for (std::size_t i = 0; i < players_.size() && i < prev_.size(); ++i) {
    const auto mark = out.size();
    if (any) out += ',';
    if (write_player_diff(out, i, prev_[i], ArenaPublicFields::of(players_[i]))) any = true;
    else out.resize(mark);
  }
  const core::Tick left = tuning_.match_ticks - std::min(tick_, tuning_.match_ticks);
  out += "},\"tick\":";
  core::append_decimal(out, tick_);
  out += ",\"ticks_left\":";
  core::append_decimal(out, left);
  out += '}';
  return true;
}

json ArenaGame::delta() const {
  std::string text;
  write_delta_json(text);
  return json::parse(text);
}

json ArenaGame::snapshot() const {
  json players = json::array();
  for (const auto& p : players_) players.push_back(player_json(p));
  const core::Tick left = tuning_.match_ticks - std::min(tick_, tuning_.match_ticks);
  return json{{"tick", tick_}, {"ticks_left", left}, {"players", std::move(players)}};
}

void ArenaGame::hash(core::StateHasher& h) const {
  h.add(static_cast<std::uint64_t>(tick_)).add(finished_).add(options_.tick_hz);
  h.add(static_cast<std::uint64_t>(tuning_.match_ticks)).add(static_cast<std::uint64_t>(players_.size()));
  for (const auto& p : players_) {
    h.add(p.seat).add(std::string_view(p.id)).add(std::string_view(p.name)).add(p.ai);
    h.add(static_cast<std::int64_t>(p.difficulty));
    h.add(p.x).add(p.y).add(p.fx).add(p.fy).add(p.vx).add(p.vy);
    h.add(p.hp).add(p.alive).add(static_cast<std::uint64_t>(p.respawn_tick));
    h.add(p.score).add(p.deaths).add(p.last_input_seq);
    h.add(static_cast<std::uint64_t>(p.attack_ready_tick)).add(static_cast<std::uint64_t>(p.ability_ready_tick));
    h.add(p.left).add(static_cast<std::int64_t>(p.move)).add(p.mx).add(p.my);
    h.add(static_cast<std::uint64_t>(p.ai_next_decision_tick));
  }
}

json ArenaGame::result() const {
  json standings = json::array();
  const auto order = arena_ranking(players_);
  for (const auto seat : order) {
    const auto& p = players_[seat];
    standings.push_back(json{{"player_id", p.id}, {"name", p.name}, {"seat", p.seat}, {"score", p.score},
                             {"deaths", p.deaths}, {"ai", p.ai}, {"left", p.left}});
  }
  const bool has_winner = !order.empty() && !players_[order.front()].left;
  return json{{"winner", has_winner ? json(players_[order.front()].id) : json(nullptr)},
              {"standings", std::move(standings)}};
}

std::vector<std::uint64_t> ArenaGame::acks() const {
  std::vector<std::uint64_t> out;
  out.reserve(players_.size());
  for (const auto& p : players_) out.push_back(p.last_input_seq);
  return out;
}

}  // namespace mtown::games
