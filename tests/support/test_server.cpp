#include "test_server.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <nlohmann/json.hpp>

namespace mtown::test {
namespace {

std::string make_temp_dir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "mtown-test-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  return tmpl;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

pid_t spawn(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
            const std::string& cwd, const std::string& out_path, const std::string& err_path) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    // Dies with the test: PR_SET_PDEATHSIG survives exec (not a change of user), and the
    // getppid check covers a parent that died before the prctl.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);
    if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) ::_exit(126);
    for (const auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
    const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(out, 1);
    ::dup2(err, 2);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::string mtown_binary() { return MTOWN_BIN_PATH; }
std::string source_dir() { return MTOWN_SOURCE_DIR; }

TestServer::TestServer(std::vector<std::string> args, std::map<std::string, std::string> env,
                       std::vector<std::string> command)
    : dir_(make_temp_dir()) {
  log_path_ = dir_ + "/server.log";
  // serve: --dev (no JWT secret needed, anonymous players allowed; auth tests pass their
  // own settings) and --migrate.
  std::vector<std::string> argv{mtown_binary()};
  argv.insert(argv.end(), command.begin(), command.end());
  argv.insert(argv.end(), {"--port", "0", "--log-format", "json"});
  if (command == std::vector<std::string>{"serve"}) argv.insert(argv.end(), {"--dev", "--migrate"});
  argv.insert(argv.end(), args.begin(), args.end());
  // MTOWN_TEST_SERVE_THREADS: the io threads of every server a test does not give its own
  // (ctest runs some suites again with 1, where connections have no strand and rooms
  // write to their members' sockets inline).
  const char* threads = std::getenv("MTOWN_TEST_SERVE_THREADS");
  if (threads && command == std::vector<std::string>{"serve"} &&
      std::find(args.begin(), args.end(), "--threads") == args.end())
    argv.insert(argv.end(), {"--threads", threads});
  pid_ = spawn(argv, env, dir_, dir_ + "/server.out", log_path_);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    std::istringstream lines(slurp(log_path_));
    for (std::string line; std::getline(lines, line);) {
      const auto j = nlohmann::json::parse(line, nullptr, false);
      if (!j.is_discarded() && j.value("event", "") == "listening") {
        port_ = j.at("port").get<int>();
        return;
      }
    }
    if (!running()) throw std::runtime_error("mtown serve exited early: " + log());
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  stop(SIGKILL);
  throw std::runtime_error("mtown serve did not start within 10 s: " + log());
}

TestServer::~TestServer() {
  if (pid_ > 0 && exit_code_ < 0) stop(SIGTERM);
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::string TestServer::log() const { return slurp(log_path_); }

bool TestServer::running() {
  if (exit_code_ >= 0) return false;
  int status = 0;
  const pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) exit_code_ = decode_status(status);
  return exit_code_ < 0;
}

int TestServer::stop(int signal, std::chrono::milliseconds timeout) {
  if (!running()) return exit_code_;
  ::kill(pid_, signal);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (running() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  if (running()) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    exit_code_ = decode_status(status);
    return -1;  // did not stop in time
  }
  return exit_code_;
}

CommandResult run_mtown(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
                        const std::string& cwd, std::chrono::seconds timeout) {
  const std::string dir = make_temp_dir();
  std::vector<std::string> argv{mtown_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  const pid_t pid = spawn(argv, env, cwd.empty() ? dir : cwd, dir + "/out", dir + "/err");
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  CommandResult r{decode_status(status), slurp(dir + "/out"), slurp(dir + "/err")};
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
  return r;
}

}  // namespace mtown::test
