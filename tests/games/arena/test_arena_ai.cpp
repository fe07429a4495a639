// Arena AI: every difficulty closes in on and damages a stationary player; the ability is
// used on clusters; AI inputs obey the same rules; hard beats easy over many seeds.
#include <cmath>

#include "arena_test_support.hpp"

using namespace arena_test;

namespace {

double distance(const ArenaPlayer& a, const ArenaPlayer& b) {
  return std::hypot(static_cast<double>(a.x - b.x), static_cast<double>(a.y - b.y));
}

struct Duel {
  std::int64_t score_a = 0, score_b = 0;
};

// Two AIs fight a whole match; returns their scores.
Duel duel(AiDifficulty a, AiDifficulty b, std::uint64_t seed) {
  Match m({bot("a", a), bot("b", b)}, ArenaOptions{60, 60}, seed);
  while (!m.game.finished()) {
    m.step();
    REQUIRE(m.out.refusals.empty());
  }
  return Duel{m.p(0).score, m.p(1).score};
}

}  // namespace

TEST_CASE("an AI of each difficulty approaches and damages a stationary player", "[arena][ai]") {
  struct Row {
    AiDifficulty difficulty;
    int max_ticks;  // the first hit must land within this many ticks (the walk alone is ~227)
  };
  for (const auto& r : std::vector<Row>{{AiDifficulty::easy, 900}, {AiDifficulty::medium, 600}, {AiDifficulty::hard, 400}}) {
    for (std::uint64_t seed = 1; seed <= 6; ++seed) {
      INFO(mtown::core::ai_difficulty_name(r.difficulty) << " seed " << seed);
      Match m({human("h"), bot("b", r.difficulty)}, {}, seed);
      const double start = distance(m.p(0), m.p(1));
      m.idle(90);  // easy may wait up to 30 ticks for its first decision
      CHECK(distance(m.p(0), m.p(1)) < start - 200 * kU);  // 300 units/s toward the target
      int hit_at = -1;
      for (int t = 90; t < r.max_ticks && hit_at < 0; ++t) {
        m.step();
        for (const auto& e : events_named(m.out, "hit"))
          if (e["attacker"] == 1 && e["target"] == 0) hit_at = t;
      }
      CHECK(hit_at > 0);
      CHECK(m.p(0).hp < 100);
    }
  }
}

TEST_CASE("the AI scales its decision interval with tick_hz and still hunts", "[arena][ai]") {
  Match m({human("h"), bot("b", AiDifficulty::medium)}, ArenaOptions{20, 60}, 3);
  CHECK(m.game.tuning().ai_interval_ticks[1] == 4);
  int hits = 0;
  for (int t = 0; t < 200; ++t) hits += static_cast<int>(events_named(m.step(), "hit").size());  // 10 s
  CHECK(hits > 0);
}

TEST_CASE("the AI blasts when two enemies are within the ability radius", "[arena][ai]") {
  // Seats 0 and 1 meet in the middle; the hard AI at seat 2 comes to them.
  Match m({human("h0"), human("h1"), bot("b", AiDifficulty::hard)}, {}, 5);
  m.step({in(0, move_to(500, 500)), in(1, move_to(530, 500))});
  bool blasted = false;
  for (int t = 0; t < 900 && !blasted; ++t) {
    m.step();
    for (const auto& e : events_named(m.out, "ability")) blasted = blasted || e["seat"] == 2;
  }
  REQUIRE(blasted);
  const auto hits = events_named(m.out, "hit");
  CHECK(hits.size() >= 2);
}

TEST_CASE("AI inputs follow the same cooldowns as players", "[arena][ai]") {
  Match m({human("h"), bot("b", AiDifficulty::hard)}, {}, 9);
  Tick last_attack = 0;
  for (int t = 0; t < 1200; ++t) {
    m.step();
    for (const auto& e : events_named(m.out, "attack")) {
      if (e["seat"] != 1) continue;
      if (last_attack != 0) CHECK(m.tick - last_attack >= 30);
      last_attack = m.tick;
    }
  }
  CHECK(last_attack != 0);
}

TEST_CASE("an AI alone has no one to chase and stands still", "[arena][ai]") {
  Match m({bot("b", AiDifficulty::hard)});
  m.idle(120);
  CHECK(m.p(0).x == 100 * kU);
  CHECK(m.p(0).y == 100 * kU);
}

TEST_CASE("hard beats easy on average over seeds", "[arena][ai]") {
  std::int64_t hard = 0;
  std::int64_t easy = 0;
  for (std::uint64_t seed = 1; seed <= 8; ++seed) {
    const Duel first = duel(AiDifficulty::hard, AiDifficulty::easy, seed);  // hard at seat 0
    const Duel second = duel(AiDifficulty::easy, AiDifficulty::hard, seed);  // and at seat 1
    hard += first.score_a + second.score_b;
    easy += first.score_b + second.score_a;
  }
  INFO("hard " << hard << " easy " << easy);
  CHECK(hard > 2 * easy);
}

TEST_CASE("medium beats easy and hard beats medium on average", "[arena][ai]") {
  auto total = [](AiDifficulty a, AiDifficulty b) {
    std::int64_t sa = 0;
    std::int64_t sb = 0;
    for (std::uint64_t seed = 1; seed <= 6; ++seed) {
      const Duel d1 = duel(a, b, seed);
      const Duel d2 = duel(b, a, seed);
      sa += d1.score_a + d2.score_b;
      sb += d1.score_b + d2.score_a;
    }
    return std::make_pair(sa, sb);
  };
  const auto [medium, easy] = total(AiDifficulty::medium, AiDifficulty::easy);
  CHECK(medium > easy);
  const auto [hard, medium2] = total(AiDifficulty::hard, AiDifficulty::medium);
  CHECK(hard > medium2);
}
