// The thread that owns the node's Redis connection for writes. It flushes the LiveMirror's
// changes as one pipeline per round (every few ms while something is dirty), beats the
// node's heartbeat (node:{id}, system:health, key TTLs), and sweeps rooms:active of rooms
// that no live node owns. Failures retry with backoff behind a circuit breaker; while it
// is open, rooms run on from memory and the mirror keeps coalescing their state, which is
// rewritten whole once Redis answers again.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <utility>

#include "mtown/core/circuit_breaker.hpp"
#include "mtown/core/metrics.hpp"
#include "mtown/core/redis_client.hpp"
#include "mtown/server/live_mirror.hpp"

namespace mtown::server {

struct RedisWriterOptions {
  core::RedisUrl url;
  std::string address;  // host:port this node serves on
  int key_ttl_s = 60;
  int breaker_threshold = 5;
  int breaker_reset_ms = 30000;
  int timeout_ms = 2000;
};

struct NodeLoad {
  int connections = 0;
  int max_connections = 0;
  int max_rooms = 0;
};

class RedisWriter {
 public:
  RedisWriter(RedisWriterOptions options, LiveMirror& mirror, core::MetricsRegistry& metrics,
              std::function<NodeLoad()> load);
  ~RedisWriter();
  RedisWriter(const RedisWriter&) = delete;
  RedisWriter& operator=(const RedisWriter&) = delete;

  void start();
  // A last flush (closed rooms' deletions, the node key removed), then the thread ends.
  void stop();
  void wake();  // the mirror has changes

  // Non-empty while the breaker is open: what /health/ready reports for redis.
  std::string health_problem() const;

 private:
  void run();
  void round(core::CircuitBreaker::Clock::time_point now);
  bool connect();
  bool flush(std::vector<LiveMirror::Command> extra, bool keep_on_failure);
  void on_failure(const std::string& what);
  void count_drops();  // the mirror's drop counters into the metrics
  // The node hash; with_ttls: the full heartbeat (system:health, every owned key's TTL).
  std::vector<LiveMirror::Command> heartbeat_commands(bool with_ttls);
  void sweep();
  void goodbye();

  RedisWriterOptions options_;
  LiveMirror& mirror_;
  std::function<NodeLoad()> load_;
  core::RedisClient client_;
  core::CircuitBreaker breaker_;
  std::chrono::steady_clock::time_point next_attempt_{};
  std::chrono::steady_clock::time_point next_heartbeat_{};
  std::pair<std::size_t, std::size_t> reported_counts_{0, 0};  // rooms, players in node:{id}
  int attempt_ = 0;
  bool ever_connected_ = false;
  std::int64_t started_at_ms_;
  std::minstd_rand jitter_{std::random_device{}()};

  core::Histogram& latency_;
  core::Counter& errors_;
  core::Counter& commands_;
  core::Counter& reconnects_;
  core::Counter& dropped_events_;
  core::Counter& dropped_updates_;
  core::Gauge& breaker_gauge_;
  std::uint64_t dropped_seen_ = 0;
  std::uint64_t dropped_updates_seen_ = 0;

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool woken_ = false;
  std::thread thread_;
};

}  // namespace mtown::server
