// The party state machine (see party_rules.hpp). Every refusal changes nothing; every
// accepted input or fired deadline sets StepOutput::state_changed.
#include "party_rules.hpp"

#include <algorithm>

#include "party_ai.hpp"
#include "party_input.hpp"
#include "party_scoring.hpp"
#include "party_view.hpp"

namespace mtown::games::party {
namespace {

using core::ErrorCode;
using nlohmann::json;

void refuse(core::StepOutput& out, const core::GameInput& in, ErrorCode code, std::string message) {
  out.refusals.push_back(core::InputRefusal{in.seat, in.input_seq, code, std::move(message)});
}

std::string wrong_phase(std::string_view action, std::string_view allowed, Phase now) {
  return std::string(action) + ": only in the " + std::string(allowed) + " phase (now " +
         std::string(phase_name(now)) + ")";
}

bool is_voting_phase(Phase p) { return p == Phase::elimination || p == Phase::voting; }
bool is_acting_phase(Phase p) { return p == Phase::question || is_voting_phase(p); }

}  // namespace

Rules::Rules(Config config) { s_.config = std::move(config); }

void Rules::start(std::vector<core::GameSeat> seats, core::Rng& rng) {
  s_.seats.clear();
  for (auto& seat : seats) {
    s_.seats.emplace_back();
    s_.seats.back().seat = std::move(seat);
  }
  core::StepOutput ignored;  // start() has no output: the room sends a snapshot
  enter_question(0, rng, ignored);
}

std::optional<Tick> Rules::next_deadline() const {
  std::optional<Tick> next = s_.ends_at;
  for (const auto& seat : s_.seats)
    if (seat.ai_due && (!next || *seat.ai_due < *next)) next = seat.ai_due;
  return next;
}

void Rules::step(Tick tick, std::span<const core::GameInput> inputs, core::Rng& rng, core::StepOutput& out) {
  if (s_.phase == Phase::lobby) {
    for (const auto& in : inputs) refuse(out, in, ErrorCode::wrong_phase, "the game has not started");
    return;
  }
  tick = std::max(tick, s_.phase_start);  // time never runs backwards inside the game
  while (const auto due = next_deadline()) {
    if (*due > tick) break;
    fire_due(*due, rng, out);
  }
  for (const auto& in : inputs) apply(in, tick, rng, out);
}

// One deadline at t: AI seats due at t act first (seat order), then the phase timer.
void Rules::fire_due(Tick t, core::Rng& rng, core::StepOutput& out) {
  for (std::uint32_t i = 0; i < s_.seats.size(); ++i) {
    if (s_.seats[i].ai_due == t) {
      ai_act(i, t, rng, out);
      return;
    }
  }
  if (s_.ends_at == t) close_phase(t, rng, out);
}

void Rules::apply(const core::GameInput& in, Tick t, core::Rng& rng, core::StepOutput& out) {
  if (in.seat >= s_.seats.size()) return refuse(out, in, ErrorCode::not_a_player, "seat is not in this game");
  if (auto bad = validate_input_data(in.data)) return refuse(out, in, bad->code, bad->message);
  const Action action = input_action(in.data);
  if (action == Action::leave) return on_leave(in, t, rng, out);
  const SeatState& seat = s_.seats[in.seat];
  if (!seat.active) return refuse(out, in, ErrorCode::not_a_player, "seat has left the game");
  if (seat.seat.ai) return refuse(out, in, ErrorCode::not_a_player, "AI seats are played by the game");
  if (action == Action::ai_takeover) return on_ai_takeover(in, t, rng, out);
  switch (action) {
    case Action::answer:
      if (s_.phase != Phase::question)
        return refuse(out, in, ErrorCode::wrong_phase, wrong_phase("answer", "question", s_.phase));
      return on_answer(in, t, rng, out);
    case Action::vote:
      if (!is_voting_phase(s_.phase))
        return refuse(out, in, ErrorCode::wrong_phase, wrong_phase("vote", "elimination or voting", s_.phase));
      return on_vote(in, t, rng, out);
    case Action::end_phase:
      if (!is_acting_phase(s_.phase))
        return refuse(out, in, ErrorCode::wrong_phase,
                      wrong_phase("end_phase", "question, elimination or voting", s_.phase));
      return close_phase(t, rng, out);
    case Action::next_round:
      if (s_.phase != Phase::results)
        return refuse(out, in, ErrorCode::wrong_phase, wrong_phase("next_round", "results", s_.phase));
      return close_phase(t, rng, out);
    case Action::leave:
    case Action::ai_takeover: break;  // handled above
  }
}

void Rules::on_answer(const core::GameInput& in, Tick t, core::Rng& rng, core::StepOutput& out) {
  std::string text = clean_answer(in.data.at("text").get<std::string>());
  const std::string norm = normalize_answer(text);
  const Question& q = s_.question();
  if (norm == normalize_answer(q.correct) || norm == normalize_answer(q.robot))
    return refuse(out, in, ErrorCode::invalid_input, "text: matches an answer already in this round; write another");
  record_answer(in.seat, std::move(text), out);
  close_if_everyone_acted(t, rng, out);
}

void Rules::on_vote(const core::GameInput& in, Tick t, core::Rng& rng, core::StepOutput& out) {
  const int index = parse_answer_id(in.data.at("answer").get<std::string>());
  if (std::string problem = vote_problem(in.seat, index); !problem.empty())
    return refuse(out, in, ErrorCode::invalid_input, "answer: " + problem);
  record_vote(in.seat, index, out);
  close_if_everyone_acted(t, rng, out);
}

// Leaving is never refused: the seat stops counting, its unfinished act this phase is
// dropped, and it scores nothing more. Already-shown answers stay (ids never change).
void Rules::on_leave(const core::GameInput& in, Tick t, core::Rng& rng, core::StepOutput& out) {
  SeatState& seat = s_.seats[in.seat];
  if (!seat.active) return;
  seat.active = false;
  seat.ai_due.reset();
  if (s_.phase == Phase::question) seat.answer.reset();
  if (s_.phase == Phase::elimination) seat.elimination_vote = kNoVote;
  if (s_.phase == Phase::voting) seat.final_vote = kNoVote;
  out.events.push_back(json{{"event", "left"}, {"seat", in.seat}});
  out.state_changed = true;
  close_if_everyone_acted(t, rng, out);
}

// An AI plays the seat from now on, with its score so far. In a question, elimination or
// voting phase it has not acted in yet, it acts like any AI seat (its latency from now).
void Rules::on_ai_takeover(const core::GameInput& in, Tick t, core::Rng& rng, core::StepOutput& out) {
  SeatState& seat = s_.seats[in.seat];
  seat.seat.ai = true;
  seat.seat.difficulty = *core::parse_ai_difficulty(in.data.at("difficulty").get<std::string>());
  if (is_acting_phase(s_.phase) && !has_acted(seat)) schedule_seat_ai(seat, t, rng);
  out.events.push_back(json{{"event", "ai_takeover"}, {"seat", in.seat},
                            {"difficulty", core::ai_difficulty_name(seat.seat.difficulty)}});
  out.state_changed = true;
}

void Rules::ai_act(std::uint32_t i, Tick t, core::Rng& rng, core::StepOutput& out) {
  SeatState& seat = s_.seats[i];
  seat.ai_due.reset();
  out.state_changed = true;
  if (s_.phase == Phase::question) {
    std::vector<std::string> taken;
    for (std::uint32_t k = 0; k < s_.seats.size(); ++k)
      if (k != i && s_.seats[k].answer) taken.push_back(*s_.seats[k].answer);
    record_answer(i, ai_fake_answer(s_.question(), taken, rng), out);
  } else if (is_voting_phase(s_.phase)) {
    const AnswerKind truth_kind = s_.phase == Phase::elimination ? AnswerKind::robot : AnswerKind::correct;
    int truth = kNoVote;
    for (std::size_t k = 0; k < s_.shown.size(); ++k)
      if (s_.shown[k].kind == truth_kind) truth = static_cast<int>(k);
    const int pick = ai_vote(seat.seat.difficulty, truth, allowed_votes(i), rng);
    if (pick != kNoVote) record_vote(i, pick, out);
  }
  close_if_everyone_acted(t, rng, out);
}

void Rules::record_answer(std::uint32_t seat, std::string text, core::StepOutput& out) {
  SeatState& s = s_.seats[seat];
  const bool first = !s.answer;
  out.private_events.emplace_back(seat, json{{"event", "answer_accepted"}, {"text", text}});
  s.answer = std::move(text);
  if (first) out.events.push_back(json{{"event", "answered"}, {"seat", seat}});
  out.state_changed = true;
}

void Rules::record_vote(std::uint32_t seat, int index, core::StepOutput& out) {
  SeatState& s = s_.seats[seat];
  const bool elimination = s_.phase == Phase::elimination;
  int& slot = elimination ? s.elimination_vote : s.final_vote;
  const bool first = slot == kNoVote;
  slot = index;
  const char* kind = elimination ? "elimination" : "final";
  if (first) out.events.push_back(json{{"event", "vote_cast"}, {"seat", seat}, {"kind", kind}});
  out.private_events.emplace_back(seat, json{{"event", "vote_accepted"}, {"kind", kind}, {"answer", answer_id(index)}});
  out.state_changed = true;
}

std::string Rules::vote_problem(std::uint32_t seat, int index) const {
  if (index < 0 || static_cast<std::size_t>(index) >= s_.shown.size())
    return "unknown answer id " + answer_id(index < 0 ? 0 : index);
  const ShownAnswer& a = s_.shown[static_cast<std::size_t>(index)];
  if (a.eliminated) return answer_id(index) + " was eliminated";
  if (std::find(a.authors.begin(), a.authors.end(), seat) != a.authors.end())
    return "you cannot vote for your own answer";
  return {};
}

std::vector<int> Rules::allowed_votes(std::uint32_t seat) const {
  std::vector<int> allowed;
  for (int k = 0; k < static_cast<int>(s_.shown.size()); ++k)
    if (vote_problem(seat, k).empty()) allowed.push_back(k);
  return allowed;
}

bool Rules::everyone_acted() const {
  bool any_active = false;
  for (const auto& seat : s_.seats) {
    if (!seat.active) continue;
    any_active = true;
    if (!has_acted(seat)) return false;
  }
  return any_active;  // with nobody left, only the timers move the game on
}

bool Rules::has_acted(const SeatState& seat) const {
  return s_.phase == Phase::question      ? seat.answer.has_value()
         : s_.phase == Phase::elimination ? seat.elimination_vote != kNoVote
                                          : seat.final_vote != kNoVote;
}

void Rules::close_if_everyone_acted(Tick t, core::Rng& rng, core::StepOutput& out) {
  if (is_acting_phase(s_.phase) && everyone_acted()) close_phase(t, rng, out);
}

void Rules::close_phase(Tick t, core::Rng& rng, core::StepOutput& out) {
  out.state_changed = true;
  switch (s_.phase) {
    case Phase::question:
      return enter_elimination(t, rng, out);
    case Phase::elimination:
      resolve_elimination(out);
      enter(Phase::voting, t, s_.config.voting_ms, out);
      return schedule_ai(t, rng);
    case Phase::voting:
      score_round(s_);
      out.events.push_back(round_scores_json(s_));
      return enter(Phase::results, t, s_.config.results_ms, out);
    case Phase::results:
      if (s_.round < s_.config.rounds) return enter_question(t, rng, out);
      enter(Phase::final_, t, std::nullopt, out);
      out.events.push_back(result_json(s_));
      out.events.back()["event"] = "game_over";
      return;
    case Phase::lobby:
    case Phase::final_: return;
  }
}

void Rules::enter(Phase p, Tick t, std::optional<Tick> duration_ms, core::StepOutput& out) {
  s_.phase = p;
  s_.phase_start = t;
  s_.ends_at = duration_ms ? std::optional<Tick>(t + *duration_ms) : std::nullopt;
  for (auto& seat : s_.seats) seat.ai_due.reset();
  out.events.push_back(phase_event(s_));
}

void Rules::enter_question(Tick t, core::Rng& rng, core::StepOutput& out) {
  ++s_.round;
  for (auto& seat : s_.seats) {
    seat.answer.reset();
    seat.elimination_vote = kNoVote;
    seat.final_vote = kNoVote;
  }
  s_.shown.clear();
  s_.eliminated = kNoVote;
  s_.elimination_tie = false;
  s_.scored = false;
  enter(Phase::question, t, s_.config.question_ms, out);
  schedule_ai(t, rng);
}

// Shown answers: the fakes of seats still in (identical texts merged into one answer with
// several authors), the correct and the robot answer, shuffled; ids follow shown order.
void Rules::enter_elimination(Tick t, core::Rng& rng, core::StepOutput& out) {
  s_.shown.clear();
  std::vector<std::string> norms;
  for (std::uint32_t i = 0; i < s_.seats.size(); ++i) {
    const SeatState& seat = s_.seats[i];
    if (!seat.active || !seat.answer) continue;
    const std::string norm = normalize_answer(*seat.answer);
    const auto it = std::find(norms.begin(), norms.end(), norm);
    if (it != norms.end()) {
      s_.shown[static_cast<std::size_t>(it - norms.begin())].authors.push_back(i);
      continue;
    }
    norms.push_back(norm);
    s_.shown.push_back(ShownAnswer{.text = *seat.answer, .kind = AnswerKind::player, .authors = {i}});
  }
  s_.shown.push_back(ShownAnswer{.text = s_.question().correct, .kind = AnswerKind::correct, .authors = {}});
  s_.shown.push_back(ShownAnswer{.text = s_.question().robot, .kind = AnswerKind::robot, .authors = {}});
  for (std::size_t i = s_.shown.size() - 1; i > 0; --i)
    std::swap(s_.shown[i], s_.shown[rng.below(static_cast<std::uint32_t>(i + 1))]);
  enter(Phase::elimination, t, s_.config.elimination_ms, out);
  out.events.push_back(answers_event(s_));
  schedule_ai(t, rng);
}

// Most elimination votes is out; a shared top count, or no votes at all, removes nothing.
void Rules::resolve_elimination(core::StepOutput& out) {
  std::vector<int> counts(s_.shown.size(), 0);
  for (const auto& seat : s_.seats)
    if (seat.elimination_vote != kNoVote) ++counts[static_cast<std::size_t>(seat.elimination_vote)];
  const int top = counts.empty() ? 0 : *std::max_element(counts.begin(), counts.end());
  const auto leaders = std::count(counts.begin(), counts.end(), top);
  s_.elimination_tie = top > 0 && leaders > 1;
  s_.eliminated = kNoVote;
  if (top > 0 && leaders == 1) {
    s_.eliminated = static_cast<int>(std::max_element(counts.begin(), counts.end()) - counts.begin());
    s_.shown[static_cast<std::size_t>(s_.eliminated)].eliminated = true;
  }
  json event = elimination_json(s_);
  event["event"] = "elimination";
  out.events.push_back(std::move(event));
}

void Rules::schedule_ai(Tick t, core::Rng& rng) {
  for (auto& seat : s_.seats)
    if (seat.active && seat.seat.ai) schedule_seat_ai(seat, t, rng);
}

void Rules::schedule_seat_ai(SeatState& seat, Tick t, core::Rng& rng) {
  Tick latency = ai_latency_ms(seat.seat.difficulty, rng);
  // In a short phase an AI still acts in time: within its first three quarters (of what is left).
  if (s_.ends_at) latency = std::min<Tick>(latency, (*s_.ends_at - t) * 3 / 4);
  seat.ai_due = t + latency;
}

}  // namespace mtown::games::party
