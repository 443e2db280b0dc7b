//! Staff records: agents' routing profiles (JSON, typed by the router), logins and sessions,
//! and the agent's wrap-up on a contact.

use rusqlite::{params, OptionalExtension};
use serde::{de::DeserializeOwned, Serialize};

use super::{now_rfc3339, Store, StoreError};

/// A login. The password hash stays in the database layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub role: String,
    pub agent_id: Option<String>,
}

fn user(r: &rusqlite::Row) -> rusqlite::Result<UserRow> {
    Ok(UserRow { id: r.get(0)?, username: r.get(1)?, role: r.get(2)?, agent_id: r.get(3)? })
}

impl Store {
    /// Create or replace an agent's profile.
    pub fn put_agent<T: Serialize>(&self, id: &str, profile: &T) -> Result<(), StoreError> {
        let json = serde_json::to_string(profile).map_err(|e| StoreError::Invalid(e.to_string()))?;
        self.lock().execute(
            "INSERT INTO agents (id, profile, updated_at) VALUES (?1, ?2, ?3)
             ON CONFLICT(id) DO UPDATE SET profile = excluded.profile, updated_at = excluded.updated_at",
            params![id, json, now_rfc3339()],
        )?;
        Ok(())
    }

    /// Every agent's profile, by id. A profile that no longer parses is an error naming it.
    pub fn agents<T: DeserializeOwned>(&self) -> Result<Vec<(String, T)>, StoreError> {
        let conn = self.lock();
        let rows: Vec<(String, String)> = conn
            .prepare("SELECT id, profile FROM agents ORDER BY id")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        rows.into_iter()
            .map(|(id, p)| {
                let parsed = serde_json::from_str(&p).map_err(|e| StoreError::Invalid(format!("agent {id}: {e}")))?;
                Ok((id, parsed))
            })
            .collect()
    }

    pub fn delete_agent(&self, id: &str) -> Result<bool, StoreError> {
        Ok(self.lock().execute("DELETE FROM agents WHERE id = ?1", [id])? > 0)
    }

    /// Add a login; the username must be new.
    pub fn add_user(
        &self,
        username: &str,
        password_hash: &str,
        role: &str,
        agent_id: Option<&str>,
    ) -> Result<UserRow, StoreError> {
        let conn = self.lock();
        let inserted = conn.execute(
            "INSERT INTO users (username, password_hash, role, agent_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![username, password_hash, role, agent_id, now_rfc3339()],
        );
        match inserted {
            Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::ConstraintViolation => {
                return Err(StoreError::Invalid(format!(
                    "cannot add {username:?}: the name is taken, the role is not agent/supervisor/admin, or the agent does not exist"
                )))
            }
            other => other?,
        };
        Ok(UserRow {
            id: conn.last_insert_rowid(),
            username: username.into(),
            role: role.into(),
            agent_id: agent_id.map(Into::into),
        })
    }

    pub fn set_password(&self, username: &str, password_hash: &str) -> Result<(), StoreError> {
        match self
            .lock()
            .execute("UPDATE users SET password_hash = ?2 WHERE username = ?1", params![username, password_hash])?
        {
            0 => Err(StoreError::NotFound(format!("user {username}"))),
            _ => Ok(()),
        }
    }

    /// A login and its password hash.
    pub fn user_with_hash(&self, username: &str) -> Result<Option<(UserRow, String)>, StoreError> {
        Ok(self
            .lock()
            .query_row(
                "SELECT id, username, role, agent_id, password_hash FROM users WHERE username = ?1",
                [username],
                |r| Ok((user(r)?, r.get(4)?)),
            )
            .optional()?)
    }

    pub fn users(&self) -> Result<Vec<UserRow>, StoreError> {
        let conn = self.lock();
        let rows = conn
            .prepare("SELECT id, username, role, agent_id FROM users ORDER BY username")?
            .query_map([], user)?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    pub fn add_session(&self, token_sha256: &str, user_id: i64, expires_at: &str) -> Result<(), StoreError> {
        self.lock().execute(
            "INSERT INTO sessions (token_sha256, user_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
            params![token_sha256, user_id, now_rfc3339(), expires_at],
        )?;
        Ok(())
    }

    /// The user of an unexpired session.
    pub fn session_user(&self, token_sha256: &str, now: &str) -> Result<Option<UserRow>, StoreError> {
        Ok(self
            .lock()
            .query_row(
                "SELECT u.id, u.username, u.role, u.agent_id FROM sessions s JOIN users u ON u.id = s.user_id
                 WHERE s.token_sha256 = ?1 AND s.expires_at > ?2",
                params![token_sha256, now],
                user,
            )
            .optional()?)
    }

    /// End a session; also sweeps expired ones.
    pub fn delete_session(&self, token_sha256: &str, now: &str) -> Result<(), StoreError> {
        let conn = self.lock();
        conn.execute("DELETE FROM sessions WHERE token_sha256 = ?1 OR expires_at <= ?2", params![token_sha256, now])?;
        Ok(())
    }

    /// A call's wrap-up (disposition, notes), if an agent saved one.
    pub fn wrap_up_of(&self, call_id: &str) -> Result<Option<(String, String)>, StoreError> {
        Ok(self
            .lock()
            .query_row(
                "SELECT disposition, COALESCE(notes, '') FROM interactions WHERE call_id = ?1 AND disposition IS NOT NULL",
                [call_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    }

    /// The agent's wrap-up of a call: disposition code and notes on its interaction. Written
    /// once: `Invalid` if the call was already wrapped up (the first wrap-up stands).
    pub fn wrap_up(&self, call_id: &str, agent: &str, disposition: &str, notes: &str) -> Result<(), StoreError> {
        let conn = self.lock();
        match conn.execute(
            "UPDATE interactions SET disposition = ?2, notes = ?3, agent = ?4 WHERE call_id = ?1 AND disposition IS NULL",
            params![call_id, disposition, notes, agent],
        )? {
            0 => {
                let exists: bool = conn
                    .query_row("SELECT 1 FROM interactions WHERE call_id = ?1", [call_id], |_| Ok(()))
                    .optional()?
                    .is_some();
                Err(if exists {
                    StoreError::Invalid(format!("call {call_id} is already wrapped up: a wrap-up is final"))
                } else {
                    StoreError::NotFound(format!("interaction of call {call_id}"))
                })
            }
            _ => Ok(()),
        }
    }

    /// Record a callback request or a voice message (`kind` "callback" or "voicemail").
    pub fn add_callback(
        &self,
        call_id: &str,
        customer_id: Option<i64>,
        number: &str,
        kind: &str,
        message: &str,
    ) -> Result<i64, StoreError> {
        let conn = self.lock();
        conn.execute(
            "INSERT INTO callbacks (call_id, customer_id, number, kind, message, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![call_id, customer_id, number, kind, message, chrono::Utc::now().to_rfc3339()],
        )?;
        Ok(conn.last_insert_rowid())
    }

    /// Open callback requests and messages, oldest first: (call id, number, kind, message).
    pub fn open_callbacks(&self) -> Result<Vec<(String, String, String, String)>, StoreError> {
        let conn = self.lock();
        let mut st = conn.prepare(
            "SELECT call_id, number, kind, message FROM callbacks WHERE done_at IS NULL ORDER BY created_at, id",
        )?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

impl Store {
    /// Log agents' presence changes: (agent, presence, at RFC 3339).
    pub fn log_presence(&self, changes: &[(String, String, String)]) -> Result<(), StoreError> {
        self.transaction(|tx| {
            for (agent, presence, at) in changes {
                tx.execute(
                    "INSERT INTO agent_presence (agent, presence, at) VALUES (?1, ?2, ?3)",
                    rusqlite::params![agent, presence, at],
                )?;
            }
            Ok(())
        })
    }

    /// The presence log for `[from, to)`: each agent's last change before `from` (their
    /// presence when the period began), then every change in the period, oldest first.
    pub fn presence_log(&self, from: &str, to: &str) -> Result<Vec<(String, String, String)>, StoreError> {
        let conn = self.lock();
        let row = |r: &rusqlite::Row| Ok((r.get(0)?, r.get(1)?, r.get(2)?));
        let mut out: Vec<(String, String, String)> = conn
            .prepare(
                "SELECT p.agent, p.presence, p.at FROM agent_presence p
                 WHERE p.id = (SELECT q.id FROM agent_presence q WHERE q.agent = p.agent AND q.at < ?1
                               ORDER BY q.at DESC, q.id DESC LIMIT 1)",
            )?
            .query_map([from], row)?
            .collect::<Result<_, _>>()?;
        let during: Vec<(String, String, String)> = conn
            .prepare("SELECT agent, presence, at FROM agent_presence WHERE at >= ?1 AND at < ?2 ORDER BY at, id")?
            .query_map([from, to], row)?
            .collect::<Result<_, _>>()?;
        out.extend(during);
        Ok(out)
    }
}
