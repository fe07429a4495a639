#include "mtown/server/send_batch.hpp"

#include <atomic>
#include <cerrno>
#include <utility>

namespace mtown::server {
namespace {

std::atomic<bool> g_enabled{true};
std::atomic<bool> g_io_uring_allowed{true};
// The thread's batch keeps its buffers from one tick to the next.
thread_local SendBatch t_batch;
thread_local bool t_open = false;

}  // namespace

std::size_t send_nonblocking(int fd, const ::msghdr& msg, boost::system::error_code& ec) {
  for (;;) {
    const ::ssize_t n = ::sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) ec.assign(errno, boost::system::system_category());
    return 0;
  }
}

SendBatch::Scope::Scope() : outermost_(!t_open && g_enabled.load(std::memory_order_relaxed)) {
  if (outermost_) t_open = true;
}

SendBatch::Scope::~Scope() {
  if (!outermost_) return;
  t_batch.flush();
  t_open = false;
}

SendBatch* SendBatch::current() { return t_open && !t_batch.in_flush_ ? &t_batch : nullptr; }

void SendBatch::set_enabled(bool on) { g_enabled.store(on, std::memory_order_relaxed); }

void SendBatch::set_io_uring_allowed(bool on) { g_io_uring_allowed.store(on, std::memory_order_relaxed); }

bool SendBatch::uses_io_uring() {
  return g_io_uring_allowed.load(std::memory_order_relaxed) && IoUringRing::for_this_thread() != nullptr;
}

void SendBatch::add(int fd, const ::iovec* iov, int count, std::shared_ptr<Target> target) {
  Send& s = sends_.emplace_back();
  s.fd = fd;
  s.count = count;
  for (int i = 0; i < count; ++i) s.iov[static_cast<std::size_t>(i)] = iov[i];
  s.target = std::move(target);
}

void SendBatch::flush() {
  if (sends_.empty()) return;
  in_flush_ = true;  // current() is null meanwhile: what a target sends from batch_sent goes at once
  flushing_.swap(sends_);
  send_all(flushing_);
  for (auto& s : flushing_) s.target->batch_sent(s.sent, s.ec);
  flushing_.clear();
  in_flush_ = false;
}

void SendBatch::send_all(std::vector<Send>& sends) {
  ops_.clear();
  results_.assign(sends.size(), 0);
  for (auto& s : sends) {
    s.msg = ::msghdr{};
    s.msg.msg_iov = s.iov.data();
    s.msg.msg_iovlen = static_cast<std::size_t>(s.count);
    ops_.push_back({s.fd, &s.msg});
  }
  std::size_t done = 0;
  auto* ring = g_io_uring_allowed.load(std::memory_order_relaxed) ? IoUringRing::for_this_thread() : nullptr;
  if (ring) done = ring->sendmsg_all(ops_.data(), results_.data(), ops_.size());
  for (std::size_t i = 0; i < done; ++i) {
    if (results_[i] >= 0) sends[i].sent = static_cast<std::size_t>(results_[i]);
    else if (results_[i] != -EAGAIN) sends[i].ec.assign(-results_[i], boost::system::system_category());
  }
  // Without a ring, or what a failed ring did not take: one sendmsg each.
  for (std::size_t i = done; i < sends.size(); ++i) sends[i].sent = send_nonblocking(sends[i].fd, sends[i].msg, sends[i].ec);
}

}  // namespace mtown::server
