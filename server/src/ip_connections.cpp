#include "mtown/server/ip_connections.hpp"

namespace mtown::server {

bool IpConnectionCounter::try_acquire(const std::string& ip, int max) {
  std::lock_guard lock(mutex_);
  int& n = counts_[ip];
  if (n >= max) return false;
  ++n;
  return true;
}

void IpConnectionCounter::release(const std::string& ip) {
  std::lock_guard lock(mutex_);
  const auto it = counts_.find(ip);
  if (it != counts_.end() && --it->second <= 0) counts_.erase(it);
}

}  // namespace mtown::server
