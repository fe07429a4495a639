// Reads for many sockets through one io_uring: a multishot receive per socket into a ring of
// provided buffers, the completions reaped from shared memory. Where ReadPoller costs one
// recv system call per message (an edge, then a read), a RecvRing costs one io_uring_enter
// per batch of messages. The 1,600-client benchmark's generator reads ~96,000 messages a
// second, and on the benchmark VM a system call costs ~1 µs (docs/performance.md, "The
// generator's reads through io_uring").
//
// One RecvRing per thread, opened on that thread (its single issuer) and watched by that
// thread's io_context through the ring's descriptor. Readers are told of bytes (which they copy: the buffer goes back to the ring
// when the call returns) and of the end of the stream.
#pragma once
#include <cstddef>
#include <memory>

#include <boost/asio/io_context.hpp>

namespace mtown::loadtest {

class RecvRing {
 public:
  class Reader {
   public:
    virtual ~Reader() = default;
    virtual void on_bytes(const char* data, std::size_t n) = 0;
    virtual void on_read_end(int error) = 0;  // 0: the peer closed; else an errno
  };

  // Null where the kernel or the build has no multishot receive with provided buffers
  // (liburing absent, io_uring refused, or a kernel before 6.0): use ReadPoller then.
  static std::unique_ptr<RecvRing> open(boost::asio::io_context& ioc);
  ~RecvRing();
  RecvRing(const RecvRing&) = delete;
  RecvRing& operator=(const RecvRing&) = delete;

  // Until unwatch(fd) (to be called before the socket is closed) or the stream's end, bytes
  // arriving on `fd` are passed to reader->on_bytes on the io_context's thread, in order,
  // while the reader lives. False (and no watch) when the ring cannot take the request.
  bool watch(int fd, std::weak_ptr<Reader> reader);
  void unwatch(int fd);
  std::size_t watched() const;

 private:
  struct Impl;
  explicit RecvRing(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mtown::loadtest
