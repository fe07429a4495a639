#include "mtown/core/input_frame.hpp"

#include <charconv>

#include "mtown/core/flat_json.hpp"

namespace mtown::core {

namespace {
constexpr std::uint64_t kMaxInputSeq = 9007199254740991;  // input.json: 2^53 - 1
}

std::optional<InputFrame> scan_input_frame(std::string_view text) {
  FlatJsonObject msg(text, /*nested=*/true);
  InputFrame frame;
  bool type = false, seq = false, data = false;
  std::string_view key, value;
  FlatKind kind;
  while (msg.next(key, value, kind)) {
    if (key == "type" && !type && kind == FlatKind::string && value == "input") {
      type = true;
    } else if (key == "input_seq" && !seq && kind == FlatKind::number) {
      // A plain non-negative integer in range; "-0", fractions and the rest are the decoder's.
      const auto r = std::from_chars(value.data(), value.data() + value.size(), frame.input_seq);
      if (r.ec != std::errc() || r.ptr != value.data() + value.size() || frame.input_seq > kMaxInputSeq)
        return std::nullopt;
      seq = true;
    } else if (key == "data" && !data && kind == FlatKind::object) {
      frame.data = value;
      data = true;
    } else {
      return std::nullopt;  // a rid, a repeated or unknown key, a value of another type
    }
  }
  if (!msg.complete() || !type || !seq || !data) return std::nullopt;
  return frame;
}

}  // namespace mtown::core
