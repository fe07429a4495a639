// RecvRing (the server's and the load generator's reads) against real sockets (stream
// socketpairs, and loopback TCP for a reset): bytes delivered whole and in order, the end
// of a stream told once, nothing after unwatch or for a reader that is gone, a watch on a
// reused descriptor kept apart from the old one, and more bytes in flight than the ring has
// buffers.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <cerrno>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include "io_uring_probe.hpp"
#include "loopback.hpp"
#include "mtown/core/recv_ring.hpp"
#include "socket_pair.hpp"

using mtown::core::RecvRing;

namespace {

using Pair = mtown::test::SocketPair;

struct Collector : RecvRing::Reader {
  std::string bytes;
  int calls = 0;
  std::vector<int> ends;  // each on_read_end's error
  void on_bytes(const char* data, std::size_t n) override {
    ++calls;
    bytes.append(data, n);
  }
  void on_read_end(int error) override { ends.push_back(error); }
};

void run_for(boost::asio::io_context& ioc, int ms = 50) {
  ioc.restart();
  ioc.run_for(std::chrono::milliseconds(ms));
}

// Null (and the rest of the case skipped) only where the kernel refuses what the ring needs.
std::unique_ptr<RecvRing> open_ring(boost::asio::io_context& ioc) {
  auto ring = RecvRing::open(ioc);
  const bool usable = mtown::test::io_uring_multishot_recv_usable();
  INFO("the kernel allows io_uring with multishot receive: " << usable);
  CHECK(static_cast<bool>(ring) == usable);
  if (!ring) WARN("no io_uring here: RecvRing is not exercised (the server and the load generator read with epoll)");
  return ring;
}

}  // namespace

TEST_CASE("recv ring: bytes in order, nothing when nothing arrives, the end told once", "[recv_ring]") {
  boost::asio::io_context ioc;
  auto ring = open_ring(ioc);
  if (!ring) return;
  Pair p;
  auto reader = std::make_shared<Collector>();
  REQUIRE(ring->watch(p.ours, reader));
  run_for(ioc);
  CHECK(reader->calls == 0);
  REQUIRE(p.send_from_peer("one,"));
  run_for(ioc);
  CHECK(reader->bytes == "one,");
  REQUIRE(p.send_from_peer("two,"));
  REQUIRE(p.send_from_peer("three"));
  run_for(ioc);
  CHECK(reader->bytes == "one,two,three");
  CHECK(reader->ends.empty());
  p.close_peer();
  run_for(ioc);
  CHECK(reader->ends == std::vector<int>{0});  // the peer closed
  CHECK(ring->watched() == 0);                 // the watch ended with the stream
  run_for(ioc);
  CHECK(reader->ends.size() == 1);
}

TEST_CASE("recv ring: unwatched or gone readers are not called", "[recv_ring]") {
  boost::asio::io_context ioc;
  auto ring = open_ring(ioc);
  if (!ring) return;
  Pair a, b;
  auto kept = std::make_shared<Collector>();
  auto gone = std::make_shared<Collector>();
  REQUIRE(ring->watch(a.ours, kept));
  REQUIRE(ring->watch(b.ours, gone));
  CHECK(ring->watched() == 2);
  ring->unwatch(a.ours);
  CHECK(ring->watched() == 1);
  std::weak_ptr<Collector> was(gone);
  gone.reset();
  REQUIRE(a.send_from_peer("x"));
  REQUIRE(b.send_from_peer("y"));
  run_for(ioc);  // b's reader is gone: its bytes are dropped, no crash
  CHECK(kept->calls == 0);
  CHECK(kept->ends.empty());  // unwatch is not an end of stream
  CHECK(was.expired());
  // The unwatched socket's bytes are still there for whoever reads it next.
  char buf[8];
  CHECK(::recv(a.ours, buf, sizeof buf, MSG_DONTWAIT) == 1);
}

TEST_CASE("recv ring: a new watch on a reused descriptor gets only the new bytes", "[recv_ring]") {
  boost::asio::io_context ioc;
  auto ring = open_ring(ioc);
  if (!ring) return;
  auto first = std::make_shared<Collector>();
  auto second = std::make_shared<Collector>();
  int fd = -1;
  {
    Pair p;
    fd = p.ours;
    REQUIRE(ring->watch(p.ours, first));
    REQUIRE(p.send_from_peer("old"));
    run_for(ioc);
    ring->unwatch(p.ours);
    REQUIRE(p.send_from_peer("late"));  // after the unwatch: nobody's
  }
  Pair q;  // the lowest free descriptors: the ones just closed
  REQUIRE(q.ours == fd);
  REQUIRE(ring->watch(q.ours, second));
  REQUIRE(q.send_from_peer("new"));
  run_for(ioc);  // reaps the old receive's cancellation too, after the new watch
  CHECK(first->bytes == "old");
  CHECK(second->bytes == "new");
  CHECK(first->ends.empty());
  CHECK(second->ends.empty());  // the old receive's end is not the new one's
}

TEST_CASE("recv ring: a connection reset ends the stream with its error", "[recv_ring]") {
  namespace net = boost::asio;
  net::io_context ioc;
  auto ring = open_ring(ioc);
  if (!ring) return;
  net::ip::tcp::socket client(ioc);
  net::ip::tcp::socket server = mtown::test::accept_loopback(ioc, client);
  auto reader = std::make_shared<Collector>();
  REQUIRE(ring->watch(client.native_handle(), reader));
  net::write(server, net::buffer(std::string("before")));
  run_for(ioc);
  server.set_option(net::socket_base::linger(true, 0));
  server.close();  // a reset
  run_for(ioc);
  CHECK(reader->bytes == "before");
  CHECK(reader->ends == std::vector<int>{ECONNRESET});
}

TEST_CASE("recv ring: more bytes in flight than the ring has buffers all arrive, in order", "[recv_ring]") {
  boost::asio::io_context ioc;
  auto ring = open_ring(ioc);
  if (!ring) return;
  // 300 sockets x 48 KiB: 14 MiB waiting at once, against 8 MiB of receive buffers, so
  // receives run out of buffers (ENOBUFS) and must be armed again after a batch.
  constexpr int kSockets = 300;
  constexpr std::size_t kBytes = 48 * 1024;
  std::vector<std::unique_ptr<Pair>> pairs;
  std::vector<std::shared_ptr<Collector>> readers;
  std::vector<std::string> sent;
  for (int i = 0; i < kSockets; ++i) {
    pairs.push_back(std::make_unique<Pair>());
    readers.push_back(std::make_shared<Collector>());
    std::string bytes(kBytes, '\0');
    for (std::size_t k = 0; k < kBytes; ++k) bytes[k] = static_cast<char>((k * 31 + static_cast<std::size_t>(i)) & 0xff);
    int size = static_cast<int>(kBytes * 2);
    ::setsockopt(pairs.back()->peer, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    REQUIRE(pairs.back()->send_from_peer(bytes));
    sent.push_back(std::move(bytes));
  }
  for (int i = 0; i < kSockets; ++i) REQUIRE(ring->watch(pairs[static_cast<std::size_t>(i)]->ours, readers[static_cast<std::size_t>(i)]));
  for (int round = 0; round < 40; ++round) {
    run_for(ioc, 50);
    bool all = true;
    for (const auto& r : readers) all = all && r->bytes.size() >= kBytes;
    if (all) break;
  }
  for (int i = 0; i < kSockets; ++i) {
    INFO("socket " << i);
    REQUIRE(readers[static_cast<std::size_t>(i)]->bytes.size() == kBytes);
    CHECK(readers[static_cast<std::size_t>(i)]->bytes == sent[static_cast<std::size_t>(i)]);
  }
  CHECK(ring->watched() == static_cast<std::size_t>(kSockets));  // every receive still armed
}
