// The Redis contents this node owes: one entry per open room and per human player in
// one, plus what changed since the last flush. Rooms update it from their strands (short
// critical sections, no I/O); the RedisWriter thread turns the changes into pipelined
// commands. Changes coalesce, so its size is bounded by rooms and players, not traffic;
// pub/sub events queue (past `max_events` the oldest are dropped), and the deletions owed
// for closed rooms and left players stop at `max_finals` (later ones dropped); both counted.
#pragma once
#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "mtown/server/live_state.hpp"

namespace mtown::server {

class LiveMirror {
 public:
  using Command = std::vector<std::string>;
  struct Options {
    std::string node_id;
    int key_ttl_s = 60;
    std::size_t max_events = 1024;
    std::size_t max_finals = 4096;        // owed deletions / last writes (rooms closed, players left)
    std::size_t max_rate_players = 16384;  // players with rate-limit counts waiting for a flush
  };
  struct Batch {
    std::vector<Command> commands;
    std::size_t finals = 0;  // the first `finals` commands delete closed rooms and left players
    bool empty() const { return commands.empty(); }
  };

  explicit LiveMirror(Options options);

  // Updates, from any thread. `now_ms` is wall-clock epoch ms.
  void room_changed(const LiveRoom& room, std::int64_t now_ms);
  void room_closed(const std::string& code);
  void player_left(const std::string& code, const std::string& player_id, bool disconnected, std::int64_t now_ms);
  void player_active(const std::string& player_id, std::int64_t now_ms);
  void game_snapshot(const std::string& code, std::string snapshot_json);
  void vote(const std::string& code, std::string_view kind, const std::string& player_id, const std::string& answer);
  void clear_votes(const std::string& code);
  void publish(std::string channel, std::string payload);
  // The rate limiter let one `action` of a player through: ratelimit:{player}:{action}
  // counts them per window of `window_s` (coalesced; written with the next batch).
  void rate_taken(std::string_view player_id, std::string_view action, int window_s);

  // The commands that bring Redis up to date with every change since the last take().
  Batch take();
  // `batch` did not reach Redis: its deletions are owed again, and everything is rewritten.
  void failed(Batch batch);
  // Write everything again (after a reconnect: Redis may have restarted empty).
  void mark_all_dirty();
  // EXPIRE for every key the node owns (its heartbeat keeps them alive).
  std::vector<Command> refresh_ttls() const;

  bool dirty() const;
  bool owns(const std::string& code) const;
  std::size_t room_count() const;
  std::size_t player_count() const;
  std::uint64_t dropped_events() const { return dropped_events_.load(std::memory_order_relaxed); }
  // Finals and rate-limit counts dropped at their caps (Redis unreachable for long).
  std::uint64_t dropped_updates() const { return dropped_updates_.load(std::memory_order_relaxed); }
  const std::string& node_id() const { return options_.node_id; }

 private:
  struct RoomEntry {
    LiveRoom room;
    std::string id;
    std::int64_t updated_at_ms = 0;
    bool dirty = true;
    std::optional<std::string> snapshot;
    bool snapshot_dirty = false;
    std::map<std::string, std::string> votes[2];  // elimination, final: player id -> answer
    std::set<std::string> votes_dirty[2];
    bool votes_reset = false;
  };
  struct PlayerEntry {
    std::string id, name, room;
    bool connected = true;
    std::int64_t joined_at_ms = 0;
    std::int64_t last_activity_ms = 0;
    bool dirty = true;
  };

  void write_room(const std::string& code, RoomEntry& r, std::vector<Command>& out) const;
  void write_player(const PlayerEntry& p, std::vector<Command>& out) const;
  struct RateCount {
    std::string action;
    int window_s = 1;
    std::int64_t count = 0;
  };

  void leave(PlayerEntry& p, bool connected, std::int64_t now_ms);
  // Appends one owed change (exactly two commands) to finals_, unless finals_ is full.
  void owe(Command first, Command second);
  void write_rates(std::vector<Command>& out);

  Options options_;
  std::string ttl_;
  mutable std::mutex mutex_;
  std::map<std::string, RoomEntry> rooms_;
  std::map<std::string, PlayerEntry> players_;
  // Deletions and last writes owed to Redis, two commands per change (DEL+SREM of a closed
  // room, HSET+EXPIRE of a player who left), so a cap never splits one.
  std::vector<Command> finals_;
  std::map<std::string, std::vector<RateCount>, std::less<>> rates_;  // player id -> counts since the last take
  std::deque<std::pair<std::string, std::string>> events_;
  bool any_dirty_ = false;
  std::atomic<std::uint64_t> dropped_events_{0};
  std::atomic<std::uint64_t> dropped_updates_{0};
};

}  // namespace mtown::server
