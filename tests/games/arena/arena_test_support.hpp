// Helpers shared by the arena tests: a Match that owns a game, its Rng and the tick
// counter, input builders, and apply_delta (the client side of snapshot + delta).
#pragma once
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "mtown/games/arena.hpp"

namespace arena_test {

using mtown::core::AiDifficulty;
using mtown::core::ErrorCode;
using mtown::core::GameInput;
using mtown::core::GameSeat;
using mtown::core::StepOutput;
using mtown::core::Tick;
using mtown::games::ArenaGame;
using mtown::games::ArenaOptions;
using mtown::games::ArenaPlayer;
using nlohmann::json;

inline constexpr std::int64_t kU = 1000;  // milli-units per field unit

inline GameSeat human(const std::string& id) { return GameSeat{id, "name-" + id, false, AiDifficulty::medium}; }
inline GameSeat bot(const std::string& id, AiDifficulty d) { return GameSeat{id, "bot-" + id, true, d}; }
inline std::vector<GameSeat> humans(int n) {
  std::vector<GameSeat> seats;
  for (int i = 0; i < n; ++i) seats.push_back(human("p" + std::to_string(i)));
  return seats;
}

inline json move_dir(std::int64_t dx, std::int64_t dy) { return json{{"action", "move"}, {"dx", dx}, {"dy", dy}}; }
inline json move_to(json x, json y) { return json{{"action", "move"}, {"x", std::move(x)}, {"y", std::move(y)}}; }
inline json attack() { return json{{"action", "attack"}}; }
inline json ability() { return json{{"action", "ability"}}; }
inline GameInput in(std::uint32_t seat, json data, std::uint64_t seq = 0) { return GameInput{seat, seq, std::move(data)}; }

inline std::vector<json> events_named(const StepOutput& out, const std::string& name) {
  std::vector<json> found;
  for (const auto& e : out.events)
    if (e.at("event") == name) found.push_back(e);
  return found;
}

struct Match {
  ArenaGame game;
  mtown::core::Rng rng;
  Tick tick = 0;
  StepOutput out;

  explicit Match(std::vector<GameSeat> seats, ArenaOptions options = {}, std::uint64_t seed = 1)
      : game(options), rng(seed) {
    game.start(std::move(seats), rng);
  }
  StepOutput& step(std::vector<GameInput> inputs = {}) {
    out = StepOutput{};
    game.step(++tick, inputs, rng, out);
    return out;
  }
  void idle(int ticks) {
    for (int i = 0; i < ticks; ++i) step();
  }
  const ArenaPlayer& p(std::uint32_t seat) const { return game.players().at(seat); }
  // Walks `seat` to (x, y) in field units with a target move and steps until it is there.
  void walk_to(std::uint32_t seat, std::int64_t x, std::int64_t y) {
    step({in(seat, move_to(x, y))});
    for (int i = 0; i < 2000 && (p(seat).x != x * kU || p(seat).y != y * kU); ++i) step();
    REQUIRE(p(seat).x == x * kU);
    REQUIRE(p(seat).y == y * kU);
  }
};

// The client's view: a delta's fields written over the previous snapshot.
inline json apply_delta(json snap, const json& delta) {
  snap["tick"] = delta.at("tick");
  snap["ticks_left"] = delta.at("ticks_left");
  for (const auto& [seat, fields] : delta.at("players").items())
    for (const auto& [key, value] : fields.items()) snap["players"][std::stoul(seat)][key] = value;
  return snap;
}

}  // namespace arena_test
