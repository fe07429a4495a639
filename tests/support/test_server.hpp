// Starts the real `mtown serve` binary on an ephemeral port in a temp dir, for
// integration tests, and stops it (by its PID) when the test ends.
#pragma once
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace mtown::test {

class TestServer {
 public:
  // Extra args go after `serve --port 0 --log-format json --dev --migrate` (`command` replaces
  // `serve`, e.g. {"replay", "x.mtrec", "--serve"}, which also drops `--dev --migrate`). Throws if
  // the server does not log "listening" within 10 s.
  explicit TestServer(std::vector<std::string> args = {}, std::map<std::string, std::string> env = {},
                      std::vector<std::string> command = {"serve"});
  ~TestServer();
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  const std::string& dir() const { return dir_; }
  std::string log() const;  // everything the server wrote to stderr so far

  // Sends `signal` and waits for exit; returns the exit code (128+sig if killed by one).
  int stop(int signal = 15, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  bool running();

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  int exit_code_ = -1;
  std::string dir_;
  std::string log_path_;
};

// Runs `mtown ARGS` to completion (bounded), capturing output.
struct CommandResult {
  int exit_code;
  std::string out;
  std::string err;
};
// Killed (SIGKILL) after `timeout`.
CommandResult run_mtown(const std::vector<std::string>& args, const std::map<std::string, std::string>& env = {},
                        const std::string& cwd = {}, std::chrono::seconds timeout = std::chrono::seconds(20));

// fork + exec of `args` (args[0] a path) with stdout and stderr to files, in `cwd` when given,
// with extra env vars. Every process a test starts goes through here, so it dies with the test
// (SIGKILL when the forking thread ends): a test killed by Ctrl-C or a ctest timeout leaves no
// server, Redis or PostgreSQL behind. Fork from a thread that outlives the child.
pid_t spawn(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
            const std::string& cwd, const std::string& out_path, const std::string& err_path);

// Polls `pred` every 20 ms; false if it still does not hold after `timeout`.
bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout);

std::string mtown_binary();
std::string source_dir();

}  // namespace mtown::test
