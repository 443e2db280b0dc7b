-- Callers nobody could take in time: a callback request or a voice message, for the team to
-- work through (oldest first).
CREATE TABLE callbacks (
    id INTEGER PRIMARY KEY,
    call_id TEXT NOT NULL,
    customer_id INTEGER REFERENCES customers(id) ON DELETE SET NULL,
    number TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('callback', 'voicemail')),
    message TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    done_at TEXT
);
CREATE INDEX callbacks_open ON callbacks(done_at, created_at);
