// UTF-8 helpers for user-supplied text (names, chat), and the decimal writer of the
// hand-written JSON on the hot paths. Pure functions, no allocation beyond the output.
#pragma once
#include <charconv>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace mtown::core {

// True when s is well-formed UTF-8 (no overlongs, surrogates or code points > U+10FFFF).
bool is_valid_utf8(std::string_view s);

// Number of code points in valid UTF-8 text.
std::size_t utf8_length(std::string_view s);

// Removes C0/C1 control characters and DEL, trims Unicode-agnostic ASCII white space at
// both ends, and keeps at most max_chars code points. Input must be valid UTF-8.
std::string clean_text(std::string_view s, std::size_t max_chars);

// Appends the decimal text of an integer, as JSON writes it, without a temporary string.
template <class Int>
void append_decimal(std::string& out, Int value) {
  char buf[24];
  out.append(buf, std::to_chars(buf, buf + sizeof buf, value).ptr);
}

}  // namespace mtown::core
