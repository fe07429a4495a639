-- Reverts 0003_seed_indexes.
DROP INDEX players_last_seen_idx;
DROP INDEX games_started_at_idx;
DROP INDEX games_room_code_idx;
