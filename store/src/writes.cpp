#include "mtown/store/writes.hpp"

#include <algorithm>

namespace mtown::store {
namespace {

using nlohmann::json;

std::string bool_text(bool b) { return b ? "1" : "0"; }

void insert_game(Database& db, const GameBegin& b) {
  const auto& h = b.header;
  const auto started = iso_utc_ms(h.started_at_ms);
  db.query("INSERT INTO games (id, game_type, game_version, config, seed, room_code, status, started_at)"
           " VALUES ($1, $2, $3, $4, $5, $6, 'active', $7) ON CONFLICT (id) DO NOTHING",
           {h.game_id, h.game, std::to_string(h.game_version), core::header_to_json(h).dump(),
            std::to_string(static_cast<std::int64_t>(h.seed)), h.room_code, started});
  for (std::size_t seat = 0; seat < h.seats.size(); ++seat) {
    const auto& s = h.seats[seat];
    Param player;
    if (!s.ai) {
      db.query("INSERT INTO players (id, username, display_name, last_seen_at) VALUES ($1, $1, $2, $3)"
               " ON CONFLICT (id) DO UPDATE SET display_name = excluded.display_name, last_seen_at = excluded.last_seen_at",
               {s.player_id, s.name, started});
      player = s.player_id;
    }
    db.query("INSERT INTO game_participants (game_id, seat, player_id, is_ai, role, joined_at)"
             " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
             {h.game_id, std::to_string(seat), player, bool_text(s.ai), s.ai ? "ai" : "player", started});
  }
}

// Party standings -> player_game_stats (placement is the standing's rank).
void insert_party_stats(Database& db, const GameFinish& f) {
  const auto& standings = f.result.value("standings", json::array());
  for (std::size_t i = 0; i < standings.size(); ++i) {
    const auto& s = standings[i];
    const bool ai = s.value("ai", false);
    db.query("INSERT INTO player_game_stats (game_id, player_id, player_name, final_score, placement,"
             " correct_answers, robots_identified, times_fooled) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
             " ON CONFLICT DO NOTHING",
             {f.header.game_id, ai ? Param() : Param(s.value("player_id", "")), s.value("name", ""),
              std::to_string(s.value("score", 0)), std::to_string(i + 1), std::to_string(s.value("correct", 0)),
              std::to_string(s.value("robots_spotted", 0)), std::to_string(s.value("times_fooled", 0))});
  }
}

void finish_game(Database& db, const GameFinish& f) {
  const auto& h = f.header;
  const auto ended = iso_utc_ms(f.ended_at_ms);
  db.query("UPDATE games SET status = $2, ended_at = $3, result = $4 WHERE id = $1",
           {h.game_id, f.status, ended, f.result.is_null() ? Param() : Param(f.result.dump())});
  // Scores by seat from the standings (arena and party both list player_id + score).
  for (const auto& s : f.result.is_object() ? f.result.value("standings", json::array()) : json::array()) {
    for (std::size_t seat = 0; seat < h.seats.size(); ++seat)
      if (h.seats[seat].player_id == s.value("player_id", ""))
        db.query("UPDATE game_participants SET score = $3, left_at = $4 WHERE game_id = $1 AND seat = $2",
                 {h.game_id, std::to_string(seat), std::to_string(s.value("score", 0)), ended});
  }
  if (h.game == "party" && f.status == "completed") insert_party_stats(db, f);
  const auto duration_s = std::max<std::int64_t>(0, (f.ended_at_ms - h.started_at_ms) / 1000);
  db.query("INSERT INTO room_history (id, game_id, room_code, host_player_id, max_players, actual_players,"
           " created_at, closed_at, duration_s) VALUES ($1, $1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING",
           {h.game_id, h.room_code, f.meta.host_player_id.empty() ? Param() : Param(f.meta.host_player_id),
            std::to_string(f.meta.max_players), std::to_string(h.seats.size()), iso_utc_ms(h.started_at_ms), ended,
            std::to_string(duration_s)});
}

}  // namespace

void write_batch(Database& db, const Batch& batch) {
  db.begin();
  try {
    for (const auto& b : batch.begins) insert_game(db, b);
    db.insert_events(batch.events);
    for (const auto& f : batch.finishes) finish_game(db, f);
    db.commit();
  } catch (...) {
    db.rollback();
    throw;
  }
}

void refresh_leaderboard(Database& db) {
  if (db.dialect() == Dialect::postgres) db.query("REFRESH MATERIALIZED VIEW CONCURRENTLY leaderboard");
}

}  // namespace mtown::store
