// Listens on room:*:events for close requests (`mtown inspect room CODE --close`), on a
// Redis connection and thread of its own. A request naming this node and a room it owns
// goes to `close_room`; the outcome is published back on the room's channel.
#pragma once
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "mtown/core/redis_client.hpp"
#include "mtown/server/live_mirror.hpp"

namespace mtown::server {

class RedisSubscriber {
 public:
  using Reply = std::function<void(bool closed, const std::string& detail)>;
  using CloseRoom = std::function<void(const std::string& code, Reply reply)>;

  RedisSubscriber(core::RedisUrl url, int timeout_ms, LiveMirror& mirror, CloseRoom close_room,
                  std::function<void()> wake_writer);
  ~RedisSubscriber();
  RedisSubscriber(const RedisSubscriber&) = delete;
  RedisSubscriber& operator=(const RedisSubscriber&) = delete;

  void start();
  void stop();

 private:
  void run();
  bool subscribe();
  void handle(const core::RedisReply& message);
  bool pause(std::chrono::milliseconds ms);  // false when stopping

  core::RedisUrl url_;
  int timeout_ms_;
  LiveMirror& mirror_;
  CloseRoom close_room_;
  std::function<void()> wake_writer_;
  core::RedisClient client_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace mtown::server
