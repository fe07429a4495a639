// Arena boundaries: options, tuning derived from tick_hz, validate_input / check_input and the input schema.
#include <fstream>
#include <stdexcept>

#include "arena_test_support.hpp"
#include "mtown/core/json_schema.hpp"

using namespace arena_test;

namespace {

struct BadInput {
  json data;
  std::string field;    // the message must start with "<field>:"
  bool schema_catches;  // false: a pairing rule the schema cannot express
};

const std::vector<BadInput>& bad_inputs() {
  static const std::vector<BadInput> rows = {
      {json::array(), "input", true},
      {json("move"), "input", true},
      {json::object(), "action", true},
      {json{{"action", 5}}, "action", true},
      {json{{"action", "jump"}}, "action", true},
      {json{{"action", "jump"}, {"extra", 1}}, "action", true},
      {json{{"action", "attack"}, {"x", 1}}, "x", false},
      {json{{"action", "attack"}, {"target", 1}}, "target", true},
      {json{{"action", "leave"}, {"seat", 1}}, "seat", true},
      {json{{"action", "move"}}, "dx", false},
      {json{{"action", "move"}, {"dx", 1}}, "dy", false},
      {json{{"action", "move"}, {"dy", 1}}, "dx", false},
      {json{{"action", "move"}, {"x", 1}}, "y", false},
      {json{{"action", "move"}, {"dx", 1001}, {"dy", 0}}, "dx", true},
      {json{{"action", "move"}, {"dx", -1001}, {"dy", 0}}, "dx", true},
      {json{{"action", "move"}, {"dx", 0}, {"dy", -1001}}, "dy", true},
      {json{{"action", "move"}, {"dx", 0.5}, {"dy", 0}}, "dx", true},
      {json{{"action", "move"}, {"dx", "1"}, {"dy", 0}}, "dx", true},
      {json{{"action", "move"}, {"dx", true}, {"dy", 0}}, "dx", true},
      {json{{"action", "move"}, {"dx", 18446744073709551615ull}, {"dy", 0}}, "dx", true},
      {json{{"action", "move"}, {"x", -0.1}, {"y", 0}}, "x", true},
      {json{{"action", "move"}, {"x", 0}, {"y", 1000.01}}, "y", true},
      {json{{"action", "move"}, {"x", 0}, {"y", 1001}}, "y", true},
      {json{{"action", "move"}, {"x", "1"}, {"y", 1}}, "x", true},
      {json{{"action", "move"}, {"x", nullptr}, {"y", 1}}, "x", true},
      {json{{"action", "move"}, {"x", 1}, {"y", 1}, {"dx", 1}}, "x", false},
      {json{{"action", "move"}, {"dx", 1}, {"dy", 1}, {"z", 1}}, "z", true},
      {json{{"action", "ai_takeover"}}, "difficulty", false},
      {json{{"action", "ai_takeover"}, {"difficulty", "expert"}}, "difficulty", true},
      {json{{"action", "attack"}, {"difficulty", "easy"}}, "difficulty", false},
  };
  return rows;
}

const std::vector<json>& good_inputs() {
  static const std::vector<json> rows = {
      move_dir(0, 0),       move_dir(1000, -1000), move_dir(-1000, 1000),
      json{{"action", "move"}, {"dx", 5.0}, {"dy", -3}},  // a whole float is an integer (JSON Schema)
      move_to(0, 0),        move_to(1000, 1000),   move_to(500.5, 0.0004),
      attack(),             ability(),             mtown::core::leave_input_data(),
      mtown::core::ai_takeover_input_data(AiDifficulty::easy),
  };
  return rows;
}

mtown::core::JsonSchema load_schema() {
  std::ifstream file(MTOWN_ARENA_INPUT_SCHEMA);
  REQUIRE(file.good());
  return mtown::core::JsonSchema(json::parse(file));
}

}  // namespace

TEST_CASE("validate_input accepts every documented input shape", "[arena][input]") {
  ArenaGame game;
  for (const auto& data : good_inputs()) {
    INFO(data.dump());
    CHECK_FALSE(game.validate_input(data).has_value());
  }
}

TEST_CASE("validate_input refuses bad inputs with bad_message naming the field", "[arena][input]") {
  ArenaGame game;
  for (const auto& row : bad_inputs()) {
    INFO(row.data.dump());
    const auto refusal = game.validate_input(row.data);
    REQUIRE(refusal.has_value());
    CHECK(refusal->code == ErrorCode::bad_message);
    CHECK(refusal->message.rfind(row.field + ":", 0) == 0);
  }
}

TEST_CASE("check_input refuses as validate_input does and parses what step would", "[arena][input]") {
  ArenaGame game;
  for (const auto& row : bad_inputs()) {
    INFO(row.data.dump());
    auto input = in(0, row.data);
    const auto refusal = game.check_input(input);
    REQUIRE(refusal.has_value());
    CHECK(refusal->code == ErrorCode::bad_message);
    CHECK(refusal->message == game.validate_input(row.data)->message);
    CHECK_FALSE(input.parsed.set);
  }
  // Each good input, stepped with check_input's parse and without one (as a replay does),
  // leaves both matches in the same state.
  Match checked(humans(2)), raw(humans(2));
  std::uint64_t seq = 0;
  for (const auto& data : good_inputs()) {
    INFO(data.dump());
    auto input = in(0, data, ++seq);
    REQUIRE_FALSE(checked.game.check_input(input).has_value());
    CHECK(input.parsed.set);
    const auto& a = checked.step({input});
    const auto& b = raw.step({in(0, data, seq)});
    CHECK(a.refusals.size() == b.refusals.size());
    CHECK(checked.game.snapshot() == raw.game.snapshot());
    checked.idle(5), raw.idle(5);
    CHECK(checked.game.snapshot() == raw.game.snapshot());
  }
}

TEST_CASE("the input schema agrees with validate_input wherever it can judge", "[arena][input][schema]") {
  const auto schema = load_schema();
  for (const auto& data : good_inputs()) {
    INFO(data.dump());
    CHECK_FALSE(schema.validate(data).has_value());
  }
  for (const auto& row : bad_inputs()) {
    INFO(row.data.dump());
    CHECK(schema.validate(row.data).has_value() == row.schema_catches);
  }
}

TEST_CASE("a refused input reaching step() is refused there too and changes nothing", "[arena][input]") {
  Match m(humans(2));
  const auto before = m.game.snapshot();
  auto& out = m.step({in(0, json{{"action", "fly"}}, 4)});
  REQUIRE(out.refusals.size() == 1);
  CHECK(out.refusals[0].code == ErrorCode::bad_message);
  CHECK(out.refusals[0].input_seq == 4);
  CHECK(m.game.snapshot()["players"] == before["players"]);
}

TEST_CASE("make_arena validates options and names the bad one", "[arena][options]") {
  struct Row {
    json options;
    std::string name;
  };
  const std::vector<Row> rows = {
      {json{{"tick_hz", 0}}, "tick_hz"},          {json{{"tick_hz", 129}}, "tick_hz"},
      {json{{"tick_hz", -1}}, "tick_hz"},         {json{{"tick_hz", 60.5}}, "tick_hz"},
      {json{{"tick_hz", "60"}}, "tick_hz"},       {json{{"tick_hz", nullptr}}, "tick_hz"},
      {json{{"match_seconds", 9}}, "match_seconds"}, {json{{"match_seconds", 3601}}, "match_seconds"},
      {json{{"match_seconds", true}}, "match_seconds"}, {json{{"tickhz", 60}}, "tickhz"},
      {json::array(), "options"},
  };
  for (const auto& row : rows) {
    INFO(row.options.dump());
    try {
      (void)mtown::games::make_arena(row.options);
      FAIL("no exception");
    } catch (const std::invalid_argument& e) {
      CHECK(std::string(e.what()).find(row.name) != std::string::npos);
    }
  }
}

TEST_CASE("make_arena defaults and game identity", "[arena][options]") {
  for (const auto& options : {json(nullptr), json::object()}) {
    const auto game = mtown::games::make_arena(options);
    CHECK(game->name() == "arena");
    CHECK(game->version() == 1);
    CHECK(game->tick_hz() == 60);
    CHECK_FALSE(game->next_deadline().has_value());
  }
  const auto game = mtown::games::make_arena(json{{"tick_hz", 1}, {"match_seconds", 3600}});
  CHECK(game->tick_hz() == 1);
  CHECK_THROWS_AS(ArenaGame(ArenaOptions{0, 120}), std::invalid_argument);
}

TEST_CASE("per-tick numbers derive from tick_hz with the documented rounding", "[arena][options]") {
  struct Row {
    std::uint32_t hz;
    std::int64_t speed;
    Tick attack, ability, respawn, easy, medium, hard;
  };
  const std::vector<Row> rows = {
      {60, 5000, 30, 300, 180, 30, 12, 4},
      {30, 10000, 15, 150, 90, 15, 6, 2},
      {128, 2343, 64, 640, 384, 64, 26, 9},
      {20, 15000, 10, 100, 60, 10, 4, 1},
      {1, 300000, 1, 5, 3, 1, 1, 1},
  };
  for (const auto& r : rows) {
    INFO("tick_hz " << r.hz);
    const auto t = mtown::games::ArenaTuning::from(ArenaOptions{r.hz, 100});
    CHECK(t.speed_per_tick == r.speed);
    CHECK(t.attack_cooldown_ticks == r.attack);
    CHECK(t.ability_cooldown_ticks == r.ability);
    CHECK(t.respawn_ticks == r.respawn);
    CHECK(t.match_ticks == 100 * r.hz);
    CHECK(t.ai_interval_ticks == std::array<Tick, 3>{r.easy, r.medium, r.hard});
  }
}

TEST_CASE("start refuses more than 8 seats and places seats on the spawn points", "[arena]") {
  ArenaGame game;
  mtown::core::Rng rng(1);
  CHECK_THROWS_AS(game.start(humans(9), rng), std::invalid_argument);
  Match m(humans(8));
  const std::vector<std::pair<std::int64_t, std::int64_t>> spawns = {
      {100, 100}, {900, 900}, {900, 100}, {100, 900}, {500, 100}, {500, 900}, {100, 500}, {900, 500}};
  for (std::uint32_t s = 0; s < 8; ++s) {
    CHECK(m.p(s).x == spawns[s].first * kU);
    CHECK(m.p(s).y == spawns[s].second * kU);
    CHECK(m.p(s).hp == 100);
  }
  CHECK(m.p(0).fx == 707);  // facing the centre
  CHECK(m.p(0).fy == 707);
}
