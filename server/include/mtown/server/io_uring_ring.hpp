// This thread's io_uring, used only to hand many non-blocking sendmsg calls to the kernel
// in one system call (SendBatch). Built without liburing, or where the kernel refuses
// io_uring (an old kernel, a seccomp profile, kernel.io_uring_disabled), there is no ring
// and SendBatch sends one sendmsg each. So is a kernel without IORING_OP_SENDMSG, or one
// too old to be asked (before 5.6).
#pragma once
#include <sys/socket.h>

#include <cstddef>
#include <memory>

namespace mtown::server {

class IoUringRing {
 public:
  struct SendMsg {
    int fd;
    const ::msghdr* msg;
  };

  // This thread's ring, set up on first use; null when io_uring is unavailable here or a
  // ring failed before (it is not retried).
  static IoUringRing* for_this_thread();

  // Submits sendmsg(fd, msg, MSG_DONTWAIT | MSG_NOSIGNAL) for each of `n` sends and waits
  // for all their completions. results[i] is the bytes written or -errno. Returns how many
  // leading sends have a result: n, unless the ring failed, in which case the rest were
  // never handed to the kernel and the ring is gone.
  std::size_t sendmsg_all(const SendMsg* sends, int* results, std::size_t n);

  ~IoUringRing();
  IoUringRing(const IoUringRing&) = delete;
  IoUringRing& operator=(const IoUringRing&) = delete;

 private:
  struct Impl;
  explicit IoUringRing(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mtown::server
