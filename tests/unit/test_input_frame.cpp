// The input fast path (core/flat_json.hpp, core/input_frame.hpp, arena_parse_input_text)
// against the general path it stands in for: whatever the fast path takes, the decoder and
// ArenaGame::check_input must read the same way.
#include <catch2/catch.hpp>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "mtown/core/flat_json.hpp"
#include "mtown/core/input_frame.hpp"
#include "mtown/core/json_reader.hpp"
#include "mtown/core/protocol.hpp"
#include "mtown/games/arena.hpp"

using namespace mtown;
using nlohmann::json;

namespace {

std::vector<std::string> members(std::string_view text, bool nested = false) {
  core::FlatJsonObject o(text, nested);
  std::vector<std::string> out;
  std::string_view k, v;
  core::FlatKind kind;
  while (o.next(k, v, kind)) out.push_back(std::string(k) + "=" + std::string(v));
  if (!o.complete()) out.push_back("<declined>");
  return out;
}

// A random text near the common shape of an arena input's data.
std::string random_arena_data(std::mt19937_64& rng) {
  static const std::vector<std::string> actions = {"move", "attack", "ability", "leave", "ai_takeover", "Move", ""};
  static const std::vector<std::string> keys = {"dx", "dy", "x", "y", "x", "y", "dx", "z", "action"};
  static const std::vector<std::string> numbers = {
      "0", "-0", "5", "250", "1000", "1001", "-1000", "-1001", "500.5", "0.0005", "999.9999", "1000.0", "1000.0001",
      "-0.0", "0.5", "01", "1e2", "1.", "-", "18446744073709551616", "9223372036854775808", "-9223372036854775809",
      "12.25", "\"7\"", "true", "null", "{}"};
  auto pick = [&](const std::vector<std::string>& v) { return v[rng() % v.size()]; };
  std::vector<std::string> fields;
  if (rng() % 8) fields.push_back("\"action\":\"" + pick(actions) + "\"");
  const int n = static_cast<int>(rng() % 4);
  for (int i = 0; i < n; ++i) {
    const auto key = pick(keys);
    fields.push_back("\"" + key + "\":" + (key == "action" ? "\"attack\"" : pick(numbers)));
  }
  std::shuffle(fields.begin(), fields.end(), rng);
  std::string text = "{";
  for (std::size_t i = 0; i < fields.size(); ++i) text += (i ? "," : "") + fields[i];
  text += "}";
  if (rng() % 16 == 0) text.insert(1 + rng() % (text.size() - 1), " ");  // white space: declined
  return text;
}

}  // namespace

TEST_CASE("flat JSON objects: the subset is read whole, anything else declined", "[input_frame]") {
  CHECK(members(R"({"a":"x","b":-1.5,"c":0})") == std::vector<std::string>{"a=x", "b=-1.5", "c=0"});
  CHECK(members("{}").empty());
  CHECK(members(R"({"d":{"x":1}})", true) == std::vector<std::string>{R"(d={"x":1})"});
  for (const auto* bad : {R"({"d":{"x":1}})",  // nesting not allowed here
                          R"({"a":1} )", R"( {"a":1})", R"({"a" :1})", R"({"a":1,})", R"({,"a":1})", R"({"a":01})",
                          R"({"a":1e3})", R"({"a":1.})", R"({"a":-})", R"({"a":"\n"})", "{\"a\":\"\xC3\xA9\"}",
                          R"({"a":true})", R"({"a":null})", R"({"a":[1]})", R"({"a":1)", R"({"a")", "", "[]"})
    CHECK(members(bad).back() == "<declined>");
  CHECK(members(R"({"d":{"x":{"y":1}}})", true).back() == "<declined>");  // one level only

  CHECK(*core::flat_number("42") == json(42u));
  CHECK(core::flat_number("42")->is_number_unsigned());
  CHECK(core::flat_number("-0")->is_number_integer());
  CHECK_FALSE(core::flat_number("-0")->is_number_unsigned());
  CHECK(*core::flat_number("0.1") == json(0.1));
  CHECK_FALSE(core::flat_number("18446744073709551616"));  // the full parser makes a double of it
}

TEST_CASE("input frames: what the scan takes, the decoder reads the same", "[input_frame]") {
  const core::ProtocolDecoder decoder;
  const std::vector<std::string> taken = {
      R"({"type":"input","input_seq":7,"data":{"action":"move","x":500,"y":250}})",
      R"({"data":{"action":"attack"},"input_seq":0,"type":"input"})",  // nlohmann's key order
      R"({"input_seq":9007199254740991,"type":"input","data":{}})",
  };
  for (const auto& text : taken) {
    INFO(text);
    const auto frame = core::scan_input_frame(text);
    REQUIRE(frame);
    auto result = decoder.decode(text);
    REQUIRE(std::holds_alternative<core::ClientMessage>(result));
    const auto& msg = std::get<core::ClientMessage>(result);
    CHECK(msg.type == core::ClientType::input);
    CHECK(msg.rid.is_null());
    CHECK(msg.body["input_seq"] == frame->input_seq);
    CHECK(msg.body["data"] == *core::read_json(frame->data));
  }
  const std::vector<std::string> declined = {
      R"({"type":"input","input_seq":7,"data":{"action":"move"},"rid":"r1"})",  // a rid
      R"({"type":"input","data":{"action":"attack"}})",                         // no input_seq
      R"({"type":"input","input_seq":9007199254740992,"data":{}})",              // past 2^53 - 1
      R"({"type":"input","input_seq":-1,"data":{}})",
      R"({"type":"input","input_seq":1.5,"data":{}})",
      R"({"type":"input","input_seq":1,"input_seq":2,"data":{}})",
      R"({"type":"chat","input_seq":1,"data":{}})",
      R"({"type":"input","input_seq":1,"data":{"a":{"b":1}}})",
      R"({"type":"input","input_seq":1,"data":"move"})",
      R"({"type": "input","input_seq":1,"data":{}})",
      R"({"type":"input","input_seq":1,"data":{},"extra":1})",
  };
  for (const auto& text : declined) {
    INFO(text);
    CHECK_FALSE(core::scan_input_frame(text));
  }
}

TEST_CASE("arena inputs as text: what the fast parser takes, check_input parses the same", "[input_frame]") {
  const auto game = games::make_arena(json());
  auto general = [&](const std::string& text) -> std::optional<core::ParsedInput> {
    const auto data = core::read_json(text);
    if (!data) return std::nullopt;
    core::GameInput in{0, 0, *data};
    if (game->check_input(in)) return std::nullopt;
    return in.parsed;
  };

  for (const auto* common : {R"({"action":"move","x":500,"y":250})", R"({"action":"move","x":0.5,"y":999.9995})",
                             R"({"y":1,"x":2,"action":"move"})", R"({"action":"move","dx":-1000,"dy":0})",
                             R"({"action":"attack"})", R"({"action":"ability"})"}) {
    INFO(common);
    core::ParsedInput fast;
    REQUIRE(games::arena_parse_input_text(common, fast));
    const auto slow = general(common);
    REQUIRE(slow);
    CHECK(fast == *slow);
  }
  // Refused or not the common shape: left to the general path.
  for (const auto* other : {R"({"action":"leave"})", R"({"action":"ai_takeover","difficulty":"easy"})",
                            R"({"action":"move","x":1001,"y":1})", R"({"action":"move","x":1})",
                            R"({"action":"move","x":1,"y":1,"dx":1})", R"({"action":"attack","x":1})",
                            R"({"action":"move","x":1,"x":2,"y":3})", R"({"action":"jump"})", R"({"x":1,"y":2})"}) {
    core::ParsedInput fast;
    CHECK_FALSE(games::arena_parse_input_text(other, fast));
  }

  std::mt19937_64 rng(20261122);
  int taken = 0, general_only = 0;
  for (int i = 0; i < 20000; ++i) {
    const auto text = random_arena_data(rng);
    INFO(text);
    core::ParsedInput fast;
    const bool took = games::arena_parse_input_text(text, fast);
    const auto slow = general(text);
    if (took) {
      ++taken;
      REQUIRE(slow);
      REQUIRE(fast == *slow);
    } else if (slow) {
      ++general_only;
    }
  }
  CHECK(taken > 1000);        // the fast path is exercised, not vacuous
  CHECK(general_only > 100);  // and valid inputs it declines (leave, white space) exist in the mix
}
