#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "mtown/core/ws_frame.hpp"

using namespace mtown::core;

namespace {
std::vector<unsigned> bytes_of(const FrameHeader& h) {
  return {h.bytes.begin(), h.bytes.begin() + static_cast<long>(h.size)};
}
std::vector<unsigned> bytes_of(bool binary, std::uint64_t n) { return bytes_of(server_frame_header(binary, n)); }

FrameRead read(const std::vector<unsigned>& bytes, FrameInfo& info) {
  std::vector<unsigned char> b(bytes.begin(), bytes.end());
  return read_frame_header(b.data(), b.size(), info);
}
}  // namespace

TEST_CASE("server frame headers: FIN, opcode, unmasked, shortest length form", "[ws_frame]") {
  CHECK(bytes_of(false, 0) == std::vector<unsigned>{0x81, 0});
  CHECK(bytes_of(true, 5) == std::vector<unsigned>{0x82, 5});
  CHECK(bytes_of(false, 125) == std::vector<unsigned>{0x81, 125});
  CHECK(bytes_of(false, 126) == std::vector<unsigned>{0x81, 126, 0x00, 0x7E});
  CHECK(bytes_of(true, 0xFFFF) == std::vector<unsigned>{0x82, 126, 0xFF, 0xFF});
  CHECK(bytes_of(false, 0x10000) == std::vector<unsigned>{0x81, 127, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00});
  CHECK(bytes_of(false, 0x0102030405060708ULL) ==
        std::vector<unsigned>{0x81, 127, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08});
}

TEST_CASE("client frame headers carry the mask bit and key after the length", "[ws_frame]") {
  CHECK(bytes_of(client_frame_header(ws_opcode::text, 5, 0x37FA213D)) ==
        std::vector<unsigned>{0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D});
  CHECK(bytes_of(client_frame_header(ws_opcode::pong, 0, 1)) == std::vector<unsigned>{0x8A, 0x80, 0, 0, 0, 1});
  CHECK(bytes_of(client_frame_header(ws_opcode::binary, 300, 0xA1B2C3D4)) ==
        std::vector<unsigned>{0x82, 0xFE, 0x01, 0x2C, 0xA1, 0xB2, 0xC3, 0xD4});
}

TEST_CASE("masking follows RFC 6455's example and is its own inverse", "[ws_frame]") {
  // RFC 6455 5.7: a masked "Hello" with key 37 fa 21 3d is 7f 9f 4d 51 58.
  std::string s = "Hello";
  auto* p = reinterpret_cast<unsigned char*>(s.data());
  mask_payload(p, s.size(), 0x37FA213D);
  CHECK(std::vector<unsigned>(p, p + 5) == std::vector<unsigned>{0x7F, 0x9F, 0x4D, 0x51, 0x58});
  // Unmasked in two pieces, the second `offset` bytes in.
  mask_payload(p, 2, 0x37FA213D);
  mask_payload(p + 2, 3, 0x37FA213D, 2);
  CHECK(s == "Hello");
}

TEST_CASE("frame headers read back what was written", "[ws_frame]") {
  for (const std::uint64_t n : {0ULL, 125ULL, 126ULL, 0xFFFFULL, 0x10000ULL}) {
    FrameInfo info;
    REQUIRE(read(bytes_of(true, n), info) == FrameRead::ok);
    CHECK(info.fin);
    CHECK(info.opcode == ws_opcode::binary);
    CHECK_FALSE(info.masked);
    CHECK(info.payload_bytes == n);
    CHECK(info.header_bytes == server_frame_header(true, n).size);

    REQUIRE(read(bytes_of(client_frame_header(ws_opcode::text, n, 0xDEADBEEF)), info) == FrameRead::ok);
    CHECK(info.masked);
    CHECK(info.key == 0xDEADBEEF);
    CHECK(info.opcode == ws_opcode::text);
    CHECK(info.payload_bytes == n);
    CHECK(info.header_bytes == client_frame_header(ws_opcode::text, n, 0).size);
  }
}

TEST_CASE("a partial header asks for more bytes", "[ws_frame]") {
  FrameInfo info;
  const auto whole = bytes_of(client_frame_header(ws_opcode::text, 70000, 7));
  for (std::size_t n = 0; n < whole.size(); ++n)
    CHECK(read(std::vector<unsigned>(whole.begin(), whole.begin() + static_cast<long>(n)), info) ==
          FrameRead::need_more);
}

TEST_CASE("frames no peer may send are refused", "[ws_frame]") {
  FrameInfo info;
  CHECK(read({0xC1, 0x00}, info) == FrameRead::bad);                    // RSV1 (no deflate)
  CHECK(read({0x83, 0x00}, info) == FrameRead::bad);                    // reserved opcode 3
  CHECK(read({0x8B, 0x00}, info) == FrameRead::bad);                    // reserved control 0xB
  CHECK(read({0x09, 0x00}, info) == FrameRead::bad);                    // fragmented ping
  CHECK(read({0x89, 126, 0x00, 0x7E}, info) == FrameRead::bad);          // ping over 125 bytes
  CHECK(read({0x81, 126, 0x00, 0x05}, info) == FrameRead::bad);          // 16-bit length under 126
  CHECK(read({0x81, 127, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF}, info) == FrameRead::bad);  // 64-bit under 65536
  CHECK(read({0x81, 127, 0x80, 0, 0, 0, 0, 1, 0, 0}, info) == FrameRead::bad);    // top bit set
  CHECK(read({0x01, 0x03}, info) == FrameRead::ok);                      // a first fragment is fine
  CHECK_FALSE(info.fin);
  CHECK(read({0x80, 0x03}, info) == FrameRead::ok);                      // and its continuation
  CHECK(info.opcode == ws_opcode::continuation);
}
