// The AI's building blocks: latency ranges, odds of finding the truth, fake answers.
#include <set>

#include "party_ai.hpp"
#include "party_harness.hpp"

using namespace party_test;
namespace party = mtown::games::party;

TEST_CASE("party ai: latency by difficulty", "[party][ai]") {
  mtown::core::Rng rng(3);
  struct Row {
    AiDifficulty d;
    Tick lo, hi;
  };
  for (const auto& row : {Row{AiDifficulty::easy, 8000, 12000}, Row{AiDifficulty::medium, 4000, 8000},
                          Row{AiDifficulty::hard, 2000, 4000}}) {
    Tick min = ~Tick{0}, max = 0;
    for (int i = 0; i < 2000; ++i) {
      const Tick t = party::ai_latency_ms(row.d, rng);
      min = std::min(min, t);
      max = std::max(max, t);
    }
    CHECK(min >= row.lo);
    CHECK(max <= row.hi);
    CHECK(max - min > (row.hi - row.lo) * 9 / 10);
  }
}

TEST_CASE("party ai: finds the truth with 30/55/80 percent", "[party][ai]") {
  mtown::core::Rng rng(11);
  const std::vector<int> allowed{0, 1, 2, 3, 4};
  struct Row {
    AiDifficulty d;
    int percent;
  };
  for (const auto& row : {Row{AiDifficulty::easy, 30}, Row{AiDifficulty::medium, 55}, Row{AiDifficulty::hard, 80}}) {
    int truth = 0;
    std::set<int> picked;
    for (int i = 0; i < 10000; ++i) {
      const int v = party::ai_vote(row.d, 2, allowed, rng);
      truth += v == 2;
      picked.insert(v);
    }
    CHECK(truth / 100 >= row.percent - 3);
    CHECK(truth / 100 <= row.percent + 3);
    CHECK(picked.size() == 5);  // the misses spread over the other answers
  }
  // The truth not allowed (eliminated): uniformly among the rest, never it.
  for (int i = 0; i < 100; ++i) CHECK(party::ai_vote(AiDifficulty::hard, 9, allowed, rng) != 9);
  CHECK(party::ai_vote(AiDifficulty::easy, 1, {1}, rng) == 1);
}

TEST_CASE("party ai: fake answers are never the truth or the robot", "[party][ai]") {
  mtown::core::Rng rng(5);
  const mtown::games::Question q{"q", "Q?", "Cheese", "Purple", {"The moon", "Decoy"}};
  for (int i = 0; i < 200; ++i) {
    const std::string a = party::ai_fake_answer(q, {}, rng);
    CHECK((a == "The moon" || a == "Decoy"));
  }
  // Decoys taken: a generic fake, skipping the generic texts equal to the truth/robot.
  for (int i = 0; i < 200; ++i) {
    const std::string a = party::ai_fake_answer(q, {"the moon", "DECOY"}, rng);
    CHECK(a != "Cheese");
    CHECK(a != "Purple");
    CHECK(a != "The moon");
    CHECK(a != "Decoy");
  }
}
