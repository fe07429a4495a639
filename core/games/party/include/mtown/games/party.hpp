// The party quiz ("spot the machine"): 2-8 players write fake answers to a question, vote
// one answer out, then try to find the true answer among the fakes and the machine's
// own decoy. Event-driven (tick_hz 0, ticks are ms). Rules: docs/games/party.md.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mtown/core/game.hpp"

namespace mtown::games {

struct Question {
  std::string id;
  std::string text;
  std::string correct;              // the true answer
  std::string robot;                // the machine's answer, shown among the fakes
  std::vector<std::string> decoys;  // fakes the AI seats may write
};

// Parses and validates a question pool (a JSON array, e.g. examples/questions.json).
// Throws std::invalid_argument naming the bad entry ("questions[3] (q004).robot: ...").
std::vector<Question> load_questions(const std::string& json_text);

// Options: {"rounds":8|12, "questions":[exactly `rounds` question objects],
// "question_ms", "elimination_ms", "voting_ms", "results_ms"}. The room draws the
// questions from its pool with the room Rng, so a recording is self-contained.
// Throws std::invalid_argument naming the bad option.
std::unique_ptr<core::Game> make_party(const nlohmann::json& options);

}  // namespace mtown::games
