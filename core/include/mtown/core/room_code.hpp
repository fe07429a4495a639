// Four-character room codes from an alphabet without look-alikes (no 0/O, 1/I).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mtown::core {

inline constexpr std::string_view kRoomCodeAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
inline constexpr std::size_t kRoomCodeLength = 4;

// Maps 20 bits of `bits` to a code; every code is reachable and equally likely.
std::string room_code_from_bits(std::uint32_t bits);

// Upper-cases and checks a user-typed code; nullopt when it cannot be a room code.
std::optional<std::string> normalize_room_code(std::string_view typed);

}  // namespace mtown::core
