#include "server_probe.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <nlohmann/json.hpp>

namespace mtown::loadtest {

namespace {
std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
}  // namespace

SpawnedServer::SpawnedServer(const std::string& binary, const std::vector<std::string>& args) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "mtown-loadtest-serve-XXXXXX").string();
  const int fd = ::mkstemp(tmpl.data());
  if (fd < 0) throw std::runtime_error("cannot create a log file for the spawned server");
  log_path_ = tmpl;
  std::vector<std::string> argv{binary, "serve", "--port", "0", "--log-format", "json"};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  const pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ < 0) {
    ::close(fd);
    std::filesystem::remove(log_path_);
    throw std::runtime_error("fork failed");
  }
  if (pid_ == 0) {
    // The server is the load test's: a killed `mtown loadtest` must not leave it running.
    // SIGTERM, its ordinary shutdown; the check covers a parent gone before the prctl.
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(1);
    const int null = ::open("/dev/null", O_RDWR);
    ::dup2(null, 0);
    ::dup2(null, 1);
    ::dup2(fd, 2);
    ::execv(cargv[0], cargv.data());
    ::_exit(127);
  }
  ::close(fd);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (std::chrono::steady_clock::now() < deadline) {
    std::istringstream lines(log());
    for (std::string line; std::getline(lines, line);) {
      const auto j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_object() && j.value("event", "") == "listening") {
        port_ = j.value("port", 0);
        return;
      }
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      status_ = status;
      fail("the spawned `mtown serve` exited at once: ");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  stop();
  fail("the spawned `mtown serve` did not listen within 15 s: ");
}

// A constructor that throws runs no destructor: the log file goes here.
void SpawnedServer::fail(const std::string& what) {
  auto message = what + log();
  std::error_code ignored;
  std::filesystem::remove(log_path_, ignored);
  throw std::runtime_error(message);
}

SpawnedServer::~SpawnedServer() {
  stop();
  std::error_code ignored;
  std::filesystem::remove(log_path_, ignored);
}

std::string SpawnedServer::log() const { return slurp(log_path_); }

int SpawnedServer::stop() {
  if (pid_ <= 0 || status_ >= 0) return status_;
  ::kill(pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  int status = 0;
  while (::waitpid(pid_, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  status_ = status;
  return status_;
}

std::optional<std::map<std::string, double>> fetch_metrics(const std::string& host, int port, std::string* error) {
  namespace beast = boost::beast;
  namespace http = beast::http;
  try {
    boost::asio::io_context ioc;
    beast::tcp_stream stream(ioc);
    stream.expires_after(std::chrono::seconds(5));
    stream.connect(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address(host), static_cast<unsigned short>(port)));
    http::request<http::empty_body> req{http::verb::get, "/metrics", 11};
    req.set(http::field::host, host);
    http::write(stream, req);
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(16 * 1024 * 1024);
    http::read(stream, buffer, parser);
    const auto& res = parser.get();
    if (res.result() != http::status::ok) throw std::runtime_error("HTTP " + std::to_string(res.result_int()));
    std::map<std::string, double> sums;
    std::istringstream lines(res.body());
    for (std::string line; std::getline(lines, line);) {
      if (line.empty() || line[0] == '#') continue;
      const auto name_end = line.find_first_of("{ ");
      const auto value_at = line.rfind(' ');
      if (name_end == std::string::npos || value_at == std::string::npos) continue;
      sums[line.substr(0, name_end)] += std::strtod(line.c_str() + value_at + 1, nullptr);
    }
    return sums;
  } catch (const std::exception& e) {
    if (error) *error = std::string("GET http://") + host + ":" + std::to_string(port) + "/metrics: " + e.what();
    return std::nullopt;
  }
}

double process_cpu_seconds(pid_t pid) {
  const std::string s = slurp("/proc/" + std::to_string(pid) + "/stat");
  const auto close = s.rfind(')');  // the command name may contain spaces
  if (close == std::string::npos) return -1;
  std::istringstream rest(s.substr(close + 2));
  std::string field;
  double utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {  // fields 14, 15: utime, stime in clock ticks
    if (i == 14) utime = std::stod(field);
    if (i == 15) stime = std::stod(field);
  }
  return (utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

}  // namespace mtown::loadtest
