// The server's open rooms by code. Thread-safe (one mutex; create, find and list are
// rare next to the per-room traffic, which never touches the registry).
#pragma once
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "mtown/core/config.hpp"
#include "mtown/core/games.hpp"
#include "mtown/core/protocol.hpp"
#include "mtown/games/registry.hpp"
#include "mtown/server/room.hpp"
#include "mtown/server/server_metrics.hpp"

namespace mtown::server {

struct RoomFilter {
  std::string game;            // empty: any game
  std::optional<bool> has_space;
  bool public_only = true;
};

// A RoomSummary as the protocol's RoomSummary object (list_rooms, GET /api/rooms).
nlohmann::json summary_json(const RoomSummary& s);

class RoomRegistry {
 public:
  RoomRegistry(net::io_context& ioc, const core::ServeConfig& config, ServerMetrics& metrics,
               const std::vector<games::Question>& questions = games::builtin_questions());

  struct Created {
    std::shared_ptr<Room> room;  // null on error
    core::ErrorCode error = core::ErrorCode::internal;
  };
  // `before_start` (optional) runs before the room's timers start, so what it posts to the
  // room (the creator's join) reaches the room's strand before the empty-room timer can fire.
  Created create(const core::GameInfo& game, int max_players, bool is_public,
                 const std::function<void(const std::shared_ptr<Room>&)>& before_start = {},
                 std::optional<core::AiDifficulty> ai_fill = {},
                 std::optional<core::AiDifficulty> ai_takeover = {});
  std::shared_ptr<Room> find(const std::string& code) const;
  std::vector<RoomSummary> list(const RoomFilter& filter) const;  // sorted by code
  std::size_t size() const;
  // Before the first room is created: where rooms report their live state (Redis).
  void set_live_state(LiveState* live) { services_.live = live; }
  LiveState* live_state() const { return services_.live; }  // null without Redis
  void clear();  // forgets every room (after the io threads stopped)
  // Games started from now on are recorded by `writer` (before the first room opens), with
  // a hash record every recording.hash_every_ticks.
  void set_recording(std::shared_ptr<store::RecordWriter> writer);
  // `done` runs once every room has closed and told its members (on some room's strand).
  void close_all(RoomCloseReason reason, std::function<void()> done);

 private:
  void remove(const Room& room);

  net::io_context& ioc_;
  const core::ServeConfig& config_;
  ServerMetrics& metrics_;
  std::unique_ptr<MtrecWriter> mtrec_;  // outlives the rooms, whose recorders feed it
  core::TickLanes tick_lanes_;          // the rooms' games lease their lanes from it
  RoomServices services_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<Room>> rooms_;
  std::mt19937 rng_{std::random_device{}()};
};

}  // namespace mtown::server
