// A redis-server of the test's own (free loopback port, temp dir, no persistence), so a
// test may kill and restart it; stopped by its PID. Plus a few reads through hiredis.
// Main-thread use only.
#pragma once
#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "mtown/core/redis_client.hpp"
#include "test_server.hpp"

namespace mtown::test {

inline int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

inline core::RedisUrl redis_at(int port, int db = 0, std::string password = {}) {
  core::RedisUrl u;
  u.host = "127.0.0.1";
  u.port = port;
  u.db = db;
  u.password = std::move(password);
  return u;
}

class RedisProcess {
 public:
  explicit RedisProcess(std::vector<std::string> extra = {}) : port_(free_port()), extra_(std::move(extra)) {
    dir_ = std::filesystem::temp_directory_path() / ("mtown-redis-" + std::to_string(::getpid()) + "-" + std::to_string(port_));
    std::filesystem::create_directories(dir_);
    start();
  }
  ~RedisProcess() { kill_now(); std::error_code ec; std::filesystem::remove_all(dir_, ec); }
  RedisProcess(const RedisProcess&) = delete;
  RedisProcess& operator=(const RedisProcess&) = delete;

  int port() const { return port_; }
  std::string url(int db = 0) const { return "redis://127.0.0.1:" + std::to_string(port_) + (db ? "/" + std::to_string(db) : ""); }

  void start() {
    const char* bin = std::getenv("REDIS_SERVER");
    std::vector<std::string> args{bin ? bin : "/usr/bin/redis-server", "--port", std::to_string(port_), "--bind", "127.0.0.1",
                                  "--save", "", "--appendonly", "no", "--dir", dir_.string(), "--logfile",
                                  (dir_ / "redis.log").string()};
    args.insert(args.end(), extra_.begin(), extra_.end());
    pid_ = spawn(args, {}, {}, (dir_ / "redis.out").string(), (dir_ / "redis.err").string());
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (;;) {
      core::RedisClient c;
      const auto err = c.connect(redis_at(port_), std::chrono::milliseconds(500));
      if (!err || err->kind == core::RedisFailure::auth) return;
      REQUIRE(std::chrono::steady_clock::now() < deadline);
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  // SIGSTOP / SIGCONT: a hung Redis that accepts connections and answers nothing.
  void pause() { REQUIRE(::kill(pid_, SIGSTOP) == 0); }
  void resume() { REQUIRE(::kill(pid_, SIGCONT) == 0); }
  // SIGKILL and reap: the data is gone (no persistence), like a crashed Redis.
  void kill_now() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

 private:
  int port_;
  std::vector<std::string> extra_;
  std::filesystem::path dir_;
  pid_t pid_ = -1;
};

// A connected client on the test's Redis; REQUIREs every reply.
class RedisLook {
 public:
  explicit RedisLook(const core::RedisUrl& url) {
    const auto err = client_.connect(url, std::chrono::seconds(2));
    INFO("connect: " << (err ? err->message : ""));
    REQUIRE_FALSE(err);
  }
  core::RedisReply cmd(const std::vector<std::string>& args) {
    auto r = client_.command(args);
    INFO(args[0] << ": " << client_.last_error().message);
    REQUIRE(r);
    return *r;
  }
  std::map<std::string, std::string> hgetall(const std::string& key) {
    std::map<std::string, std::string> out;
    const auto r = cmd({"HGETALL", key});
    for (std::size_t i = 0; i + 1 < r.elements.size(); i += 2) out[r.elements[i].str] = r.elements[i + 1].str;
    return out;
  }
  bool exists(const std::string& key) { return cmd({"EXISTS", key}).integer == 1; }
  std::vector<std::string> smembers(const std::string& key) {
    std::vector<std::string> out;
    for (const auto& e : cmd({"SMEMBERS", key}).elements) out.push_back(e.str);
    std::sort(out.begin(), out.end());
    return out;
  }
  core::RedisClient& client() { return client_; }

 private:
  core::RedisClient client_;
};

// A subscriber connection (SUBSCRIBE channels, PSUBSCRIBE patterns): published JSON
// messages, read in order with a timeout.
class RedisSub {
 public:
  RedisSub(const core::RedisUrl& url, const std::vector<std::string>& channels, const std::vector<std::string>& patterns) {
    REQUIRE_FALSE(client_.connect(url, std::chrono::seconds(2)));
    std::vector<std::string> sub{"SUBSCRIBE"}, psub{"PSUBSCRIBE"};
    sub.insert(sub.end(), channels.begin(), channels.end());
    psub.insert(psub.end(), patterns.begin(), patterns.end());
    if (!channels.empty()) REQUIRE(client_.send(sub));
    if (!patterns.empty()) REQUIRE(client_.send(psub));
    // Subscribed once every confirmation is in: nothing published from then on is missed.
    std::size_t confirmed = 0;
    while (confirmed < channels.size() + patterns.size()) {
      for (const auto& r : read(std::chrono::seconds(5))) {
        REQUIRE(r.elements.size() == 3);
        if (r.elements[0].str == "subscribe" || r.elements[0].str == "psubscribe") ++confirmed;
        else pending_.push_back(r);
      }
    }
  }
  // The next message on `channel` whose payload has "type" == type (any type when empty);
  // messages before it are skipped.
  nlohmann::json next(const std::string& channel, const std::string& type, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      while (!pending_.empty()) {
        const auto r = std::move(pending_.front());
        pending_.erase(pending_.begin());
        // ["message", channel, payload] or ["pmessage", pattern, channel, payload]
        const bool pattern = r.elements.size() == 4;
        skipped_ += r.elements[pattern ? 2 : 1].str + " " + r.elements[pattern ? 3 : 2].str + "\n";
        if (r.elements[pattern ? 2 : 1].str != channel) continue;
        auto msg = nlohmann::json::parse(r.elements[pattern ? 3 : 2].str);
        if (type.empty() || msg.value("type", "") == type) {
          skipped_.clear();
          return msg;
        }
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) FAIL("no " << type << " message on " << channel << "; skipped:\n" << skipped_);
      for (auto& r : read(left)) pending_.push_back(std::move(r));
    }
  }

 private:
  std::vector<core::RedisReply> read(std::chrono::milliseconds timeout) {
    pollfd pfd{client_.fd(), POLLIN, 0};
    std::vector<core::RedisReply> out;
    if (::poll(&pfd, 1, static_cast<int>(timeout.count())) > 0) REQUIRE(client_.read_available(out));
    return out;
  }
  core::RedisClient client_;
  std::vector<core::RedisReply> pending_;
  std::string skipped_;  // since the last message returned, for a failure's message
};

// Polls `ok` until it holds; fails after `timeout`.
inline void eventually(const std::function<bool()>& ok, std::chrono::milliseconds timeout, const std::string& what) {
  if (!wait_until(ok, timeout)) FAIL("timed out waiting for " << what);
}

}  // namespace mtown::test
