-- A call's timeline: what happened on it besides the words, as its events were published
-- (the caller's state and language, the assistant's replies with their intents and tool calls,
-- hand-overs and their reasons, routing, agents, consults, supervisors stepping in, alerts and
-- who acknowledged them). Written by the call journal; the supervisor's call page shows it.
-- Never holds card digits or audio: secure capture publishes only counts and the last four.

CREATE TABLE call_events (
    id      INTEGER PRIMARY KEY,
    call_id TEXT NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
    at      TEXT NOT NULL,               -- when it was published (RFC 3339, UTC, ms)
    type    TEXT NOT NULL,               -- the event's `type`
    body    TEXT NOT NULL                -- the event as JSON
);
CREATE INDEX call_events_call ON call_events(call_id, id);
