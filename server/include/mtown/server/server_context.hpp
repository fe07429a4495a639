// What every connection shares: config, metrics, the decoder, rooms, dependency health
// and the set of live WebSocket sessions (for graceful shutdown). Lives as long as the
// server; all members are thread-safe.
#pragma once
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "mtown/core/config.hpp"
#include "mtown/core/dependency_probe.hpp"
#include "mtown/core/protocol.hpp"
#include "mtown/core/rate_limit.hpp"
#include "mtown/server/ip_connections.hpp"
#include "mtown/server/room_registry.hpp"
#include "mtown/server/server_metrics.hpp"
#include "mtown/server/session_registry.hpp"

namespace mtown::store {
class RecordWriter;
class QueryWorker;
}  // namespace mtown::store
namespace boost::asio::ssl {
class context;
}
namespace mtown::core {
class RecvRing;
}

namespace mtown::server {

class WsSession;

class SessionSet {
 public:
  void add(const std::shared_ptr<WsSession>& s);
  void remove(const WsSession* s);
  std::size_t size() const;
  std::vector<std::shared_ptr<WsSession>> snapshot() const;

 private:
  mutable std::mutex mutex_;
  std::unordered_map<const WsSession*, std::weak_ptr<WsSession>> sessions_;
};

struct ServerContext {
  ServerContext(net::io_context& ioc, const core::ServeConfig& cfg, core::DependencyProbe& dependency_probe,
                const std::vector<games::Question>& questions)
      : config(cfg),
        rooms(ioc, cfg, metrics, questions),
        probe(dependency_probe),
        player_sessions(ioc, cfg, metrics),
        limiter(core::rate_rules(cfg)) {}

  const core::ServeConfig& config;
  ServerMetrics metrics;
  core::ProtocolDecoder decoder;
  RoomRegistry rooms;
  core::DependencyProbe& probe;
  std::shared_ptr<store::RecordWriter> recording;  // null: games are not recorded
  std::shared_ptr<store::QueryWorker> queries;     // null: no database configured
  SessionSet sessions;
  SessionRegistry player_sessions;  // by resume token; outlive their connections
  core::RateLimiter limiter;           // per player (and per IP for join misses, guest tokens)
  IpConnectionCounter ip_connections;  // for limits.max_connections_per_ip
  std::atomic<int> open_connections{0};  // counted at upgrade, for the connection limit
  std::atomic<bool> shutting_down{false};
  net::ssl::context* tls = nullptr;  // set: every connection speaks TLS (https, wss)
  // Set with one io thread where io_uring allows (server.io_uring): WebSocket connections
  // read through it (Stream::read_through). Reset before the io_context goes.
  std::shared_ptr<core::RecvRing> reads;
  const std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
};

}  // namespace mtown::server
