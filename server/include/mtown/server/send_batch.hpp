// Many sockets' sends in one system call. A room's tick writes one state frame to each
// member; with one io thread those writes happen inline, one sendmsg each. On a host where
// a system call itself is expensive (a VM with page-table isolation: ~1 µs for a null
// call on the benchmark machine) that entry and exit is a large part of a message's cost.
// A SendBatch gathers the sends made while a Scope is open on this thread and, when the
// outermost Scope closes, hands them to the kernel in one io_uring_enter (or, without
// io_uring, as one sendmsg each: the same results, in the same order).
//
// Every send is non-blocking (MSG_DONTWAIT), so the kernel completes each one while the
// batch is submitted and the flush reports each target's result before it returns, as a
// sendmsg would have: the bytes written (0 when the socket's send buffer is full) or the
// error. docs/performance.md, "Sends batched through io_uring".
#pragma once
#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <cstddef>
#include <memory>
#include <vector>

#include <boost/system/error_code.hpp>

#include "mtown/server/io_uring_ring.hpp"

namespace mtown::server {

// One non-blocking sendmsg (MSG_DONTWAIT | MSG_NOSIGNAL, retried on EINTR): the bytes
// written, 0 when the send buffer is full; other failures set `ec`.
std::size_t send_nonblocking(int fd, const ::msghdr& msg, boost::system::error_code& ec);

class SendBatch {
 public:
  // What a queued send reports to once the batch is flushed.
  class Target {
   public:
    virtual ~Target() = default;
    virtual void batch_sent(std::size_t sent, boost::system::error_code ec) = 0;
  };

  // Opens this thread's batch if none is open; the outermost Scope flushes it on exit.
  class Scope {
   public:
    Scope();
    ~Scope();
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    bool outermost_;
  };

  static constexpr int kMaxBuffers = 4;  // per send: a frame header and its body's parts

  // This thread's open batch, or null (no Scope open, sends off, or a flush under way:
  // what a target does from batch_sent goes out at once).
  static SendBatch* current();
  // Whether sends may be batched at all (server.io_uring, and only with one io thread).
  static void set_enabled(bool on);
  // Tests compare the two ways of sending: false makes every flush one sendmsg each.
  static void set_io_uring_allowed(bool on);
  // Whether this thread's sends go through io_uring (false: one sendmsg each). Sets up the
  // thread's ring on first use.
  static bool uses_io_uring();

  // Queues one sendmsg of `iov` on `fd`. The iovec array is copied; the bytes it points to
  // must stay valid until target->batch_sent runs.
  void add(int fd, const ::iovec* iov, int count, std::shared_ptr<Target> target);
  std::size_t size() const { return sends_.size(); }
  // Sends everything queued and reports each result, in the order added.
  void flush();

 private:
  struct Send {
    int fd;
    int count;
    std::array<::iovec, kMaxBuffers> iov;
    ::msghdr msg;
    std::shared_ptr<Target> target;
    std::size_t sent = 0;
    boost::system::error_code ec;
  };
  void send_all(std::vector<Send>& sends);

  std::vector<Send> sends_;
  std::vector<Send> flushing_;  // kept for its capacity, as the two below
  std::vector<IoUringRing::SendMsg> ops_;
  std::vector<int> results_;
  bool in_flush_ = false;
};

}  // namespace mtown::server
