-- People's verdicts on the AI's decisions of a finished call (the review loop): each decision
-- (the intent it understood, a tool call, a policy refusal, handing over or not, the caller's
-- state) marked right or wrong by the call's agent or a supervisor, with the correct value and
-- a note. `decision` names the decision within the call (see src/review/mod.rs): the timeline
-- event it came from and what in it. A second verdict on the same decision replaces the first.

CREATE TABLE reviews (
    call_id     TEXT NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
    decision    TEXT NOT NULL,               -- e.g. "e42/intent", "e42/action/0", "call/handover"
    kind        TEXT NOT NULL,               -- intent, tool, refusal, handover, caller_state
    ai_value    TEXT NOT NULL,               -- what the AI decided, as shown to the reviewer
    verdict     TEXT NOT NULL CHECK (verdict IN ('right', 'wrong')),
    correct     TEXT,                        -- the right value (wrong verdicts)
    note        TEXT NOT NULL DEFAULT '',
    reviewer    TEXT NOT NULL,               -- the staff login
    reviewed_at TEXT NOT NULL,               -- RFC 3339, UTC
    PRIMARY KEY (call_id, decision)
);
CREATE INDEX reviews_at ON reviews(reviewed_at);
