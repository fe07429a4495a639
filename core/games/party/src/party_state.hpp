// The party game's whole state, as plain data. Owned by party::Rules; read by the view
// (snapshot, events, hash) and by scoring. Runs on the room's strand, like every game.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mtown/core/game.hpp"
#include "mtown/games/party.hpp"

namespace mtown::games::party {

using core::Tick;

inline constexpr std::uint32_t kVersion = 1;
inline constexpr std::size_t kMaxAnswerChars = 100;
inline constexpr std::size_t kMaxShownAnswers = 16;  // ids a1..a16
inline constexpr int kNoVote = -1;

enum class Phase : std::uint8_t { lobby, question, elimination, voting, results, final_ };
std::string_view phase_name(Phase p);

struct Config {
  int rounds = 8;
  std::vector<Question> questions;  // exactly `rounds`
  Tick question_ms = 60000;
  Tick elimination_ms = 30000;
  Tick voting_ms = 30000;
  Tick results_ms = 15000;
};

// Validates make_party's options; throws std::invalid_argument naming the option.
Config parse_options(const nlohmann::json& options);

enum class AnswerKind : std::uint8_t { player, correct, robot };
std::string_view answer_kind_name(AnswerKind k);

// One answer on screen during elimination/voting; its position is its id (a1 = index 0).
struct ShownAnswer {
  std::string text;
  AnswerKind kind = AnswerKind::player;
  std::vector<std::uint32_t> authors;  // player answers: seats that wrote it (ascending)
  bool eliminated = false;
};

// One seat's points for the last scored round.
struct RoundPoints {
  std::int64_t correct = 0;  // found the true answer
  std::int64_t robot = 0;    // elimination vote on the robot answer
  std::int64_t fooling = 0;  // other players' final votes on this seat's fake
  std::int64_t penalty = 0;  // final vote on the robot answer (negative)
  int players_fooled = 0;
  std::int64_t total() const { return correct + robot + fooling + penalty; }
};

struct SeatState {
  core::GameSeat seat;
  bool active = true;  // false once the seat left
  std::int64_t score = 0;
  int correct_finds = 0;
  int robots_spotted = 0;
  int fooled_others = 0;
  int times_fooled = 0;
  std::optional<std::string> answer;  // this round's fake, cleaned; latest wins
  int elimination_vote = kNoVote;     // index into State::shown
  int final_vote = kNoVote;           // index into State::shown
  std::optional<Tick> ai_due;         // AI seats: when they act in the current phase
  RoundPoints points;                 // valid while State::scored
};

struct State {
  Config config;
  Phase phase = Phase::lobby;
  int round = 0;  // 1-based once started
  Tick now = 0;   // the last tick stepped (ticks never go back)
  Tick phase_start = 0;
  std::optional<Tick> ends_at;  // none in lobby and final
  std::vector<SeatState> seats;
  std::vector<ShownAnswer> shown;  // elimination onwards; cleared at the next question
  int eliminated = kNoVote;
  bool elimination_tie = false;
  bool scored = false;  // the round's points are in (results and final)

  const Question& question() const { return config.questions.at(static_cast<std::size_t>(round - 1)); }
};

// "a3" <-> 2. parse_answer_id returns kNoVote when malformed.
std::string answer_id(int index);
int parse_answer_id(std::string_view id);

// Case-insensitive (ASCII), space-collapsed form used to compare answers.
std::string normalize_answer(std::string_view text);

}  // namespace mtown::games::party
