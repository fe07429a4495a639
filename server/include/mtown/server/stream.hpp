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
//
// With one io thread a WebSocket's reads come, after the handshake, through the thread's
// io_uring (read_through, ring_inbox.hpp) instead of the reactor. The socket then leaves the
// reactor too (detached), which has nothing to wait for on it; it goes back for each write
// through the reactor (Beast's pings, pongs and close frames, send_rest) and for the
// teardown. The ring's receive holds the socket open, so every close goes through Stream: it is the lowest
// layer Beast sees (no next_layer(); Beast's close_socket finds beast_close_socket below),
// and close() and the teardown end the watch before the socket closes.
#pragma once
#include <sys/uio.h>
#include <unistd.h>

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

#include "mtown/server/ring_inbox.hpp"

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
  // The TCP stream, under TLS or not. Not named next_layer(): Beast's lowest layer is the
  // Stream itself, so that its closes come here.
  Plain& tcp() { return tls() ? tls()->next_layer() : std::get<Plain>(stream_); }

  // Kept, not fetched: Beast asks for it on every operation.
  executor_type get_executor() const { return executor_; }
  template <class Duration>
  void expires_after(Duration d) {
    timed_ = true;
    tcp().expires_after(d);
  }
  void expires_never() {
    timed_ = false;
    tcp().expires_never();
  }
  // Not open while the socket is out of the reactor (WebSocket reads through the ring):
  // native_handle() then.
  net::ip::tcp::socket& socket() { return tcp().socket(); }
  // The descriptor, also while the socket is out of the reactor.
  int native_handle() { return detached_ ? detached_.get() : tcp().socket().native_handle(); }
  // The ring's receive lets go of the socket first; a read waiting on it fails.
  void close() {
    ring_watch_.reset();
    detached_.reset();
    tcp().close();
  }
  friend void beast_close_socket(Stream& s) { s.close(); }

  // Plain TCP with no deadline (a WebSocket after its handshake): from now on the bytes come
  // through `ring`, one multishot receive, instead of the reactor. False (reads unchanged)
  // under TLS, with a deadline set, or when the ring does not take the socket.
  bool read_through(const std::shared_ptr<core::RecvRing>& ring, std::size_t max_unread);
  bool reads_through_ring() const { return ring_watch_ != nullptr; }

  // Plain TCP with no deadline set (a WebSocket after its handshake: it keeps its own
  // timeouts) reads and writes on the socket directly: tcp_stream's per-operation layer
  // (work guard, timer bookkeeping) only serves deadlines. Completion still goes through
  // the handler's executor (the connection's), and close() still cancels.
  template <class Buffers, class Handler>
  void async_read_some(const Buffers& buffers, Handler&& handler) {
    if (ring_watch_ && ring_watch_->inbox().stopped_and_empty()) {
      ring_watch_.reset();  // the ring stopped (the reader fell behind): the socket has the rest
      attach();
    }
    if (ring_watch_) {
      return ring_watch_->inbox().read(buffers, std::forward<Handler>(handler), executor_,
                                       [this](const auto& b, auto&& h) { this->async_read_some(b, std::move(h)); });
    }
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
      attach();
      SmallBuffers small;
      if (small.assign(buffers)) return plain->socket().async_write_some(small, std::move(counted));
      return plain->socket().async_write_some(buffers, std::move(counted));
    }
    std::visit([&](auto& s) { s.async_write_some(buffers, std::move(counted)); }, stream_);
  }
  void beast_write_done() {
    --beast_writes_;
    detach();
  }

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
    attach();
    net::async_write(socket(), net::buffer(rest_),
                     [this, done = std::forward<Handler>(done)](boost::system::error_code ec, std::size_t) mutable {
                       rest_.clear();
                       // A closed socket fails the held write at once, so Beast's handler still runs.
                       if (auto held = std::move(deferred_)) held->start(*this);
                       else detach();
                       done(ec);
                     });
  }

  // The WebSocket close: TLS sends close_notify first.
  // The ring's receive ends first: the teardown reads the socket through the reactor.
  friend void teardown(boost::beast::role_type role, Stream& s, boost::beast::error_code& ec) {
    s.ring_watch_.reset();
    s.attach();
    std::visit([&](auto& inner) {
      using boost::beast::websocket::teardown;
      teardown(role, inner, ec);
    }, s.stream_);
  }
  template <class Handler>
  friend void async_teardown(boost::beast::role_type role, Stream& s, Handler&& handler) {
    s.ring_watch_.reset();
    s.attach();
    std::visit([&](auto& inner) {
      using boost::beast::websocket::async_teardown;
      async_teardown(role, inner, std::forward<Handler>(handler));
    }, s.stream_);
  }

 private:
  // A descriptor Stream holds outside the reactor; closed with it.
  class OwnedFd {
   public:
    OwnedFd() = default;
    OwnedFd(OwnedFd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    OwnedFd& operator=(OwnedFd&& o) noexcept {
      if (this != &o) {
        reset();
        fd_ = std::exchange(o.fd_, -1);
      }
      return *this;
    }
    ~OwnedFd() { reset(); }
    explicit operator bool() const { return fd_ >= 0; }
    int get() const { return fd_; }
    void own(int fd) { fd_ = fd; }
    int release() { return std::exchange(fd_, -1); }
    void reset() {
      if (fd_ >= 0) ::close(std::exchange(fd_, -1));
    }

   private:
    int fd_ = -1;
  };
  // Reading through the ring with no write of the reactor's under way: out of the reactor.
  void detach();
  // Back into the reactor, for a write that may wait or for the teardown.
  void attach();

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
  net::ip::tcp protocol_ = net::ip::tcp::v4();  // for attach()
  OwnedFd detached_;  // the socket's descriptor while it is out of the reactor
  std::unique_ptr<RingWatch> ring_watch_;  // reads through the ring; ended before the socket closes
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
