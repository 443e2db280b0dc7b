-- Retention: when the server deleted a call's recording and transcript (its turns), after
-- `[retention] days`. The call's row, timeline and reviews stay for the centre's numbers.

ALTER TABLE calls ADD COLUMN purged_at TEXT;
CREATE INDEX calls_ended ON calls(ended_at, purged_at);
