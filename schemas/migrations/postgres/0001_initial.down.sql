-- Reverts 0001_initial (PostgreSQL).
DROP TABLE connection_metrics;
DROP TABLE room_history;
DROP MATERIALIZED VIEW leaderboard;
DROP TABLE player_game_stats;
DROP TABLE questions;
DROP TABLE game_events;
DROP TABLE game_participants;
DROP TABLE agent_behaviors;
DROP TABLE games;
DROP TABLE players;
