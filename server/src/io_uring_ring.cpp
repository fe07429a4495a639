#include "mtown/server/io_uring_ring.hpp"

#include <algorithm>
#include <cerrno>

#ifdef MTOWN_HAVE_LIBURING
#include <liburing.h>
#endif

namespace mtown::server {

#ifdef MTOWN_HAVE_LIBURING

namespace {
// A room's members are a handful; a lane's worth of sends fits in a few chunks.
constexpr unsigned kEntries = 256;

// Rings came in 5.1 and IORING_OP_SENDMSG in 5.3; a kernel that cannot say (no probe
// before 5.6) is not used.
bool sendmsg_supported(::io_uring& ring) {
  ::io_uring_probe* probe = ::io_uring_get_probe_ring(&ring);
  const bool ok = probe && ::io_uring_opcode_supported(probe, IORING_OP_SENDMSG);
  if (probe) ::io_uring_free_probe(probe);
  return ok;
}
}  // namespace

struct IoUringRing::Impl {
  ::io_uring ring{};
  bool ready = false;
  bool failed = false;
  ~Impl() {
    if (ready) ::io_uring_queue_exit(&ring);
  }
};

IoUringRing* IoUringRing::for_this_thread() {
  thread_local std::unique_ptr<IoUringRing> ring;
  thread_local bool tried = false;
  if (ring && ring->impl_->failed) ring.reset();
  if (!tried) {
    tried = true;
    auto impl = std::make_unique<Impl>();
    ::io_uring_params params{};
    // One thread submits and the completions are reaped at once: no task-work interrupts.
    params.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN;
    int r = ::io_uring_queue_init_params(kEntries, &impl->ring, &params);
    if (r == -EINVAL) {  // before 6.0 no SINGLE_ISSUER, before 5.19 no COOP_TASKRUN
      params = ::io_uring_params{};
      r = ::io_uring_queue_init_params(kEntries, &impl->ring, &params);
    }
    impl->ready = r == 0;
    if (impl->ready && sendmsg_supported(impl->ring)) ring.reset(new IoUringRing(std::move(impl)));
  }
  return ring.get();
}

std::size_t IoUringRing::sendmsg_all(const SendMsg* sends, int* results, std::size_t n) {
  auto& ring = impl_->ring;
  std::size_t start = 0;
  while (start < n && !impl_->failed) {
    const std::size_t chunk = std::min<std::size_t>(n - start, kEntries);
    for (std::size_t i = start; i < start + chunk; ++i) {
      ::io_uring_sqe* sqe = ::io_uring_get_sqe(&ring);  // the queue is empty here: never null
      ::io_uring_prep_sendmsg(sqe, sends[i].fd, sends[i].msg, MSG_DONTWAIT | MSG_NOSIGNAL);
      sqe->user_data = i;
    }
    int submitted;
    do submitted = ::io_uring_submit(&ring);
    while (submitted == -EINTR);
    if (submitted < static_cast<int>(chunk)) impl_->failed = true;  // what was not taken is never sent
    submitted = std::max(submitted, 0);
    for (int got = 0; got < submitted;) {
      ::io_uring_cqe* cqe = nullptr;
      const int r = ::io_uring_wait_cqe(&ring, &cqe);
      if (r == -EINTR) continue;
      if (r < 0) {  // the sends' fates are unknown: report them failed (their connections close)
        impl_->failed = true;
        for (std::size_t i = start; i < start + static_cast<std::size_t>(submitted); ++i) results[i] = -EIO;
        break;
      }
      results[cqe->user_data] = cqe->res;
      ::io_uring_cqe_seen(&ring, cqe);
      ++got;
    }
    start += static_cast<std::size_t>(submitted);
  }
  return start;
}

#else

struct IoUringRing::Impl {};
IoUringRing* IoUringRing::for_this_thread() { return nullptr; }
std::size_t IoUringRing::sendmsg_all(const SendMsg*, int*, std::size_t) { return 0; }

#endif

IoUringRing::IoUringRing(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
IoUringRing::~IoUringRing() = default;

}  // namespace mtown::server
