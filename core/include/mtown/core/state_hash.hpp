// The canonical state hash: FNV-1a (64-bit) over a fixed encoding that games feed field
// by field in a documented order. Integers are hashed as 8 little-endian bytes, booleans
// as one byte, strings as their length (8 bytes) then their bytes. No floats: games keep
// their state in integers so the hash cannot depend on the compiler or the CPU.
#pragma once
#include <cstdint>
#include <string_view>

namespace mtown::core {

class StateHasher {
 public:
  StateHasher& add(std::uint64_t v) {
    for (int i = 0; i < 8; ++i) byte(static_cast<std::uint8_t>(v >> (8 * i)));
    return *this;
  }
  StateHasher& add(std::int64_t v) { return add(static_cast<std::uint64_t>(v)); }
  StateHasher& add(int v) { return add(static_cast<std::int64_t>(v)); }
  StateHasher& add(std::uint32_t v) { return add(static_cast<std::uint64_t>(v)); }
  StateHasher& add(bool v) {
    byte(v ? 1 : 0);
    return *this;
  }
  StateHasher& add(std::string_view s) {
    add(static_cast<std::uint64_t>(s.size()));
    for (char c : s) byte(static_cast<std::uint8_t>(c));
    return *this;
  }
  StateHasher& add(const char* s) { return add(std::string_view(s)); }  // not the bool overload
  std::uint64_t value() const { return h_; }

 private:
  void byte(std::uint8_t b) {
    h_ ^= b;
    h_ *= 0x100000001B3ull;
  }
  std::uint64_t h_ = 0xCBF29CE484222325ull;
};

}  // namespace mtown::core
