// A connection's send queue: seq numbering, the byte bound and exact byte accounting.
#include <numeric>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "mtown/server/outbound_queue.hpp"

using mtown::core::encode_message;
using mtown::core::SharedMessage;
using mtown::core::ServerType;
using mtown::server::OutboundQueue;
using nlohmann::json;

namespace {

SharedMessage message(std::size_t text_bytes) {
  return encode_message(ServerType::chat, {{"text", std::string(text_bytes, 'x')}});
}

// The frame a writer sends for an entry: prefix + body without its '{'.
std::string frame(const OutboundQueue::Entry& e) { return e.prefix + std::string(mtown::core::body_tail(e.message->body)); }

}  // namespace

TEST_CASE("outbound queue: seq numbers start at 1 and have no gaps", "[outbound_queue]") {
  OutboundQueue q(1 << 20);
  CHECK(q.empty());
  CHECK(q.last_seq() == 0);
  const auto m = message(10);
  for (int i = 0; i < 12; ++i) REQUIRE(q.push(m));
  CHECK(q.size() == 12);
  CHECK(q.last_seq() == 12);
  for (std::uint64_t seq = 1; seq <= 12; ++seq) {
    INFO(seq);
    CHECK(q.front().prefix == "{\"seq\":" + std::to_string(seq) + ",");
    CHECK(q.front().message == m);  // shared, not copied
    const json j = json::parse(frame(q.front()));
    CHECK(j["seq"] == seq);
    CHECK(j["type"] == "chat");
    q.pop();
  }
  CHECK(q.empty());
  CHECK(q.bytes() == 0);
  REQUIRE(q.push(m));
  CHECK(q.back().prefix == R"({"seq":13,)");
}

TEST_CASE("outbound queue: bytes() is the exact size of the queued frames", "[outbound_queue]") {
  OutboundQueue q(1 << 20);
  std::vector<std::size_t> sizes;
  for (std::size_t n : {0u, 1u, 100u, 5000u, 7u}) {
    REQUIRE(q.push(message(n)));
    CHECK(q.back().bytes() == frame(q.back()).size());
    sizes.push_back(q.back().bytes());
    CHECK(q.bytes() == std::accumulate(sizes.begin(), sizes.end(), std::size_t{0}));
  }
  q.pop();  // removes sizes[0]
  CHECK(q.bytes() == sizes[1] + sizes[2] + sizes[3] + sizes[4]);
  q.pop_back();  // removes sizes[4]
  CHECK(q.bytes() == sizes[1] + sizes[2] + sizes[3]);
  CHECK(q.size() == 3);
  CHECK(q.front().prefix == R"({"seq":2,)");
  CHECK(q.back().prefix == R"({"seq":4,)");
  q.clear();
  CHECK(q.empty());
  CHECK(q.bytes() == 0);
  // Dropped messages keep their numbers: the connection is closing anyway, and reusing a
  // seq would let a client see two different messages with one number.
  CHECK(q.last_seq() == 5);
  REQUIRE(q.push(message(1)));
  CHECK(q.front().prefix == R"({"seq":6,)");
}

TEST_CASE("outbound queue: the byte bound refuses a push that would exceed it", "[outbound_queue]") {
  const auto m = message(50);
  OutboundQueue probe(1 << 20);
  REQUIRE(probe.push(m));
  const std::size_t one = probe.back().bytes();  // seq 1..9 all have one-digit prefixes

  OutboundQueue q(2 * one);  // room for exactly two
  REQUIRE(q.push(m));
  REQUIRE(q.push(m));
  CHECK(q.bytes() == 2 * one);
  CHECK_FALSE(q.push(m));
  CHECK_FALSE(q.push(message(0)));
  CHECK(q.size() == 2);
  CHECK(q.bytes() == 2 * one);
  CHECK(q.last_seq() == 2);  // a refused push takes no number

  q.pop();
  REQUIRE(q.push(m));
  CHECK(q.back().prefix == R"({"seq":3,)");
  CHECK(q.bytes() == 2 * one);

  OutboundQueue just_under(2 * one - 1);
  REQUIRE(just_under.push(m));
  CHECK_FALSE(just_under.push(m));
  CHECK(just_under.bytes() == one);
}

TEST_CASE("outbound queue: an empty queue takes one oversized message", "[outbound_queue]") {
  OutboundQueue q(64);
  const auto big = message(1000);
  REQUIRE(q.push(big));
  CHECK(q.bytes() > 64);
  CHECK(q.bytes() == frame(q.front()).size());
  CHECK_FALSE(q.push(message(0)));
  CHECK(q.last_seq() == 1);
  q.pop();
  CHECK(q.bytes() == 0);
  REQUIRE(q.push(big));  // empty again: takes it again
  CHECK(q.front().prefix == R"({"seq":2,)");
}
