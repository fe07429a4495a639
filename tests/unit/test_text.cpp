// UTF-8 validation, code point counting and chat/name cleaning.
#include <string>
#include <string_view>

#include <catch2/catch.hpp>

#include "mtown/core/text.hpp"

using mtown::core::clean_text;
using mtown::core::is_valid_utf8;
using mtown::core::utf8_length;

TEST_CASE("text: is_valid_utf8", "[text]") {
  struct Row {
    std::string_view bytes;
    bool valid;
    const char* what;
  };
  using namespace std::string_view_literals;
  const Row rows[] = {
      {""sv, true, "empty"},
      {"hello"sv, true, "ASCII"},
      {"a\0b"sv, true, "NUL is a valid code point"},
      {"\xC3\xA9"sv, true, "U+00E9, 2 bytes"},
      {"\xE2\x82\xAC"sv, true, "U+20AC, 3 bytes"},
      {"\xF0\x9F\x98\x80"sv, true, "U+1F600, 4 bytes"},
      {"\xED\x9F\xBF"sv, true, "U+D7FF, just below the surrogates"},
      {"\xEE\x80\x80"sv, true, "U+E000, just above the surrogates"},
      {"\xF4\x8F\xBF\xBF"sv, true, "U+10FFFF, the last code point"},
      {"\xC2\x80"sv, true, "U+0080, smallest 2-byte"},
      {"\xE0\xA0\x80"sv, true, "U+0800, smallest 3-byte"},
      {"\xF0\x90\x80\x80"sv, true, "U+10000, smallest 4-byte"},
      {"\xC0\xAF"sv, false, "overlong '/'"},
      {"\xC1\xBF"sv, false, "overlong 2-byte"},
      {"\xE0\x80\xAF"sv, false, "overlong 3-byte"},
      {"\xE0\x9F\xBF"sv, false, "overlong 3-byte, top"},
      {"\xF0\x80\x80\xAF"sv, false, "overlong 4-byte"},
      {"\xF0\x8F\xBF\xBF"sv, false, "overlong 4-byte, top"},
      {"\xED\xA0\x80"sv, false, "surrogate U+D800"},
      {"\xED\xBF\xBF"sv, false, "surrogate U+DFFF"},
      {"\xF4\x90\x80\x80"sv, false, "U+110000"},
      {"\xF5\x80\x80\x80"sv, false, "lead byte F5"},
      {"\xF8\x88\x80\x80\x80"sv, false, "5-byte form"},
      {"\xFF"sv, false, "byte FF"},
      {"\x80"sv, false, "lone continuation"},
      {"a\xBF"sv, false, "continuation after ASCII"},
      {"\xC3"sv, false, "truncated 2-byte"},
      {"\xE2\x82"sv, false, "truncated 3-byte"},
      {"\xF0\x9F\x98"sv, false, "truncated 4-byte"},
      {"ok\xC3"sv, false, "truncated at the end"},
      {"\xC3\x28"sv, false, "bad continuation byte"},
      {"\xE2\x28\xAC"sv, false, "bad middle byte"},
  };
  for (const auto& row : rows) {
    INFO(row.what);
    CHECK(is_valid_utf8(row.bytes) == row.valid);
  }
}

TEST_CASE("text: utf8_length counts code points", "[text]") {
  const std::pair<const char*, std::size_t> rows[] = {
      {"", 0},
      {"abc", 3},
      {"\xC3\xA9\xC3\xA9\xC3\xA9", 3},     // ééé
      {"\xE2\x82\xAC", 1},                  // €
      {"\xF0\x9F\x98\x80", 1},              // 😀
      {"a\xF0\x9F\x98\x80" "b", 3},
      {"\xE6\x97\xA5\xE6\x9C\xAC", 2},      // 日本
  };
  for (const auto& [s, n] : rows) {
    INFO(s);
    CHECK(utf8_length(s) == n);
  }
}

TEST_CASE("text: clean_text strips controls, trims and caps by code point", "[text]") {
  struct Row {
    std::string input;
    std::size_t max_chars;
    std::string expected;
  };
  const Row rows[] = {
      {"hello", 200, "hello"},
      {"  hi  ", 200, "hi"},
      {"a  b", 200, "a  b"},
      {"a\x01" "b\x1F", 200, "ab"},
      {std::string("a\0b", 3), 200, "ab"},
      {"a\x7F", 200, "a"},
      {"a\tb\nc\r", 200, "abc"},
      {"\x1B[31mred", 200, "[31mred"},
      {"a\xC2\x80" "b\xC2\x9F", 200, "ab"},       // C1 controls U+0080, U+009F
      {"a\xC2\x85" "b", 200, "ab"},               // NEL
      {"a\xC2\xA0" "b", 200, "a\xC2\xA0" "b"},    // NBSP is not a control
      {"\xC2\xA1", 200, "\xC2\xA1"},              // U+00A1, just past C1
      {" \x01 a \x02 ", 200, "a"},
      {"\x01\x02\x7F\xC2\x9F", 200, ""},
      {"   ", 200, ""},
      {"", 200, ""},
      {"abcdef", 3, "abc"},
      {"abc", 3, "abc"},
      {"ab", 0, ""},
      {"\xC3\xA9\xC3\xA9\xC3\xA9", 2, "\xC3\xA9\xC3\xA9"},
      {"\xC3\xA9\xC3\xA9\xC3\xA9", 3, "\xC3\xA9\xC3\xA9\xC3\xA9"},
      {"a\xF0\x9F\x98\x80" "b", 2, "a\xF0\x9F\x98\x80"},
      {"\xF0\x9F\x98\x80\xF0\x9F\x98\x80", 1, "\xF0\x9F\x98\x80"},
      {"a b", 2, "a"},                  // no trailing space after the cut
      {"  abc", 2, "ab"},               // leading spaces do not count
      {"\x01\x01\x01" "abc", 2, "ab"},  // removed controls do not count
  };
  for (const auto& row : rows) {
    INFO('"' << row.input << "\" cap " << row.max_chars);
    CHECK(clean_text(row.input, row.max_chars) == row.expected);
  }
}

TEST_CASE("text: clean_text output is valid, capped and never ends in a space", "[text]") {
  const std::string mixed = " a\xC3\xA9 \x01\xE2\x82\xAC\xF0\x9F\x98\x80  b\x7F" "c ";
  REQUIRE(is_valid_utf8(mixed));
  // Every prefix that ends on a character boundary, at every cap.
  for (std::size_t end = 0; end <= mixed.size(); ++end) {
    const std::string_view prefix = std::string_view(mixed).substr(0, end);
    if (!is_valid_utf8(prefix)) continue;
    for (std::size_t cap = 0; cap <= 12; ++cap) {
      INFO("prefix " << end << " cap " << cap);
      const std::string out = clean_text(prefix, cap);
      CHECK(is_valid_utf8(out));
      CHECK(utf8_length(out) <= cap);
      if (!out.empty()) {
        CHECK(out.front() != ' ');
        CHECK(out.back() != ' ');
      }
      CHECK(out.find('\x01') == std::string::npos);
      CHECK(out.find('\x7F') == std::string::npos);
    }
  }
}
