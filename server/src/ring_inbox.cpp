#include "mtown/server/ring_inbox.hpp"

#include <cerrno>

#include <boost/asio/error.hpp>

namespace mtown::server {

void RingInbox::on_bytes(const char* data, std::size_t n) {
  if (end_) return;  // aborted: nothing more is read
  bytes_.append(data, n);
  if (unread() > max_unread_ && !stop_asked_) {
    stop_asked_ = true;
    stop_();
  }
  wake(true);
}

void RingInbox::on_read_end(int error) {
  if (end_ || stopped_) return;
  if (error == ECANCELED && stop_asked_) {
    stopped_ = true;
    if (parked_ && unread() == 0) {
      const auto parked = std::move(parked_);
      parked->fall_back();
    }
    return;
  }
  end_ = error == 0 ? boost::system::error_code(boost::asio::error::eof)
                    : boost::system::error_code(error, boost::system::system_category());
  wake(true);
}

void RingInbox::abort() {
  bytes_.clear();
  head_ = 0;
  end_ = boost::asio::error::operation_aborted;
  wake(false);
}

void RingInbox::wake(bool dispatch) {
  if (!parked_ || !ready()) return;
  const auto parked = std::move(parked_);
  parked->complete(*this, dispatch);
}

std::unique_ptr<RingWatch> RingWatch::start(const std::shared_ptr<core::RecvRing>& ring, int fd, std::size_t max_unread) {
  if (!ring) return nullptr;
  auto inbox = std::make_shared<RingInbox>(max_unread, [weak = std::weak_ptr<core::RecvRing>(ring), fd] {
    if (const auto r = weak.lock()) r->stop(fd);
  });
  if (!ring->watch(fd, inbox)) return nullptr;
  return std::unique_ptr<RingWatch>(new RingWatch(ring, fd, std::move(inbox)));
}

RingWatch::~RingWatch() {
  if (const auto ring = ring_.lock()) ring->unwatch(fd_);
  inbox_->abort();
}

}  // namespace mtown::server
