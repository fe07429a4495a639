// Input shapes (validate_input, is_host_action) and how answers are cleaned and compared.
#include "party_harness.hpp"

using namespace party_test;

TEST_CASE("party validate_input: refusals are bad_message and name the field", "[party][input]") {
  auto g = mtown::games::make_party(options(8));
  struct Row {
    json data;
    const char* starts;
  };
  const std::vector<Row> rows{
      {json("answer"), "data:"},
      {json{{"text", "x"}}, "action:"},
      {json{{"action", 3}}, "action:"},
      {json{{"action", "answer"}}, "text:"},
      {json{{"action", "answer"}, {"text", nullptr}}, "text:"},
      {answer(std::string("\xC3\x28", 2)), "text:"},  // invalid UTF-8
      {answer(std::string(101, 'a')), "text:"},
      {answer("\x01\x02 "), "text:"},
      {json{{"action", "vote"}}, "answer:"},
      {vote("A1"), "answer:"},
      {vote("a01"), "answer:"},
      {json{{"action", "vote"}, {"answer", 1}}, "answer:"},
      {json{{"action", "next_round"}, {"answer", "a1"}}, "answer:"},
      {json{{"action", "answer"}, {"text", "x"}, {"seat", 1}}, "seat:"},
  };
  for (const auto& row : rows) {
    INFO(row.data.dump(-1, ' ', false, json::error_handler_t::replace));
    const auto r = g->validate_input(row.data);
    REQUIRE(r.has_value());
    CHECK(r->code == ErrorCode::bad_message);
    CHECK(r->message.rfind(row.starts, 0) == 0);
  }
  // 100 code points of multi-byte text are fine (length is in characters, not bytes).
  std::string hundred;
  for (int i = 0; i < 100; ++i) hundred += "\xC3\xA9";
  CHECK_FALSE(g->validate_input(answer(hundred)).has_value());
}

TEST_CASE("party is_host_action: end_phase and next_round only", "[party][input]") {
  auto g = mtown::games::make_party(options(8));
  CHECK(g->is_host_action(end_phase()));
  CHECK(g->is_host_action(next_round()));
  CHECK_FALSE(g->is_host_action(answer("x")));
  CHECK_FALSE(g->is_host_action(vote("a1")));
  CHECK_FALSE(g->is_host_action(leave()));
  CHECK_FALSE(g->is_host_action(json("end_phase")));
  CHECK(g->is_host_action(mtown::core::leave_input_data()) == false);
  CHECK_FALSE(g->validate_input(mtown::core::leave_input_data()).has_value());
}

TEST_CASE("party answers: cleaned before they are stored and shown", "[party][input]") {
  Harness h(options(8), humans(3));
  auto out = h.send(0, answer("  <b>Golden\x07 eagle</b>  "));
  REQUIRE(accepted(out));
  REQUIRE(out.private_events.size() == 1);
  CHECK(out.private_events[0].first == 0);
  CHECK(out.private_events[0].second == json{{"event", "answer_accepted"}, {"text", "bGolden eagle/b"}});
  // The public event says who answered, never what.
  REQUIRE(out.events.size() == 1);
  CHECK(out.events[0] == json{{"event", "answered"}, {"seat", 0}});
  CHECK(h.snap().dump().find("Golden") == std::string::npos);

  // Only markup and spaces: nothing left, refused (validate_input and step agree).
  out = h.send(1, answer(" <<>> "));
  CHECK(refusal_code(out) == ErrorCode::bad_message);
  CHECK(out.refusals[0].message.rfind("text:", 0) == 0);
  CHECK_FALSE(out.state_changed);
}

TEST_CASE("party answers: the correct or robot text is refused as a fake", "[party][input]") {
  Harness h(options(8), humans(3));
  for (const char* text : {"True 1", "  true   1 ", "ROBOT 1", "<Robot 1>"}) {
    INFO(text);
    const auto out = h.send(0, answer(text));
    CHECK(refusal_code(out) == ErrorCode::invalid_input);
    CHECK(out.refusals[0].message.rfind("text:", 0) == 0);
    CHECK(out.events.empty());
  }
  CHECK(h.snap()["players"][0]["answered"] == false);
  CHECK(accepted(h.send(0, answer("True 1 maybe"))));
}
