#include "redis_live_state.hpp"

#include <algorithm>
#include <cmath>

#include "mtown/core/protocol.hpp"
#include "mtown/core/redis_keys.hpp"

namespace mtown::server {

RedisLiveState::RedisLiveState(const core::ServeConfig& config, const core::RedisUrl& url, std::string node_id,
                               std::string address, core::MetricsRegistry& metrics, std::function<NodeLoad()> load,
                               RedisSubscriber::CloseRoom close_room)
    : mirror_({std::move(node_id), config.redis_key_ttl_s}),
      writer_({url, std::move(address), config.redis_key_ttl_s, config.redis_breaker_threshold,
               config.redis_breaker_reset_ms, config.redis_timeout_ms},
              mirror_, metrics, std::move(load)),
      subscriber_(url, config.redis_timeout_ms, mirror_, std::move(close_room), [this] { writer_.wake(); }) {
  // A rule's window is the time its full burst takes to refill: 60 s for the per-minute
  // classes, burst / rate for inputs (30 / 60 per s: 1 s). The epsilon keeps n / (n / 60)
  // at 60, not 61.
  const auto rules = core::rate_rules(config);
  for (std::size_t i = 0; i < rules.size(); ++i)
    if (rules[i].per_s > 0)
      rate_windows_s_[i] = std::max(1, static_cast<int>(std::ceil(rules[i].burst / rules[i].per_s - 1e-6)));
}

RedisLiveState::~RedisLiveState() { stop(); }

void RedisLiveState::start() {
  writer_.start();
  subscriber_.start();
}

void RedisLiveState::stop() {
  subscriber_.stop();
  writer_.stop();
}

void RedisLiveState::room_changed(const LiveRoom& room) {
  mirror_.room_changed(room, core::epoch_ms());
  writer_.wake();
}

void RedisLiveState::room_closed(const std::string& code, std::string_view reason) {
  mirror_.room_closed(code);
  mirror_.publish(core::redis_keys::room_events(code),
                  nlohmann::json{{"type", "room_closed"}, {"code", code}, {"reason", reason}}.dump());
  writer_.wake();
}

void RedisLiveState::player_left(const std::string& code, const std::string& player_id, bool disconnected) {
  mirror_.player_left(code, player_id, disconnected, core::epoch_ms());
  writer_.wake();
}

void RedisLiveState::player_active(const std::string& player_id) {
  mirror_.player_active(player_id, core::epoch_ms());  // flushed with the next batch
}

void RedisLiveState::game_snapshot(const std::string& code, const nlohmann::json& snapshot) {
  mirror_.game_snapshot(code, snapshot.dump());
  writer_.wake();
}

void RedisLiveState::vote(const std::string& code, std::string_view kind, const std::string& player_id,
                          const std::string& answer) {
  mirror_.vote(code, kind, player_id, answer);
  writer_.wake();
}

void RedisLiveState::clear_votes(const std::string& code) {
  mirror_.clear_votes(code);
  writer_.wake();
}

void RedisLiveState::room_event(const std::string& code, nlohmann::json event) {
  event["code"] = code;
  mirror_.publish(core::redis_keys::room_events(code), event.dump());
  writer_.wake();
}

void RedisLiveState::rate_taken(const std::string& player_id, core::ActionClass action) {
  const int window_s = rate_windows_s_[static_cast<std::size_t>(action)];
  if (window_s > 0) mirror_.rate_taken(player_id, core::action_class_name(action), window_s);
}

}  // namespace mtown::server
