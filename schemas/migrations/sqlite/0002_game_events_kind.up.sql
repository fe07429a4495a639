-- 0002_game_events_kind: a coarse event kind ("input", "state", "system") for filtering replays.
ALTER TABLE game_events ADD COLUMN kind TEXT;
CREATE INDEX game_events_kind_idx ON game_events (game_id, kind);
