// Open WebSocket connections per client address, for limits.max_connections_per_ip.
// Thread-safe; an IpSlot holds one counted connection until it is destroyed.
#pragma once
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

namespace mtown::server {

class IpConnectionCounter {
 public:
  bool try_acquire(const std::string& ip, int max);
  void release(const std::string& ip);

 private:
  std::mutex mutex_;
  std::unordered_map<std::string, int> counts_;
};

// One counted connection; released when destroyed. Move-only.
class IpSlot {
 public:
  IpSlot() = default;
  IpSlot(IpConnectionCounter& counter, std::string ip) : counter_(&counter), ip_(std::move(ip)) {}
  IpSlot(IpSlot&& other) noexcept : counter_(std::exchange(other.counter_, nullptr)), ip_(std::move(other.ip_)) {}
  IpSlot& operator=(IpSlot&&) = delete;
  ~IpSlot() {
    if (counter_) counter_->release(ip_);
  }

 private:
  IpConnectionCounter* counter_ = nullptr;
  std::string ip_;
};

}  // namespace mtown::server
