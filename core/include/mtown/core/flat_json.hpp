// A scanner for the compact JSON objects of the hot input path, as clients' JSON
// serializers write them: {"key":value,...} with no white space, keys and strings without
// escapes or non-ASCII bytes, numbers without an exponent, and objects nested one level.
// It checks completely the syntax it accepts and gives up on anything else (failed()), so
// the caller hands such text to the full parser: a fast path for the common shape, never a
// second dialect of JSON.
#pragma once
#include <cstdint>
#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

namespace mtown::core {

enum class FlatKind { string, number, object };

class FlatJsonObject {
 public:
  // nested: whether a member's value may be an object (whose members may not).
  explicit FlatJsonObject(std::string_view text, bool nested = false);

  // The next member: its key, and its value's text (a string without its quotes, a number
  // as written, an object whole). False at the closing brace or when the text leaves the
  // subset; then check failed().
  bool next(std::string_view& key, std::string_view& value, FlatKind& kind);
  // The object ended, and the text with it.
  bool complete() const { return !failed_ && closed_ && at_ == text_.size(); }
  bool failed() const { return failed_; }

 private:
  bool fail() { return !(failed_ = true); }
  bool string_at(std::string_view& out);
  bool number_at(std::string_view& out);

  std::string_view text_;
  std::size_t at_ = 0;
  bool nested_, failed_ = false, closed_ = false, first_ = true;
};

// A number's text from FlatJsonObject as the JSON value nlohmann's parser makes of it: an
// unsigned integer, a negative integer, or a double (correctly rounded, as strtod). nullopt
// when an integer does not fit 64 bits (the full parser would make it a double).
std::optional<nlohmann::json> flat_number(std::string_view text);

}  // namespace mtown::core
