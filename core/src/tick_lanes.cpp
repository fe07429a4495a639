#include "mtown/core/tick_lanes.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>

namespace mtown::core {

TickLanes::TickLanes(unsigned lanes) : counts_(std::make_shared<Counts>()) {
  if (lanes < 1 || lanes > kMaxLanes) throw std::invalid_argument("tick lanes must be 1-64");
  counts_->rooms.assign(lanes, 0);
}

TickLanes::Lease TickLanes::acquire() {
  std::lock_guard lock(counts_->mutex);
  auto& rooms = counts_->rooms;
  const auto lane = static_cast<unsigned>(std::min_element(rooms.begin(), rooms.end()) - rooms.begin());
  ++rooms[lane];
  return Lease(counts_, lane);
}

std::uint32_t TickLanes::rooms_in(unsigned lane) const {
  std::lock_guard lock(counts_->mutex);
  return lane < counts_->rooms.size() ? counts_->rooms[lane] : 0;
}

TickLanes::Lease::Lease(Lease&& other) noexcept : owner_(std::move(other.owner_)), lane_(other.lane_) {}

TickLanes::Lease& TickLanes::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    reset();
    owner_ = std::move(other.owner_);
    lane_ = other.lane_;
  }
  return *this;
}

TickLanes::Lease::~Lease() { reset(); }

void TickLanes::Lease::reset() {
  if (const auto owner = std::exchange(owner_, nullptr)) {
    std::lock_guard lock(owner->mutex);
    --owner->rooms[lane_];
  }
}

std::chrono::nanoseconds TickLanes::Lease::offset(std::chrono::nanoseconds period) const {
  if (!owner_) return {};
  return period * lane_ / static_cast<std::int64_t>(owner_->rooms.size());
}

}  // namespace mtown::core
