// A server connection's Stream reading through the io thread's RecvRing (ring_inbox.hpp), on
// real loopback TCP: the bytes and the end arrive in order, a close lets go of the socket
// (the peer sees the end), past the unread bound the socket gives the rest, writes that
// must wait go through the reactor and the socket leaves it again, and a WebSocket on top
// closes cleanly both ways.
#include <catch2/catch.hpp>

#include <array>
#include <cerrno>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>

#include "io_uring_probe.hpp"
#include "loopback.hpp"
#include "mtown/core/recv_ring.hpp"
#include "mtown/server/ring_inbox.hpp"
#include "mtown/server/stream.hpp"

using mtown::core::RecvRing;
using mtown::server::RingInbox;
using mtown::server::Stream;
namespace net = boost::asio;
namespace websocket = boost::beast::websocket;
using tcp = net::ip::tcp;

namespace {

struct Connection {
  net::io_context ioc;
  tcp::socket peer{ioc};
  std::shared_ptr<RecvRing> ring;
  std::unique_ptr<Stream> stream;

  // The stream reads through a ring when the kernel has one (`ringed` then says true).
  explicit Connection(std::size_t max_unread = 1 << 20) {
    stream = std::make_unique<Stream>(mtown::test::accept_loopback(ioc, peer), nullptr);
    ring = RecvRing::open(ioc);
    INFO("the kernel allows io_uring with multishot receive: " << mtown::test::io_uring_multishot_recv_usable());
    REQUIRE((ring != nullptr) == mtown::test::io_uring_multishot_recv_usable());
    if (ring) REQUIRE(stream->read_through(ring, max_unread));
    else WARN("no io_uring here: the server's ring reads are not exercised (it reads through epoll)");
  }
  bool ringed() const { return ring != nullptr; }

  void run_until(const std::function<bool()>& done) { mtown::test::run_until(ioc, done); }

  struct Read {
    bool done = false;
    boost::system::error_code ec;
    std::string bytes;
  };
  // One read_some of up to `size` bytes; the result fills in as the io_context runs.
  std::shared_ptr<Read> read_some(std::size_t size = 4096) {
    auto r = std::make_shared<Read>();
    auto buf = std::make_shared<std::string>(size, '\0');
    stream->async_read_some(net::buffer(*buf), [r, buf](boost::system::error_code ec, std::size_t n) {
      r->done = true;
      r->ec = ec;
      r->bytes = buf->substr(0, n);
    });
    return r;
  }
  // A read that waits: nothing has been sent.
  std::shared_ptr<Read> waiting_read() {
    auto r = read_some();
    ioc.run_for(std::chrono::milliseconds(20));
    REQUIRE(!r->done);
    return r;
  }
  std::string read_exactly(std::size_t n) {
    std::string got;
    while (got.size() < n) {
      auto r = read_some(65536);
      run_until([&] { return r->done; });
      REQUIRE(r->done);
      REQUIRE(!r->ec);
      got += r->bytes;
    }
    return got;
  }
};

}  // namespace

TEST_CASE("ring reads: the peer's bytes in order, then the end, with the socket out of the reactor", "[ring_reads]") {
  Connection c;
  if (!c.ringed()) return;  // no io_uring here: the reactor reads, as every other test shows
  CHECK(c.stream->reads_through_ring());
  CHECK(!c.stream->socket().is_open());  // detached: the reactor does not hear of its messages
  CHECK(c.stream->native_handle() >= 0);

  auto waiting = c.read_some();
  c.ioc.run_for(std::chrono::milliseconds(50));
  CHECK(!waiting->done);  // nothing sent: the read waits

  std::string sent;
  for (int i = 0; i < 200; ++i) sent += "message " + std::to_string(i) + ";";
  net::write(c.peer, net::buffer(sent));
  c.run_until([&] { return waiting->done; });
  REQUIRE(waiting->done);
  REQUIRE(!waiting->ec);
  const std::string rest = c.read_exactly(sent.size() - waiting->bytes.size());
  CHECK((waiting->bytes + rest == sent));

  c.peer.shutdown(tcp::socket::shutdown_send);
  auto end = c.read_some();
  c.run_until([&] { return end->done; });
  REQUIRE(end->done);
  CHECK(end->ec == net::error::eof);
  auto again = c.read_some();  // the end is told to every later read too
  c.run_until([&] { return again->done; });
  CHECK(again->ec == net::error::eof);
}

TEST_CASE("ring reads: a close fails the waiting read and the peer sees the connection end", "[ring_reads]") {
  Connection c;
  if (!c.ringed()) return;
  auto waiting = c.waiting_read();
  c.stream->close();
  c.run_until([&] { return waiting->done; });
  CHECK(waiting->ec == net::error::operation_aborted);

  // Were the ring's receive still holding the socket, it would stay open and no end would come.
  std::array<char, 16> buf;
  std::optional<boost::system::error_code> peer_read;
  c.peer.async_read_some(net::buffer(buf), [&](boost::system::error_code ec, std::size_t) { peer_read = ec; });
  c.run_until([&] { return peer_read.has_value(); });
  REQUIRE(peer_read);
  CHECK(*peer_read == net::error::eof);
}

TEST_CASE("ring reads: past the unread bound the ring stops and the socket gives the rest, in order", "[ring_reads]") {
  Connection c(1000);
  if (!c.ringed()) return;
  const std::string small(600, 's');
  net::write(c.peer, net::buffer(small));
  c.ioc.run_for(std::chrono::milliseconds(50));
  CHECK(c.read_exactly(small.size()) == small);  // within the bound: read as usual
  CHECK(c.ring->watched() == 1);

  // Far more than the bound, sent while nobody reads: the ring stops taking it, so the rest
  // waits in the socket (and the peer's write waits for room, as with any TCP reader).
  std::string big;
  // More than the loopback socket buffers hold (up to 6 MiB received, 4 MiB sent).
  for (int i = 0; big.size() < 24'000'000; ++i) big += std::to_string(i) + ",";
  bool written = false;
  net::async_write(c.peer, net::buffer(big), [&](boost::system::error_code ec, std::size_t) { written = !ec; });
  c.run_until([&] { return c.ring->watched() == 0; });
  CHECK(c.ring->watched() == 0);  // stopped
  CHECK(!written);                // held back by TCP, not taken by the ring

  CHECK((c.read_exactly(big.size()) == big));  // the ring's part, then the socket's: all, in order
  CHECK(c.stream->socket().is_open());         // reading through the reactor now
  c.run_until([&] { return written; });
  CHECK(written);
}

TEST_CASE("ring reads: a read waiting when the ring stops goes on through the socket, nothing lost", "[ring_reads]") {
  Connection c(1000);
  if (!c.ringed()) return;
  // A reader like Beast's: it asks again from inside each completion, with room for all
  // that is held, so its next read is usually waiting (parked) when the ring's stop lands.
  std::string got;
  std::string buf(1 << 20, '\0');
  boost::system::error_code failed;
  std::function<void()> next = [&] {
    c.stream->async_read_some(net::buffer(buf), [&](boost::system::error_code ec, std::size_t n) {
      if (ec) {
        failed = ec;
        return;
      }
      got.append(buf.data(), n);
      next();
    });
  };
  next();
  std::string sent;
  for (int i = 0; sent.size() < 3'000'000; ++i) sent += std::to_string(i) + ";";
  net::async_write(c.peer, net::buffer(sent), [](boost::system::error_code, std::size_t) {});
  c.run_until([&] { return got.size() >= sent.size() || failed; });
  INFO(failed.message());
  CHECK(!failed);
  CHECK(c.ring->watched() == 0);  // the ring stopped ...
  CHECK(c.stream->socket().is_open());  // ... and the socket went back to the reactor
  CHECK((got == sent));
}

TEST_CASE("ring reads: a write through the reactor returns the socket to it, and it leaves again after", "[ring_reads]") {
  Connection c;
  if (!c.ringed()) return;
  REQUIRE(!c.stream->socket().is_open());
  // What Beast does to send a pong or a close frame: a write through the Stream.
  const std::string pong(100000, 'p');  // more than one send: the write has to wait for room
  bool sent = false;
  net::async_write(*c.stream, net::buffer(pong), [&](boost::system::error_code ec, std::size_t) { sent = !ec; });
  CHECK(c.stream->socket().is_open());  // in the reactor while the write waits

  std::string got(pong.size(), '\0');
  std::size_t have = 0;
  std::function<void()> next = [&] {
    c.peer.async_read_some(net::buffer(got.data() + have, got.size() - have), [&](boost::system::error_code ec, std::size_t n) {
      have += n;
      if (!ec && have < got.size()) next();
    });
  };
  next();
  c.run_until([&] { return sent && have == got.size(); });
  REQUIRE(sent);
  CHECK((got == pong));
  CHECK(!c.stream->socket().is_open());  // out again

  // Reads still come through the ring.
  net::write(c.peer, net::buffer(std::string("after")));
  CHECK(c.read_exactly(5) == "after");
}

TEST_CASE("ring reads: ending every watch fails the waiting read", "[ring_reads]") {
  Connection c;
  if (!c.ringed()) return;
  auto waiting = c.waiting_read();
  c.ring->end_all(ESHUTDOWN);  // as the server does once its io_context has stopped
  c.run_until([&] { return waiting->done; });
  CHECK(waiting->ec == net::error::shut_down);
}

TEST_CASE("ring reads: a WebSocket over the stream echoes and closes cleanly from either side", "[ring_reads]") {
  for (const bool server_closes : {false, true}) {
    DYNAMIC_SECTION("the " << (server_closes ? "server" : "client") << " closes") {
      net::io_context ioc;
      websocket::stream<tcp::socket> client(ioc);
      websocket::stream<Stream> server(Stream(mtown::test::accept_loopback(ioc, client.next_layer()), nullptr));
      const std::shared_ptr<RecvRing> ring = RecvRing::open(ioc);
      const auto run_until = [&](const std::function<bool()>& done) { mtown::test::run_until(ioc, done); };

      bool accepted_ok = false, client_ok = false;
      server.async_accept([&](boost::system::error_code ec) { accepted_ok = !ec; });
      client.async_handshake("127.0.0.1", "/", [&](boost::system::error_code ec) { client_ok = !ec; });
      run_until([&] { return accepted_ok && client_ok; });
      REQUIRE(accepted_ok);
      REQUIRE(client_ok);
      if (ring) REQUIRE(server.next_layer().read_through(ring, 1 << 20));

      // Echo: a message in through the ring, the answer out through Beast's write.
      boost::beast::flat_buffer server_buf, client_buf;
      std::optional<boost::system::error_code> server_read, client_read, server_closed, client_closed;
      client.text(true);
      client.write(net::buffer(std::string("ping me")));
      server.async_read(server_buf, [&](boost::system::error_code ec, std::size_t) { server_read = ec; });
      run_until([&] { return server_read.has_value(); });
      REQUIRE(server_read);
      REQUIRE(!*server_read);
      CHECK(boost::beast::buffers_to_string(server_buf.data()) == "ping me");
      bool answered = false;
      const std::string answer = "pinged";
      server.async_write(net::buffer(answer), [&](boost::system::error_code ec, std::size_t) { answered = !ec; });
      run_until([&] { return answered; });
      REQUIRE(answered);
      client.read(client_buf);
      CHECK(boost::beast::buffers_to_string(client_buf.data()) == "pinged");

      if (server_closes) {
        client.async_read(client_buf, [&](boost::system::error_code ec, std::size_t) { client_read = ec; });
        server.async_close(websocket::close_code::going_away, [&](boost::system::error_code ec) { server_closed = ec; });
        run_until([&] { return server_closed && client_read; });
        REQUIRE(server_closed);
        CHECK(!*server_closed);
        REQUIRE(client_read);
        CHECK(*client_read == websocket::error::closed);
        CHECK(client.reason().code == websocket::close_code::going_away);
      } else {
        server_read.reset();
        server.async_read(server_buf, [&](boost::system::error_code ec, std::size_t) { server_read = ec; });
        client.async_close(websocket::close_code::normal, [&](boost::system::error_code ec) { client_closed = ec; });
        run_until([&] { return client_closed && server_read; });
        REQUIRE(client_closed);
        CHECK(!*client_closed);  // the server answered the close and ended the TCP connection
        REQUIRE(server_read);
        CHECK(*server_read == websocket::error::closed);
      }
      CHECK(!server.next_layer().socket().is_open());  // the teardown closed the socket
      if (ring) CHECK(ring->watched() == 0);
    }
  }
}

TEST_CASE("ring inbox: over its bound it asks the ring to stop once; a read waiting when it stops falls back", "[ring_reads]") {
  net::io_context ioc;
  int stops = 0;
  RingInbox inbox(10, [&] { ++stops; });
  inbox.on_bytes("0123456789", 10);
  CHECK(stops == 0);  // at the bound, not past it
  inbox.on_bytes("abcde", 5);
  inbox.on_bytes("fghij", 5);  // bytes the ring took before it stopped still count
  CHECK(stops == 1);

  std::string got;
  auto no_fallback = [](const auto&, auto&&) { FAIL("no fallback while bytes are held"); };
  while (inbox.unread() > 0) {
    std::array<char, 7> buf;
    inbox.read(net::buffer(buf), [&](boost::system::error_code ec, std::size_t n) {
      REQUIRE(!ec);
      got.append(buf.data(), n);
    }, ioc.get_executor(), no_fallback);
    ioc.poll();
    ioc.restart();
  }
  CHECK(got == "0123456789abcdefghij");
  CHECK(!inbox.stopped_and_empty());  // asked to stop, not stopped yet

  // Empty, a read waits; then the ring's receive ends as asked: the read is handed over.
  std::array<char, 8> buf;
  bool fell_back = false, completed = false;
  inbox.read(net::buffer(buf), [&](boost::system::error_code, std::size_t) { completed = true; }, ioc.get_executor(),
             [&](const auto& buffers, auto&& handler) {
               fell_back = net::buffer_size(buffers) == buf.size();
               std::move(handler)(boost::system::error_code{}, 0);
             });
  ioc.poll();
  CHECK(!completed);
  inbox.on_read_end(ECANCELED);
  CHECK(fell_back);
  CHECK(completed);
  CHECK(inbox.stopped_and_empty());
}

TEST_CASE("ring inbox: the stream's end after its bytes; a failure as its error; abort fails a waiting read", "[ring_reads]") {
  net::io_context ioc;
  auto no_fallback = [](const auto&, auto&&) { FAIL("the ring was not asked to stop"); };
  std::array<char, 16> buf;
  std::vector<std::pair<boost::system::error_code, std::string>> results;
  auto read = [&](RingInbox& inbox) {
    inbox.read(net::buffer(buf), [&](boost::system::error_code ec, std::size_t n) { results.emplace_back(ec, std::string(buf.data(), n)); },
               ioc.get_executor(), no_fallback);
    ioc.poll();
    ioc.restart();
  };

  RingInbox ended(1 << 20, [] {});
  ended.on_bytes("last", 4);
  ended.on_read_end(0);
  read(ended);
  read(ended);
  REQUIRE(results.size() == 2);
  CHECK((results[0] == std::make_pair(boost::system::error_code{}, std::string("last"))));
  CHECK(results[1].first == net::error::eof);

  results.clear();
  RingInbox reset(1 << 20, [] {});
  read(reset);  // waits
  CHECK(results.empty());
  reset.on_read_end(ECONNRESET);
  ioc.poll();
  REQUIRE(results.size() == 1);
  CHECK(results[0].first == net::error::connection_reset);

  results.clear();
  RingInbox aborted(1 << 20, [] {});
  read(aborted);
  aborted.abort();
  ioc.restart();
  ioc.poll();
  REQUIRE(results.size() == 1);
  CHECK(results[0].first == net::error::operation_aborted);
}
