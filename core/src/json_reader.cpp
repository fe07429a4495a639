#include "mtown/core/json_reader.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "mtown/core/text.hpp"

namespace mtown::core {
namespace {

using nlohmann::json;

// What each byte is inside a JSON string: one table lookup per byte instead of four tests.
constexpr unsigned char kEndsRun = 1;   // the quote, a backslash or a control character
constexpr unsigned char kNotAscii = 2;  // part of a UTF-8 sequence, checked with the run
constexpr std::array<unsigned char, 256> kStringByte = [] {
  std::array<unsigned char, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[c] = kEndsRun;
  t['"'] = t['\\'] = kEndsRun;
  for (int c = 0x80; c < 0x100; ++c) t[c] = kNotAscii;
  return t;
}();

class Reader {
 public:
  Reader(std::string_view text, int max_depth) : p_(text.data()), end_(text.data() + text.size()), max_depth_(max_depth) {}

  std::optional<json> document() {
    if (end_ - p_ >= 3 && p_[0] == '\xEF' && p_[1] == '\xBB' && p_[2] == '\xBF') p_ += 3;  // as nlohmann: skip a BOM
    json out;
    skip_ws();
    if (!value(out, 0)) return std::nullopt;
    skip_ws();
    if (p_ != end_) return std::nullopt;
    return out;
  }

 private:
  void skip_ws() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
  }

  bool literal(std::string_view word) {
    if (static_cast<std::size_t>(end_ - p_) < word.size() || std::string_view(p_, word.size()) != word) return false;
    p_ += word.size();
    return true;
  }

  bool value(json& out, int depth) {
    if (p_ == end_) return false;
    switch (*p_) {
      case '{': return object(out, depth + 1);
      case '[': return array(out, depth + 1);
      case '"': {
        std::string s;
        if (!string(s)) return false;
        out = std::move(s);
        return true;
      }
      case 't': out = true; return literal("true");
      case 'f': out = false; return literal("false");
      case 'n': out = nullptr; return literal("null");
      default: return number(out);
    }
  }

  bool object(json& out, int depth) {
    if (depth > max_depth_) return false;
    ++p_;  // '{'
    out = json::object();
    auto& members = out.get_ref<json::object_t&>();
    skip_ws();
    if (p_ != end_ && *p_ == '}') return ++p_, true;
    for (;;) {
      std::string key;
      if (p_ == end_ || *p_ != '"' || !string(key)) return false;
      skip_ws();
      if (p_ == end_ || *p_ != ':') return false;
      ++p_;
      skip_ws();
      // Parsed in place; a repeated key's value is replaced (the last one wins).
      if (!value(members[std::move(key)], depth)) return false;
      skip_ws();
      if (p_ == end_) return false;
      if (*p_ == '}') return ++p_, true;
      if (*p_ != ',') return false;
      ++p_;
      skip_ws();
    }
  }

  bool array(json& out, int depth) {
    if (depth > max_depth_) return false;
    ++p_;  // '['
    out = json::array();
    auto& items = out.get_ref<json::array_t&>();
    skip_ws();
    if (p_ != end_ && *p_ == ']') return ++p_, true;
    for (;;) {
      items.emplace_back();
      if (!value(items.back(), depth)) return false;
      skip_ws();
      if (p_ == end_) return false;
      if (*p_ == ']') return ++p_, true;
      if (*p_ != ',') return false;
      ++p_;
      skip_ws();
    }
  }

  static bool digit(char c) { return c >= '0' && c <= '9'; }

  bool number(json& out) {
    const char* start = p_;
    const bool negative = p_ != end_ && *p_ == '-';
    if (negative) ++p_;
    if (p_ == end_ || !digit(*p_)) return false;
    const char* digits = p_;
    if (*p_ == '0') ++p_;  // no leading zeros
    else
      while (p_ != end_ && digit(*p_)) ++p_;
    bool integer = true;
    const char* point = nullptr;
    if (p_ != end_ && *p_ == '.') {
      integer = false;
      point = p_;
      ++p_;
      if (p_ == end_ || !digit(*p_)) return false;
      while (p_ != end_ && digit(*p_)) ++p_;
    }
    if (point && (p_ == end_ || (*p_ != 'e' && *p_ != 'E')) && p_ - digits <= 16) {
      // A plain decimal of at most 15 digits, such as a move target 523.4: its digits and
      // the power of ten are exact doubles, so one division rounds correctly, as strtod.
      static constexpr double kPow10[16] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                            1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
      std::uint64_t m = 0;
      for (const char* c = digits; c != p_; ++c)
        if (c != point) m = m * 10 + static_cast<std::uint64_t>(*c - '0');
      const double d = static_cast<double>(m) / kPow10[p_ - point - 1];
      out = negative ? -d : d;
      return true;
    }
    if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
      integer = false;
      ++p_;
      if (p_ != end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (p_ == end_ || !digit(*p_)) return false;
      while (p_ != end_ && digit(*p_)) ++p_;
    }
    if (integer) {
      // In range: an integer of nlohmann's types; out of range it becomes a float, as there.
      if (negative) {
        std::int64_t v = 0;
        if (std::from_chars(start, p_, v).ec == std::errc()) return out = v, true;
      } else {
        std::uint64_t v = 0;
        if (std::from_chars(start, p_, v).ec == std::errc()) return out = v, true;
      }
    }
    // Correctly rounded like nlohmann's strtod; past the double range (where from_chars
    // reports an error) strtod itself decides: underflow gives zero or a subnormal, and,
    // as in nlohmann's parser, a float that overflows is an error.
    double d = 0;
    if (const auto r = std::from_chars(start, p_, d); r.ec != std::errc() || r.ptr != p_) {
      const std::string token(start, p_);
      d = std::strtod(token.c_str(), nullptr);
    }
    if (!std::isfinite(d)) return false;
    out = d;
    return true;
  }

  static int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  // The four hex digits after "\u"; -1 if they are not.
  int code_unit() {
    if (end_ - p_ < 4) return -1;
    int v = 0;
    for (int i = 0; i < 4; ++i) {
      const int h = hex(p_[i]);
      if (h < 0) return -1;
      v = v * 16 + h;
    }
    p_ += 4;
    return v;
  }

  static void append_utf8(std::string& s, std::uint32_t cp) {
    if (cp < 0x80) {
      s += static_cast<char>(cp);
    } else if (cp < 0x800) {
      s += static_cast<char>(0xC0 | (cp >> 6));
      s += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      s += static_cast<char>(0xE0 | (cp >> 12));
      s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      s += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      s += static_cast<char>(0xF0 | (cp >> 18));
      s += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      s += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  bool escape(std::string& s) {
    if (p_ == end_) return false;
    const char c = *p_++;
    switch (c) {
      case '"': s += '"'; return true;
      case '\\': s += '\\'; return true;
      case '/': s += '/'; return true;
      case 'b': s += '\b'; return true;
      case 'f': s += '\f'; return true;
      case 'n': s += '\n'; return true;
      case 'r': s += '\r'; return true;
      case 't': s += '\t'; return true;
      case 'u': break;
      default: return false;
    }
    const int unit = code_unit();
    if (unit < 0 || (unit >= 0xDC00 && unit <= 0xDFFF)) return false;  // a low surrogate alone
    std::uint32_t cp = static_cast<std::uint32_t>(unit);
    if (unit >= 0xD800 && unit <= 0xDBFF) {  // must pair with a low surrogate
      if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') return false;
      p_ += 2;
      const int low = code_unit();
      if (low < 0xDC00 || low > 0xDFFF) return false;
      cp = 0x10000 + ((cp - 0xD800) << 10) + (static_cast<std::uint32_t>(low) - 0xDC00);
    }
    append_utf8(s, cp);
    return true;
  }

  bool string(std::string& s) {
    ++p_;  // '"'
    for (;;) {
      // The plain run up to the next quote, escape or control byte, in one append. A UTF-8
      // sequence holds none of those bytes, so each lies whole inside one run, which is
      // checked like any client text (RFC 3629, as nlohmann) when it is not plain ASCII.
      const char* run = p_;
      unsigned char seen = 0;
      while (p_ != end_) {
        const unsigned char k = kStringByte[static_cast<unsigned char>(*p_)];
        if (k & kEndsRun) break;
        seen |= k;
        ++p_;
      }
      const std::string_view text(run, static_cast<std::size_t>(p_ - run));
      if ((seen & kNotAscii) && !is_valid_utf8(text)) return false;
      s.append(text);
      if (p_ == end_) return false;
      const auto c = static_cast<unsigned char>(*p_);
      if (c == '"') return ++p_, true;
      if (c < 0x20) return false;  // control characters must be escaped
      ++p_;                        // a backslash
      if (!escape(s)) return false;
    }
  }

  const char* p_;
  const char* end_;
  int max_depth_;
};

}  // namespace

std::optional<nlohmann::json> read_json(std::string_view text, int max_depth) {
  return Reader(text, max_depth).document();
}

}  // namespace mtown::core
