#include "mtown/core/flat_json.hpp"

#include <charconv>

namespace mtown::core {

namespace {
bool digit(char c) { return c >= '0' && c <= '9'; }
}  // namespace

FlatJsonObject::FlatJsonObject(std::string_view text, bool nested) : text_(text), nested_(nested) {
  if (text_.empty() || text_[0] != '{') failed_ = true;
  at_ = 1;
}

bool FlatJsonObject::string_at(std::string_view& out) {
  if (at_ >= text_.size() || text_[at_] != '"') return fail();
  const auto start = ++at_;
  for (; at_ < text_.size(); ++at_) {
    const auto c = static_cast<unsigned char>(text_[at_]);
    if (c == '"') {
      out = text_.substr(start, at_++ - start);
      return true;
    }
    if (c == '\\' || c < 0x20 || c >= 0x80) return fail();  // escapes, controls, UTF-8: the full parser's
  }
  return fail();
}

bool FlatJsonObject::number_at(std::string_view& out) {
  const auto start = at_;
  if (at_ < text_.size() && text_[at_] == '-') ++at_;
  if (at_ >= text_.size() || !digit(text_[at_])) return fail();
  if (text_[at_] == '0') ++at_;  // no leading zeros
  else
    while (at_ < text_.size() && digit(text_[at_])) ++at_;
  if (at_ < text_.size() && text_[at_] == '.') {
    if (++at_ >= text_.size() || !digit(text_[at_])) return fail();
    while (at_ < text_.size() && digit(text_[at_])) ++at_;
  }
  if (at_ < text_.size() && (text_[at_] == 'e' || text_[at_] == 'E')) return fail();
  out = text_.substr(start, at_ - start);
  return true;
}

bool FlatJsonObject::next(std::string_view& key, std::string_view& value, FlatKind& kind) {
  if (failed_ || closed_) return false;
  if (at_ >= text_.size()) return fail();
  if (text_[at_] == '}') {
    ++at_;
    closed_ = true;
    return false;
  }
  if (!first_ && text_[at_++] != ',') return fail();
  first_ = false;
  if (!string_at(key)) return false;
  if (at_ >= text_.size() || text_[at_++] != ':') return fail();
  if (at_ >= text_.size()) return fail();
  const char c = text_[at_];
  if (c == '"') {
    kind = FlatKind::string;
    if (!string_at(value)) return false;
  } else if (c == '{') {
    if (!nested_) return fail();
    FlatJsonObject inner(text_.substr(at_));
    std::string_view k, v;
    FlatKind kk;
    while (inner.next(k, v, kk)) {
    }
    if (inner.failed() || !inner.closed_) return fail();
    kind = FlatKind::object;
    value = text_.substr(at_, inner.at_);
    at_ += inner.at_;
  } else {
    kind = FlatKind::number;
    if (!number_at(value)) return false;
  }
  if (at_ >= text_.size() || (text_[at_] != ',' && text_[at_] != '}')) return fail();
  return true;
}

std::optional<nlohmann::json> flat_number(std::string_view text) {
  const char* first = text.data();
  const char* last = text.data() + text.size();
  if (text.find('.') != std::string_view::npos) {
    double d = 0;
    const auto r = std::from_chars(first, last, d);
    if (r.ec != std::errc() || r.ptr != last) return std::nullopt;
    return nlohmann::json(d);
  }
  if (text[0] == '-') {
    std::int64_t i = 0;
    const auto r = std::from_chars(first, last, i);
    if (r.ec != std::errc() || r.ptr != last) return std::nullopt;
    return nlohmann::json(i);
  }
  std::uint64_t u = 0;
  const auto r = std::from_chars(first, last, u);
  if (r.ec != std::errc() || r.ptr != last) return std::nullopt;
  return nlohmann::json(u);
}

}  // namespace mtown::core
