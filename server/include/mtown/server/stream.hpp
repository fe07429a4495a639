// The byte stream under one connection: plain TCP, or TLS over TCP when tls.cert_file is
// set. It is an AsyncStream, so Beast's http and websocket run on it unchanged; the TCP
// stream (with its timeouts) is its lowest layer either way.
#pragma once
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
  void expires_after(Duration d) { next_layer().expires_after(d); }
  void expires_never() { next_layer().expires_never(); }
  net::ip::tcp::socket& socket() { return next_layer().socket(); }
  void close() { next_layer().close(); }

  template <class Buffers, class Handler>
  void async_read_some(const Buffers& buffers, Handler&& handler) {
    std::visit([&](auto& s) { s.async_read_some(buffers, std::forward<Handler>(handler)); }, stream_);
  }
  template <class Buffers, class Handler>
  void async_write_some(const Buffers& buffers, Handler&& handler) {
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
  std::variant<Plain, Tls> stream_;
};

// A server context with the PEM certificate chain and private key; throws
// std::runtime_error naming the file that cannot be read or used.
std::unique_ptr<net::ssl::context> make_tls_context(const std::string& cert_file, const std::string& key_file);

}  // namespace mtown::server
