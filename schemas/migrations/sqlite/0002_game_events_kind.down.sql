-- Reverts 0002_game_events_kind.
DROP INDEX game_events_kind_idx;
ALTER TABLE game_events DROP COLUMN kind;
