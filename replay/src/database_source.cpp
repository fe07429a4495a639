// Recordings in the database (games + game_events, written by `mtown serve` through
// mtown_store): one game for replay, and the list of recorded games.
#include <ctime>

#include "mtown/replay/source.hpp"
#include "mtown/store/database.hpp"
#include "mtown/store/recordings.hpp"

namespace mtown::replay {
namespace {

using nlohmann::json;

class DatabaseSource final : public RecordingSource {
 public:
  DatabaseSource(std::string url, std::string game_id) : url_(std::move(url)), game_id_(std::move(game_id)) {}

  core::Recording load() override {
    std::optional<core::Recording> rec;
    try {
      rec = store::load_recording(url_, game_id_);
    } catch (const store::StoreError& e) {
      throw SourceError(SourceErrorKind::unavailable, "cannot read the database: " + std::string(e.what()));
    }
    if (!rec) throw SourceError(SourceErrorKind::not_found, "no game " + game_id_ + " in the database");
    return std::move(*rec);
  }

 private:
  std::string url_, game_id_;
};

// "2026-11-21T12:00:00.000Z" -> Unix ms; -1 when empty or malformed.
std::int64_t iso_ms(const std::string& iso) {
  std::tm tm{};
  int ms = 0;
  if (std::sscanf(iso.c_str(), "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
                  &tm.tm_sec, &ms) < 6)
    return -1;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<std::int64_t>(timegm(&tm)) * 1000 + ms;
}

RecordedGame describe_game(store::Database& db, const store::RecordingSummary& s) {
  RecordedGame g{s.game_id, s.game, s.status, s.started_at, s.ended_at, -1, 0, json::array(), nullptr, s.events};
  if (!s.ended_at.empty() && iso_ms(s.started_at) >= 0 && iso_ms(s.ended_at) >= 0)
    g.duration_ms = iso_ms(s.ended_at) - iso_ms(s.started_at);
  const auto rows = db.query("SELECT MAX(tick) FROM game_events WHERE game_id = $1", {s.game_id});
  if (!rows.empty() && rows[0].at(0)) g.ticks = std::stoull(*rows[0][0]);
  if (const auto detail = store::game_json(db, s.game_id)) {
    const auto& d = (*detail)["game"];
    for (const auto& p : d["participants"])
      g.players.push_back({{"seat", p["seat"]}, {"name", p["name"]}, {"ai", p["ai"]}, {"score", p["score"]}});
    g.result = d["result"];
  }
  return g;
}

}  // namespace

std::unique_ptr<RecordingSource> database_source(std::string url, std::string game_id) {
  return std::make_unique<DatabaseSource>(std::move(url), std::move(game_id));
}

std::vector<RecordedGame> list_database(const std::string& url, int limit) {
  try {
    const auto db = store::Database::open(url);
    std::vector<RecordedGame> out;
    for (const auto& s : store::list_recordings(*db, limit)) out.push_back(describe_game(*db, s));
    return out;
  } catch (const store::StoreError& e) {
    throw SourceError(SourceErrorKind::unavailable, "cannot read the database: " + std::string(e.what()));
  }
}

json recorded_game_json(const RecordedGame& g) {
  return {{"game_id", g.game_id}, {"game", g.game},       {"status", g.status},   {"started_at", g.started_at},
          {"ended_at", g.ended_at.empty() ? json() : json(g.ended_at)},
          {"duration_ms", g.duration_ms < 0 ? json() : json(g.duration_ms)},
          {"ticks", g.ticks},       {"players", g.players}, {"result", g.result}, {"events", g.events}};
}

}  // namespace mtown::replay
