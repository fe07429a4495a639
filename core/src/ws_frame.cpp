#include "mtown/core/ws_frame.hpp"

namespace mtown::core {

void mask_payload(unsigned char* data, std::size_t n, std::uint32_t key, std::uint64_t offset) {
  const unsigned char k[4] = {static_cast<unsigned char>(key >> 24), static_cast<unsigned char>(key >> 16),
                              static_cast<unsigned char>(key >> 8), static_cast<unsigned char>(key)};
  for (std::size_t i = 0; i < n; ++i) data[i] ^= k[(offset + i) & 3];
}

FrameRead read_frame_header(const unsigned char* p, std::size_t n, FrameInfo& out) {
  if (n < 2) return FrameRead::need_more;
  if (p[0] & 0x70) return FrameRead::bad;  // RSV1-3: no extension negotiated
  out.fin = (p[0] & 0x80) != 0;
  out.opcode = p[0] & 0x0F;
  const bool control = out.opcode >= 0x8;
  const bool known = out.opcode <= ws_opcode::binary || (control && out.opcode <= ws_opcode::pong);
  if (!known) return FrameRead::bad;
  out.masked = (p[1] & 0x80) != 0;
  const unsigned len7 = p[1] & 0x7F;
  if (control && (!out.fin || len7 > 125)) return FrameRead::bad;
  std::size_t at = 2;
  if (len7 < 126) {
    out.payload_bytes = len7;
  } else {
    const std::size_t length_bytes = len7 == 126 ? 2 : 8;
    if (n < at + length_bytes) return FrameRead::need_more;
    std::uint64_t len = 0;
    for (std::size_t i = 0; i < length_bytes; ++i) len = (len << 8) | p[at + i];
    at += length_bytes;
    const bool shortest = length_bytes == 2 ? len >= 126 : len > 0xFFFF;
    if (!shortest || (len >> 63)) return FrameRead::bad;
    out.payload_bytes = len;
  }
  out.key = 0;
  if (out.masked) {
    if (n < at + 4) return FrameRead::need_more;
    out.key = (std::uint32_t{p[at]} << 24) | (std::uint32_t{p[at + 1]} << 16) | (std::uint32_t{p[at + 2]} << 8) |
              std::uint32_t{p[at + 3]};
    at += 4;
  }
  out.header_bytes = at;
  return FrameRead::ok;
}

}  // namespace mtown::core
