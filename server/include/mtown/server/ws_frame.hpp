// The header of a server's WebSocket frame (RFC 6455 section 5.2): final, unmasked, with no
// extension bits, its payload length in the shortest form. WsSession writes its messages
// with it when it sends them itself (stream.hpp); Beast writes the same bytes.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>

namespace mtown::server {

struct FrameHeader {
  std::array<unsigned char, 10> bytes{};
  std::size_t size = 0;  // 2, 4 or 10
};

inline FrameHeader server_frame_header(bool binary, std::uint64_t payload_bytes) {
  FrameHeader h;
  h.bytes[0] = 0x80 | (binary ? 0x2 : 0x1);  // FIN + opcode
  if (payload_bytes < 126) {
    h.bytes[1] = static_cast<unsigned char>(payload_bytes);
    h.size = 2;
    return h;
  }
  const int length_bytes = payload_bytes <= 0xFFFF ? 2 : 8;
  h.bytes[1] = length_bytes == 2 ? 126 : 127;
  for (int i = 0; i < length_bytes; ++i)  // network byte order
    h.bytes[2 + i] = static_cast<unsigned char>(payload_bytes >> (8 * (length_bytes - 1 - i)));
  h.size = 2 + static_cast<std::size_t>(length_bytes);
  return h;
}

}  // namespace mtown::server
