// The bytes of one plain-TCP WebSocket connection as the io thread's RecvRing receives them
// (mtown/core/recv_ring.hpp). With one io thread the server reads every connection through
// one io_uring: no recvmsg per client message, and none that finds nothing (Asio reads once
// more after every message, speculatively, and with a client that sends 20 a second that
// read always gets EAGAIN). Stream::async_read_some takes its bytes from here.
#pragma once
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include <boost/asio/buffer.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/system/error_code.hpp>

#include "mtown/core/recv_ring.hpp"

namespace mtown::server {

class RingInbox final : public core::RecvRing::Reader {
 public:
  // The ring takes what the peer sends without waiting for it to be read, so the bound is
  // here: past `max_unread` bytes received and not yet read, `stop` asks the ring to stop
  // (RecvRing::stop). The bytes it took still arrive; after them the socket holds the rest,
  // with TCP's back-pressure, and the owner reads it there once the inbox is empty
  // (stopped_and_empty, or the fallback of a read waiting when the ring stops).
  RingInbox(std::size_t max_unread, std::function<void()> stop) : max_unread_(max_unread), stop_(std::move(stop)) {}

  // An AsyncReadStream's read_some: completes with bytes held, else the stream's end or
  // failure, at once if there is one (by a post to `ex`, or the handler's own executor), else
  // when bytes or the end arrive (by a dispatch: the ring's reaper runs on the io thread,
  // outside any operation of Beast's, so the read goes on there without another trip through
  // the scheduler; abort() posts, as it may be called from inside Beast). One read at a time,
  // as Beast reads.
  // `fallback(buffers, handler)` takes over a read that waits when the ring stops. Not to
  // be called once stopped_and_empty().
  template <class Buffers, class Handler, class Executor, class Fallback>
  void read(const Buffers& buffers, Handler&& handler, const Executor& ex, Fallback fallback) {
    if (ready() || boost::asio::buffer_size(buffers) == 0) return complete(buffers, std::move(handler), ex, false);
    parked_ = std::make_unique<ParkedOf<Buffers, std::decay_t<Handler>, Executor, Fallback>>(buffers, std::move(handler),
                                                                                               ex, std::move(fallback));
  }

  void on_bytes(const char* data, std::size_t n) override;
  void on_read_end(int error) override;
  // The socket is closing: held bytes are dropped, and the parked read and every later one
  // fail with operation_aborted.
  void abort();
  std::size_t unread() const { return bytes_.size() - head_; }
  // The ring stopped (over the bound) and everything it took has been read: read the socket.
  bool stopped_and_empty() const { return stopped_ && unread() == 0; }

 private:
  struct Parked {
    virtual ~Parked() = default;
    virtual void complete(RingInbox& inbox, bool dispatch) = 0;
    virtual void fall_back() = 0;
  };
  template <class Buffers, class Handler, class Executor, class Fallback>
  struct ParkedOf final : Parked {
    ParkedOf(const Buffers& b, Handler&& h, const Executor& e, Fallback f)
        : buffers(b), handler(std::move(h)), ex(e), fallback(std::move(f)) {}
    void complete(RingInbox& inbox, bool dispatch) override { inbox.complete(buffers, std::move(handler), ex, dispatch); }
    void fall_back() override { fallback(buffers, std::move(handler)); }
    Buffers buffers;  // Beast's read buffer, which stays until the handler runs
    Handler handler;
    Executor ex;
    Fallback fallback;
  };

  bool ready() const { return unread() > 0 || end_; }

  template <class Buffers, class Handler, class Executor>
  void complete(const Buffers& buffers, Handler&& handler, const Executor& ex, bool dispatch) {
    boost::system::error_code ec;
    std::size_t n = 0;
    if (unread() > 0) n = take(buffers);
    else if (boost::asio::buffer_size(buffers) > 0) ec = end_;
    if (dispatch) boost::asio::dispatch(ex, boost::beast::bind_front_handler(std::move(handler), ec, n));
    else boost::asio::post(ex, boost::beast::bind_front_handler(std::move(handler), ec, n));
  }

  template <class Buffers>
  std::size_t take(const Buffers& buffers) {
    const std::size_t n = boost::asio::buffer_copy(buffers, boost::asio::buffer(bytes_.data() + head_, unread()));
    head_ += n;
    if (head_ == bytes_.size()) {
      if (bytes_.capacity() > kKeptBytes) std::string().swap(bytes_);  // a burst's memory goes back
      else bytes_.clear();
      head_ = 0;
    } else if (head_ >= 65536 && head_ * 2 >= bytes_.size()) {  // a reader that never quite catches up
      bytes_.erase(0, head_);
      head_ = 0;
    }
    return n;
  }

  // Completes the parked read, if there is one and something to give it.
  void wake(bool dispatch);

  static constexpr std::size_t kKeptBytes = 16384;  // capacity kept between reads

  std::size_t max_unread_;
  std::function<void()> stop_;
  bool stop_asked_ = false;
  bool stopped_ = false;  // the ring stopped as asked: the socket holds what came after
  std::string bytes_;  // received, from head_ on not yet read
  std::size_t head_ = 0;
  boost::system::error_code end_;  // set: the stream ended (eof), failed, or was aborted
  std::unique_ptr<Parked> parked_;
};

// One socket's watch on the ring, with the inbox it fills. Ending it (destruction) makes
// the ring's receive let go of the socket, which must happen before the socket closes: an
// io_uring receive holds the file open.
class RingWatch {
 public:
  // Null when the ring does not take the socket.
  static std::unique_ptr<RingWatch> start(const std::shared_ptr<core::RecvRing>& ring, int fd, std::size_t max_unread);
  ~RingWatch();
  RingWatch(const RingWatch&) = delete;
  RingWatch& operator=(const RingWatch&) = delete;
  RingInbox& inbox() { return *inbox_; }

 private:
  RingWatch(std::weak_ptr<core::RecvRing> ring, int fd, std::shared_ptr<RingInbox> inbox)
      : ring_(std::move(ring)), fd_(fd), inbox_(std::move(inbox)) {}
  std::weak_ptr<core::RecvRing> ring_;  // gone at shutdown: its end cancelled every receive
  int fd_;
  std::shared_ptr<RingInbox> inbox_;
};

}  // namespace mtown::server
