-- 0001_initial (SQLite). Ids are TEXT ("g_...", "p_..."); timestamps are ISO-8601 UTC
-- text with milliseconds ("2026-11-21T12:00:00.000Z"); JSON columns are TEXT.
CREATE TABLE players (
  id TEXT PRIMARY KEY,
  username TEXT NOT NULL UNIQUE,
  display_name TEXT,
  stats TEXT NOT NULL DEFAULT '{}',
  preferences TEXT NOT NULL DEFAULT '{}',
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  last_seen_at TEXT
);

CREATE TABLE games (
  id TEXT PRIMARY KEY,
  game_type TEXT NOT NULL,
  game_version TEXT NOT NULL,
  config TEXT NOT NULL DEFAULT '{}',
  seed INTEGER NOT NULL,
  room_code TEXT,
  status TEXT NOT NULL DEFAULT 'waiting' CHECK (status IN ('waiting', 'active', 'completed', 'aborted')),
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  started_at TEXT,
  ended_at TEXT,
  result TEXT
);
CREATE INDEX games_status_created_idx ON games (status, created_at);

CREATE TABLE agent_behaviors (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  personality TEXT NOT NULL DEFAULT '{}',
  decision_model TEXT,
  version INTEGER NOT NULL DEFAULT 1,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE game_participants (
  game_id TEXT NOT NULL REFERENCES games (id) ON DELETE CASCADE,
  seat INTEGER NOT NULL,
  player_id TEXT REFERENCES players (id),
  is_ai INTEGER NOT NULL DEFAULT 0 CHECK (is_ai IN (0, 1)),
  agent_id TEXT REFERENCES agent_behaviors (id),
  role TEXT NOT NULL DEFAULT 'player',
  score INTEGER NOT NULL DEFAULT 0,
  joined_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  left_at TEXT,
  PRIMARY KEY (game_id, seat),
  UNIQUE (game_id, player_id)
);

CREATE TABLE game_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  game_id TEXT NOT NULL REFERENCES games (id) ON DELETE CASCADE,
  tick INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  player_id TEXT,
  seat INTEGER,
  event_type TEXT NOT NULL,
  payload TEXT NOT NULL DEFAULT '{}',
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE UNIQUE INDEX game_events_game_tick_seq_idx ON game_events (game_id, tick, seq);

CREATE TABLE questions (
  id TEXT PRIMARY KEY,
  text TEXT NOT NULL,
  correct TEXT NOT NULL,
  robot TEXT NOT NULL,
  decoys TEXT NOT NULL DEFAULT '[]',
  category TEXT,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE player_game_stats (
  game_id TEXT NOT NULL REFERENCES games (id) ON DELETE CASCADE,
  player_id TEXT REFERENCES players (id),
  player_name TEXT NOT NULL,
  final_score INTEGER NOT NULL,
  placement INTEGER NOT NULL,
  rounds_won INTEGER NOT NULL DEFAULT 0,
  correct_answers INTEGER NOT NULL DEFAULT 0,
  robots_identified INTEGER NOT NULL DEFAULT 0,
  times_fooled INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (game_id, player_name)
);
CREATE INDEX player_game_stats_player_idx ON player_game_stats (player_id);

-- A plain view on SQLite (PostgreSQL: a materialized view refreshed concurrently).
CREATE VIEW leaderboard AS
SELECT player_name,
       COUNT(*) AS games_played,
       SUM(CASE WHEN placement = 1 THEN 1 ELSE 0 END) AS wins,
       AVG(final_score) AS avg_score,
       SUM(correct_answers) AS total_correct,
       SUM(robots_identified) AS total_robots_identified
FROM player_game_stats
GROUP BY player_name;

CREATE TABLE room_history (
  id TEXT PRIMARY KEY,
  game_id TEXT REFERENCES games (id) ON DELETE SET NULL,
  room_code TEXT,
  host_player_id TEXT,
  max_players INTEGER NOT NULL,
  actual_players INTEGER NOT NULL,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  closed_at TEXT,
  duration_s INTEGER,
  region TEXT,
  connection_types TEXT
);
CREATE INDEX room_history_game_idx ON room_history (game_id);
CREATE INDEX room_history_created_idx ON room_history (created_at);

CREATE TABLE connection_metrics (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  player_id TEXT,
  room_id TEXT,
  connection_type TEXT,
  latency_ms INTEGER,
  packet_loss_rate REAL,
  bandwidth_kbps INTEGER,
  recorded_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX connection_metrics_player_time_idx ON connection_metrics (player_id, recorded_at);
