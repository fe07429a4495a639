#include "mtown/store/recordings.hpp"

namespace mtown::store {
namespace {

using nlohmann::json;

const std::string& text(const Row& row, std::size_t i) {
  static const std::string empty;
  return row.at(i) ? *row[i] : empty;
}

std::int64_t integer(const Row& row, std::size_t i) { return row.at(i) ? std::stoll(*row[i]) : 0; }

json json_or_null(const Row& row, std::size_t i) {
  if (!row.at(i)) return nullptr;
  return json::parse(*row[i], nullptr, false);
}

bool truthy(const Row& row, std::size_t i) { return row.at(i) && (*row[i] == "1" || *row[i] == "t" || *row[i] == "true"); }

std::string summary_columns(const Database& db) {
  return "g.id, g.game_type, g.game_version, g.room_code, g.status, " + db.iso("g.started_at") + ", " +
         db.iso("g.ended_at") + ", (SELECT COUNT(*) FROM game_events e WHERE e.game_id = g.id)";
}

RecordingSummary summary_from(const Row& r) {
  return {text(r, 0), text(r, 1), static_cast<std::uint32_t>(integer(r, 2)), text(r, 3), text(r, 4),
          text(r, 5), text(r, 6), integer(r, 7)};
}

}  // namespace

std::optional<core::Recording> load_recording(Database& db, const std::string& game_id) {
  const auto games = db.query("SELECT config FROM games WHERE id = $1", {game_id});
  if (games.empty()) return std::nullopt;
  core::Recording rec;
  const auto config = json_or_null(games[0], 0);
  if (config.is_discarded()) throw core::RecordingError(core::RecordingErrorKind::corrupt, "games.config is not JSON");
  rec.header = core::header_from_json(config);
  std::vector<EventRow> rows;
  for (const auto& r : db.query("SELECT tick, seq, kind, event_type, seat, player_id, payload FROM game_events"
                                " WHERE game_id = $1 ORDER BY seq",
                                {game_id})) {
    EventRow row{game_id, static_cast<core::Tick>(integer(r, 0)), integer(r, 1), text(r, 2), text(r, 3),
                 r.at(4) ? std::optional<std::uint32_t>(static_cast<std::uint32_t>(integer(r, 4))) : std::nullopt,
                 text(r, 5), json_or_null(r, 6)};
    if (row.payload.is_discarded())
      throw core::RecordingError(core::RecordingErrorKind::corrupt,
                                 "game_events row seq " + std::to_string(row.seq) + ": payload is not JSON");
    rows.push_back(std::move(row));
  }
  rec.entries = rows_to_entries(rows);
  return rec;
}

std::optional<core::Recording> load_recording(const std::string& url, const std::string& game_id) {
  const auto db = Database::open(url);
  return load_recording(*db, game_id);
}

std::vector<RecordingSummary> list_recordings(Database& db, int limit) {
  std::vector<RecordingSummary> out;
  for (const auto& r : db.query("SELECT " + summary_columns(db) +
                                    " FROM games g ORDER BY g.started_at DESC, g.id LIMIT $1",
                                {std::to_string(limit)}))
    out.push_back(summary_from(r));
  return out;
}

std::vector<RecordingSummary> list_recordings(const std::string& url, int limit) {
  const auto db = Database::open(url);
  return list_recordings(*db, limit);
}

json leaderboard_json(Database& db, int limit) {
  json out = json::array();
  for (const auto& r : db.query("SELECT player_name, games_played, wins, avg_score, total_correct,"
                                " total_robots_identified FROM leaderboard"
                                " ORDER BY wins DESC, avg_score DESC, player_name LIMIT $1",
                                {std::to_string(limit)}))
    out.push_back({{"player_name", text(r, 0)},
                   {"games_played", integer(r, 1)},
                   {"wins", integer(r, 2)},
                   {"avg_score", r.at(3) ? std::stod(*r[3]) : 0.0},
                   {"total_correct", integer(r, 4)},
                   {"total_robots_identified", integer(r, 5)}});
  return {{"leaderboard", std::move(out)}};
}

std::optional<json> game_json(Database& db, const std::string& game_id) {
  const auto rows = db.query("SELECT " + summary_columns(db) + ", g.seed, g.result, g.config FROM games g WHERE g.id = $1",
                             {game_id});
  if (rows.empty()) return std::nullopt;
  const auto& r = rows[0];
  const auto s = summary_from(r);
  const auto config = json_or_null(r, 10);
  json participants = json::array();
  for (const auto& p : db.query("SELECT seat, player_id, is_ai, score FROM game_participants WHERE game_id = $1 ORDER BY seat",
                                {game_id})) {
    const auto seat = integer(p, 0);
    json name = nullptr;
    if (config.is_object() && config.contains("seats") && seat < static_cast<std::int64_t>(config["seats"].size()))
      name = config["seats"][seat].value("name", "");
    participants.push_back({{"seat", seat},
                            {"player_id", p.at(1) ? json(*p[1]) : json(nullptr)},
                            {"name", name},
                            {"ai", truthy(p, 2)},
                            {"score", integer(p, 3)}});
  }
  return json{{"game",
               {{"game_id", s.game_id},
                {"game", s.game},
                {"game_version", s.game_version},
                {"room_code", s.room_code},
                {"status", s.status},
                {"seed", static_cast<std::uint64_t>(integer(r, 8))},
                {"started_at", s.started_at.empty() ? json(nullptr) : json(s.started_at)},
                {"ended_at", s.ended_at.empty() ? json(nullptr) : json(s.ended_at)},
                {"result", json_or_null(r, 9)},
                {"participants", std::move(participants)},
                {"events", s.events}}}};
}

json question_pool_json(Database& db) {
  json out = json::array();
  for (const auto& r : db.query("SELECT id, text, correct, robot, decoys FROM questions ORDER BY id")) {
    auto decoys = json_or_null(r, 4);
    out.push_back({{"id", text(r, 0)},
                   {"text", text(r, 1)},
                   {"correct", text(r, 2)},
                   {"robot", text(r, 3)},
                   {"decoys", decoys.is_discarded() ? json() : decoys}});
  }
  return out;
}

}  // namespace mtown::store
