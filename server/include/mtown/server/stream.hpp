// The byte stream under one connection: plain TCP, or TLS over TCP when tls.cert_file is
// set. It is an AsyncStream, so Beast's http and websocket run on it unchanged; the TCP
// stream (with its timeouts) is its lowest layer either way.
#pragma once
#include <array>
#include <memory>
#include <string>
#include <utility>
#include <variant>

#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/teardown.hpp>

namespace mtown::server {

namespace net = boost::asio;

class Stream {
 public:
  using Plain = boost::beast::tcp_stream;
  using Tls = boost::beast::ssl_stream<Plain>;
  using executor_type = Plain::executor_type;

  // `tls` null: plain TCP. The context must outlive the stream.
  Stream(net::ip::tcp::socket&& socket, net::ssl::context* tls);

  Tls* tls() { return std::get_if<Tls>(&stream_); }
  // What beast::get_lowest_layer() reaches: the TCP stream, under TLS or not.
  Plain& next_layer() { return tls() ? tls()->next_layer() : std::get<Plain>(stream_); }

  executor_type get_executor() { return next_layer().get_executor(); }
  template <class Duration>
  void expires_after(Duration d) {
    timed_ = true;
    next_layer().expires_after(d);
  }
  void expires_never() {
    timed_ = false;
    next_layer().expires_never();
  }
  net::ip::tcp::socket& socket() { return next_layer().socket(); }
  void close() { next_layer().close(); }

  // Plain TCP with no deadline set (a WebSocket after its handshake: it keeps its own
  // timeouts) reads and writes on the socket directly: tcp_stream's per-operation layer
  // (work guard, timer bookkeeping) only serves deadlines. Completion still goes through
  // the handler's executor (the connection's strand), and close() still cancels.
  template <class Buffers, class Handler>
  void async_read_some(const Buffers& buffers, Handler&& handler) {
    if (auto* plain = direct()) return plain->socket().async_read_some(buffers, std::forward<Handler>(handler));
    std::visit([&](auto& s) { s.async_read_some(buffers, std::forward<Handler>(handler)); }, stream_);
  }
  template <class Buffers, class Handler>
  void async_write_some(const Buffers& buffers, Handler&& handler) {
    if (auto* plain = direct()) {
      // net::async_write hands over up to 64 buffers by value; a WebSocket frame is 2-3.
      // Copied into a small sequence, the socket operation stays under 1 KiB and comes from
      // Asio's per-thread recycled memory or malloc's small bins, not a large allocation.
      SmallBuffers small;
      if (small.assign(buffers)) return plain->socket().async_write_some(small, std::forward<Handler>(handler));
      return plain->socket().async_write_some(buffers, std::forward<Handler>(handler));
    }
    std::visit([&](auto& s) { s.async_write_some(buffers, std::forward<Handler>(handler)); }, stream_);
  }

  // The WebSocket close: TLS sends close_notify first.
  friend void teardown(boost::beast::role_type role, Stream& s, boost::beast::error_code& ec) {
    std::visit([&](auto& inner) {
      using boost::beast::websocket::teardown;
      teardown(role, inner, ec);
    }, s.stream_);
  }
  template <class Handler>
  friend void async_teardown(boost::beast::role_type role, Stream& s, Handler&& handler) {
    std::visit([&](auto& inner) {
      using boost::beast::websocket::async_teardown;
      async_teardown(role, inner, std::forward<Handler>(handler));
    }, s.stream_);
  }

 private:
  struct SmallBuffers {
    using value_type = net::const_buffer;
    using const_iterator = const net::const_buffer*;
    std::array<net::const_buffer, 4> items;
    std::size_t count = 0;
    const net::const_buffer* begin() const { return items.data(); }
    const net::const_buffer* end() const { return items.data() + count; }
    template <class Buffers>
    bool assign(const Buffers& buffers) {
      for (auto it = net::buffer_sequence_begin(buffers); it != net::buffer_sequence_end(buffers); ++it) {
        if (count == items.size()) return false;
        items[count++] = net::const_buffer(*it);
      }
      return true;
    }
  };
  Plain* direct() { return timed_ ? nullptr : std::get_if<Plain>(&stream_); }

  std::variant<Plain, Tls> stream_;
  bool timed_ = false;  // a deadline was set (expires_after) and not cleared (expires_never)
};

// A server context with the PEM certificate chain and private key; throws
// std::runtime_error naming the file that cannot be read or used.
std::unique_ptr<net::ssl::context> make_tls_context(const std::string& cert_file, const std::string& key_file);

}  // namespace mtown::server
