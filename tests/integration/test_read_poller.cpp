// The load generator's ReadPoller against real sockets (stream socketpairs): one call per
// edge of new bytes, none after unwatch or once the reader is gone, and many sockets'
// edges from one wake of the io_context.
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <memory>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "read_poller.hpp"
#include "socket_pair.hpp"

using mtown::loadtest::ReadPoller;

namespace {

using Pair = mtown::test::SocketPair;

struct Counter : ReadPoller::Reader {
  int calls = 0;
  int fd = -1;
  bool drain = true;  // read everything at each call, as a bot does before it waits again
  void on_readable() override {
    ++calls;
    char buf[256];
    while (drain && ::recv(fd, buf, sizeof buf, MSG_DONTWAIT) > 0) {
    }
  }
};

void run_for_a_moment(boost::asio::io_context& ioc) {
  ioc.restart();
  ioc.run_for(std::chrono::milliseconds(50));
}

}  // namespace

TEST_CASE("read poller: one call per edge of new bytes, none when nothing arrives", "[read_poller]") {
  boost::asio::io_context ioc;
  ReadPoller poller(ioc);
  Pair p;
  auto reader = std::make_shared<Counter>();
  reader->fd = p.ours;
  REQUIRE(poller.watch(p.ours, reader));
  run_for_a_moment(ioc);
  CHECK(reader->calls == 0);  // nothing to read yet
  REQUIRE(p.send_from_peer("one"));
  run_for_a_moment(ioc);
  CHECK(reader->calls == 1);
  run_for_a_moment(ioc);
  CHECK(reader->calls == 1);  // edge-triggered: no new bytes, no call
  REQUIRE(p.send_from_peer("two"));
  run_for_a_moment(ioc);
  CHECK(reader->calls == 2);
}

TEST_CASE("read poller: unwatched or gone readers are not called", "[read_poller]") {
  boost::asio::io_context ioc;
  ReadPoller poller(ioc);
  Pair a, b;
  auto kept = std::make_shared<Counter>();
  kept->fd = a.ours;
  auto gone = std::make_shared<Counter>();
  gone->fd = b.ours;
  REQUIRE(poller.watch(a.ours, kept));
  REQUIRE(poller.watch(b.ours, gone));
  CHECK(poller.watched() == 2);
  poller.unwatch(a.ours);
  CHECK(poller.watched() == 1);
  std::weak_ptr<Counter> was(gone);
  gone.reset();
  REQUIRE(a.send_from_peer("x"));
  REQUIRE(b.send_from_peer("y"));
  run_for_a_moment(ioc);  // b's reader is gone: skipped, no crash
  CHECK(kept->calls == 0);
  CHECK(was.expired());
}

TEST_CASE("read poller: many sockets' edges are taken in one wake, each once", "[read_poller]") {
  boost::asio::io_context ioc;
  ReadPoller poller(ioc);
  constexpr int kPairs = 300;  // more than one epoll_wait batch (256)
  std::vector<std::unique_ptr<Pair>> pairs;
  std::vector<std::shared_ptr<Counter>> readers;
  for (int i = 0; i < kPairs; ++i) {
    pairs.push_back(std::make_unique<Pair>());
    readers.push_back(std::make_shared<Counter>());
    readers.back()->fd = pairs.back()->ours;
    REQUIRE(poller.watch(pairs.back()->ours, readers.back()));
  }
  for (auto& p : pairs) REQUIRE(p->send_from_peer("tick"));
  run_for_a_moment(ioc);
  for (int i = 0; i < kPairs; ++i) {
    INFO("socket " << i);
    CHECK(readers[static_cast<std::size_t>(i)]->calls == 1);
  }
}

TEST_CASE("read poller: a closed peer is an edge too", "[read_poller]") {
  boost::asio::io_context ioc;
  ReadPoller poller(ioc);
  int fds[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) == 0);
  auto reader = std::make_shared<Counter>();
  reader->fd = fds[0];
  REQUIRE(poller.watch(fds[0], reader));
  ::close(fds[1]);
  run_for_a_moment(ioc);
  CHECK(reader->calls == 1);  // the bot's read then finds end of stream
  char c;
  CHECK(::recv(fds[0], &c, 1, MSG_DONTWAIT) == 0);
  poller.unwatch(fds[0]);
  ::close(fds[0]);
}
