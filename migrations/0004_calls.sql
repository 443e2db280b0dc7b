-- Every call, written when it starts and kept current while it runs (state, agent, keys, the
-- verified customer, each final caller turn), so a crash loses nothing said: on the next
-- start, calls still open here are closed with end_reason 'server_crash' at the moment they
-- were last seen, and get their interaction record.

CREATE TABLE calls (
    id           TEXT PRIMARY KEY,            -- c- and 12 hex digits
    caller       TEXT NOT NULL,               -- as the transport presented it (unverified)
    transport    TEXT NOT NULL,               -- sip, webrtc, media_stream
    assisted     INTEGER NOT NULL DEFAULT 0,  -- the AI assistant answered (it gets an interaction)
    state        TEXT NOT NULL,               -- active, on_hold, waiting_for_agent, with_agent, ending, ended
    started_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,               -- the latest write or heartbeat while it ran
    ended_at     TEXT,                        -- NULL while live
    end_reason   TEXT,
    agent        TEXT,
    language     TEXT,
    dtmf         TEXT NOT NULL DEFAULT '',
    customer_id  INTEGER REFERENCES customers(id) ON DELETE SET NULL,  -- only once verified on this call
    outcome      TEXT
);
CREATE INDEX calls_open ON calls(ended_at);

CREATE TABLE call_turns (
    call_id  TEXT NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
    seq      INTEGER NOT NULL,                -- 0, 1, ... in the call's order
    start_ms INTEGER NOT NULL,
    end_ms   INTEGER NOT NULL,
    language TEXT NOT NULL,
    text     TEXT NOT NULL,
    PRIMARY KEY (call_id, seq)
);

CREATE INDEX interactions_call ON interactions(call_id);
