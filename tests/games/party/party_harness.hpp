// Test harness for the party game: a game, its Rng and explicit ticks (no clocks), plus
// helpers to find shown answers by text and to play rounds quickly.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "mtown/games/party.hpp"

namespace party_test {

using mtown::core::AiDifficulty;
using mtown::core::ErrorCode;
using mtown::core::GameInput;
using mtown::core::GameSeat;
using mtown::core::StepOutput;
using mtown::core::Tick;
using nlohmann::json;

inline json question_json(int n) {
  const std::string k = std::to_string(n);
  return json{{"id", "t" + k},
              {"text", "Test question " + k + "?"},
              {"correct", "True " + k},
              {"robot", "Robot " + k},
              {"decoys", {"Decoy " + k + "a", "Decoy " + k + "b", "Decoy " + k + "c"}}};
}

// The worked example of docs/games/party.md is round 1 when `scotland` is set.
inline json options(int rounds = 8, bool scotland = false) {
  json qs = json::array();
  for (int i = 1; i <= rounds; ++i) qs.push_back(question_json(i));
  if (scotland)
    qs[0] = json{{"id", "q001"},
                 {"text", "What is the national animal of Scotland?"},
                 {"correct", "The unicorn"},
                 {"robot", "The Highland cow"},
                 {"decoys", {"The golden eagle", "The red deer", "The Loch Ness monster"}}};
  return json{{"rounds", rounds}, {"questions", qs}};
}

inline std::vector<GameSeat> humans(int n) {
  static const char* names[] = {"Ann", "Ben", "Cat", "Dan", "Eve", "Fay", "Gus", "Hal"};
  std::vector<GameSeat> seats;
  for (int i = 0; i < n; ++i) seats.push_back(GameSeat{"p" + std::to_string(i), names[i], false, AiDifficulty::medium});
  return seats;
}

inline GameSeat ai_seat(int i, AiDifficulty d) { return GameSeat{"ai" + std::to_string(i), "Bot" + std::to_string(i), true, d}; }

inline json answer(const std::string& text) { return json{{"action", "answer"}, {"text", text}}; }
inline json vote(const std::string& id) { return json{{"action", "vote"}, {"answer", id}}; }
inline json end_phase() { return json{{"action", "end_phase"}}; }
inline json next_round() { return json{{"action", "next_round"}}; }
inline json leave() { return json{{"action", "leave"}}; }

struct Harness {
  std::unique_ptr<mtown::core::Game> game;
  mtown::core::Rng rng;
  Tick now = 0;
  std::vector<json> events;  // every public event so far

  Harness(const json& opts, std::vector<GameSeat> seats, std::uint64_t seed = 7)
      : game(mtown::games::make_party(opts)), rng(seed) {
    game->start(std::move(seats), rng);
  }

  StepOutput step(Tick t, const std::vector<GameInput>& inputs = {}) {
    now = t;
    StepOutput out;
    game->step(t, inputs, rng, out);
    events.insert(events.end(), out.events.begin(), out.events.end());
    return out;
  }
  // One input from `seat` at the current tick (or `t`).
  StepOutput send(std::uint32_t seat, const json& data) { return step(now, {GameInput{seat, 1, data}}); }
  StepOutput send_at(Tick t, std::uint32_t seat, const json& data) { return step(t, {GameInput{seat, 1, data}}); }

  json snap() const { return game->snapshot(); }
  std::string phase() const { return snap()["phase"].get<std::string>(); }
  int round() const { return snap()["round"].get<int>(); }
  std::uint64_t hash() const {
    mtown::core::StateHasher h;
    game->hash(h);
    return h.value();
  }
  // The id ("a3") of the shown answer with this text.
  std::string id_of(const std::string& text) const {
    const json s = snap();  // the loop must not range over a temporary
    for (const auto& a : s["answers"])
      if (a["text"] == text) return a["id"].get<std::string>();
    FAIL("no shown answer " << text);
    return {};
  }
  // Fires timers until the phase changes (one deadline step at a time).
  void run_to_next_phase() {
    const std::string from = phase();
    const int r = round();
    for (int guard = 0; guard < 64 && phase() == from && round() == r; ++guard) {
      const auto d = game->next_deadline();
      REQUIRE(d.has_value());
      step(*d);
    }
  }
  // The last public event named `name`.
  json last_event(const std::string& name) const {
    for (auto it = events.rbegin(); it != events.rend(); ++it)
      if ((*it)["event"] == name) return *it;
    return nullptr;
  }
};

// Accepted: no refusals and something changed.
inline bool accepted(const StepOutput& out) { return out.refusals.empty() && out.state_changed; }
inline ErrorCode refusal_code(const StepOutput& out) {
  REQUIRE(out.refusals.size() == 1);
  return out.refusals[0].code;
}

}  // namespace party_test
