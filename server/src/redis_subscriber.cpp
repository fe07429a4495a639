#include "redis_subscriber.hpp"

#include <poll.h>

#include <nlohmann/json.hpp>

#include "mtown/core/log.hpp"
#include "mtown/core/redis_keys.hpp"

namespace mtown::server {
namespace {

using nlohmann::json;
constexpr std::chrono::milliseconds kPoll{200};
constexpr std::chrono::milliseconds kRetry{1000};

}  // namespace

RedisSubscriber::RedisSubscriber(core::RedisUrl url, int timeout_ms, LiveMirror& mirror, CloseRoom close_room,
                                 std::function<void()> wake_writer)
    : url_(std::move(url)),
      timeout_ms_(timeout_ms),
      mirror_(mirror),
      close_room_(std::move(close_room)),
      wake_writer_(std::move(wake_writer)) {}

RedisSubscriber::~RedisSubscriber() { stop(); }

void RedisSubscriber::start() {
  if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
}

void RedisSubscriber::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool RedisSubscriber::pause(std::chrono::milliseconds ms) {
  std::unique_lock lock(mutex_);
  return !wake_.wait_for(lock, ms, [this] { return stopping_; });
}

bool RedisSubscriber::subscribe() {
  if (client_.connect(url_, std::chrono::milliseconds(timeout_ms_))) return false;
  return client_.send({"PSUBSCRIBE", "room:*:events"});
}

void RedisSubscriber::run() {
  // The writer logs Redis outages; this thread only retries quietly.
  while (pause(std::chrono::milliseconds(0))) {
    if (!client_.connected() && !subscribe()) {
      if (!pause(kRetry)) break;
      continue;
    }
    pollfd pfd{client_.fd(), POLLIN, 0};
    const int ready = ::poll(&pfd, 1, static_cast<int>(kPoll.count()));
    if (ready <= 0) continue;
    std::vector<core::RedisReply> messages;
    if (!client_.read_available(messages)) client_.close();
    for (const auto& m : messages) handle(m);
  }
  client_.close();
}

void RedisSubscriber::handle(const core::RedisReply& message) {
  // ["pmessage", pattern, channel, payload]
  if (message.elements.size() != 4 || message.elements[0].str != "pmessage") return;
  const auto body = json::parse(message.elements[3].str, nullptr, false);
  if (!body.is_object() || body.value("type", "") != "close_request") return;
  const std::string code = body.value("code", "");
  const std::string node = body.value("node", "");
  if (node != mirror_.node_id() || !mirror_.owns(code)) return;  // another node's room
  const json request_id = body.value("request_id", json());
  core::log_info("room_close_requested", {{"room", code}, {"request_id", request_id}});
  close_room_(code, [this, code, request_id](bool closed, const std::string& detail) {
    mirror_.publish(core::redis_keys::room_events(code),
                    json{{"type", "close_result"}, {"code", code}, {"node", mirror_.node_id()},
                         {"request_id", request_id}, {"closed", closed}, {"detail", detail}}
                        .dump());
    wake_writer_();
  });
}

}  // namespace mtown::server
