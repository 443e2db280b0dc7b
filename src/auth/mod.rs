//! Staff accounts: agents, supervisors and admins log in with a password (stored as an
//! Argon2id hash) and get a session token (random 256 bits from the OS; only its SHA-256 is
//! stored) in an HttpOnly, SameSite=Strict cookie, or as a bearer token for API clients.
//! Logins are limited per client address (hard) and slowed down per username (never locked out
//! for everyone): see `limiter` for the rule. Password checks run in a bounded pool (`pool`):
//! concurrent logins queue for one of two reusable Argon2 buffers instead of allocating 19 MiB
//! each. Callers never log in: the caller page and the phone need no account and reach nothing
//! staff-only.

pub mod limiter;
pub mod pool;

use std::time::{Duration, Instant};

use argon2::password_hash::{rand_core::OsRng, PasswordHasher, SaltString};
use argon2::Argon2;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::store::staff::UserRow;
use crate::store::{Store, StoreError};

/// What a user may do: agents their own calls, supervisors every call, admins also staff.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Agent,
    Supervisor,
    Admin,
}

impl Role {
    pub fn parse(s: &str) -> Option<Role> {
        Some(match s {
            "agent" => Role::Agent,
            "supervisor" => Role::Supervisor,
            "admin" => Role::Admin,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Supervisor => "supervisor",
            Role::Admin => "admin",
        }
    }
}

/// A logged-in user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub role: Role,
    /// The agent profile this login answers calls as.
    pub agent_id: Option<String>,
}

impl TryFrom<UserRow> for User {
    type Error = AuthError;
    fn try_from(r: UserRow) -> Result<User, AuthError> {
        let role = Role::parse(&r.role)
            .ok_or_else(|| AuthError::Store(format!("user {} has role {:?}", r.username, r.role)))?;
        Ok(User { id: r.id, username: r.username, role, agent_id: r.agent_id })
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum AuthError {
    /// Wrong username or password (never says which).
    #[error("wrong username or password")]
    BadCredentials,
    /// Too many failures; try again after this long.
    #[error("too many failed logins: try again in {} s", .0.as_secs().max(1))]
    RateLimited(Duration),
    /// Too many logins being checked at once; try again in a moment.
    #[error("the server is busy checking other logins: try again in a moment")]
    Busy,
    #[error("{0}")]
    Invalid(String),
    #[error("account store: {0}")]
    Store(String),
}

impl From<StoreError> for AuthError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Invalid(m) => AuthError::Invalid(m),
            other => AuthError::Store(other.to_string()),
        }
    }
}

/// An Argon2id hash of `password` (PHC string with its own salt).
pub fn hash_password(password: &str) -> Result<String, AuthError> {
    if password.chars().count() < 8 {
        return Err(AuthError::Invalid("a password needs at least 8 characters".into()));
    }
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AuthError::Store(format!("hashing failed: {e}")))
}

/// Whether `password` matches the PHC `hash` (with memory of its own; logins use the pool).
pub fn verify_password(hash: &str, password: &str) -> bool {
    pool::verify_in(hash, password, &mut Vec::new())
}

/// A fresh secret: `bytes` random bytes from the OS, hex.
pub fn random_token(bytes: usize) -> Result<String, AuthError> {
    let mut b = vec![0u8; bytes];
    getrandom::getrandom(&mut b).map_err(|e| AuthError::Store(format!("no randomness: {e}")))?;
    Ok(hex::encode(b))
}

fn new_token() -> Result<String, AuthError> {
    random_token(32)
}

/// Compare secrets without leaking where they differ through timing.
pub fn same_secret(a: &str, b: &str) -> bool {
    same_bytes(a.as_bytes(), b.as_bytes())
}

fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}

fn stamp(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A hash to verify against when the username does not exist (the same time either way);
/// made once per process, on the first such login, not at every start.
fn decoy() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(b"decoy-password-never-matches", &salt)
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

/// Logins and sessions.
#[derive(Debug)]
pub struct Auth {
    store: Store,
    session_ttl: Duration,
    limiter: limiter::Limiter,
    pool: pool::HashPool,
    /// A bearer token for machine clients (the simulator, monitoring), acting as an admin;
    /// from the environment (`SWITCHBOARD_API_TOKEN`), never from a file.
    service_token: Option<String>,
}

impl Auth {
    /// The default limits (`limiter::Rules::default`); two password checks at once, 16 waiting.
    pub fn new(store: Store, session_ttl: Duration) -> Result<Self, AuthError> {
        Ok(Self {
            store,
            session_ttl,
            limiter: limiter::Limiter::new(limiter::Rules::default()),
            pool: pool::HashPool::new(2, 16),
            service_token: None,
        })
    }

    /// How many password checks ran and how many logins were refused as busy (admins' view).
    pub fn stats(&self) -> pool::PoolStats {
        self.pool.stats()
    }

    /// Accept this bearer token as the service account (at least 32 characters).
    pub fn with_service_token(mut self, token: Option<String>) -> Result<Self, AuthError> {
        if token.as_ref().is_some_and(|t| t.len() < 32) {
            return Err(AuthError::Invalid("SWITCHBOARD_API_TOKEN must be at least 32 characters".into()));
        }
        self.service_token = token;
        Ok(self)
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Add a user (CLI, admin API, demo data).
    pub fn add_user(
        &self,
        username: &str,
        password: &str,
        role: Role,
        agent_id: Option<&str>,
    ) -> Result<User, AuthError> {
        let name = username.trim();
        if name.is_empty() || name.len() > 64 || !name.chars().all(|c| c.is_alphanumeric() || "._-@".contains(c)) {
            return Err(AuthError::Invalid(format!("{username:?}: a username is 1-64 letters, digits or . _ - @")));
        }
        let hash = hash_password(password)?;
        User::try_from(self.store.add_user(name, &hash, role.as_str(), agent_id)?)
    }

    /// Check a password (blocking: it may wait for the hashing pool and Argon2 takes tens of
    /// ms; call from `spawn_blocking`). Returns the user and a new session token.
    ///
    /// The attempt is counted by the limiter before the password is checked, under the same
    /// lock as the limit itself, so parallel attempts cannot get more checks than the limit.
    pub fn login(&self, username: &str, password: &str, client: &str) -> Result<(User, String), AuthError> {
        // Usernames are at most 64 characters: a longer one cannot exist, and keys stay small.
        let user_key: String = username.trim().to_lowercase().chars().take(65).collect();
        let res = self.limiter.reserve(&user_key, client, Instant::now()).map_err(AuthError::RateLimited)?;
        let checked = self.pool.run(|memory| -> Result<_, AuthError> {
            let found = self.store.user_with_hash(username)?;
            let ok = match &found {
                Some((_, hash)) => pool::verify_in(hash, password, memory),
                None => {
                    pool::verify_in(decoy(), password, memory);
                    false
                }
            };
            Ok(found.filter(|_| ok).map(|(row, _)| row))
        });
        let row = match checked {
            Err(pool::Busy) => {
                self.limiter.cancel(res);
                tracing::warn!(%client, "login refused: password checks are busy");
                return Err(AuthError::Busy);
            }
            Ok(Err(e)) => {
                self.limiter.cancel(res);
                return Err(e);
            }
            Ok(Ok(None)) => {
                tracing::warn!(user = %username, %client, "failed login");
                return Err(AuthError::BadCredentials);
            }
            Ok(Ok(Some(row))) => row,
        };
        self.limiter.succeeded(res);
        let token = new_token()?;
        let expires = now() + chrono::Duration::from_std(self.session_ttl).unwrap_or(chrono::Duration::hours(12));
        self.store.add_session(&token_hash(&token), row.id, &stamp(expires))?;
        Ok((User::try_from(row)?, token))
    }

    /// The user behind a session token, if it is valid and unexpired.
    pub fn session(&self, token: &str) -> Option<User> {
        if self.service_token.as_deref().is_some_and(|s| same_secret(s, token)) {
            return Some(User { id: 0, username: "service".into(), role: Role::Admin, agent_id: None });
        }
        if token.len() != 64 {
            return None;
        }
        self.store.session_user(&token_hash(token), &stamp(now())).ok().flatten().and_then(|r| User::try_from(r).ok())
    }

    pub fn logout(&self, token: &str) {
        let _ = self.store.delete_session(&token_hash(token), &stamp(now()));
    }
}

#[cfg(test)]
mod tests;
