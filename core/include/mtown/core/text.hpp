// UTF-8 helpers for user-supplied text (names, chat). Pure functions, no allocation
// beyond the returned string.
#pragma once
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

}  // namespace mtown::core
