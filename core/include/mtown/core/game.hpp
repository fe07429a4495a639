// The game interface. A game is a deterministic step function:
//   (state, the inputs queued for this tick in arrival order, tick, seeded Rng)
//     -> new state + events.
// Game code never reads the wall clock, sockets, files or globals, so the same seed and
// inputs give the same state hash at every tick on any run and any thread count; that
// is what `mtown replay` checks. A room owns one Game and calls it on the room's strand.
//
// Time: a fixed-rate game (tick_hz() > 0) is stepped once per tick, tick 1, 2, 3, ...
// An event-driven game (tick_hz() == 0) measures ticks in milliseconds since start; the
// room steps it when inputs arrive and at next_deadline(), and records those ticks.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "mtown/core/protocol.hpp"
#include "mtown/core/rng.hpp"
#include "mtown/core/state_hash.hpp"

namespace mtown::core {

using Tick = std::uint64_t;

enum class AiDifficulty { easy, medium, hard };
std::string_view ai_difficulty_name(AiDifficulty d);
std::optional<AiDifficulty> parse_ai_difficulty(std::string_view s);

struct GameSeat {
  std::string player_id;
  std::string name;
  bool ai = false;
  AiDifficulty difficulty = AiDifficulty::medium;  // AI seats only
};

// What a game made of an input's data when the room checked it (Game::check_input), so its
// step need not parse the data again. A pure function of `data` and never recorded: a
// replayed input has none and is parsed at step, with the same result.
struct ParsedInput {
  bool set = false;
  int kind = 0;
  std::int64_t a = 0, b = 0;
  bool operator==(const ParsedInput&) const = default;
};

struct GameInput {
  GameInput() = default;
  GameInput(std::uint32_t s, std::uint64_t seq, nlohmann::json d) : seat(s), input_seq(seq), data(std::move(d)) {}

  std::uint32_t seat = 0;       // index into the seats given to start()
  std::uint64_t input_seq = 0;  // the client's number for this input (0: none); echoed in acks
  nlohmann::json data;          // already validated with Game::validate_input
  ParsedInput parsed;           // the game's own, when set
};

// Seat-leaving is an input too, so recordings replay it: data {"action":"leave"}.
inline const nlohmann::json& leave_input_data() {
  static const nlohmann::json data{{"action", "leave"}};
  return data;
}

// So is an AI taking over the seat of a player who is gone (a room's `ai_takeover`):
// data {"action":"ai_takeover","difficulty":"easy"|"medium"|"hard"}. The seat keeps its
// score and position and is played by the game's AI from that step on.
inline nlohmann::json ai_takeover_input_data(AiDifficulty difficulty) {
  return {{"action", "ai_takeover"}, {"difficulty", std::string(ai_difficulty_name(difficulty))}};
}

struct InputRefusal {
  std::uint32_t seat = 0;
  std::uint64_t input_seq = 0;
  ErrorCode code = ErrorCode::bad_message;
  std::string message;
};

struct StepOutput {
  // Public events, in order. Each is an object with an "event" name, e.g.
  // {"event":"phase","phase":"voting","ends_at":12000}.
  std::vector<nlohmann::json> events;
  // Events for one seat only, e.g. {"event":"answer_accepted"}.
  std::vector<std::pair<std::uint32_t, nlohmann::json>> private_events;
  // Inputs the rules refused at this step (wrong phase, dead player, ...). A refused
  // input changes nothing.
  std::vector<InputRefusal> refusals;
  bool state_changed = false;
};

class Game {
 public:
  virtual ~Game() = default;

  virtual std::string_view name() const = 0;
  virtual std::uint32_t version() const = 0;  // bump when rules change: old recordings stop verifying
  virtual std::uint32_t tick_hz() const = 0;  // 0: event-driven, ticks are milliseconds

  // Static checks of a client's input payload (types, ranges, enums) before it is queued.
  // Returns the refusal (code, message) or nullopt. Never looks at the state.
  virtual std::optional<InputRefusal> validate_input(const nlohmann::json& data) const = 0;
  // validate_input(in.data) on the room's input path; a game may also fill in.parsed.
  virtual std::optional<InputRefusal> check_input(GameInput& in) const { return validate_input(in.data); }
  // Inputs only the room's host may send (e.g. "advance"); the room checks who sent them.
  virtual bool is_host_action(const nlohmann::json& data) const { (void)data; return false; }

  virtual void start(std::vector<GameSeat> seats, Rng& rng) = 0;
  virtual void step(Tick tick, std::span<const GameInput> inputs, Rng& rng, StepOutput& out) = 0;
  // Event-driven games: the tick at which step() must run even without input (a phase
  // timer, an AI's answer). Fixed-rate games return nullopt.
  virtual std::optional<Tick> next_deadline() const = 0;

  virtual nlohmann::json snapshot() const = 0;  // full public state
  // What the last step changed, for per-tick state messages; the default is a snapshot.
  virtual nlohmann::json delta() const { return snapshot(); }
  // The same as delta().dump(), appended to `out` without building a JSON tree: the hot
  // path of a 60 Hz room. Returns false when the game has no such writer.
  virtual bool write_delta_json(std::string& out) const { (void)out; return false; }
  virtual void hash(StateHasher& h) const = 0;  // canonical: documented per game
  // Per seat, the input_seq of the last input the game processed (0: none yet). Fixed-rate
  // games put it in every state message so clients can reconcile their prediction.
  virtual std::vector<std::uint64_t> acks() const { return {}; }
  virtual bool finished() const = 0;
  virtual nlohmann::json result() const = 0;  // scores and winner, once finished()
};

}  // namespace mtown::core
