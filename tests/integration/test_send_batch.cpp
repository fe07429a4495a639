// SendBatch against real sockets (stream socketpairs): sends wait for the outermost scope,
// then report what the kernel did, in order, through io_uring and through the one-sendmsg
// fallback alike. And the server's word on which way it sends. (The arena suite plays its
// games through batched sends too: integration.test_game_arena_one_thread.)
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <cerrno>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mtown/server/send_batch.hpp"
#include "io_uring_probe.hpp"
#include "socket_pair.hpp"
#include "test_server.hpp"

using mtown::server::SendBatch;

namespace {

using Pair = mtown::test::SocketPair;

struct Recorder : SendBatch::Target {
  struct Result {
    std::size_t sent;
    boost::system::error_code ec;
    int order;
  };
  std::vector<Result> results;
  int* clock;
  explicit Recorder(int* c) : clock(c) {}
  void batch_sent(std::size_t sent, boost::system::error_code ec) override { results.push_back({sent, ec, (*clock)++}); }
};

// A send of head + body as two buffers, as a frame header and its body go. Both must live
// until the batch is flushed.
void add(SendBatch& batch, int fd, const std::string& head, const std::string& body, std::shared_ptr<Recorder> to) {
  ::iovec iov[2] = {{const_cast<char*>(head.data()), head.size()}, {const_cast<char*>(body.data()), body.size()}};
  batch.add(fd, iov, 2, std::move(to));
}

struct Mode {
  bool io_uring;
  explicit Mode(bool on) : io_uring(on) { SendBatch::set_io_uring_allowed(on); }
  ~Mode() { SendBatch::set_io_uring_allowed(true); }
};

}  // namespace

TEST_CASE("send batch: sends wait for the outermost scope, then each reports its bytes in order", "[send_batch]") {
  const Mode mode(GENERATE(true, false));
  INFO("io_uring allowed: " << mode.io_uring << ", this thread has a ring: " << SendBatch::uses_io_uring());
  Pair a, b, c;
  int clock = 0;
  auto ra = std::make_shared<Recorder>(&clock), rb = std::make_shared<Recorder>(&clock), rc = std::make_shared<Recorder>(&clock);
  const std::string head = "\x81\x05", one = "hello", two = "world!", three = "third";
  {
    const SendBatch::Scope outer;
    SendBatch* batch = SendBatch::current();
    REQUIRE(batch != nullptr);
    add(*batch, a.ours, head, one, ra);
    {
      const SendBatch::Scope inner;  // joins the open batch: closing it flushes nothing
      REQUIRE(SendBatch::current() == batch);
      add(*batch, b.ours, head, two, rb);
    }
    add(*batch, c.ours, head, three, rc);
    CHECK(batch->size() == 3);
    CHECK(ra->results.empty());
    CHECK(a.received().empty());  // nothing has reached the kernel yet
    CHECK(b.received().empty());
  }
  CHECK(SendBatch::current() == nullptr);
  CHECK(a.received() == head + one);
  CHECK(b.received() == head + two);
  CHECK(c.received() == head + three);
  REQUIRE(ra->results.size() == 1);
  REQUIRE(rb->results.size() == 1);
  REQUIRE(rc->results.size() == 1);
  CHECK(ra->results[0].sent == head.size() + one.size());
  CHECK(rb->results[0].sent == head.size() + two.size());
  CHECK(rc->results[0].sent == head.size() + three.size());
  CHECK_FALSE(ra->results[0].ec);
  CHECK(ra->results[0].order == 0);  // reported in the order added
  CHECK(rb->results[0].order == 1);
  CHECK(rc->results[0].order == 2);
}

TEST_CASE("send batch: a full send buffer reports 0 bytes and no error; a closed peer reports the error", "[send_batch]") {
  const Mode mode(GENERATE(true, false));
  Pair full, gone, fine;
  const int small = 4096;
  ::setsockopt(full.ours, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
  const std::string chunk(1024, 'x');
  while (::send(full.ours, chunk.data(), chunk.size(), MSG_DONTWAIT) > 0) {
  }
  gone.close_peer();
  int clock = 0;
  auto rfull = std::make_shared<Recorder>(&clock), rgone = std::make_shared<Recorder>(&clock),
       rfine = std::make_shared<Recorder>(&clock);
  const std::string head = "h", body = "body";
  {
    const SendBatch::Scope scope;
    add(*SendBatch::current(), full.ours, head, body, rfull);
    add(*SendBatch::current(), gone.ours, head, body, rgone);  // no SIGPIPE: the test would die
    add(*SendBatch::current(), fine.ours, head, body, rfine);
  }
  REQUIRE(rfull->results.size() == 1);
  CHECK(rfull->results[0].sent == 0);
  CHECK_FALSE(rfull->results[0].ec);
  REQUIRE(rgone->results.size() == 1);
  CHECK(rgone->results[0].sent == 0);
  CHECK(rgone->results[0].ec.value() == EPIPE);
  REQUIRE(rfine->results.size() == 1);  // one failed send does not stop the others
  CHECK(rfine->results[0].sent == 5);
  CHECK(fine.received() == "hbody");
}

TEST_CASE("send batch: what a target sends while the batch flushes goes out at once", "[send_batch]") {
  struct Chained : SendBatch::Target {
    int fd;
    std::shared_ptr<Recorder> next;
    bool had_batch = true;
    void batch_sent(std::size_t, boost::system::error_code) override {
      had_batch = SendBatch::current() != nullptr;
      CHECK(::send(fd, "second", 6, MSG_DONTWAIT) == 6);  // as WsSession's next frame would
    }
  };
  Pair p;
  auto chained = std::make_shared<Chained>();
  chained->fd = p.ours;
  {
    const SendBatch::Scope scope;
    ::iovec iov{const_cast<char*>("first"), 5};
    SendBatch::current()->add(p.ours, &iov, 1, chained);
  }
  CHECK_FALSE(chained->had_batch);
  CHECK(p.received() == "firstsecond");
}

TEST_CASE("send batch: switched off, no scope opens a batch", "[send_batch]") {
  SendBatch::set_enabled(false);
  {
    const SendBatch::Scope scope;
    CHECK(SendBatch::current() == nullptr);
  }
  SendBatch::set_enabled(true);
  const SendBatch::Scope scope;
  CHECK(SendBatch::current() != nullptr);
}

TEST_CASE("send batch: more sends than the ring holds go out in chunks, all of them", "[send_batch]") {
  const Mode mode(GENERATE(true, false));
  constexpr int kPairs = 300;  // the ring has 256 entries
  std::vector<std::unique_ptr<Pair>> pairs;
  std::vector<std::shared_ptr<Recorder>> recorders;
  const std::string head = "#";
  std::vector<std::string> bodies;  // the batch reads them at the flush
  bodies.reserve(kPairs);
  int clock = 0;
  {
    const SendBatch::Scope scope;
    for (int i = 0; i < kPairs; ++i) {
      pairs.push_back(std::make_unique<Pair>());
      recorders.push_back(std::make_shared<Recorder>(&clock));
      bodies.push_back(std::to_string(i));
      add(*SendBatch::current(), pairs.back()->ours, head, bodies.back(), recorders.back());
    }
  }
  for (int i = 0; i < kPairs; ++i) {
    REQUIRE(recorders[i]->results.size() == 1);
    CHECK(recorders[i]->results[0].order == i);
    CHECK(pairs[i]->received() == "#" + std::to_string(i));
  }
}

TEST_CASE("send batch: the server batches sends and reads through io_uring with one io thread where it works, and says so", "[send_batch]") {
  struct Row {
    std::vector<std::string> args;
    bool batched;
    bool ring_reads;
  };
  // This process and the server run on the same kernel, under the same limits. Reads go
  // through io_uring (ring_inbox.hpp) under the same conditions where multishot receive exists.
  const bool ring = SendBatch::uses_io_uring();
  const bool ring_reads = mtown::test::io_uring_multishot_recv_usable();
  const Row rows[] = {
      {{"--threads", "1"}, ring, ring_reads},
      {{"--threads", "2"}, false, false},
      {{"--threads", "1", "--set", "server.io_uring=off"}, false, false},
  };
  for (const auto& row : rows) {
    std::vector<std::string> args{"--database", "none"};
    args.insert(args.end(), row.args.begin(), row.args.end());
    mtown::test::TestServer server(args);
    std::istringstream lines(server.log());
    std::string sends, reads;
    for (std::string line; std::getline(lines, line);) {
      const auto j = nlohmann::json::parse(line, nullptr, false);
      if (!j.is_discarded() && j.value("event", "") == "listening") {
        sends = j.value("sends", "");
        reads = j.value("reads", "");
      }
    }
    INFO(server.log());
    CHECK(sends == (row.batched ? "io_uring" : "sendmsg"));
    CHECK(reads == (row.ring_reads ? "io_uring" : "epoll"));
  }
}
