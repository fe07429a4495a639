#include <catch2/catch.hpp>

#include <vector>

#include "mtown/server/ws_frame.hpp"

using mtown::server::server_frame_header;

namespace {
std::vector<unsigned> bytes_of(bool binary, std::uint64_t n) {
  const auto h = server_frame_header(binary, n);
  return {h.bytes.begin(), h.bytes.begin() + static_cast<long>(h.size)};
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
