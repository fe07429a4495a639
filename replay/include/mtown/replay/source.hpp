// Where `mtown replay` gets a recording: a .mtrec file, or a game's rows in the database
// (games + game_events). Each source either returns the whole recording or throws a
// core::RecordingError (a damaged or too new recording) or a SourceError.
#pragma once
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mtown/core/recording.hpp"

namespace mtown::replay {

enum class SourceErrorKind { not_found, unavailable };

class SourceError : public std::runtime_error {
 public:
  SourceError(SourceErrorKind kind, const std::string& what) : std::runtime_error(what), kind_(kind) {}
  SourceErrorKind kind() const { return kind_; }

 private:
  SourceErrorKind kind_;
};

class RecordingSource {
 public:
  virtual ~RecordingSource() = default;
  virtual core::Recording load() = 0;
};

std::unique_ptr<RecordingSource> file_source(std::string path);
// A game's rows in the database at `url` (sqlite:PATH or postgres://...).
std::unique_ptr<RecordingSource> database_source(std::string url, std::string game_id);

// `mtown replay list`: the newest recorded games in the database.
struct RecordedGame {
  std::string game_id, game, status;  // status: active, completed, aborted
  std::string started_at, ended_at;   // ISO-8601 UTC; ended_at "" while active
  std::int64_t duration_ms = -1;      // -1 while active
  std::uint64_t ticks = 0;            // the last recorded tick (event-driven games: ms)
  nlohmann::json players;             // [{seat, name, ai, score}]
  nlohmann::json result;              // {winner, standings} when completed, else null
  std::int64_t events = 0;            // game_events rows
};
// Newest first. Throws SourceError(unavailable) when the database cannot be read.
std::vector<RecordedGame> list_database(const std::string& url, int limit);
nlohmann::json recorded_game_json(const RecordedGame& g);

}  // namespace mtown::replay
