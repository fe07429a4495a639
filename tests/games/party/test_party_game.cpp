// Whole games: 8 and 12 rounds to the final, AI seats with a human who acts only
// sometimes, determinism (same seed and inputs, same hash at every step) and privacy.
#include <set>

#include "party_harness.hpp"

using namespace party_test;

namespace {

// Every seat answers, votes the next seat's fake out (a tie), then seat 0 finds the truth
// and everyone else falls for the robot.
void play_scripted_round(Harness& h, int players) {
  const int r = h.round();
  for (int i = 0; i < players; ++i)
    REQUIRE(accepted(h.send(static_cast<std::uint32_t>(i), answer("Fake " + std::to_string(i) + " r" + std::to_string(r)))));
  REQUIRE(h.phase() == "elimination");
  for (int i = 0; i < players; ++i)
    h.send(static_cast<std::uint32_t>(i), vote(h.id_of("Fake " + std::to_string((i + 1) % players) + " r" + std::to_string(r))));
  REQUIRE(h.phase() == "voting");
  h.send(0, vote(h.id_of("True " + std::to_string(r))));
  for (int i = 1; i < players; ++i) h.send(static_cast<std::uint32_t>(i), vote(h.id_of("Robot " + std::to_string(r))));
  REQUIRE(h.phase() == "results");
  h.send(0, next_round());
}

}  // namespace

TEST_CASE("party game: 8 and 12 rounds complete to the final", "[party][game]") {
  for (int rounds : {8, 12}) {
    INFO(rounds << " rounds");
    Harness h(options(rounds), humans(4));
    for (int r = 1; r <= rounds; ++r) {
      REQUIRE(h.round() == r);
      CHECK_FALSE(h.game->finished());
      play_scripted_round(h, 4);
    }
    CHECK(h.phase() == "final");
    CHECK(h.game->finished());
    CHECK_FALSE(h.game->next_deadline().has_value());
    const json result = h.game->result();
    CHECK(result["winner"] == "p0");
    CHECK(result["standings"][0]["score"] == 1000 * rounds);
    CHECK(result["standings"][0]["correct"] == rounds);
    CHECK(result["standings"][1]["score"] == -500 * rounds);
    CHECK(result["standings"][1]["times_fooled"] == rounds);
    CHECK(result["standings"][1]["player_id"] == "p1");
    json over = h.last_event("game_over");
    REQUIRE(over.is_object());
    over.erase("event");
    CHECK(over == result);
    CHECK(h.snap()["result"] == result);
    CHECK(h.snap()["question"].is_null());
    CHECK(h.snap()["last_results"]["round"] == rounds);
    // Nothing but leaving is accepted now.
    CHECK(refusal_code(h.send(0, next_round())) == ErrorCode::wrong_phase);
  }
}

TEST_CASE("party game: 1 human and 3 AI seats finish, the human acting only sometimes", "[party][game][ai]") {
  auto seats = humans(1);
  seats.push_back(ai_seat(1, AiDifficulty::easy));
  seats.push_back(ai_seat(2, AiDifficulty::medium));
  seats.push_back(ai_seat(3, AiDifficulty::hard));
  Harness h(options(8), seats, 2024);
  int steps = 0;
  int ai_final_votes = 0;
  while (!h.game->finished()) {
    REQUIRE(++steps < 500);
    const json s = h.snap();
    const int r = s["round"].get<int>();
    const bool me_done = s["phase"] == "question" ? s["players"][0]["answered"].get<bool>() : s["players"][0]["voted"].get<bool>();
    if (s["phase"] == "question" && r % 2 == 1 && !me_done) {
      h.send_at(h.now + 1500, 0, answer("My guess " + std::to_string(r)));
    } else if ((s["phase"] == "elimination" || s["phase"] == "voting") && r % 3 == 0 && !me_done) {
      h.send_at(h.now + 1000, 0, vote(h.id_of("True " + std::to_string(r))));
    } else {
      const auto d = h.game->next_deadline();
      REQUIRE(d.has_value());
      REQUIRE(*d >= h.now);
      h.step(*d);
      const json rs = h.last_event("round_scores");
      if (h.phase() == "results" && rs["round"] == r) {
        for (const auto& a : rs["answers"]) {
          if (a["kind"] != "player" || a["authors"][0] == 0) continue;
          // AI fakes come from the question's decoys, never the truth or the robot.
          CHECK(a["text"].get<std::string>().rfind("Decoy " + std::to_string(r), 0) == 0);
        }
      }
    }
  }
  for (const auto& e : h.events)
    if (e["event"] == "round_scores")
      for (int seat = 1; seat <= 3; ++seat) ai_final_votes += !e["players"][seat]["final_vote"].is_null();
  CHECK(ai_final_votes == 3 * 8);  // every AI voted every round
  CHECK(h.round() == 8);
  CHECK(h.game->result()["standings"].size() == 4);
}

TEST_CASE("party game: ai_takeover keeps the seat's score and the AI plays the rest", "[party][game][ai]") {
  Harness h(options(8), humans(3), 99);
  play_scripted_round(h, 3);
  REQUIRE(h.phase() == "question");
  const auto score = h.snap()["players"][0]["score"];
  REQUIRE(score.get<int>() > 0);
  REQUIRE(accepted(h.send_at(1000, 1, answer("Mine"))));
  REQUIRE(accepted(h.send_at(1000, 2, answer("Yours"))));
  const auto out = h.send_at(2000, 0, mtown::core::ai_takeover_input_data(AiDifficulty::hard));
  REQUIRE(accepted(out));
  CHECK(h.last_event("ai_takeover") == json{{"event", "ai_takeover"}, {"seat", 0}, {"difficulty", "hard"}});
  CHECK(h.snap()["players"][0]["ai"] == true);
  CHECK(h.snap()["players"][0]["score"] == score);
  CHECK(refusal_code(h.send_at(2000, 0, answer("still me"))) == ErrorCode::not_a_player);
  CHECK(refusal_code(h.send_at(2000, 0, mtown::core::ai_takeover_input_data(AiDifficulty::easy))) == ErrorCode::not_a_player);
  // The AI writes the seat's fake within a hard AI's latency, which ends the question phase.
  const auto due = h.game->next_deadline();
  REQUIRE(due.has_value());
  CHECK(*due <= 2000 + 4000);
  h.step(*due);
  CHECK(h.phase() == "elimination");
  while (!h.game->finished()) {
    const auto d = h.game->next_deadline();
    REQUIRE(d.has_value());
    h.step(*d);
  }
  int ai_final_votes = 0;
  for (const auto& e : h.events)
    if (e["event"] == "round_scores" && e["round"].get<int>() >= 2) ai_final_votes += !e["players"][0]["final_vote"].is_null();
  CHECK(ai_final_votes == 7);
}

TEST_CASE("party game: AI seats fall back to generic fakes", "[party][game][ai]") {
  json o = options(8);
  o["questions"][0]["decoys"] = json::array({"Decoy only"});
  std::vector<GameSeat> seats{ai_seat(0, AiDifficulty::hard), ai_seat(1, AiDifficulty::hard),
                              ai_seat(2, AiDifficulty::hard)};
  Harness h(o, seats, 5);
  while (h.phase() == "question") h.step(*h.game->next_deadline());
  std::set<std::string> texts;
  const json shown = h.snap()["answers"];
  for (const auto& a : shown) texts.insert(a["text"].get<std::string>());
  CHECK(texts.size() == 5);  // 3 distinct fakes + truth + robot
  CHECK(texts.count("Decoy only") == 1);
  CHECK(h.snap()["ends_at"].get<Tick>() <= 4000 + 30000);  // hard AIs answer within 2-4 s
}

TEST_CASE("party determinism: same seed and inputs give the same hash at every step", "[party][determinism]") {
  auto run = [](std::uint64_t seed) {
    auto seats = humans(3);
    seats.push_back(ai_seat(3, AiDifficulty::medium));
    Harness h(options(8), seats, seed);
    std::vector<std::uint64_t> hashes{h.hash()};
    std::vector<std::string> first_order;
    for (int guard = 0; !h.game->finished() && guard < 5000; ++guard) {
      const Tick t = h.now + 700;
      const auto d = h.game->next_deadline();
      const std::string phase = h.phase();
      if (d && *d <= t) {
        h.step(*d);
      } else if (phase == "question") {
        h.send_at(t, static_cast<std::uint32_t>(guard % 3), answer("Try " + std::to_string(guard % 5)));
      } else if (phase == "elimination" || phase == "voting") {
        h.send_at(t, static_cast<std::uint32_t>(guard % 3), vote("a" + std::to_string(1 + guard % 4)));
      } else {
        h.step(t);
      }
      if (first_order.empty() && phase == "question" && h.phase() == "elimination")
        for (const json shown = h.snap()["answers"]; const auto& a : shown) first_order.push_back(a["text"].get<std::string>());
      hashes.push_back(h.hash());
    }
    CHECK(h.game->finished());
    return std::make_pair(hashes, first_order);
  };
  const auto a = run(99);
  const auto b = run(99);
  CHECK(a.first == b.first);
  CHECK(a.second == b.second);
  // Another seed shuffles differently (checked over a few seeds, fixed so never flaky).
  const auto c = run(1);
  CHECK(c.first != a.first);
  int differ = c.second != a.second;
  for (std::uint64_t seed : {2ull, 3ull}) differ += run(seed).second != a.second;
  CHECK(differ >= 2);
}

TEST_CASE("party privacy: nothing reveals authors or the truth before results", "[party][privacy]") {
  Harness h(options(8), humans(3));
  auto check_private = [&](const char* when) {
    INFO(when);
    const std::string snap = h.snap().dump();
    CHECK(snap.find("authors") == std::string::npos);
    CHECK(snap.find("\"kind\"") == std::string::npos);
    CHECK(snap.find("\"robot\"") == std::string::npos);
    CHECK(snap.find("\"correct\"") == std::string::npos);
    CHECK(h.snap()["last_results"].is_null());
    for (const auto& e : h.events) {
      CHECK(e["event"] != "round_scores");
      CHECK(e.dump().find("authors") == std::string::npos);
    }
  };
  check_private("question");
  h.send(0, answer("Zero"));
  h.send(1, answer("One"));
  CHECK(h.snap()["players"][0]["answered"] == true);
  CHECK(h.snap()["players"][2]["answered"] == false);
  h.send(0, end_phase());
  check_private("elimination");
  const json answers = h.snap()["answers"];
  CHECK(answers.size() == 4);
  for (const auto& a : answers) CHECK(a.size() == 3);  // id, text, eliminated
  const auto out = h.send(1, vote(h.id_of("Zero")));
  CHECK(out.events[0] == json{{"event", "vote_cast"}, {"seat", 1}, {"kind", "elimination"}});
  h.send(0, end_phase());
  check_private("voting");
  CHECK(h.snap()["elimination"]["eliminated"] == h.id_of("Zero"));
  h.send(0, end_phase());
  CHECK(h.snap()["last_results"]["answers"].size() == 4);
}
