// read_json against nlohmann's own parser: the same texts accepted, the same values (and
// number types) built. Hand-picked edge cases, then seeded mutations of client messages.
#include <catch2/catch.hpp>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "mtown/core/json_reader.hpp"

using mtown::core::read_json;
using nlohmann::json;

namespace {

// Equal values with equal types all the way down (json's == calls 1 and 1u and 1.0 equal).
bool same(const json& a, const json& b) {
  if (a.type() != b.type()) return false;
  if (a.is_object()) {
    if (a.size() != b.size()) return false;
    for (auto ia = a.begin(), ib = b.begin(); ia != a.end(); ++ia, ++ib)
      if (ia.key() != ib.key() || !same(*ia, *ib)) return false;
    return true;
  }
  if (a.is_array()) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
      if (!same(a[i], b[i])) return false;
    return true;
  }
  if (a.is_number_float()) {  // -0.0 == 0.0, but they are different values
    const double x = a.get<double>(), y = b.get<double>();
    return x == y && std::signbit(x) == std::signbit(y);
  }
  return a == b;
}

// Empty string when both parsers agree, else what differs.
std::string disagreement(const std::string& text) {
  const json reference = json::parse(text, nullptr, /*allow_exceptions=*/false);
  const auto ours = read_json(text);
  if (reference.is_discarded() && !ours) return {};
  if (reference.is_discarded()) return "read_json accepted what nlohmann refuses: " + ours->dump();
  if (!ours) return "read_json refused what nlohmann accepts: " + reference.dump();
  if (!same(reference, *ours)) return "values differ: nlohmann " + reference.dump() + ", read_json " + ours->dump();
  return {};
}

}  // namespace

TEST_CASE("read_json accepts and refuses what nlohmann does, building the same values", "[json]") {
  const std::vector<std::string> texts{
      // client messages
      R"({"type":"input","input_seq":17,"data":{"action":"move","x":500,"y":250}})",
      R"({"type":"chat","text":"h\u00e9llo \ud83d\ude00 \"q\" \\ \/ \b\f\n\r\t","rid":"r-1"})",
      R"( {"type" : "ping" , "rid" : 3 } )", "\xEF\xBB\xBF{\"a\":1}", "\xEF\xBB{}", "\xEF{}",
      // numbers: types, ranges, grammar
      "0", "-0", "-0.0", "0.0", "1", "-1", "1.5", "1e5", "1E+5", "1e-5", "-1.25e-3", "123456789012345678",
      "18446744073709551615", "18446744073709551616", "9223372036854775807", "-9223372036854775808",
      "-9223372036854775809", "1e308", "1e309", "-1e309", "1e-400", "4.9e-324", "2.2250738585072011e-308",
      "1.7976931348623157e308", "1.7976931348623159e308", "2.4703282292062328e-324", "2.4703282292062327e-324",
      "-1e-400", "0.1", "123.456e-7", "1E400", "-0e0", "1e-5000000000000",
      "01", "-", "-a", "1.", ".5", "1e", "1e+", "+1", "0x10", "1.e5", "00", "-01", "1 2", "NaN", "Infinity",
      // literals and structure
      "true", "false", "null", "tru", "nul", "truex", "[]", "{}", "[1,2,3]", "[1,]", "[,1]", "{\"a\":1,}",
      "{\"a\"}", "{\"a\":}", "{1:2}", "{\"a\":1 \"b\":2}", "{\"a\":1,\"a\":2}", "[[[]]]", "[", "]", "{", "",
      "   ", "\t\n\r [ 1 ]\n", "[1]x", "[1] [2]", "\"\"", "\"abc", "\"a\nb\"", "\"a\x01\"", "\"\x7f\"",
      // escapes and surrogates
      "\"\\u0000\"", "\"\\u00\"", "\"\\uZZZZ\"", "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"",
      "\"\\ud800\\udbff\"", "\"\\udbff\\udfff\"", "\"\\x\"", "\"\\'\"", "\"\\\"",
      // UTF-8: well formed, overlong, surrogates, past U+10FFFF, truncated
      "\"\xC3\xA9\"", "\"\xE2\x82\xAC\"", "\"\xF0\x9F\x98\x80\"", "\"\xF4\x8F\xBF\xBF\"", "\"\xC0\x80\"",
      "\"\xC1\xBF\"", "\"\xE0\x80\x80\"", "\"\xED\xA0\x80\"", "\"\xF4\x90\x80\x80\"", "\"\xF5\x80\x80\x80\"",
      "\"\xC3\"", "\"\xE2\x82\"", "\"\x80\"", "\"\xFF\"", std::string("\"a\0b\"", 5), std::string("[1,\0]", 5)};
  for (const auto& text : texts) {
    INFO("text: " << json(text).dump(-1, ' ', false, json::error_handler_t::replace));
    CHECK(disagreement(text).empty());
  }
}

TEST_CASE("read_json agrees with nlohmann on seeded mutations of client messages", "[json]") {
  const std::vector<std::string> seeds{
      R"({"type":"input","input_seq":17,"data":{"action":"move","x":500,"y":-250.5e1}})",
      R"({"type":"chat","text":"h\u00e9llo \ud83d\ude00 caf\u00e9 ok","rid":12})",
      R"({"type":"create_room","game":"arena","name":"Ann","max_players":8,"public":true,"ai_fill":null})",
      R"([true,false,null,[],{},"x",0,-0,1e2,[{"a":[1,{"b":"\n"}]}]])"};
  const std::string alphabet = "{}[]\":,.-+eE0123456789tfnul \\/u\xC3\xA9\xED\xA0\x80\xF0\x9F";
  std::mt19937 rng(20261121);
  int refused = 0, accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string text = seeds[rng() % seeds.size()];
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits && !text.empty(); ++e) {
      const std::size_t at = rng() % text.size();
      const char c = alphabet[rng() % alphabet.size()];
      switch (rng() % 3) {
        case 0: text[at] = c; break;
        case 1: text.insert(text.begin() + static_cast<std::ptrdiff_t>(at), c); break;
        default: text.erase(at, 1); break;
      }
    }
    const auto diff = disagreement(text);
    if (!diff.empty()) {
      INFO("text: " << json(text).dump(-1, ' ', false, json::error_handler_t::replace) << "\n" << diff);
      FAIL("parsers disagree");
    }
    (read_json(text) ? accepted : refused)++;
  }
  // Both outcomes were exercised, not just one.
  CHECK(accepted > 1000);
  CHECK(refused > 1000);
}

TEST_CASE("read_json refuses a NUL outside strings, where nlohmann stops reading", "[json]") {
  for (const auto& text : {std::string("8\0junk", 6), std::string("{\"type\":\"ping\"}\0x", 17), std::string("1\0", 2)}) {
    INFO("text: " << json(text).dump(-1, ' ', false, json::error_handler_t::replace));
    CHECK_FALSE(json::parse(text, nullptr, /*allow_exceptions=*/false).is_discarded());  // nlohmann's quirk
    CHECK_FALSE(read_json(text));
  }
}

TEST_CASE("read_json refuses nesting past its limit", "[json]") {
  CHECK(read_json("[[[1]]]", 3));
  CHECK_FALSE(read_json("[[[1]]]", 2));
  CHECK_FALSE(read_json(R"({"a":{"b":{"c":{}}}})", 3));
  CHECK(read_json(R"({"a":{"b":{"c":{}}}})", 4));
}
