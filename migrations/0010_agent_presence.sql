-- Each agent's presence as it changed (written by the router when it sees a change; on start
-- every agent is logged offline), for agent occupancy over any period: handle and wrap-up
-- time over staffed time (available, on a call or wrapping up).

CREATE TABLE agent_presence (
    id       INTEGER PRIMARY KEY,
    agent    TEXT NOT NULL,
    presence TEXT NOT NULL,              -- offline, available, on_call, wrap_up, away
    at       TEXT NOT NULL               -- RFC 3339, UTC, ms
);
CREATE INDEX agent_presence_at ON agent_presence(at);
CREATE INDEX agent_presence_agent ON agent_presence(agent, at);
