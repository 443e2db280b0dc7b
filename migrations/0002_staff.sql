-- Contact-center staff: agents' routing profiles, logins with roles, sessions; and the
-- agent's wrap-up on a contact.

CREATE TABLE agents (
    id TEXT PRIMARY KEY,                 -- a short handle, e.g. 'maria'
    profile TEXT NOT NULL,               -- JSON: name, languages, skills, regions, seniority, max_calls
    updated_at TEXT NOT NULL
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT NOT NULL,         -- Argon2id PHC string, never the password
    role TEXT NOT NULL CHECK (role IN ('agent', 'supervisor', 'admin')),
    agent_id TEXT REFERENCES agents(id) ON DELETE SET NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE sessions (
    token_sha256 TEXT PRIMARY KEY,       -- the token itself is only ever in the user's cookie
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

ALTER TABLE interactions ADD COLUMN disposition TEXT;
ALTER TABLE interactions ADD COLUMN notes TEXT;
