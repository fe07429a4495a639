// Reads for many sockets through one io_uring: a multishot receive per socket into a ring of
// provided buffers, the completions reaped from shared memory. Where a reactor costs a recv
// system call or two per message (an edge, a read, and Asio's speculative read that finds
// nothing), a RecvRing costs one io_uring_enter per batch of messages; on the benchmark VM a
// system call costs ~1 µs (docs/performance.md). `mtown loadtest`'s bots read through one
// (loadtest/src/bot.hpp), and so do the server's WebSocket connections with one io thread
// (server/include/mtown/server/ring_inbox.hpp).
//
// One RecvRing per thread, opened on that thread (its single issuer) and watched by that
// thread's io_context through the ring's descriptor. Readers are told of bytes (which they
// copy: the buffer goes back to the ring when the call returns) and of the end of the
// stream. The receive holds the socket open: unwatch before closing it.
#pragma once
#include <cstddef>
#include <memory>

#include <boost/asio/io_context.hpp>

namespace mtown::core {

class RecvRing {
 public:
  class Reader {
   public:
    virtual ~Reader() = default;
    virtual void on_bytes(const char* data, std::size_t n) = 0;
    virtual void on_read_end(int error) = 0;  // 0: the peer closed; else an errno
  };

  // Null where the kernel or the build has no multishot receive with provided buffers
  // (liburing absent, io_uring refused, or a kernel before 6.0): read through the reactor then.
  static std::unique_ptr<RecvRing> open(boost::asio::io_context& ioc);
  ~RecvRing();
  RecvRing(const RecvRing&) = delete;
  RecvRing& operator=(const RecvRing&) = delete;

  // Until unwatch(fd) (to be called before the socket is closed) or the stream's end, bytes
  // arriving on `fd` are passed to reader->on_bytes on the io_context's thread, in order,
  // while the reader lives. False (and no watch) when the ring cannot take the request.
  bool watch(int fd, std::weak_ptr<Reader> reader);
  void unwatch(int fd);
  // Ends the receive but, unlike unwatch, still passes on the bytes it took before it
  // ended; then on_read_end(ECANCELED), or the stream's own end if that came first. What
  // the peer sends after stays in the socket, for its owner to read another way: TCP's
  // back-pressure again, for a reader that holds too much.
  void stop(int fd);
  // Cancels every receive and tells each watched reader, once, that its stream ended with
  // `error`: for shutting down while readers still wait (a server's connections).
  void end_all(int error);
  std::size_t watched() const;

 private:
  struct Impl;
  explicit RecvRing(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mtown::core
