// LiveState backed by Redis: rooms write into the LiveMirror (memory, at once); the
// RedisWriter thread flushes it and the RedisSubscriber thread takes close requests.
// Owned by run_server; outlives the io threads.
#pragma once
#include <array>
#include <memory>

#include "mtown/core/config.hpp"
#include "mtown/server/live_mirror.hpp"
#include "mtown/server/live_state.hpp"
#include "redis_subscriber.hpp"
#include "redis_writer.hpp"

namespace mtown::server {

class RedisLiveState final : public LiveState {
 public:
  RedisLiveState(const core::ServeConfig& config, const core::RedisUrl& url, std::string node_id, std::string address,
                 core::MetricsRegistry& metrics, std::function<NodeLoad()> load, RedisSubscriber::CloseRoom close_room);
  ~RedisLiveState() override;

  void start();
  void stop();  // after the rooms closed: their deletions are flushed first
  std::string health_problem() const { return writer_.health_problem(); }

  void room_changed(const LiveRoom& room) override;
  void room_closed(const std::string& code, std::string_view reason) override;
  void player_left(const std::string& code, const std::string& player_id, bool disconnected) override;
  void player_active(const std::string& player_id) override;
  void game_snapshot(const std::string& code, const nlohmann::json& snapshot) override;
  void vote(const std::string& code, std::string_view kind, const std::string& player_id,
            const std::string& answer) override;
  void clear_votes(const std::string& code) override;
  void room_event(const std::string& code, nlohmann::json event) override;
  void rate_taken(const std::string& player_id, core::ActionClass action) override;

 private:
  // Per action class: the TTL of its ratelimit key (0: unlimited, not counted).
  std::array<int, static_cast<std::size_t>(core::ActionClass::count_)> rate_windows_s_{};
  LiveMirror mirror_;
  RedisWriter writer_;
  RedisSubscriber subscriber_;
};

}  // namespace mtown::server
