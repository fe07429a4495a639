// Readiness of the configured backing services (SQLite, PostgreSQL, Redis), checked on a
// thread of its own so /health/ready answers from memory and never blocks a request.
#pragma once
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace mtown::core {

struct RedisUrl {
  std::string host;
  int port = 6379;
  int db = 0;
  std::string user;      // redis://user:password@host (ACL), or empty
  std::string password;  // redis://:password@host, or empty: no AUTH
};
struct DatabaseUrl {
  enum class Kind { none, sqlite, postgres } kind = Kind::none;
  std::string target;  // file path for SQLite, the full URL for PostgreSQL
};

// nullopt when the text is not a URL of that kind.
std::optional<RedisUrl> parse_redis_url(const std::string& url);
std::optional<DatabaseUrl> parse_database_url(const std::string& url);

struct DependencyStatus {
  std::string name;    // "database" or "redis"
  std::string target;  // what was checked, without credentials
  bool ok = false;
  bool checked = false;  // false until the first check finishes
  std::string error;
  double latency_ms = 0;
};

class DependencyProbe {
 public:
  DependencyProbe(std::optional<DatabaseUrl> database, std::optional<RedisUrl> redis,
                  std::chrono::milliseconds interval);
  ~DependencyProbe();
  DependencyProbe(const DependencyProbe&) = delete;
  DependencyProbe& operator=(const DependencyProbe&) = delete;

  // A second opinion on one dependency, added before start(): while `failing()` returns a
  // reason, statuses() reports that dependency as down with it (the Redis writer's open
  // circuit breaker keeps /health/ready at 503 even when a PING would pass).
  void add_gate(std::string name, std::function<std::string()> failing);
  void start();  // first check runs at once on the probe thread
  void stop();
  std::vector<DependencyStatus> statuses() const;

 private:
  void run();
  DependencyStatus check_database() const;
  DependencyStatus check_redis() const;

  std::optional<DatabaseUrl> database_;
  std::optional<RedisUrl> redis_;
  std::chrono::milliseconds interval_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::vector<DependencyStatus> statuses_;
  std::vector<std::pair<std::string, std::function<std::string()>>> gates_;
  std::thread thread_;
};

}  // namespace mtown::core
