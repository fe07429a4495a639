#include "mtown/core/room_code.hpp"

static_assert(mtown::core::kRoomCodeAlphabet.size() == 32, "5 bits per character");

namespace mtown::core {

std::string room_code_from_bits(std::uint32_t bits) {
  std::string code(kRoomCodeLength, ' ');
  for (std::size_t i = 0; i < kRoomCodeLength; ++i) {
    code[i] = kRoomCodeAlphabet[bits & 31u];
    bits >>= 5;
  }
  return code;
}

std::optional<std::string> normalize_room_code(std::string_view typed) {
  if (typed.size() != kRoomCodeLength) return std::nullopt;
  std::string code(typed);
  for (char& c : code) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (kRoomCodeAlphabet.find(c) == std::string_view::npos) return std::nullopt;
  }
  return code;
}

}  // namespace mtown::core
