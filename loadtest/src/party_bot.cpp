// Party bots play whole games: slot 0 creates the room and, once all bots have joined,
// starts the game; every bot answers each question and casts both votes after a seeded
// think time; the host ends the results phase with next_round, and after game_over
// restarts and starts again. Measured: games completed and, per phase, the time from
// the room's last vote to the phase result that vote completed.
#include "scenarios.hpp"

namespace mtown::loadtest {

namespace {
// Long enough never to cut a bot short, so phases end because everyone acted.
const json kPartyOptions = {{"question_ms", 20000}, {"elimination_ms", 20000}, {"voting_ms", 20000},
                            {"results_ms", 20000}};
int phase_index(const std::string& p) {
  static const char* names[] = {"lobby", "question", "elimination", "voting", "results", "final"};
  for (int i = 0; i < 6; ++i)
    if (p == names[i]) return i;
  return -1;
}
}  // namespace

void PartyBot::on_open() { create_or_join("party"); }

void PartyBot::on_message(const json& m, Clock::time_point now) {
  const auto type = m.value("type", "");
  if (type == "room_joined") {
    mark_ready();
    if (slot_ == 0) publish_room_code(m["room"].value("code", ""));
  } else if (type == "room_state") {
    if (room_full_and_waiting(m)) send({{"type", "start_game"}, {"options", kPartyOptions}});
  } else if (type == "game_started") {
    seat_ = seat_in(m);
    on_snapshot(m["snapshot"], now);
  } else if (type == "state") {
    if (m.contains("snapshot")) on_snapshot(m["snapshot"], now);
  } else if (type == "game_event") {
    const auto& e = m["event"];
    if (e.value("event", "") == "answer_accepted") my_answer_ = e.value("text", "");
  } else if (type == "game_over") {
    timer_.cancel();
    if (slot_ == 0) {
      if (in_window(now)) ++stats().games_completed;
      if (sending_) send({{"type", "restart_game"}});
    }
  } else if (type == "error") {
    count_error(m.value("code", "?"));
  }
}

void PartyBot::on_snapshot(const json& snap, Clock::time_point now) {
  const int round = snap.value("round", 0);
  const int phase = phase_index(snap.value("phase", ""));
  const int key = round * 8 + phase;
  if (key == phase_key_) return;  // the same phase: another player's progress
  const int previous = phase_key_;
  phase_key_ = key;
  timer_.cancel();
  // The phase this bot's vote closed (elimination -> voting, voting -> results).
  if (group_->vote_phase == previous && last_voter_ && group_->votes >= static_cast<int>(group_->size) &&
      in_window(now)) {
    stats().phase_result_us.record(micros(now - group_->last_vote_at));
  }
  last_voter_ = false;
  if (!sending_ || seat_ < 0) return;
  if (phase == 1) {
    if (slot_ == 0 && in_window(now)) ++stats().rounds;
    act_later([self = shared(), round] {
      self->send({{"type", "input"}, {"data", {{"action", "answer"},
                                               {"text", "bot " + std::to_string(self->index_) + " says " +
                                                            std::to_string(round) + "-" + std::to_string(self->rng_() % 1000)}}}});
    });
  } else if (phase == 2 || phase == 3) {
    std::vector<std::string> choices;
    for (const auto& a : snap["answers"])
      if (!a.value("eliminated", false) && a.value("text", "") != my_answer_) choices.push_back(a.value("id", ""));
    if (choices.empty()) return;
    const auto pick = choices[rng_() % choices.size()];
    act_later([self = shared(), pick, key] { self->vote(pick, key); });
  } else if (phase == 4 && slot_ == 0) {
    act_later([self = shared()] { self->send({{"type", "input"}, {"data", {{"action", "next_round"}}}}); });
  }
}

void PartyBot::vote(const std::string& answer, int key) {
  if (group_->vote_phase != key) group_->vote_phase = key, group_->votes = 0;
  ++group_->votes;
  group_->last_vote_at = Clock::now();
  for (auto& weak : group_->members)
    if (auto b = weak.lock()) static_cast<PartyBot&>(*b).last_voter_ = false;
  last_voter_ = true;
  send({{"type", "input"}, {"data", {{"action", "vote"}, {"answer", answer}}}});
}

void PartyBot::act_later(std::function<void()> act) {
  // Exponential think times around --think-ms, seeded: the same seed, the same pacing.
  const double ms = std::exponential_distribution<>(1.0 / opts().think_ms)(rng_);
  timer_.expires_after(std::chrono::microseconds(static_cast<long>(std::min(ms, 10 * opts().think_ms) * 1000)));
  timer_.async_wait([act = std::move(act), self = shared()](boost::system::error_code ec) {
    if (!ec && self->sending_ && self->open()) act();
  });
}

}  // namespace mtown::loadtest
