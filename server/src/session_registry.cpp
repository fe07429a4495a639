#include "mtown/server/session_registry.hpp"

namespace mtown::server {

SessionRegistry::SessionRegistry(net::io_context& ioc, const core::ServeConfig& config, ServerMetrics& metrics)
    : ioc_(ioc),
      limits_{config.resume_buffer_messages, std::chrono::milliseconds(config.resume_buffer_ms),
              std::chrono::seconds(config.seat_grace_s)},
      metrics_(metrics) {}

std::shared_ptr<PlayerSession> SessionRegistry::create(std::string player_id) {
  auto session = std::make_shared<PlayerSession>(net::make_strand(ioc_), limits_, *this, std::move(player_id));
  {
    std::lock_guard lock(mutex_);
    sessions_.emplace(session->resume_token, session);
  }
  metrics_.sessions.add(1);
  return session;
}

std::shared_ptr<PlayerSession> SessionRegistry::find(const std::string& resume_token) const {
  std::lock_guard lock(mutex_);
  const auto it = sessions_.find(resume_token);
  return it == sessions_.end() ? nullptr : it->second;
}

void SessionRegistry::remove(const PlayerSession& session) {
  bool removed = false;
  {
    std::lock_guard lock(mutex_);
    const auto it = sessions_.find(session.resume_token);
    if (it != sessions_.end() && it->second.get() == &session) {
      sessions_.erase(it);
      removed = true;
    }
  }
  if (removed) metrics_.sessions.add(-1);
}

std::size_t SessionRegistry::size() const {
  std::lock_guard lock(mutex_);
  return sessions_.size();
}

void SessionRegistry::clear() {
  std::lock_guard lock(mutex_);
  sessions_.clear();
}

}  // namespace mtown::server
