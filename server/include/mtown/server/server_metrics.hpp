// The server's Prometheus metrics, registered once at start-up so hot paths only touch
// pre-resolved atomics (no map lookups, no locks).
#pragma once
#include <array>

#include "mtown/core/metrics.hpp"
#include "mtown/core/protocol.hpp"

namespace mtown::server {

class ServerMetrics {
  core::MetricsRegistry registry_;  // first: the public references below point into it

 public:
  ServerMetrics();

  core::MetricsRegistry& registry() { return registry_; }

  void message_in(core::ClientType type, std::size_t bytes);
  void message_in_invalid(std::size_t bytes);
  // A message written to a client (`bytes` on the wire, its seq included); an error also
  // counts under its code.
  void message_out(const core::OutboundMessage& message, std::size_t bytes);
  core::Gauge& rooms(std::string_view game);

  core::Gauge& connections;
  core::Counter& connections_total;
  core::Counter& connections_refused;
  core::Counter& slow_consumer_closes;
  core::Counter& oversized_closes;
  core::Counter& rate_limit_closes;  // 4029
  core::Counter& auth_closes;        // 4001
  core::Gauge& send_queue_bytes;     // summed over every connection
  core::Gauge& send_queue_messages;
  core::Counter& send_stalls;  // writes the socket could not take whole at once (its send buffer was full)
  core::Histogram& tick_duration(std::string_view game);  // seconds per game step
  core::Counter& tick_overruns(std::string_view game);    // ticks skipped to catch up
  core::Counter& games_started(std::string_view game);
  core::Counter& http_requests;
  // Sessions and resume (player_session.cpp, ws_session.cpp).
  core::Gauge& sessions;                 // live sessions, attached or waiting for a resume
  core::Counter& sessions_resumed;       // resumes that replayed the gap
  core::Counter& resume_snapshots;       // resumes whose gap was too old: a fresh snapshot
  core::Counter& resumes_refused;        // unknown or ended session, bad request, or the gate said no
  core::Counter& seats_released;         // seats freed because the grace period ran out
  core::Counter& heartbeat_timeouts;     // connections cut for silence
  core::Counter& superseded_closes;      // connections closed because a resume took their session

 private:
  std::array<core::Counter*, static_cast<std::size_t>(core::ClientType::count_) + 1> in_msgs_{};
  std::array<core::Counter*, static_cast<std::size_t>(core::ClientType::count_) + 1> in_bytes_{};
  std::array<core::Counter*, static_cast<std::size_t>(core::ServerType::count_)> out_msgs_{};
  std::array<core::Counter*, static_cast<std::size_t>(core::ServerType::count_)> out_bytes_{};
  std::array<core::Counter*, static_cast<std::size_t>(core::ErrorCode::count_)> errors_{};
  std::array<core::Gauge*, 2> rooms_{};
  std::array<core::Histogram*, 2> tick_duration_{};
  std::array<core::Counter*, 2> tick_overruns_{};
  std::array<core::Counter*, 2> games_started_{};
  std::size_t game_index(std::string_view game) const;
};

}  // namespace mtown::server
