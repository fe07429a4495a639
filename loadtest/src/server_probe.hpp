// The server under test, seen from outside: `--spawn` starts `mtown serve` as a child on
// a free port (and stops it by its PID), /metrics is fetched and summed by metric name,
// and a local server's CPU time is read from /proc.
#pragma once
#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mtown::loadtest {

class SpawnedServer {
 public:
  // Throws std::runtime_error (with the child's log) when it does not listen within 15 s.
  // The child gets SIGTERM if the thread that made it ends first (a killed load test).
  SpawnedServer(const std::string& binary, const std::vector<std::string>& args);
  ~SpawnedServer();
  SpawnedServer(const SpawnedServer&) = delete;
  SpawnedServer& operator=(const SpawnedServer&) = delete;

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  int stop();  // SIGTERM, then SIGKILL after 10 s; the exit status
  std::string log() const;

 private:
  [[noreturn]] void fail(const std::string& what);  // removes the log file, throws with its text

  pid_t pid_ = -1;
  int port_ = 0;
  int status_ = -1;
  std::string log_path_;
};

// Prometheus text summed over labels: {"mtown_messages_in_total": 1234, ...}. nullopt
// when the server does not answer (the message says why).
std::optional<std::map<std::string, double>> fetch_metrics(const std::string& host, int port, std::string* error);

// user + system CPU seconds of a process; -1 if it cannot be read.
double process_cpu_seconds(pid_t pid);

}  // namespace mtown::loadtest
