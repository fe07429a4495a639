// The byte stream under one connection: plain TCP, or TLS over TCP when tls.cert_file is
// set. It is an AsyncStream, so Beast's http and websocket run on it unchanged; the TCP
// stream (with its timeouts) is its lowest layer either way.
//
// On plain TCP after the handshake, WsSession writes its own frames with one synchronous
// non-blocking sendmsg (send_now) instead of Beast's write operation (docs/performance.md,
// "Frames written without Beast's write operation"). Stream keeps those writes and Beast's
// own (pongs, close frames, pings) from interleaving inside a frame: it counts Beast's
// writes in flight, and while the rest of a partly sent frame of ours is going out
// (send_rest) it holds Beast's next write back until that rest is out.
#pragma once
#include <sys/uio.h>

#include <array>
#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <variant>

#include <boost/asio/associator.hpp>
#include <boost/asio/detail/handler_cont_helpers.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/teardown.hpp>

namespace mtown::server {

namespace net = boost::asio;

// Beast's completion handler for one write on the Stream, which first tells the Stream the
// write is over. It keeps the handler's executor, allocator and cancellation slot (below).
template <class Stream, class Handler>
struct CountedWrite {
  Stream* stream;
  Handler handler;
  void operator()(boost::system::error_code ec, std::size_t n) {
    stream->beast_write_done();
    std::move(handler)(ec, n);
  }
  friend bool asio_handler_is_continuation(CountedWrite* w) {
    return boost_asio_handler_cont_helpers::is_continuation(w->handler);
  }
};

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

  // Kept, not fetched: Beast asks for it on every operation.
  executor_type get_executor() const { return executor_; }
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
  // the handler's executor (the connection's), and close() still cancels.
  template <class Buffers, class Handler>
  void async_read_some(const Buffers& buffers, Handler&& handler) {
    if (auto* plain = direct()) return plain->socket().async_read_some(buffers, std::forward<Handler>(handler));
    std::visit([&](auto& s) { s.async_read_some(buffers, std::forward<Handler>(handler)); }, stream_);
  }
  template <class Buffers, class Handler>
  void async_write_some(const Buffers& buffers, Handler&& handler) {
    if (!rest_.empty()) {  // the rest of a frame of ours goes first
      deferred_ = std::make_unique<DeferredWriteOf<Buffers, std::decay_t<Handler>>>(buffers, std::forward<Handler>(handler));
      return;
    }
    ++beast_writes_;
    CountedWrite<Stream, std::decay_t<Handler>> counted{this, std::forward<Handler>(handler)};
    if (auto* plain = direct()) {
      // net::async_write hands over up to 64 buffers by value; a WebSocket frame is 2-3.
      // Copied into a small sequence, the socket operation stays under 1 KiB and comes from
      // Asio's per-thread recycled memory or malloc's small bins, not a large allocation.
      SmallBuffers small;
      if (small.assign(buffers)) return plain->socket().async_write_some(small, std::move(counted));
      return plain->socket().async_write_some(buffers, std::move(counted));
    }
    std::visit([&](auto& s) { s.async_write_some(buffers, std::move(counted)); }, stream_);
  }
  void beast_write_done() { --beast_writes_; }

  // Whether a frame may be written with send_now: plain TCP with no deadline, no write of
  // Beast's in flight and no rest of a frame of ours still going out.
  bool can_send_now() { return direct() && beast_writes_ == 0 && rest_.empty(); }
  // One non-blocking sendmsg; the bytes written (0 when the send buffer is full). Only when
  // can_send_now(); the caller owns what is unsent.
  std::size_t send_now(const ::iovec* iov, int count, boost::system::error_code& ec);
  // Writes `rest` (the unsent end of a frame send_now began, never empty) in the
  // background, then calls done(ec) on the socket's executor. Beast's writes wait until it
  // is out.
  template <class Handler>
  void send_rest(std::string rest, Handler&& done) {
    rest_ = std::move(rest);
    net::async_write(socket(), net::buffer(rest_),
                     [this, done = std::forward<Handler>(done)](boost::system::error_code ec, std::size_t) mutable {
                       rest_.clear();
                       // A closed socket fails the held write at once, so Beast's handler still runs.
                       if (auto held = std::move(deferred_)) held->start(*this);
                       done(ec);
                     });
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

  // A write Beast asked for while the rest of a frame of ours was going out. Beast serializes
  // its own writes, so there is at most one.
  struct DeferredWrite {
    virtual ~DeferredWrite() = default;
    virtual void start(Stream& stream) = 0;
  };
  template <class Buffers, class Handler>
  struct DeferredWriteOf final : DeferredWrite {
    DeferredWriteOf(const Buffers& b, Handler&& h) : buffers(b), handler(std::move(h)) {}
    void start(Stream& stream) override { stream.async_write_some(buffers, std::move(handler)); }
    Buffers buffers;  // views into Beast's operation, which lives until its handler runs
    Handler handler;
  };

  std::variant<Plain, Tls> stream_;
  executor_type executor_;
  bool timed_ = false;  // a deadline was set (expires_after) and not cleared (expires_never)
  int beast_writes_ = 0;       // Beast's writes in flight on this stream
  std::string rest_;  // send_rest's, while its write is in flight
  std::unique_ptr<DeferredWrite> deferred_;
};

// A server context with the PEM certificate chain and private key; throws
// std::runtime_error naming the file that cannot be read or used.
std::unique_ptr<net::ssl::context> make_tls_context(const std::string& cert_file, const std::string& key_file);

}  // namespace mtown::server

// A CountedWrite is associated with what its handler is (its strand executor above all).
template <template <typename, typename> class Associator, class Stream, class Handler, class Default>
struct boost::asio::associator<Associator, mtown::server::CountedWrite<Stream, Handler>, Default> {
  using type = typename Associator<Handler, Default>::type;
  static type get(const mtown::server::CountedWrite<Stream, Handler>& w) noexcept {
    return Associator<Handler, Default>::get(w.handler);
  }
  static auto get(const mtown::server::CountedWrite<Stream, Handler>& w, const Default& d) noexcept
      -> decltype(Associator<Handler, Default>::get(w.handler, d)) {
    return Associator<Handler, Default>::get(w.handler, d);
  }
};
