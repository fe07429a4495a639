// Readiness for the bots' sockets without a failed read per message. Asio's reactor tries
// every new read at once ("speculatively") and Boost 1.81 only skips that try after a read
// of 0 bytes, so a bot that reads each state message as it arrives makes two recv calls per
// message, the second failing with EAGAIN. The generator of the 1,600-client benchmark reads
// ~96,000 messages a second, and on the benchmark VM a system call costs ~1 µs.
//
// A ReadPoller is one edge-triggered epoll set per worker, itself watched by the worker's
// io_context. A bot registers its socket once it is open; after a read that did not fill its
// buffer (the socket had no more) it waits for the next edge instead of trying again.
// Writes stay with Asio. docs/performance.md, "Reads without a failed recv per message".
#pragma once
#include <memory>
#include <unordered_map>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

namespace mtown::loadtest {

class ReadPoller {
 public:
  class Reader {
   public:
    virtual ~Reader() = default;
    virtual void on_readable() = 0;  // new bytes, or the peer closed, or an error
  };

  explicit ReadPoller(boost::asio::io_context& ioc);
  ~ReadPoller();
  ReadPoller(const ReadPoller&) = delete;
  ReadPoller& operator=(const ReadPoller&) = delete;

  // Until unwatch(fd) (to be called before the socket is closed), each edge on `fd` calls
  // reader->on_readable() on the io_context's thread while the reader lives. False (and no
  // watch) when epoll refuses the descriptor.
  bool watch(int fd, std::weak_ptr<Reader> reader);
  void unwatch(int fd);
  std::size_t watched() const { return readers_.size(); }

 private:
  void arm();
  void drain();

  int epoll_fd_;
  boost::asio::posix::stream_descriptor events_;  // owns epoll_fd_; its readiness is the set's
  std::unordered_map<int, std::weak_ptr<Reader>> readers_;
};

}  // namespace mtown::loadtest
