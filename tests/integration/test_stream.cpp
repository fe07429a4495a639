// Stream's interlock between the frames a connection sends itself (send_now, send_rest) and
// Beast's own writes, on a real loopback TCP connection whose peer is not reading yet.
#include <catch2/catch.hpp>

#include <functional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include "loopback.hpp"
#include "mtown/server/stream.hpp"

using mtown::server::Stream;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

struct Connection {
  net::io_context ioc;
  tcp::socket peer{ioc};
  std::unique_ptr<Stream> stream;

  Connection() {
    peer.open(tcp::v4());
    peer.set_option(net::socket_base::receive_buffer_size(4096));
    tcp::socket server = mtown::test::accept_loopback(ioc, peer);
    server.set_option(net::socket_base::send_buffer_size(4096));
    stream = std::make_unique<Stream>(std::move(server), nullptr);
  }

  // send_now until the socket takes nothing more; the bytes it took.
  std::string fill() {
    std::string sent;
    std::string chunk(16384, 'f');
    for (;;) {
      ::iovec iov{chunk.data(), chunk.size()};
      boost::system::error_code ec;
      const std::size_t n = stream->send_now(&iov, 1, ec);
      REQUIRE(!ec);
      if (n == 0) return sent;
      sent.append(chunk, 0, n);
    }
  }

  // Reads everything the peer is sent until `expected` bytes have arrived or 10 s pass.
  std::string read_all(std::size_t expected, const std::function<bool()>& also_done) {
    std::string got;
    std::array<char, 65536> buf;
    std::function<void()> next = [&] {
      peer.async_read_some(net::buffer(buf), [&](boost::system::error_code ec, std::size_t n) {
        got.append(buf.data(), n);
        if (!ec && got.size() < expected) next();
      });
    };
    next();
    for (int i = 0; i < 1000 && (got.size() < expected || !also_done()); ++i) ioc.run_for(std::chrono::milliseconds(10));
    return got;
  }
};

}  // namespace

TEST_CASE("a write Beast asks for while the rest of a frame goes out waits for all of that rest", "[stream]") {
  Connection c;
  REQUIRE(c.stream->can_send_now());
  const std::string filled = c.fill();
  REQUIRE(!filled.empty());

  // Far more than the socket takes at once, so the rest goes out over many writes.
  const std::string rest(1 << 20, 'r');
  bool rest_sent = false;
  c.stream->send_rest(rest, [&](boost::system::error_code ec) { rest_sent = !ec; });
  CHECK(!c.stream->can_send_now());

  // What Beast does to send a pong or a close frame: a composed write through the Stream.
  const std::string beast(3000, 'b');
  bool beast_sent = false;
  net::async_write(*c.stream, net::buffer(beast), [&](boost::system::error_code ec, std::size_t) { beast_sent = !ec; });

  const std::string got = c.read_all(filled.size() + rest.size() + beast.size(), [&] { return rest_sent && beast_sent; });
  REQUIRE(rest_sent);
  REQUIRE(beast_sent);
  REQUIRE(got.size() == filled.size() + rest.size() + beast.size());
  // Nothing of Beast's inside the rest (compared as a whole, not printed: a megabyte).
  CHECK(got.find('b') == filled.size() + rest.size());
  CHECK((got == filled + rest + beast));
  CHECK(c.stream->can_send_now());      // no write of anyone's in flight any more
}

TEST_CASE("no frame is sent directly while a write of Beast's is in flight", "[stream]") {
  Connection c;
  const std::string filled = c.fill();
  const std::string beast(100000, 'b');  // the socket is full: this write has to wait
  bool beast_sent = false;
  net::async_write(*c.stream, net::buffer(beast), [&](boost::system::error_code ec, std::size_t) { beast_sent = !ec; });
  CHECK(!c.stream->can_send_now());
  const std::string got = c.read_all(filled.size() + beast.size(), [&] { return beast_sent; });
  REQUIRE(beast_sent);
  CHECK((got == filled + beast));
  CHECK(c.stream->can_send_now());
}
