// Scoring: the worked example of docs/games/party.md, elimination ties, nobody voting,
// leavers, the correct answer eliminated, shared fakes and the standings order.
#include "party_harness.hpp"

using namespace party_test;

namespace {

json player_scores(const json& round_scores, int seat) { return round_scores["players"][static_cast<std::size_t>(seat)]; }

// Every seat in `fakes` answers, then the host closes the question phase.
void answer_all(Harness& h, const std::vector<std::pair<int, std::string>>& fakes) {
  for (const auto& [seat, text] : fakes) REQUIRE(accepted(h.send(static_cast<std::uint32_t>(seat), answer(text))));
  if (h.phase() == "question") h.send(0, end_phase());
  REQUIRE(h.phase() == "elimination");
}

// Every (seat, answer text) votes, then the host closes the phase if it is still open.
void vote_all(Harness& h, const std::vector<std::pair<int, std::string>>& votes) {
  const std::string phase = h.phase();
  for (const auto& [seat, text] : votes) REQUIRE(accepted(h.send(static_cast<std::uint32_t>(seat), vote(h.id_of(text)))));
  if (h.phase() == phase) h.send(0, end_phase());
}

}  // namespace

TEST_CASE("party scoring: the worked example of docs/games/party.md", "[party][scoring]") {
  Harness h(options(8, /*scotland=*/true), humans(4));  // Ann, Ben, Cat, Dan = seats 0..3
  answer_all(h, {{0, "The golden eagle"}, {1, "The red deer"}, {2, "The Loch Ness monster"}, {3, "Haggis"}});
  CHECK(h.snap()["answers"].size() == 6);

  // Elimination: Ann spots the robot; Ben and Cat knock out Haggis; Dan picks Ben's deer.
  vote_all(h, {{0, "The Highland cow"}, {1, "Haggis"}, {2, "Haggis"}, {3, "The red deer"}});
  const json elim = h.last_event("elimination");
  CHECK(elim["eliminated"] == h.id_of("Haggis"));
  CHECK(elim["tie"] == false);
  CHECK(elim["counts"][h.id_of("Haggis")] == 2);
  CHECK(h.phase() == "voting");

  // Final vote over the five left.
  vote_all(h, {{0, "The unicorn"}, {1, "The Loch Ness monster"}, {2, "The red deer"}, {3, "The Highland cow"}});
  CHECK(h.phase() == "results");
  const json rs = h.last_event("round_scores");
  CHECK(rs["correct"] == h.id_of("The unicorn"));
  CHECK(rs["robot"] == h.id_of("The Highland cow"));
  CHECK(rs["eliminated"] == h.id_of("Haggis"));
  CHECK(rs["question"]["correct"] == "The unicorn");

  struct Line {
    int seat;
    std::int64_t correct, robot, fooling, penalty, total;
  };
  const std::vector<Line> lines{
      {0, 1000, 500, 0, 0, 1500},    // Ann: found the unicorn, spotted the cow
      {1, 0, 0, 500, 0, 500},        // Ben: his red deer fooled Cat
      {2, 0, 0, 500, 0, 500},        // Cat: her Loch Ness monster fooled Ben
      {3, 0, 0, 0, -500, -500},      // Dan: fell for the Highland cow
  };
  for (const auto& l : lines) {
    INFO("seat " << l.seat);
    const json p = player_scores(rs, l.seat);
    CHECK(p["correct_points"] == l.correct);
    CHECK(p["robot_points"] == l.robot);
    CHECK(p["fooling_points"] == l.fooling);
    CHECK(p["penalty_points"] == l.penalty);
    CHECK(p["points"] == l.total);
    CHECK(p["score"] == l.total);
    CHECK(h.snap()["players"][static_cast<std::size_t>(l.seat)]["score"] == l.total);
  }
  // Who wrote which fake is revealed now, and only now.
  for (const auto& a : rs["answers"]) {
    if (a["text"] == "Haggis") CHECK(a["authors"] == json{3});
    if (a["text"] == "The unicorn") CHECK(a["kind"] == "correct");
    if (a["text"] == "The Highland cow") CHECK(a["kind"] == "robot");
  }
  CHECK(h.snap()["last_results"] == rs);

  // Standings after this round: Ann, then Ben and Cat tied (seat order), then Dan.
  const json standings = h.game->result()["standings"];
  CHECK(standings[0]["name"] == "Ann");
  CHECK(standings[1]["name"] == "Ben");
  CHECK(standings[2]["name"] == "Cat");
  CHECK(standings[3]["name"] == "Dan");
  CHECK(standings[0] == json{{"player_id", "p0"}, {"name", "Ann"}, {"score", 1500}, {"correct", 1},
                             {"robots_spotted", 1}, {"fooled_others", 0}, {"times_fooled", 0}, {"ai", false}});
  CHECK(standings[3]["times_fooled"] == 1);
  CHECK(h.game->result()["winner"].is_null());  // not finished yet
}

TEST_CASE("party elimination: a tie eliminates nothing", "[party][scoring]") {
  Harness h(options(8), humans(4));
  answer_all(h, {{0, "Zero"}, {1, "One"}, {2, "Two"}, {3, "Three"}});
  vote_all(h, {{0, "One"}, {1, "Zero"}, {2, "One"}, {3, "Zero"}});
  const json e = h.last_event("elimination");
  CHECK(e["event"] == "elimination");
  CHECK(e["eliminated"].is_null());
  CHECK(e["tie"] == true);
  CHECK(e["counts"][h.id_of("One")] == 2);
  CHECK(e["counts"][h.id_of("Zero")] == 2);
  CHECK(e["counts"].size() == 6);
  for (const json shown = h.snap()["answers"]; const auto& a : shown) CHECK(a["eliminated"] == false);
  CHECK(h.snap()["elimination"]["tie"] == true);
}

TEST_CASE("party elimination and scoring: nobody votes", "[party][scoring]") {
  Harness h(options(8), humans(3));
  answer_all(h, {{0, "Zero"}, {1, "One"}});
  h.run_to_next_phase();  // elimination timer
  const json e = h.last_event("elimination");
  CHECK(e["eliminated"].is_null());
  CHECK(e["tie"] == false);
  h.run_to_next_phase();  // voting timer
  CHECK(h.phase() == "results");
  const json rs = h.last_event("round_scores");
  for (const auto& p : rs["players"]) {
    CHECK(p["points"] == 0);
    CHECK(p["final_vote"].is_null());
    CHECK(p["elimination_vote"].is_null());
  }
}

TEST_CASE("party scoring: the correct answer can be eliminated", "[party][scoring]") {
  Harness h(options(8), humans(3));
  answer_all(h, {{0, "Zero"}, {1, "One"}, {2, "Two"}});
  vote_all(h, {{0, "True 1"}, {1, "True 1"}, {2, "Robot 1"}});
  CHECK(h.last_event("elimination")["eliminated"] == h.id_of("True 1"));
  // Nobody can find it now.
  CHECK(refusal_code(h.send(0, vote(h.id_of("True 1")))) == ErrorCode::invalid_input);
  vote_all(h, {{0, "One"}, {1, "Robot 1"}, {2, "Zero"}});
  const json rs = h.last_event("round_scores");
  CHECK(player_scores(rs, 0)["points"] == 500);  // "Zero" fooled seat 2
  CHECK(player_scores(rs, 0)["correct_points"] == 0);
  CHECK(player_scores(rs, 1)["points"] == 500 - 500);  // fooled seat 0, fell for the robot
  CHECK(player_scores(rs, 2)["robot_points"] == 500);  // spotted the robot in elimination
  CHECK(player_scores(rs, 2)["points"] == 500);
}

TEST_CASE("party scoring: a player who leaves mid-round scores nothing more", "[party][scoring]") {
  Harness h(options(8), humans(4));
  answer_all(h, {{0, "Zero"}, {1, "One"}, {2, "Two"}, {3, "Three"}});
  vote_all(h, {{0, "Robot 1"}, {1, "Zero"}, {2, "Zero"}, {3, "Robot 1"}});  // tie: nothing out
  // Seat 3 leaves during the final vote: its fake stays on screen (ids never change).
  h.send(0, vote(h.id_of("Three")));
  h.send(3, vote(h.id_of("True 1")));
  REQUIRE(accepted(h.send(3, leave())));
  CHECK(h.snap()["answers"].size() == 6);
  h.send(1, vote(h.id_of("Three")));
  h.send(2, vote(h.id_of("True 1")));
  CHECK(h.phase() == "results");  // seats 0..2 voted; seat 3 no longer counts
  const json rs = h.last_event("round_scores");
  CHECK(player_scores(rs, 3)["points"] == 0);  // no robot spot, no fooling, no find
  CHECK(player_scores(rs, 3)["final_vote"].is_null());  // its vote left with it
  CHECK(player_scores(rs, 0)["points"] == 500);  // spotted the robot; voted for a leaver's fake
  CHECK(player_scores(rs, 2)["points"] == 1000);
  CHECK(h.game->result()["standings"].size() == 4);  // leavers stay in the standings

  // Leaving during the question phase drops the unshown fake.
  h.send(0, next_round());
  h.send(0, answer("Zero again"));
  h.send(1, answer("One again"));
  h.send(1, leave());
  h.send(2, answer("Two again"));
  CHECK(h.phase() == "elimination");
  CHECK(h.snap()["answers"].dump().find("One again") == std::string::npos);
  CHECK(h.snap()["answers"].size() == 4);
}

TEST_CASE("party scoring: identical fakes are one answer with both authors", "[party][scoring]") {
  Harness h(options(8), humans(4));
  answer_all(h, {{0, "Nessie"}, {1, "  nessie "}, {2, "Two"}, {3, "Three"}});
  CHECK(h.snap()["answers"].size() == 5);
  const std::string nessie = h.id_of("Nessie");  // the lowest seat's spelling is shown
  CHECK(refusal_code(h.send(1, vote(nessie))) == ErrorCode::invalid_input);  // own, shared
  h.send(0, end_phase());
  vote_all(h, {{2, "Nessie"}, {3, "Nessie"}});
  const json rs = h.last_event("round_scores");
  CHECK(player_scores(rs, 0)["fooling_points"] == 1000);
  CHECK(player_scores(rs, 1)["fooling_points"] == 1000);
  CHECK(player_scores(rs, 0)["players_fooled"] == 2);
  for (const auto& a : rs["answers"])
    if (a["id"] == nessie) CHECK(a["authors"] == json{0, 1});
}

TEST_CASE("party standings: ties go to more correct finds, then seat order", "[party][scoring]") {
  Harness h(options(8), humans(3));
  // Round 1: seat 0 spots the robot (+500), seat 1 finds the truth (+1000).
  answer_all(h, {});
  vote_all(h, {{0, "Robot 1"}});
  vote_all(h, {{1, "True 1"}});
  h.send(0, next_round());
  // Round 2: seat 1 falls for the robot (-500). Both now have 500.
  answer_all(h, {});
  h.send(0, end_phase());
  vote_all(h, {{1, "Robot 2"}});
  const json standings = h.game->result()["standings"];
  CHECK(standings[0]["player_id"] == "p1");
  CHECK(standings[0]["score"] == 500);
  CHECK(standings[0]["correct"] == 1);
  CHECK(standings[1]["player_id"] == "p0");
  CHECK(standings[1]["score"] == 500);
  CHECK(standings[2]["player_id"] == "p2");
}
