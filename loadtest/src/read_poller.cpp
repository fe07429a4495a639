#include "read_poller.hpp"

#include <sys/epoll.h>

#include <array>
#include <cerrno>
#include <system_error>

namespace mtown::loadtest {
namespace {

int open_epoll() {
  const int fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "epoll_create1");
  return fd;
}

}  // namespace

ReadPoller::ReadPoller(boost::asio::io_context& ioc) : epoll_fd_(open_epoll()), events_(ioc, epoll_fd_) { arm(); }

ReadPoller::~ReadPoller() {
  boost::system::error_code ignored;
  events_.close(ignored);  // closes the epoll set
}

bool ReadPoller::watch(int fd, std::weak_ptr<Reader> reader) {
  ::epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP | EPOLLET;
  ev.data.fd = fd;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) return false;
  readers_[fd] = std::move(reader);
  return true;
}

void ReadPoller::unwatch(int fd) {
  if (readers_.erase(fd)) ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
}

void ReadPoller::arm() {
  events_.async_wait(boost::asio::posix::stream_descriptor::wait_read, [this](boost::system::error_code ec) {
    if (ec) return;  // closed: the worker is going away
    drain();
    arm();
  });
}

void ReadPoller::drain() {
  std::array<::epoll_event, 256> events;
  for (;;) {
    const int n = ::epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), 0);
    if (n < 0 && errno == EINTR) continue;
    for (int i = 0; i < n; ++i) {
      // A reader may unwatch (and its socket's number be reused) while this batch runs: a
      // stale edge only costs the new reader one read that finds nothing.
      const auto it = readers_.find(events[static_cast<std::size_t>(i)].data.fd);
      if (it == readers_.end()) continue;
      if (auto reader = it->second.lock()) reader->on_readable();
    }
    if (n < static_cast<int>(events.size())) return;
  }
}

}  // namespace mtown::loadtest
