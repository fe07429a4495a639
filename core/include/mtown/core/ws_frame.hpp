// WebSocket frames (RFC 6455 section 5.2) on the hot paths that bypass Beast after the
// handshake: the header of a server's frame (WsSession writes its messages with it; Beast
// writes the same bytes), the masked header and payload of a client's frame, and a reader
// of any frame's header. Pure functions, no I/O; no extensions are ever negotiated, so a
// reserved bit is an error.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>

namespace mtown::core {

namespace ws_opcode {
constexpr int continuation = 0x0, text = 0x1, binary = 0x2, close = 0x8, ping = 0x9, pong = 0xA;
}

struct FrameHeader {
  std::array<unsigned char, 14> bytes{};
  std::size_t size = 0;  // 2, 4 or 10, plus 4 when masked
};

// Final, with no extension bits, the payload length in the shortest form, and the mask
// key when masked. Inline: the server builds one for every frame it sends.
inline FrameHeader frame_header(int opcode, std::uint64_t payload_bytes, bool masked, std::uint32_t key) {
  FrameHeader h;
  h.bytes[0] = static_cast<unsigned char>(0x80 | opcode);  // FIN + opcode
  const unsigned char mask_bit = masked ? 0x80 : 0;
  std::size_t at = 2;
  if (payload_bytes < 126) {
    h.bytes[1] = static_cast<unsigned char>(mask_bit | payload_bytes);
  } else {
    const int length_bytes = payload_bytes <= 0xFFFF ? 2 : 8;
    h.bytes[1] = static_cast<unsigned char>(mask_bit | (length_bytes == 2 ? 126 : 127));
    for (int i = 0; i < length_bytes; ++i)  // network byte order
      h.bytes[at++] = static_cast<unsigned char>(payload_bytes >> (8 * (length_bytes - 1 - i)));
  }
  if (masked)
    for (int i = 0; i < 4; ++i) h.bytes[at++] = static_cast<unsigned char>(key >> (8 * (3 - i)));
  h.size = at;
  return h;
}

// A server's frame: unmasked.
inline FrameHeader server_frame_header(bool binary, std::uint64_t payload_bytes) {
  return frame_header(binary ? ws_opcode::binary : ws_opcode::text, payload_bytes, false, 0);
}

// A client's frame: masked with `key` (a client must mask every frame); the payload must
// be masked with the same key (mask_payload).
inline FrameHeader client_frame_header(int opcode, std::uint64_t payload_bytes, std::uint32_t key) {
  return frame_header(opcode, payload_bytes, true, key);
}

// XORs data with the 4-byte key as RFC 6455 5.3 does, `offset` bytes into the payload
// (so a payload can be masked or unmasked in pieces). Its own inverse.
void mask_payload(unsigned char* data, std::size_t n, std::uint32_t key, std::uint64_t offset = 0);

struct FrameInfo {
  bool fin = false;
  int opcode = 0;
  bool masked = false;
  std::uint32_t key = 0;
  std::size_t header_bytes = 0;
  std::uint64_t payload_bytes = 0;
};

enum class FrameRead {
  need_more,  // fewer bytes than the header
  ok,
  bad,  // a reserved bit or opcode, a fragmented or over-125-byte control frame, a
        // length with its top bit set, or one not in its shortest form
};

FrameRead read_frame_header(const unsigned char* data, std::size_t n, FrameInfo& out);

}  // namespace mtown::core
