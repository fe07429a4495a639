// Room codes: the alphabet, the bits -> code bijection over all 2^20 codes, and parsing of
// user-typed codes.
#include <array>
#include <optional>
#include <set>
#include <string>
#include <unordered_set>

#include <catch2/catch.hpp>

#include "mtown/core/room_code.hpp"

using mtown::core::kRoomCodeAlphabet;
using mtown::core::kRoomCodeLength;
using mtown::core::normalize_room_code;
using mtown::core::room_code_from_bits;

TEST_CASE("room code: alphabet has 32 unique characters without look-alikes", "[room_code]") {
  REQUIRE(kRoomCodeAlphabet.size() == 32);
  REQUIRE(kRoomCodeLength == 4);
  const std::set<char> unique(kRoomCodeAlphabet.begin(), kRoomCodeAlphabet.end());
  CHECK(unique.size() == 32);
  for (char banned : {'0', 'O', '1', 'I'}) CHECK(unique.count(banned) == 0);
  for (char c : kRoomCodeAlphabet) {
    INFO(c);
    CHECK(((c >= 'A' && c <= 'Z') || (c >= '2' && c <= '9')));
  }
}

TEST_CASE("room code: every 20-bit value maps to a distinct valid code", "[room_code]") {
  constexpr std::uint32_t kCodes = 1u << 20;
  // Codes are kept packed (4 bytes -> one integer, an exact encoding) to keep the set cheap.
  std::unordered_set<std::uint32_t> seen;
  seen.reserve(kCodes);
  // Every character must appear equally often at every position ("equally likely").
  std::array<std::array<std::uint32_t, 256>, kRoomCodeLength> per_position{};
  std::uint32_t bad = 0;
  for (std::uint32_t bits = 0; bits < kCodes; ++bits) {
    const std::string code = room_code_from_bits(bits);
    if (code.size() != kRoomCodeLength) {
      FAIL_CHECK("code of length " << code.size() << " for bits " << bits);
      continue;
    }
    std::uint32_t packed = 0;
    for (std::size_t i = 0; i < kRoomCodeLength; ++i) {
      const auto c = static_cast<unsigned char>(code[i]);
      bad += kRoomCodeAlphabet.find(code[i]) == std::string_view::npos;
      ++per_position[i][c];
      packed = packed << 8 | c;
    }
    seen.insert(packed);
  }
  CHECK(bad == 0);
  CHECK(seen.size() == kCodes);
  for (std::size_t i = 0; i < kRoomCodeLength; ++i)
    for (char c : kRoomCodeAlphabet) {
      INFO("position " << i << " char " << c);
      CHECK(per_position[i][static_cast<unsigned char>(c)] == kCodes / 32);
    }
}

TEST_CASE("room code: bits above the low 20 do not matter; codes round-trip", "[room_code]") {
  const std::uint32_t samples[] = {0u, 1u, 31u, 32u, 0x5A5A5u, 0xFFFFFu};
  for (std::uint32_t bits : samples) {
    INFO(bits);
    const std::string code = room_code_from_bits(bits);
    CHECK(room_code_from_bits(bits | 0xFFF00000u) == code);
    CHECK(room_code_from_bits(bits | 0x00100000u) == code);
    CHECK(normalize_room_code(code) == code);
  }
  CHECK(room_code_from_bits(0) == "AAAA");
  CHECK(room_code_from_bits(0xFFFFF) == "9999");
}

TEST_CASE("room code: normalize_room_code", "[room_code]") {
  struct Row {
    std::string typed;
    std::optional<std::string> expected;
  };
  const Row rows[] = {
      {"KX7P", "KX7P"},
      {"kx7p", "KX7P"},
      {"Kx7p", "KX7P"},
      {"abcd", "ABCD"},
      {"zz29", "ZZ29"},
      {"9999", "9999"},
      {"", std::nullopt},
      {"ABC", std::nullopt},
      {"ABCDE", std::nullopt},
      {"0ABC", std::nullopt},
      {"OABC", std::nullopt},
      {"oABC", std::nullopt},  // lower-case o is still O
      {"1ABC", std::nullopt},
      {"IABC", std::nullopt},
      {"iABC", std::nullopt},
      {"AB-C", std::nullopt},
      {"AB C", std::nullopt},
      {" ABC", std::nullopt},
      {"AB_C", std::nullopt},
      {"\xC3\x84" "BC", std::nullopt},  // "ÄBC": 4 bytes, 3 characters
      {std::string("AB\0C", 4), std::nullopt},
  };
  for (const auto& row : rows) {
    INFO('"' << row.typed << '"');
    CHECK(normalize_room_code(row.typed) == row.expected);
  }
}
