// The party state machine: which input is accepted in which phase, timers, early ends,
// latest-wins and the vote rules.
#include "party_harness.hpp"

using namespace party_test;

namespace {

// A fresh 3-player game brought to `phase` by the host's end_phase / next_round.
Harness at_phase(const std::string& phase) {
  Harness h(options(8), humans(3));
  const std::vector<std::string> order{"question", "elimination", "voting", "results"};
  for (const auto& p : order) {
    if (p == phase) return h;
    if (p != "results") REQUIRE(accepted(h.send(0, end_phase())));
  }
  REQUIRE(phase == "final");
  while (h.phase() != "final") {
    const json a = h.phase() == "results" ? next_round() : end_phase();
    REQUIRE(accepted(h.send(0, a)));
  }
  return h;
}

}  // namespace

TEST_CASE("party phases: phase x input table", "[party][phases]") {
  enum Expect { ok, wrong };
  struct Row {
    const char* phase;
    Expect answer, vote, end, next, leave;
    const char* after_end;   // phase after an accepted end_phase
    const char* after_next;  // phase after an accepted next_round
  };
  const std::vector<Row> rows{
      {"question", ok, wrong, ok, wrong, ok, "elimination", ""},
      {"elimination", wrong, ok, ok, wrong, ok, "voting", ""},
      {"voting", wrong, ok, ok, wrong, ok, "results", ""},
      {"results", wrong, wrong, wrong, ok, ok, "", "question"},
      {"final", wrong, wrong, wrong, wrong, ok, "", ""},
  };
  for (const auto& row : rows) {
    const std::vector<std::pair<json, Expect>> inputs{
        {answer("A fake"), row.answer}, {vote("a1"), row.vote}, {end_phase(), row.end},
        {next_round(), row.next},       {leave(), row.leave}};
    for (const auto& [data, expect] : inputs) {
      INFO(row.phase << " x " << data.dump());
      Harness h = at_phase(row.phase);
      REQUIRE(h.phase() == row.phase);
      const auto hash_before = h.hash();
      const auto out = h.send(1, data);
      if (expect == wrong) {
        CHECK(refusal_code(out) == ErrorCode::wrong_phase);
        CHECK_FALSE(out.state_changed);
        CHECK(out.events.empty());
        CHECK(h.hash() == hash_before);  // a refused input changes nothing
        continue;
      }
      CHECK(accepted(out));
      if (data == end_phase()) CHECK(h.phase() == row.after_end);
      if (data == next_round()) CHECK(h.phase() == row.after_next);
    }
  }
}

TEST_CASE("party phases: before start every input is wrong_phase", "[party][phases]") {
  auto g = mtown::games::make_party(options(8));
  CHECK(g->snapshot()["phase"] == "lobby");
  CHECK_FALSE(g->next_deadline().has_value());
  mtown::core::Rng rng(1);
  StepOutput out;
  const std::vector<GameInput> inputs{{0, 1, answer("x")}, {0, 2, end_phase()}, {0, 3, leave()}};
  g->step(10, inputs, rng, out);
  REQUIRE(out.refusals.size() == 3);
  for (const auto& r : out.refusals) CHECK(r.code == ErrorCode::wrong_phase);
  CHECK(out.refusals[1].input_seq == 2);
}

TEST_CASE("party phases: the full cycle of phase events", "[party][phases]") {
  Harness h(options(8), humans(2));
  const json s = h.snap();
  CHECK(s["phase"] == "question");
  CHECK(s["round"] == 1);
  CHECK(s["ends_at"] == 60000);
  CHECK(s["question"] == json{{"id", "t1"}, {"text", "Test question 1?"}});
  std::vector<std::string> seen;
  while (h.phase() != "final") {
    const json a = h.phase() == "results" ? next_round() : end_phase();
    const auto out = h.send(0, a);
    for (const auto& e : out.events)
      if (e["event"] == "phase") seen.push_back(e["phase"].get<std::string>() + std::to_string(e["round"].get<int>()));
  }
  REQUIRE(seen.size() == 8 * 4);
  CHECK(seen[0] == "elimination1");
  CHECK(seen[1] == "voting1");
  CHECK(seen[2] == "results1");
  CHECK(seen[3] == "question2");
  CHECK(seen.back() == "final8");
  CHECK(h.game->finished());
  CHECK_FALSE(h.game->next_deadline().has_value());
  CHECK(h.last_event("phase")["ends_at"].is_null());
}

TEST_CASE("party timers: next_deadline and a step at that tick advance", "[party][timers]") {
  json o = options(8);
  o["question_ms"] = 20000;
  o["elimination_ms"] = 10000;
  o["voting_ms"] = 15000;
  o["results_ms"] = 5000;
  Harness h(o, humans(2));
  CHECK(h.game->next_deadline() == std::optional<Tick>(20000));
  auto out = h.step(19999);
  CHECK_FALSE(out.state_changed);
  CHECK(h.phase() == "question");

  out = h.step(20000);
  CHECK(out.state_changed);
  CHECK(h.phase() == "elimination");
  CHECK(h.last_event("phase") == json{{"event", "phase"}, {"phase", "elimination"}, {"round", 1}, {"ends_at", 30000},
                                      {"question", {{"id", "t1"}, {"text", "Test question 1?"}}}});
  CHECK(h.game->next_deadline() == std::optional<Tick>(30000));
  h.step(30000);
  CHECK(h.phase() == "voting");
  CHECK(h.game->next_deadline() == std::optional<Tick>(45000));
  h.step(45000);
  CHECK(h.phase() == "results");
  CHECK(h.game->next_deadline() == std::optional<Tick>(50000));
  h.step(50000);
  CHECK(h.phase() == "question");
  CHECK(h.round() == 2);
  CHECK(h.game->next_deadline() == std::optional<Tick>(70000));

  // A late step fires the missed deadline at its own tick: no drift.
  h.step(70500);
  CHECK(h.phase() == "elimination");
  CHECK(h.snap()["ends_at"] == 80000);

  // An input at exactly a deadline comes after it: the phase has already moved on.
  out = h.send_at(80000, 0, vote("a1"));
  CHECK(h.phase() == "voting");
  CHECK(accepted(out));  // a final vote now, not an elimination vote
  CHECK(out.private_events[0].second["kind"] == "final");

  // One step far in the future catches up every deadline in order, to the final.
  h.step(10'000'000);
  CHECK(h.phase() == "final");
  CHECK(h.round() == 8);
}

TEST_CASE("party early end: everyone answered or voted", "[party][phases]") {
  Harness h(options(8), humans(3));
  h.send_at(1000, 0, answer("Fake zero"));
  h.send_at(2000, 1, answer("Fake one"));
  CHECK(h.phase() == "question");
  h.send_at(3000, 2, answer("Fake two"));
  CHECK(h.phase() == "elimination");
  CHECK(h.snap()["ends_at"] == 33000);
  const json shown = h.last_event("answers")["answers"];
  CHECK(shown.size() == 5);
  for (const auto& a : shown) CHECK(a.size() == 2);  // id and text: no author, no kind

  const std::string t = h.id_of("True 1");
  h.send_at(4000, 0, vote(t));
  h.send_at(4000, 1, vote(t));
  CHECK(h.phase() == "elimination");
  h.send_at(5000, 2, vote(h.id_of("Robot 1")));
  CHECK(h.phase() == "voting");
  CHECK(h.snap()["ends_at"] == 35000);
}

TEST_CASE("party early end: a leaving seat stops counting", "[party][phases]") {
  Harness h(options(8), humans(3));
  h.send_at(1000, 0, answer("Fake zero"));
  h.send_at(1000, 1, answer("Fake one"));
  CHECK(h.phase() == "question");
  const auto out = h.send_at(2000, 2, mtown::core::leave_input_data());
  CHECK(accepted(out));
  CHECK(out.events.front() == json{{"event", "left"}, {"seat", 2}});
  CHECK(h.phase() == "elimination");
  CHECK(h.snap()["players"][2]["active"] == false);
  // The leaver can do nothing more; leaving twice changes nothing.
  CHECK(refusal_code(h.send(2, vote("a1"))) == ErrorCode::not_a_player);
  const auto again = h.send(2, leave());
  CHECK(again.refusals.empty());
  CHECK_FALSE(again.state_changed);
}

TEST_CASE("party early end: with every seat gone only the timers run", "[party][phases]") {
  Harness h(options(8), humans(2));
  h.send_at(100, 0, leave());
  h.send_at(200, 1, leave());
  CHECK(h.phase() == "question");
  CHECK(h.game->next_deadline() == std::optional<Tick>(60000));
  h.step(10'000'000);
  CHECK(h.game->finished());
}

TEST_CASE("party latest wins: answers and votes replace earlier ones", "[party][phases]") {
  Harness h(options(8), humans(3));
  auto out = h.send_at(1000, 0, answer("First try"));
  CHECK(out.events.size() == 1);
  out = h.send_at(2000, 0, answer("Second try"));
  CHECK(accepted(out));
  CHECK(out.events.empty());  // "answered" is announced once per phase
  CHECK(out.private_events[0].second["text"] == "Second try");
  h.send_at(3000, 0, end_phase());
  const json shown = h.snap()["answers"];
  CHECK(shown.size() == 3);
  CHECK(shown.dump().find("First try") == std::string::npos);
  CHECK(shown.dump().find("Second try") != std::string::npos);

  const std::string t = h.id_of("True 1");
  const std::string r = h.id_of("Robot 1");
  out = h.send(1, vote(t));
  CHECK(out.events == std::vector<json>{json{{"event", "vote_cast"}, {"seat", 1}, {"kind", "elimination"}}});
  CHECK(out.private_events[0].second == json{{"event", "vote_accepted"}, {"kind", "elimination"}, {"answer", t}});
  out = h.send(1, vote(r));
  CHECK(accepted(out));
  CHECK(out.events.empty());
  CHECK(h.snap()["players"][1]["voted"] == true);
  h.send(0, end_phase());
  const json e = h.last_event("elimination");
  CHECK(e["eliminated"] == r);
  CHECK(e["counts"][r] == 1);
  CHECK(e["counts"][t] == 0);
}

TEST_CASE("party votes: own, unknown and eliminated answers are refused", "[party][phases]") {
  Harness h(options(8), humans(3));
  h.send(0, answer("Mine"));
  h.send(1, answer("Yours"));
  h.send(0, end_phase());
  REQUIRE(h.snap()["answers"].size() == 4);
  const std::string mine = h.id_of("Mine");

  auto out = h.send(0, vote(mine));
  CHECK(refusal_code(out) == ErrorCode::invalid_input);
  CHECK(out.refusals[0].message == "answer: you cannot vote for your own answer");
  CHECK(h.snap()["players"][0]["voted"] == false);
  out = h.send(0, vote("a5"));
  CHECK(refusal_code(out) == ErrorCode::invalid_input);
  CHECK(out.refusals[0].message == "answer: unknown answer id a5");
  CHECK(accepted(h.send(1, vote(mine))));  // others may
  CHECK(accepted(h.send(2, vote(mine))));
  h.send(0, end_phase());
  CHECK(h.last_event("elimination")["eliminated"] == mine);
  CHECK(h.snap()["answers"][std::stoi(mine.substr(1)) - 1]["eliminated"] == true);

  out = h.send(1, vote(mine));
  CHECK(refusal_code(out) == ErrorCode::invalid_input);
  CHECK(out.refusals[0].message == "answer: " + mine + " was eliminated");
  CHECK(accepted(h.send(1, vote(h.id_of("True 1")))));
}

TEST_CASE("party inputs: seats outside the game and AI seats", "[party][phases]") {
  auto seats = humans(2);
  seats.push_back(ai_seat(2, AiDifficulty::hard));
  Harness h(options(8), seats);
  CHECK(refusal_code(h.send(7, answer("x"))) == ErrorCode::not_a_player);
  CHECK(refusal_code(h.send(2, answer("x"))) == ErrorCode::not_a_player);
  // The room may still remove an AI seat.
  CHECK(accepted(h.send(2, leave())));
  CHECK(h.snap()["players"][2]["active"] == false);
}

TEST_CASE("party inputs: a batch is applied in order with per-input refusals", "[party][phases]") {
  Harness h(options(8), humans(3));
  const auto out = h.step(500, {GameInput{0, 11, answer("One")}, GameInput{1, 12, vote("a1")},
                                GameInput{1, 13, answer("Two")}, GameInput{2, 14, answer("Three")}});
  REQUIRE(out.refusals.size() == 1);
  CHECK(out.refusals[0].seat == 1);
  CHECK(out.refusals[0].input_seq == 12);
  CHECK(h.phase() == "elimination");  // the third answer closed the phase
  CHECK(h.snap()["answers"].size() == 5);
}
