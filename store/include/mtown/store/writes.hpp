// What the recording writer stores, grouped into one transaction per batch: new games
// (games, players, game_participants rows), game_events rows, and finished games
// (status, result, scores, player_game_stats for party games, room_history).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "mtown/store/database.hpp"

namespace mtown::store {

struct GameMeta {  // what the room knows beyond the recording header
  int max_players = 0;
  std::string host_player_id;
};

struct GameBegin {
  core::RecordingHeader header;
  GameMeta meta;
};

struct GameFinish {
  core::RecordingHeader header;  // of the game that ended
  GameMeta meta;
  std::string status;  // "completed" or "aborted"
  std::int64_t ended_at_ms = 0;
  nlohmann::json result;
};

struct Batch {
  std::vector<GameBegin> begins;
  std::vector<EventRow> events;
  std::vector<GameFinish> finishes;
  std::size_t rows() const { return begins.size() + events.size() + finishes.size(); }
  bool empty() const { return rows() == 0; }
};

// One transaction; every insert skips rows already there, so a batch whose commit was
// lost can be written again. Throws StoreError.
void write_batch(Database& db, const Batch& batch);

// PostgreSQL: REFRESH MATERIALIZED VIEW CONCURRENTLY leaderboard; SQLite: nothing (a view).
void refresh_leaderboard(Database& db);

}  // namespace mtown::store
