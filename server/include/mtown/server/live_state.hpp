// What rooms report about themselves to the node's live-state store: Redis when
// `redis.url` is set (RedisLiveState), nothing otherwise (rooms live in memory either
// way). Rooms call these on their own strand; every call returns at once, no I/O.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "mtown/core/rate_limit.hpp"

namespace mtown::server {

struct LivePlayer {
  std::string id;
  std::string name;
  bool host = false;
  bool ai = false;
  bool connected = true;
};

struct LiveRoom {
  std::string code;
  std::string game;
  std::string status;  // waiting | active | completed
  std::string phase;   // lobby, the game's phase (party), playing (arena), finished
  int round = 0;
  int max_players = 0;
  bool is_public = true;
  std::string host;     // player id, empty when only AI seats are left
  std::string game_id;  // the current or last game, empty before the first
  std::vector<LivePlayer> players;
  std::int64_t created_at_ms = 0;
  std::int64_t expires_at_ms = 0;
};

class LiveState {
 public:
  virtual ~LiveState() = default;
  virtual void room_changed(const LiveRoom& room) = 0;  // opened, or anything in it changed
  virtual void room_closed(const std::string& code, std::string_view reason) = 0;
  virtual void player_left(const std::string& code, const std::string& player_id, bool disconnected) = 0;
  virtual void player_active(const std::string& player_id) = 0;  // an input or chat: last activity
  // Turn-based games, after every phase change (and at start).
  virtual void game_snapshot(const std::string& code, const nlohmann::json& snapshot) = 0;
  // kind: "elimination" | "final". The latest vote of a player replaces their previous one.
  virtual void vote(const std::string& code, std::string_view kind, const std::string& player_id,
                    const std::string& answer) = 0;
  virtual void clear_votes(const std::string& code) = 0;  // a new round
  // Published on room:{code}:events, e.g. {"type":"phase","phase":"voting","round":2}.
  virtual void room_event(const std::string& code, nlohmann::json event) = 0;
  // The rate limiter let one action of the player through (counted in ratelimit:{player}:{action}).
  // Called by the player's connection on its strand, not a room's.
  virtual void rate_taken(const std::string& player_id, core::ActionClass action) = 0;
};

}  // namespace mtown::server
