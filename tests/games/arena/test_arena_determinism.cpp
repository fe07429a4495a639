// Arena determinism and the wire shapes: same seed + same inputs -> same hash every tick;
// another seed diverges; snapshot + delta reproduces the next snapshot.
#include "arena_test_support.hpp"

using namespace arena_test;

namespace {

constexpr int kTicks = 600;

std::vector<GameSeat> mixed_seats() {
  return {human("h0"), human("h1"), human("h2"), human("h3"),
          bot("b4", AiDifficulty::easy), bot("b5", AiDifficulty::medium),
          bot("b6", AiDifficulty::hard), bot("b7", AiDifficulty::hard)};
}

// Scripted inputs for the four human seats, from a generator of their own (not the room's).
std::vector<std::vector<GameInput>> script() {
  mtown::core::Rng r(20240601);
  std::vector<std::vector<GameInput>> ticks(kTicks + 1);
  std::uint64_t seq[4] = {};
  for (int t = 1; t <= kTicks; ++t) {
    for (std::uint32_t seat = 0; seat < 4; ++seat) {
      if (!r.chance(1, 6)) continue;
      json data;
      switch (r.below(6)) {
        case 0: data = move_dir(r.between(-1000, 1000), r.between(-1000, 1000)); break;
        case 1: data = move_to(r.between(0, 1000), r.between(0, 1000)); break;
        case 2: data = move_to(static_cast<double>(r.between(0, 999'999)) / 1000.0, 500.25); break;
        case 3: data = ability(); break;
        default: data = attack(); break;
      }
      ticks[t].push_back(in(seat, std::move(data), ++seq[seat]));
    }
    if (t == 400) ticks[t].push_back(in(3, mtown::core::leave_input_data()));
  }
  return ticks;
}

std::vector<std::uint64_t> hashes(std::uint64_t seed, const std::vector<std::vector<GameInput>>& inputs) {
  Match m(mixed_seats(), {}, seed);
  std::vector<std::uint64_t> out;
  for (int t = 1; t <= kTicks; ++t) {
    m.step(inputs[t]);
    mtown::core::StateHasher h;
    m.game.hash(h);
    out.push_back(h.value());
  }
  return out;
}

}  // namespace

TEST_CASE("same seed and inputs give the same hash at every tick; another seed diverges", "[arena][determinism]") {
  const auto inputs = script();
  const auto a = hashes(42, inputs);
  const auto b = hashes(42, inputs);
  REQUIRE(a.size() == kTicks);
  for (int t = 0; t < kTicks; ++t) {
    INFO("tick " << t + 1);
    REQUIRE(a[t] == b[t]);
  }
  const auto c = hashes(43, inputs);
  int differing = 0;
  for (int t = 0; t < kTicks; ++t) differing += a[t] != c[t] ? 1 : 0;
  CHECK(differing > kTicks / 2);
  CHECK(a.back() != c.back());
}

TEST_CASE("the scripted match exercises combat, deaths and the AI", "[arena][determinism]") {
  const auto inputs = script();
  Match m(mixed_seats(), {}, 42);
  int kills = 0, respawns = 0, abilities = 0, refusals = 0;
  for (int t = 1; t <= kTicks; ++t) {
    m.step(inputs[t]);
    kills += static_cast<int>(events_named(m.out, "kill").size());
    respawns += static_cast<int>(events_named(m.out, "respawn").size());
    abilities += static_cast<int>(events_named(m.out, "ability").size());
    refusals += static_cast<int>(m.out.refusals.size());
    for (const auto& r : m.out.refusals) CHECK(r.seat < 4);  // never an AI seat
  }
  INFO("kills " << kills << " respawns " << respawns << " abilities " << abilities);
  CHECK(kills > 0);
  CHECK(respawns > 0);
  CHECK(abilities > 0);
  CHECK(refusals > 0);
  CHECK(m.p(3).left);
}

TEST_CASE("snapshot + delta reproduces the next snapshot at every tick", "[arena][delta]") {
  const auto inputs = script();
  Match m(mixed_seats(), {}, 42);
  json client = m.game.snapshot();
  int empty = 0, seq_updates = 0;
  for (int t = 1; t <= kTicks; ++t) {
    const auto& out = m.step(inputs[t]);
    const json delta = m.game.delta();
    REQUIRE(delta["tick"] == t);
    std::string text;  // the server's hot path writes the delta as text: it must be dump()'s
    REQUIRE(m.game.write_delta_json(text));
    REQUIRE(text == delta.dump());
    client = apply_delta(client, delta);
    INFO("tick " << t);
    REQUIRE(client == m.game.snapshot());
    if (delta["players"].empty()) {
      ++empty;
      CHECK_FALSE(out.state_changed);
    } else {
      CHECK(out.state_changed);
    }
    for (const auto& [seat, fields] : delta["players"].items()) {
      CHECK(!fields.empty());
      CHECK_FALSE(fields.contains("id"));
      seq_updates += fields.contains("last_input_seq") ? 1 : 0;
    }
  }
  CHECK(seq_updates > 0);
  (void)empty;
}

TEST_CASE("a quiet tick has an empty delta and changes nothing", "[arena][delta]") {
  Match m(humans(2));
  auto& out = m.step();
  CHECK_FALSE(out.state_changed);
  CHECK(m.game.delta() == json{{"tick", 1}, {"ticks_left", 7199}, {"players", json::object()}});
  m.step({in(0, move_dir(1000, 0), 1)});
  CHECK(m.game.delta() == json{{"tick", 2}, {"ticks_left", 7198},
                               {"players", {{"0", {{"x", 105000}, {"fx", 1000}, {"fy", 0}, {"last_input_seq", 1}}}}}});
}

TEST_CASE("the snapshot carries every documented field", "[arena][delta]") {
  Match m({human("h"), bot("b", AiDifficulty::hard)});
  const json s = m.game.snapshot();
  CHECK(s["tick"] == 0);
  CHECK(s["ticks_left"] == 7200);
  REQUIRE(s["players"].size() == 2);
  CHECK(s["players"][0] == json{{"seat", 0}, {"id", "h"}, {"name", "name-h"}, {"ai", false}, {"difficulty", nullptr},
                                {"x", 100000}, {"y", 100000}, {"fx", 707}, {"fy", 707}, {"hp", 100},
                                {"alive", true}, {"respawn_tick", 0}, {"score", 0}, {"deaths", 0},
                                {"last_input_seq", 0}, {"attack_ready_tick", 0}, {"ability_ready_tick", 0},
                                {"left", false}});
  CHECK(s["players"][1]["difficulty"] == "hard");
  CHECK(m.game.delta() == json{{"tick", 0}, {"ticks_left", 7200}, {"players", json::object()}});
}
