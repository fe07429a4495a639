// Arena combat and lifecycle: attack and ability ranges, damage, cooldowns, death,
// respawn, refusals, leaving, input order and sequence numbers.
#include <set>

#include "arena_test_support.hpp"

using namespace arena_test;

namespace {

// Kills seat `victim` standing next to seat 0 with five attacks; returns the kill tick.
Tick kill_with_attacks(Match& m, std::uint32_t victim) {
  for (int i = 0; i < 5; ++i) {
    if (i > 0) m.idle(static_cast<int>(m.game.tuning().attack_cooldown_ticks) - 1);
    auto& out = m.step({in(0, attack())});
    REQUIRE(out.refusals.empty());
    REQUIRE(events_named(out, "hit").size() == 1);
  }
  REQUIRE_FALSE(m.p(victim).alive);
  return m.tick;
}

}  // namespace

TEST_CASE("attack hits the nearest living enemy within 60 units for 20", "[arena][combat]") {
  struct Row {
    std::int64_t distance;
    bool hit;
  };
  for (const auto& r : std::vector<Row>{{0, true}, {30, true}, {59, true}, {60, true}, {61, false}, {200, false}}) {
    INFO("distance " << r.distance);
    Match m(humans(2));
    m.walk_to(1, 100 + r.distance, 100);
    auto& out = m.step({in(0, attack(), 1)});
    REQUIRE(out.refusals.empty());
    CHECK(m.p(0).attack_ready_tick == m.tick + 30);
    const auto attacks = events_named(out, "attack");
    REQUIRE(attacks.size() == 1);
    const auto hits = events_named(out, "hit");
    if (r.hit) {
      CHECK(attacks[0]["target"] == 1);
      REQUIRE(hits.size() == 1);
      CHECK(hits[0] == json{{"event", "hit"}, {"attacker", 0}, {"target", 1}, {"damage", 20},
                            {"kind", "attack"}, {"hp", 80}});
      CHECK(m.p(1).hp == 80);
    } else {
      CHECK(attacks[0]["target"].is_null());
      CHECK(hits.empty());
      CHECK(m.p(1).hp == 100);
    }
  }
}

TEST_CASE("attack picks the nearest; a tie goes to the lower seat", "[arena][combat]") {
  Match m(humans(3));
  m.walk_to(1, 150, 100);
  m.walk_to(2, 130, 100);
  m.step({in(0, attack())});
  CHECK(m.p(2).hp == 80);
  CHECK(m.p(1).hp == 100);
  Match t(humans(3));
  t.walk_to(1, 140, 100);
  t.walk_to(2, 100, 140);
  t.step({in(0, attack())});
  CHECK(t.p(1).hp == 80);
  CHECK(t.p(2).hp == 100);
}

TEST_CASE("attack and ability cooldowns refuse with invalid_input until ready", "[arena][combat]") {
  struct Row {
    json action;
    Tick offset;  // ticks after the first use
    bool accepted;
  };
  const std::vector<Row> rows = {
      {attack(), 1, false},    {attack(), 29, false},    {attack(), 30, true},   {attack(), 31, true},
      {ability(), 1, false},   {ability(), 299, false},  {ability(), 300, true},
  };
  for (const auto& r : rows) {
    INFO(r.action.dump() << " after " << r.offset);
    Match m(humans(2));
    m.step({in(0, r.action, 1)});
    REQUIRE(m.out.refusals.empty());
    m.idle(static_cast<int>(r.offset) - 1);
    const auto before = m.p(0);
    auto& out = m.step({in(0, r.action, 2)});
    if (r.accepted) {
      CHECK(out.refusals.empty());
      CHECK(m.p(0).last_input_seq == 2);
    } else {
      REQUIRE(out.refusals.size() == 1);
      CHECK(out.refusals[0].code == ErrorCode::invalid_input);
      CHECK(out.refusals[0].seat == 0);
      CHECK(out.refusals[0].input_seq == 2);
      CHECK(m.p(0).last_input_seq == 1);
      CHECK(m.p(0).attack_ready_tick == before.attack_ready_tick);
      CHECK(m.p(0).ability_ready_tick == before.ability_ready_tick);
    }
  }
}

TEST_CASE("the ability hits every living enemy within 120 units for 35", "[arena][combat]") {
  Match m(humans(4));
  m.walk_to(1, 219, 100);  // 119
  m.walk_to(2, 100, 220);  // 120
  m.walk_to(3, 221, 100);  // 121
  auto& out = m.step({in(0, ability())});
  REQUIRE(out.refusals.empty());
  CHECK(events_named(out, "ability").size() == 1);
  const auto hits = events_named(out, "hit");
  REQUIRE(hits.size() == 2);
  CHECK(hits[0]["target"] == 1);
  CHECK(hits[1]["target"] == 2);
  CHECK(hits[0]["kind"] == "ability");
  CHECK(m.p(0).hp == 100);
  CHECK(m.p(1).hp == 65);
  CHECK(m.p(2).hp == 65);
  CHECK(m.p(3).hp == 100);
  CHECK(m.p(0).ability_ready_tick == m.tick + 300);
}

TEST_CASE("death, kill credit and respawn after 3 s", "[arena][combat]") {
  Match m(humans(2));
  m.walk_to(1, 130, 100);
  const Tick killed = kill_with_attacks(m, 1);
  const auto kills = events_named(m.out, "kill");
  REQUIRE(kills.size() == 1);
  CHECK(kills[0] == json{{"event", "kill"}, {"attacker", 0}, {"target", 1}});
  CHECK(m.p(1).hp == 0);
  CHECK(m.p(1).deaths == 1);
  CHECK(m.p(0).score == 1);
  CHECK(m.p(1).respawn_tick == killed + 180);

  SECTION("a dead player's inputs are refused, a dead player is not a target") {
    const auto before = m.p(1);
    auto& out = m.step({in(1, move_dir(1000, 0), 9), in(1, attack(), 10), in(1, ability(), 11)});
    REQUIRE(out.refusals.size() == 3);
    for (const auto& r : out.refusals) CHECK(r.code == ErrorCode::invalid_input);
    CHECK(m.p(1).x == before.x);
    CHECK(m.p(1).last_input_seq == before.last_input_seq);
    m.idle(30);
    m.step({in(0, attack())});
    CHECK(events_named(m.out, "attack")[0]["target"].is_null());
  }
  SECTION("respawn exactly respawn_ticks later at a spawn point with full hp") {
    while (m.tick < killed + 179) m.step();
    CHECK_FALSE(m.p(1).alive);
    auto& out = m.step();
    REQUIRE(events_named(out, "respawn").size() == 1);
    CHECK(m.p(1).alive);
    CHECK(m.p(1).hp == 100);
    CHECK(m.p(1).x % (100 * kU) == 0);
    CHECK(m.p(1).y % (100 * kU) == 0);
    CHECK(events_named(out, "respawn")[0] ==
          json{{"event", "respawn"}, {"seat", 1}, {"x", m.p(1).x}, {"y", m.p(1).y}});
    m.step({in(1, move_dir(1000, 0))});
    CHECK(m.out.refusals.empty());
  }
}

TEST_CASE("respawn points come from the Rng: same seed same point, seeds vary it", "[arena][combat]") {
  auto respawn_at = [](std::uint64_t seed) {
    Match m(humans(2), {}, seed);
    m.walk_to(1, 130, 100);
    kill_with_attacks(m, 1);
    m.idle(180);
    REQUIRE(m.p(1).alive);
    return std::make_pair(m.p(1).x, m.p(1).y);
  };
  std::set<std::pair<std::int64_t, std::int64_t>> seen;
  for (std::uint64_t seed = 1; seed <= 12; ++seed) {
    const auto a = respawn_at(seed);
    CHECK(respawn_at(seed) == a);
    seen.insert(a);
  }
  CHECK(seen.size() >= 3);
}

TEST_CASE("leaving: untargetable, no respawn, later inputs refused", "[arena][combat]") {
  Match m(humans(3));
  m.walk_to(1, 130, 100);
  auto& out = m.step({in(1, mtown::core::leave_input_data(), 5)});
  REQUIRE(out.refusals.empty());
  CHECK(out.state_changed);
  CHECK(m.p(1).left);
  CHECK_FALSE(m.p(1).alive);
  CHECK(m.game.delta()["players"]["1"]["left"] == true);
  m.step({in(0, attack())});
  CHECK(events_named(m.out, "attack")[0]["target"].is_null());
  m.step({in(1, move_dir(1, 0)), in(1, mtown::core::leave_input_data())});
  REQUIRE(m.out.refusals.size() == 2);
  CHECK(m.out.refusals[0].code == ErrorCode::not_a_player);
  m.idle(400);
  CHECK_FALSE(m.p(1).alive);
}

TEST_CASE("a dead player may still leave; an unknown seat is not a player", "[arena][combat]") {
  Match m(humans(2));
  m.walk_to(1, 130, 100);
  kill_with_attacks(m, 1);
  m.step({in(1, mtown::core::leave_input_data()), in(7, attack())});
  REQUIRE(m.out.refusals.size() == 1);
  CHECK(m.out.refusals[0].seat == 7);
  CHECK(m.out.refusals[0].code == ErrorCode::not_a_player);
  CHECK(m.p(1).left);
  m.idle(200);
  CHECK_FALSE(m.p(1).alive);
}

TEST_CASE("ai_takeover: the seat keeps its score and the AI plays it from that tick", "[arena][combat][ai]") {
  Match m(humans(2));
  m.walk_to(1, 130, 100);
  kill_with_attacks(m, 1);
  m.idle(181);
  REQUIRE(m.p(1).alive);
  const auto takeover = mtown::core::ai_takeover_input_data(AiDifficulty::hard);
  auto& out = m.step({in(0, takeover)});
  REQUIRE(out.refusals.empty());
  const auto events = events_named(out, "ai_takeover");
  REQUIRE(events.size() == 1);
  CHECK(events[0] == json{{"event", "ai_takeover"}, {"seat", 0}, {"difficulty", "hard"}});
  CHECK(m.p(0).ai);
  CHECK(m.p(0).difficulty == AiDifficulty::hard);
  CHECK(m.p(0).score == 1);
  CHECK(m.p(0).id == "p0");
  CHECK(m.game.snapshot()["players"][0]["ai"] == true);
  int hits = 0;  // it hunts seat 1 now
  for (int t = 0; t < 600 && hits == 0; ++t)
    for (const auto& e : events_named(m.step(), "hit")) hits += e["attacker"] == 0;
  CHECK(hits > 0);

  m.step({in(0, takeover), in(1, mtown::core::leave_input_data()), in(1, takeover)});
  REQUIRE(m.out.refusals.size() == 2);
  CHECK(m.out.refusals[0].code == ErrorCode::invalid_input);  // already the AI's
  CHECK(m.out.refusals[1].code == ErrorCode::not_a_player);   // a seat that left stays empty
}

TEST_CASE("inputs in one tick apply in arrival order, before movement", "[arena][combat]") {
  Match m(humans(2));
  m.walk_to(1, 159, 100);
  // Seat 1 runs away in the same tick, but the attack resolves on start-of-tick positions.
  m.step({in(1, move_dir(1000, 0)), in(0, attack(), 3), in(0, attack(), 4)});
  CHECK(m.p(1).hp == 80);
  CHECK(m.p(1).x == 164 * kU);
  REQUIRE(m.out.refusals.size() == 1);  // the second attack is on cooldown
  CHECK(m.out.refusals[0].input_seq == 4);
  CHECK(m.p(0).last_input_seq == 3);
}

TEST_CASE("last_input_seq only grows and only for accepted inputs", "[arena][combat]") {
  Match m(humans(2));
  m.step({in(0, move_dir(1, 0), 7)});
  CHECK(m.p(0).last_input_seq == 7);
  CHECK(m.game.delta()["players"]["0"]["last_input_seq"] == 7);
  m.step({in(0, move_dir(1, 0), 5), in(0, move_dir(1, 0), 0)});
  CHECK(m.p(0).last_input_seq == 7);
  CHECK_FALSE(m.game.delta()["players"]["0"].contains("last_input_seq"));
}

TEST_CASE("the match ends after match_seconds * tick_hz ticks", "[arena][match]") {
  Match m(humans(2), ArenaOptions{60, 10});
  m.idle(599);
  CHECK_FALSE(m.game.finished());
  CHECK(m.game.snapshot()["ticks_left"] == 1);
  auto& out = m.step();
  CHECK(m.game.finished());
  CHECK(out.state_changed);
  const auto over = events_named(out, "match_over");
  REQUIRE(over.size() == 1);
  CHECK(over[0]["winner"] == "p0");  // 0-0 everywhere: the lower seat
  CHECK(m.game.snapshot()["ticks_left"] == 0);

  // After the end: the clock stops, inputs other than leave are refused.
  m.step({in(0, move_dir(1000, 0), 8), in(1, mtown::core::leave_input_data())});
  REQUIRE(m.out.refusals.size() == 1);
  CHECK(m.out.refusals[0].code == ErrorCode::wrong_phase);
  CHECK(m.game.tick() == 600);
  CHECK(m.p(1).left);
  CHECK(m.game.result()["winner"] == "p0");
}

TEST_CASE("the winner has the highest score", "[arena][match]") {
  Match m(humans(3), ArenaOptions{60, 10});
  m.walk_to(1, 130, 100);
  kill_with_attacks(m, 1);
  while (!m.game.finished()) m.step();
  const auto result = m.game.result();
  CHECK(result["winner"] == "p0");
  REQUIRE(result["standings"].size() == 3);
  CHECK(result["standings"][0] == json{{"player_id", "p0"}, {"name", "name-p0"}, {"seat", 0}, {"score", 1},
                                       {"deaths", 0}, {"ai", false}, {"left", false}});
  CHECK(result["standings"][1]["player_id"] == "p2");  // 0 kills, 0 deaths
  CHECK(result["standings"][2]["player_id"] == "p1");  // 0 kills, 1 death
}

TEST_CASE("ranking: score, then fewer deaths, then lower seat; leavers last", "[arena][match]") {
  struct Row {
    std::vector<std::tuple<std::int64_t, std::int64_t, bool>> players;  // score, deaths, left
    std::vector<std::uint32_t> order;
  };
  const std::vector<Row> rows = {
      {{{0, 0, false}, {0, 0, false}}, {0, 1}},
      {{{1, 0, false}, {2, 5, false}}, {1, 0}},
      {{{1, 2, false}, {1, 1, false}, {1, 3, false}}, {1, 0, 2}},
      {{{3, 1, false}, {3, 1, false}, {0, 0, false}}, {0, 1, 2}},
      {{{9, 0, true}, {0, 4, false}, {1, 0, false}}, {2, 1, 0}},
      {{{0, 0, true}, {2, 0, true}}, {1, 0}},
  };
  for (const auto& r : rows) {
    std::vector<ArenaPlayer> ps;
    for (const auto& [score, deaths, left] : r.players) {
      ArenaPlayer p;
      p.seat = static_cast<std::uint32_t>(ps.size());
      p.score = score;
      p.deaths = deaths;
      p.left = left;
      ps.push_back(p);
    }
    CHECK(mtown::games::arena_ranking(ps) == r.order);
  }
}

TEST_CASE("a leaver is never the winner; all left means no winner", "[arena][match]") {
  Match m(humans(2), ArenaOptions{60, 10});
  m.walk_to(1, 130, 100);
  kill_with_attacks(m, 1);
  m.step({in(0, mtown::core::leave_input_data())});
  while (!m.game.finished()) m.step();
  CHECK(m.game.result()["winner"] == "p1");
  m.step({in(1, mtown::core::leave_input_data())});
  CHECK(m.game.result()["winner"].is_null());
}
