// Live player sessions by resume token. Thread-safe (one mutex; touched at connect,
// resume and session end, never per message).
#pragma once
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include <boost/asio/io_context.hpp>

#include "mtown/core/config.hpp"
#include "mtown/server/player_session.hpp"
#include "mtown/server/server_metrics.hpp"

namespace mtown::server {

class SessionRegistry {
 public:
  SessionRegistry(net::io_context& ioc, const core::ServeConfig& config, ServerMetrics& metrics);

  std::shared_ptr<PlayerSession> create(std::string player_id = {});  // empty: a fresh id
  // Null when no live session has this token.
  std::shared_ptr<PlayerSession> find(const std::string& resume_token) const;
  void remove(const PlayerSession& session);
  std::size_t size() const;
  void clear();  // forgets every session (after the io threads stopped: sessions own timers)

  ServerMetrics& metrics() { return metrics_; }

 private:
  net::io_context& ioc_;
  SessionLimits limits_;
  ServerMetrics& metrics_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<PlayerSession>> sessions_;
};

}  // namespace mtown::server
