// Events, snapshot, result and hash of the party game. Authorship and the correct/robot
// identity appear only in round_scores and, from the results phase on, in the snapshot.
#include "party_view.hpp"

#include "party_scoring.hpp"

namespace mtown::games::party {
namespace {

using nlohmann::json;

json tick_or_null(const std::optional<Tick>& t) { return t ? json(*t) : json(nullptr); }
json vote_or_null(int index) { return index == kNoVote ? json(nullptr) : json(answer_id(index)); }

bool in_round(Phase p) { return p != Phase::lobby && p != Phase::final_; }
bool answers_shown(const State& s) { return !s.shown.empty() && s.phase != Phase::question; }
bool elimination_done(Phase p) { return p == Phase::voting || p == Phase::results || p == Phase::final_; }

json question_public(const State& s) {
  if (!in_round(s.phase)) return nullptr;
  return json{{"id", s.question().id}, {"text", s.question().text}};
}

std::vector<int> vote_counts(const State& s, bool final_votes) {
  std::vector<int> counts(s.shown.size(), 0);
  for (const auto& seat : s.seats) {
    const int v = final_votes ? seat.final_vote : seat.elimination_vote;
    if (v != kNoVote) ++counts[static_cast<std::size_t>(v)];
  }
  return counts;
}

int index_of(const State& s, AnswerKind kind) {
  for (std::size_t i = 0; i < s.shown.size(); ++i)
    if (s.shown[i].kind == kind) return static_cast<int>(i);
  return kNoVote;
}

json player_public(const State& s, std::uint32_t i) {
  const SeatState& p = s.seats[i];
  const bool voted = s.phase == Phase::elimination ? p.elimination_vote != kNoVote
                     : s.phase == Phase::voting    ? p.final_vote != kNoVote
                                                   : false;
  return json{{"seat", i},
              {"player_id", p.seat.player_id},
              {"name", p.seat.name},
              {"ai", p.seat.ai},
              {"active", p.active},
              {"score", p.score},
              {"answered", in_round(s.phase) && p.answer.has_value()},
              {"voted", voted}};
}

}  // namespace

json phase_event(const State& s) {
  json e{{"event", "phase"}, {"phase", phase_name(s.phase)}, {"round", s.round}, {"ends_at", tick_or_null(s.ends_at)}};
  if (in_round(s.phase)) e["question"] = question_public(s);
  return e;
}

json answers_event(const State& s) {
  json list = json::array();
  for (std::size_t i = 0; i < s.shown.size(); ++i)
    list.push_back(json{{"id", answer_id(static_cast<int>(i))}, {"text", s.shown[i].text}});
  return json{{"event", "answers"}, {"answers", std::move(list)}};
}

json elimination_json(const State& s) {
  const auto counts = vote_counts(s, false);
  json by_id = json::object();
  for (std::size_t i = 0; i < counts.size(); ++i) by_id[answer_id(static_cast<int>(i))] = counts[i];
  return json{{"eliminated", vote_or_null(s.eliminated)}, {"tie", s.elimination_tie}, {"counts", std::move(by_id)}};
}

json round_scores_json(const State& s) {
  const auto elim = vote_counts(s, false);
  const auto fin = vote_counts(s, true);
  json answers = json::array();
  for (std::size_t i = 0; i < s.shown.size(); ++i) {
    const ShownAnswer& a = s.shown[i];
    answers.push_back(json{{"id", answer_id(static_cast<int>(i))},
                           {"text", a.text},
                           {"kind", answer_kind_name(a.kind)},
                           {"authors", a.authors},
                           {"eliminated", a.eliminated},
                           {"elimination_votes", elim[i]},
                           {"final_votes", fin[i]}});
  }
  json players = json::array();
  for (std::uint32_t i = 0; i < s.seats.size(); ++i) {
    const SeatState& p = s.seats[i];
    players.push_back(json{{"seat", i},
                           {"player_id", p.seat.player_id},
                           {"elimination_vote", vote_or_null(p.elimination_vote)},
                           {"final_vote", vote_or_null(p.final_vote)},
                           {"correct_points", p.points.correct},
                           {"robot_points", p.points.robot},
                           {"fooling_points", p.points.fooling},
                           {"penalty_points", p.points.penalty},
                           {"players_fooled", p.points.players_fooled},
                           {"points", p.points.total()},
                           {"score", p.score}});
  }
  const Question& q = s.question();
  return json{{"event", "round_scores"},
              {"round", s.round},
              {"question", {{"id", q.id}, {"text", q.text}, {"correct", q.correct}, {"robot", q.robot}}},
              {"correct", vote_or_null(index_of(s, AnswerKind::correct))},
              {"robot", vote_or_null(index_of(s, AnswerKind::robot))},
              {"eliminated", vote_or_null(s.eliminated)},
              {"answers", std::move(answers)},
              {"players", std::move(players)}};
}

json result_json(const State& s) {
  json standings = json::array();
  for (std::uint32_t i : standings_order(s)) {
    const SeatState& p = s.seats[i];
    standings.push_back(json{{"player_id", p.seat.player_id},
                             {"name", p.seat.name},
                             {"score", p.score},
                             {"correct", p.correct_finds},
                             {"robots_spotted", p.robots_spotted},
                             {"fooled_others", p.fooled_others},
                             {"times_fooled", p.times_fooled},
                             {"ai", p.seat.ai}});
  }
  json winner = s.phase == Phase::final_ && !standings.empty() ? standings[0]["player_id"] : json(nullptr);
  return json{{"winner", std::move(winner)}, {"standings", std::move(standings)}};
}

json snapshot_json(const State& s) {
  json players = json::array();
  for (std::uint32_t i = 0; i < s.seats.size(); ++i) players.push_back(player_public(s, i));
  json answers = json::array();
  if (answers_shown(s)) {
    for (std::size_t i = 0; i < s.shown.size(); ++i)
      answers.push_back(json{{"id", answer_id(static_cast<int>(i))},
                             {"text", s.shown[i].text},
                             {"eliminated", s.shown[i].eliminated}});
  }
  return json{{"game", "party"},
              {"phase", phase_name(s.phase)},
              {"round", s.round},
              {"rounds", s.config.rounds},
              {"ends_at", tick_or_null(s.ends_at)},
              {"question", question_public(s)},
              {"players", std::move(players)},
              {"answers", std::move(answers)},
              {"elimination", answers_shown(s) && elimination_done(s.phase) ? elimination_json(s) : json(nullptr)},
              {"last_results", s.scored ? round_scores_json(s) : json(nullptr)},
              {"result", s.phase == Phase::final_ ? result_json(s) : json(nullptr)}};
}

// Canonical order; docs/games/party.md lists it. Changing it changes every stored hash.
void hash_state(const State& s, core::StateHasher& h) {
  h.add(kVersion).add(static_cast<std::uint32_t>(s.phase)).add(s.round).add(s.config.rounds);
  h.add(static_cast<std::uint64_t>(s.phase_start)).add(s.ends_at.has_value()).add(static_cast<std::uint64_t>(s.ends_at.value_or(0)));
  h.add(static_cast<std::uint64_t>(s.config.question_ms)).add(static_cast<std::uint64_t>(s.config.elimination_ms));
  h.add(static_cast<std::uint64_t>(s.config.voting_ms)).add(static_cast<std::uint64_t>(s.config.results_ms));
  h.add(static_cast<std::uint64_t>(s.config.questions.size()));
  for (const auto& q : s.config.questions) h.add(q.id);
  h.add(static_cast<std::uint64_t>(s.seats.size()));
  for (const auto& p : s.seats) {
    h.add(p.seat.player_id).add(p.seat.name).add(p.seat.ai).add(static_cast<std::uint32_t>(p.seat.difficulty));
    h.add(p.active).add(p.score).add(p.correct_finds).add(p.robots_spotted).add(p.fooled_others).add(p.times_fooled);
    h.add(p.answer.has_value()).add(std::string_view(p.answer ? *p.answer : std::string()));
    h.add(p.elimination_vote).add(p.final_vote);
    h.add(p.ai_due.has_value()).add(static_cast<std::uint64_t>(p.ai_due.value_or(0)));
    h.add(p.points.correct).add(p.points.robot).add(p.points.fooling).add(p.points.penalty).add(p.points.players_fooled);
  }
  h.add(static_cast<std::uint64_t>(s.shown.size()));
  for (const auto& a : s.shown) {
    h.add(a.text).add(static_cast<std::uint32_t>(a.kind)).add(static_cast<std::uint64_t>(a.authors.size()));
    for (std::uint32_t author : a.authors) h.add(author);
    h.add(a.eliminated);
  }
  h.add(s.eliminated).add(s.elimination_tie).add(s.scored);
}

}  // namespace mtown::games::party
