-- 0003_seed_indexes: the seeds' indexes that 0001 lacked (docs/migrations.md, "Seed
-- tables and indexes"): seed 002's games idx_room_code and idx_started_at (list_recordings
-- orders by started_at), seed 004's clients idx_last_seen (clients are players here).
CREATE INDEX games_room_code_idx ON games (room_code);
CREATE INDEX games_started_at_idx ON games (started_at);
CREATE INDEX players_last_seen_idx ON players (last_seen_at);
