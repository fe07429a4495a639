// make_party options, load_questions, the shipped question pool and the input schema.
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "mtown/core/json_schema.hpp"
#include "party_harness.hpp"

using namespace party_test;
using mtown::games::load_questions;
using mtown::games::make_party;

namespace {

std::string read_source(const std::string& rel) {
  std::ifstream in(std::string(MTOWN_SOURCE_DIR) + "/" + rel);
  REQUIRE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string make_error(const json& opts) {
  try {
    make_party(opts);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("party options: defaults, rounds and timers", "[party][options]") {
  auto g = make_party(options(8));
  CHECK(g->name() == "party");
  CHECK(g->version() == 1);
  CHECK(g->tick_hz() == 0);
  CHECK_NOTHROW(make_party(options(12)));

  mtown::core::Rng rng(1);
  g->start(humans(2), rng);
  CHECK(g->snapshot()["rounds"] == 8);
  CHECK(g->next_deadline() == std::optional<Tick>(60000));  // question_ms default

  json o = options(8);
  o["question_ms"] = 1000;
  o["elimination_ms"] = 600000;
  o["voting_ms"] = 5000;
  o["results_ms"] = 2000;
  CHECK_NOTHROW(make_party(o));
}

TEST_CASE("party options: refusals name the option", "[party][options]") {
  struct Row {
    const char* what;
    json opts;
    const char* names;
  };
  json twelve_with_eight = options(8);
  twelve_with_eight["rounds"] = 12;
  json dup = options(8);
  dup["questions"][1]["id"] = "t1";
  json bad_q = options(8);
  bad_q["questions"][2]["robot"] = "";
  json same = options(8);
  same["questions"][3]["robot"] = "TRUE  4";
  const std::vector<Row> rows{
      {"rounds 10", [] { json o = options(8); o["rounds"] = 10; return o; }(), "rounds"},
      {"rounds as string", [] { json o = options(8); o["rounds"] = "8"; return o; }(), "rounds"},
      {"missing questions", json{{"rounds", 8}}, "questions"},
      {"null options", json(nullptr), "questions"},
      {"not an object", json::array(), "options"},
      {"too few questions", twelve_with_eight, "questions"},
      {"duplicate id", dup, "questions[1].id"},
      {"empty robot", bad_q, "questions[2] (t3).robot"},
      {"robot equals correct", same, "questions[3] (t4).robot"},
      {"timer too short", [] { json o = options(8); o["voting_ms"] = 999; return o; }(), "voting_ms"},
      {"timer too long", [] { json o = options(8); o["results_ms"] = 600001; return o; }(), "results_ms"},
      {"timer float", [] { json o = options(8); o["question_ms"] = 1500.5; return o; }(), "question_ms"},
      {"unknown option", [] { json o = options(8); o["roundz"] = 8; return o; }(), "roundz"},
  };
  for (const auto& row : rows) {
    INFO(row.what);
    const std::string error = make_error(row.opts);
    CHECK(error.rfind(row.names, 0) == 0);
  }
}

TEST_CASE("party questions: load_questions validates entries", "[party][options]") {
  CHECK(load_questions("[]").empty());
  const auto qs = load_questions(json::array({question_json(1), question_json(2)}).dump());
  REQUIRE(qs.size() == 2);
  CHECK(qs[1].id == "t2");
  CHECK(qs[1].correct == "True 2");
  CHECK(qs[1].decoys.size() == 3);

  struct Row {
    const char* what;
    json entry;
    const char* names;
  };
  auto with = [](const char* key, json value) {
    json q = question_json(1);
    q[key] = std::move(value);
    return q;
  };
  json no_decoys = question_json(1);
  no_decoys.erase("decoys");
  const std::vector<Row> rows{
      {"not an object", json("q"), "questions[0]: must be an object"},
      {"id missing", [] { json q = question_json(1); q.erase("id"); return q; }(), "questions[0].id"},
      {"id with a space", with("id", "t 1"), "questions[0].id"},
      {"empty text", with("text", ""), "questions[0] (t1).text"},
      {"text with control char", with("text", "Why\n?"), "questions[0] (t1).text"},
      {"correct with markup", with("correct", "<b>True</b>"), "questions[0] (t1).correct"},
      {"correct too long", with("correct", std::string(101, 'x')), "questions[0] (t1).correct"},
      {"robot not a string", with("robot", 3), "questions[0] (t1).robot"},
      {"decoys missing", no_decoys, "questions[0] (t1).decoys"},
      {"decoy equals correct", with("decoys", {"TRUE 1"}), "questions[0] (t1).decoys[0]"},
      {"decoy empty", with("decoys", {"ok", ""}), "questions[0] (t1).decoys[1]"},
  };
  for (const auto& row : rows) {
    INFO(row.what);
    std::string error;
    try {
      load_questions(json::array({row.entry}).dump());
    } catch (const std::invalid_argument& e) {
      error = e.what();
    }
    CHECK(error.rfind(row.names, 0) == 0);
  }
  CHECK_THROWS_WITH(load_questions("{"), Catch::Contains("not valid JSON"));
  CHECK_THROWS_WITH(load_questions("{}"), Catch::Contains("questions: must be an array"));
  CHECK_THROWS_WITH(load_questions(json::array({question_json(1), question_json(1)}).dump()),
                    Catch::Contains("questions[1].id: duplicate id t1"));
}

TEST_CASE("party questions: the shipped examples/questions.json loads", "[party][options]") {
  const auto qs = load_questions(read_source("examples/questions.json"));
  CHECK(qs.size() >= 40);
  for (const auto& q : qs) {
    INFO(q.id);
    CHECK(q.correct.size() < 40);
    CHECK(q.robot.size() < 40);
    CHECK(q.decoys.size() >= 3);
    for (const auto& d : q.decoys) CHECK(d.size() < 40);
  }
  // A room can build a 12-round game straight from the pool.
  json picked = json::array();
  const json pool = json::parse(read_source("examples/questions.json"));
  for (int i = 0; i < 12; ++i) picked.push_back(pool[static_cast<std::size_t>(i)]);
  CHECK_NOTHROW(make_party(json{{"rounds", 12}, {"questions", picked}}));
}

TEST_CASE("party input schema agrees with validate_input", "[party][input]") {
  const mtown::core::JsonSchema schema(json::parse(read_source("schemas/games/party/input.json")));
  auto g = make_party(options(8));
  struct Row {
    json data;
    bool schema_ok;
    bool game_ok;
  };
  const std::vector<Row> rows{
      {answer("Golden eagle"), true, true},
      {vote("a1"), true, true},
      {vote("a16"), true, true},
      {end_phase(), true, true},
      {next_round(), true, true},
      {leave(), true, true},
      {mtown::core::ai_takeover_input_data(AiDifficulty::hard), true, true},
      {json{{"action", "ai_takeover"}}, true, false},                     // per-action field: game only
      {json{{"action", "ai_takeover"}, {"difficulty", "expert"}}, false, false},
      {json{{"action", "leave"}, {"difficulty", "easy"}}, true, false},
      {json{{"action", "answer"}}, true, false},                         // per-action field: game only
      {json{{"action", "vote"}}, true, false},                           // per-action field: game only
      {json{{"action", "end_phase"}, {"text", "x"}}, true, false},       // field of another action
      {json{{"action", "vote"}, {"answer", "a1"}, {"text", "x"}}, true, false},
      {answer(""), false, false},
      {answer(std::string(101, 'x')), false, false},
      {answer(std::string(100, 'x')), true, true},
      {answer("  <>  "), true, false},  // empty after cleaning
      {vote("a0"), false, false},
      {vote("a17"), false, false},
      {vote("b1"), false, false},
      {json{{"action", "dance"}}, false, false},
      {json{{"action", "answer"}, {"text", 5}}, false, false},
      {json{{"text", "hi"}}, false, false},
      {json{{"action", "leave"}, {"extra", 1}}, false, false},
      {json::array(), false, false},
  };
  for (const auto& row : rows) {
    INFO(row.data.dump());
    CHECK(!schema.validate(row.data).has_value() == row.schema_ok);
    const auto refusal = g->validate_input(row.data);
    CHECK(!refusal.has_value() == row.game_ok);
    if (refusal) CHECK(refusal->code == ErrorCode::bad_message);
  }
}
