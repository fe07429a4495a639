#include "mtown/server/server_context.hpp"

namespace mtown::server {

void SessionSet::add(const std::shared_ptr<WsSession>& s) {
  std::lock_guard lock(mutex_);
  sessions_.emplace(s.get(), s);
}

void SessionSet::remove(const WsSession* s) {
  std::lock_guard lock(mutex_);
  sessions_.erase(s);
}

std::size_t SessionSet::size() const {
  std::lock_guard lock(mutex_);
  return sessions_.size();
}

std::vector<std::shared_ptr<WsSession>> SessionSet::snapshot() const {
  std::vector<std::shared_ptr<WsSession>> out;
  std::lock_guard lock(mutex_);
  for (const auto& [ptr, weak] : sessions_)
    if (auto s = weak.lock()) out.push_back(std::move(s));
  return out;
}

}  // namespace mtown::server
