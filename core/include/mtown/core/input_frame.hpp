// The fast path of the message that comes at 20-60 Hz per player: an `input` in
// mtown.v1.json written the way JSON serializers write it (no white space, no rid, keys in
// any order; flat_json.hpp) with its input_seq. scan_input_frame() recognizes it without building a JSON
// tree and hands `data` on as text for the game's own parser (games::input_text_parser).
// Anything else, and every input it declines, takes ProtocolDecoder::decode, which gives
// the same result for every text this accepts (tests/unit/test_input_frame.cpp).
#pragma once
#include <cstdint>
#include <optional>
#include <string_view>

namespace mtown::core {

struct InputFrame {
  std::uint64_t input_seq = 0;
  std::string_view data;        // the `data` object's text, flat (no nested objects)
};

std::optional<InputFrame> scan_input_frame(std::string_view text);

}  // namespace mtown::core
