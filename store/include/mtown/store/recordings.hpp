// Reading recorded games back from the database: a whole recording (for `mtown replay`),
// the list of recorded games, and the JSON the HTTP API serves.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "mtown/store/database.hpp"

namespace mtown::store {

struct RecordingSummary {
  std::string game_id;
  std::string game;
  std::uint32_t game_version = 0;
  std::string room_code;
  std::string status;      // "active", "completed" or "aborted"
  std::string started_at;  // ISO-8601 UTC
  std::string ended_at;    // "" while active
  std::int64_t events = 0;  // game_events rows
};

// url: sqlite:PATH or postgres://... The recording exactly as written: the header from
// games.config, the entries from game_events in seq order. nullopt: no such game.
// Throws StoreError (cannot connect or query) and core::RecordingError (corrupt rows,
// newer format).
std::optional<core::Recording> load_recording(const std::string& url, const std::string& game_id);
std::optional<core::Recording> load_recording(Database& db, const std::string& game_id);

// The newest `limit` recorded games, newest first.
std::vector<RecordingSummary> list_recordings(const std::string& url, int limit = 50);
std::vector<RecordingSummary> list_recordings(Database& db, int limit = 50);

// GET /api/leaderboard: {"leaderboard":[{"player_name","games_played","wins","avg_score",
// "total_correct","total_robots_identified"}]}, most wins first.
nlohmann::json leaderboard_json(Database& db, int limit);
// GET /api/games/{id}: {"game":{...,"participants":[...],"events":N}}; nullopt: not found.
std::optional<nlohmann::json> game_json(Database& db, const std::string& game_id);

// The `questions` table as a question-pool JSON array (games::load_questions' input).
nlohmann::json question_pool_json(Database& db);

}  // namespace mtown::store
