#include "mtown/server/live_mirror.hpp"

#include <algorithm>

#include "mtown/core/ids.hpp"
#include "mtown/core/redis_keys.hpp"

namespace mtown::server {
namespace {

namespace keys = core::redis_keys;
using nlohmann::json;

int vote_slot(std::string_view kind) { return kind == "final" ? 1 : 0; }
std::string vote_key(int slot, const std::string& code) {
  return slot == 0 ? keys::votes_elimination(code) : keys::votes_final(code);
}
std::string flag(bool b) { return b ? "1" : "0"; }

}  // namespace

LiveMirror::LiveMirror(Options options) : options_(std::move(options)), ttl_(std::to_string(options_.key_ttl_s)) {}

void LiveMirror::room_changed(const LiveRoom& room, std::int64_t now_ms) {
  std::lock_guard lock(mutex_);
  auto [it, fresh] = rooms_.try_emplace(room.code);
  RoomEntry& r = it->second;
  if (fresh) r.id = core::random_id("r_");
  r.room = room;
  r.updated_at_ms = now_ms;
  r.dirty = true;
  std::set<std::string> present;
  for (const auto& p : room.players) {
    if (p.ai) continue;
    present.insert(p.id);
    auto [pit, joined] = players_.try_emplace(p.id);
    PlayerEntry& e = pit->second;
    if (joined || e.room != room.code) {
      e = PlayerEntry{p.id, p.name, room.code, p.connected, now_ms, now_ms, true};
    } else if (e.connected != p.connected) {
      e.connected = p.connected;
      e.dirty = true;
    }
  }
  // A member the room no longer lists has left even if player_left was not called.
  for (auto& [id, p] : players_)
    if (p.room == room.code && !present.contains(id)) leave(p, p.connected, now_ms);
  std::erase_if(players_, [](const auto& kv) { return kv.second.room.empty(); });
  any_dirty_ = true;
}

void LiveMirror::leave(PlayerEntry& p, bool connected, std::int64_t now_ms) {
  p.room.clear();
  p.connected = connected;
  p.last_activity_ms = now_ms;
  std::vector<Command> last;
  write_player(p, last);
  owe(std::move(last[0]), std::move(last[1]));
}

void LiveMirror::owe(Command first, Command second) {
  // Dropping the newest keeps every owed pair whole. What is dropped heals by itself: the
  // room's and player's keys expire (no heartbeat refreshes them) and the sweep clears
  // rooms:active once Redis is back.
  if (finals_.size() >= 2 * options_.max_finals) {
    dropped_updates_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  finals_.push_back(std::move(first));
  finals_.push_back(std::move(second));
}

void LiveMirror::room_closed(const std::string& code) {
  std::lock_guard lock(mutex_);
  rooms_.erase(code);
  owe({"DEL", keys::room(code), keys::game_state(code), keys::votes_elimination(code), keys::votes_final(code)},
      {"SREM", std::string(keys::kRoomsActive), code});
  for (auto& [id, p] : players_)
    if (p.room == code) leave(p, p.connected, p.last_activity_ms);
  std::erase_if(players_, [](const auto& kv) { return kv.second.room.empty(); });
  any_dirty_ = true;
}

void LiveMirror::player_left(const std::string& code, const std::string& player_id, bool disconnected,
                             std::int64_t now_ms) {
  std::lock_guard lock(mutex_);
  const auto it = players_.find(player_id);
  if (it == players_.end() || it->second.room != code) return;
  leave(it->second, !disconnected, now_ms);
  players_.erase(it);
  any_dirty_ = true;
}

void LiveMirror::player_active(const std::string& player_id, std::int64_t now_ms) {
  std::lock_guard lock(mutex_);
  const auto it = players_.find(player_id);
  // At most one rewrite a second per player, however fast its inputs come.
  if (it == players_.end() || now_ms - it->second.last_activity_ms < 1000) return;
  it->second.last_activity_ms = now_ms;
  it->second.dirty = true;
  any_dirty_ = true;
}

void LiveMirror::game_snapshot(const std::string& code, std::string snapshot_json) {
  std::lock_guard lock(mutex_);
  const auto it = rooms_.find(code);
  if (it == rooms_.end()) return;
  it->second.snapshot = std::move(snapshot_json);
  it->second.snapshot_dirty = true;
  any_dirty_ = true;
}

void LiveMirror::vote(const std::string& code, std::string_view kind, const std::string& player_id,
                      const std::string& answer) {
  std::lock_guard lock(mutex_);
  const auto it = rooms_.find(code);
  if (it == rooms_.end()) return;
  const int slot = vote_slot(kind);
  it->second.votes[slot][player_id] = answer;
  it->second.votes_dirty[slot].insert(player_id);
  any_dirty_ = true;
}

void LiveMirror::clear_votes(const std::string& code) {
  std::lock_guard lock(mutex_);
  const auto it = rooms_.find(code);
  if (it == rooms_.end()) return;
  for (int slot = 0; slot < 2; ++slot) {
    it->second.votes[slot].clear();
    it->second.votes_dirty[slot].clear();
  }
  it->second.votes_reset = true;
  any_dirty_ = true;
}

void LiveMirror::publish(std::string channel, std::string payload) {
  std::lock_guard lock(mutex_);
  if (events_.size() >= options_.max_events) {
    events_.pop_front();
    dropped_events_.fetch_add(1, std::memory_order_relaxed);
  }
  events_.emplace_back(std::move(channel), std::move(payload));
  any_dirty_ = true;
}

void LiveMirror::rate_taken(std::string_view player_id, std::string_view action, int window_s) {
  std::lock_guard lock(mutex_);
  auto it = rates_.find(player_id);
  if (it == rates_.end()) {
    if (rates_.size() >= options_.max_rate_players) {
      dropped_updates_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    it = rates_.emplace(std::string(player_id), std::vector<RateCount>{}).first;
  }
  auto& counts = it->second;
  auto c = std::find_if(counts.begin(), counts.end(), [&](const RateCount& r) { return r.action == action; });
  if (c == counts.end()) c = counts.insert(counts.end(), RateCount{std::string(action), window_s, 0});
  ++c->count;
  // No wake-up: counts ride with the next batch (while Redis is up, usually within the
  // writer's 100 ms idle wait), not one per input.
  any_dirty_ = true;
}

void LiveMirror::write_rates(std::vector<Command>& out) {
  for (const auto& [player, counts] : rates_)
    for (const auto& c : counts) {
      const auto key = keys::ratelimit(player, c.action);
      // A fixed window: the first count of a window creates the key with the window as
      // its TTL; INCRBY keeps the TTL, so the key vanishes when the window is over.
      out.push_back({"SET", key, "0", "EX", std::to_string(c.window_s), "NX"});
      out.push_back({"INCRBY", key, std::to_string(c.count)});
    }
  rates_.clear();
}

void LiveMirror::write_room(const std::string& code, RoomEntry& r, std::vector<Command>& out) const {
  if (r.dirty) {
    const LiveRoom& room = r.room;
    json players = json::array();
    int ai = 0;
    for (const auto& p : room.players) {
      players.push_back({{"id", p.id}, {"name", p.name}, {"host", p.host}, {"ai", p.ai}, {"connected", p.connected}});
      ai += p.ai ? 1 : 0;
    }
    out.push_back({"HSET", keys::room(code),
                   "id", r.id, "code", code, "game", room.game, "status", room.status, "phase", room.phase,
                   "round", std::to_string(room.round), "host", room.host, "players", players.dump(),
                   "player_count", std::to_string(room.players.size()), "max_players", std::to_string(room.max_players),
                   "ai", std::to_string(ai), "public", flag(room.is_public), "node", options_.node_id,
                   "game_id", room.game_id, "created_at_ms", std::to_string(room.created_at_ms),
                   "expires_at_ms", std::to_string(room.expires_at_ms), "updated_at_ms", std::to_string(r.updated_at_ms)});
    out.push_back({"EXPIRE", keys::room(code), ttl_});
    out.push_back({"SADD", std::string(keys::kRoomsActive), code});
    r.dirty = false;
  }
  if (r.snapshot_dirty && r.snapshot) {
    out.push_back({"SET", keys::game_state(code), *r.snapshot, "EX", ttl_});
    r.snapshot_dirty = false;
  }
  if (r.votes_reset) out.push_back({"DEL", keys::votes_elimination(code), keys::votes_final(code)});
  r.votes_reset = false;
  for (int slot = 0; slot < 2; ++slot) {
    if (r.votes_dirty[slot].empty()) continue;
    const auto key = vote_key(slot, code);
    // One HSET per vote (seed 002): a player's vote is one field, replaced atomically.
    for (const auto& player : r.votes_dirty[slot]) out.push_back({"HSET", key, player, r.votes[slot].at(player)});
    out.push_back({"EXPIRE", key, ttl_});
    r.votes_dirty[slot].clear();
  }
}

void LiveMirror::write_player(const PlayerEntry& p, std::vector<Command>& out) const {
  out.push_back({"HSET", keys::player(p.id), "id", p.id, "name", p.name, "room", p.room, "node", options_.node_id,
                 "connected", flag(p.connected), "joined_at_ms", std::to_string(p.joined_at_ms),
                 "last_activity_ms", std::to_string(p.last_activity_ms)});
  out.push_back({"EXPIRE", keys::player(p.id), ttl_});
}

LiveMirror::Batch LiveMirror::take() {
  Batch batch;
  std::lock_guard lock(mutex_);
  batch.commands.swap(finals_);
  batch.finals = batch.commands.size();
  for (auto& [code, r] : rooms_) write_room(code, r, batch.commands);
  for (auto& [id, p] : players_)
    if (p.dirty) {
      write_player(p, batch.commands);
      p.dirty = false;
    }
  write_rates(batch.commands);
  for (auto& [channel, payload] : events_) batch.commands.push_back({"PUBLISH", channel, std::move(payload)});
  events_.clear();
  any_dirty_ = false;
  return batch;
}

void LiveMirror::failed(Batch batch) {
  {
    std::lock_guard lock(mutex_);
    // Rate-limit counts of a lost batch are not owed again: they were a view of windows now past.
    batch.commands.resize(batch.finals);
    batch.commands.insert(batch.commands.end(), std::make_move_iterator(finals_.begin()),
                          std::make_move_iterator(finals_.end()));
    finals_ = std::move(batch.commands);
    if (finals_.size() > 2 * options_.max_finals) {
      dropped_updates_.fetch_add((finals_.size() - 2 * options_.max_finals) / 2, std::memory_order_relaxed);
      finals_.resize(2 * options_.max_finals);
    }
  }
  mark_all_dirty();
}

void LiveMirror::mark_all_dirty() {
  std::lock_guard lock(mutex_);
  for (auto& [code, r] : rooms_) {
    r.dirty = true;
    r.snapshot_dirty = r.snapshot.has_value();
    r.votes_reset = true;
    for (int slot = 0; slot < 2; ++slot)
      for (const auto& [player, answer] : r.votes[slot]) r.votes_dirty[slot].insert(player);
  }
  for (auto& [id, p] : players_) p.dirty = true;
  any_dirty_ = true;
}

std::vector<LiveMirror::Command> LiveMirror::refresh_ttls() const {
  std::vector<Command> out;
  std::lock_guard lock(mutex_);
  for (const auto& [code, r] : rooms_) {
    out.push_back({"EXPIRE", keys::room(code), ttl_});
    if (r.snapshot) out.push_back({"EXPIRE", keys::game_state(code), ttl_});
    if (!r.votes[0].empty()) out.push_back({"EXPIRE", keys::votes_elimination(code), ttl_});
    if (!r.votes[1].empty()) out.push_back({"EXPIRE", keys::votes_final(code), ttl_});
  }
  for (const auto& [id, p] : players_) out.push_back({"EXPIRE", keys::player(id), ttl_});
  return out;
}

bool LiveMirror::dirty() const {
  std::lock_guard lock(mutex_);
  return any_dirty_;
}

bool LiveMirror::owns(const std::string& code) const {
  std::lock_guard lock(mutex_);
  return rooms_.contains(code);
}

std::size_t LiveMirror::room_count() const {
  std::lock_guard lock(mutex_);
  return rooms_.size();
}

std::size_t LiveMirror::player_count() const {
  std::lock_guard lock(mutex_);
  return players_.size();
}

}  // namespace mtown::server
