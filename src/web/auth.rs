//! Logging in over HTTP, and the `CurrentUser` extractor every staff API and WebSocket takes.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRef, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::AppError;

use crate::auth::{Auth, AuthError, Role, User};

/// The session cookie's name.
pub const COOKIE: &str = "sb_session";

/// Cookie settings.
#[derive(Debug, Clone)]
pub struct CookiePolicy {
    pub ttl_s: u64,
    /// Add `Secure` (serve over HTTPS, directly or behind a proxy).
    pub secure: bool,
}

/// The session token of a request: the cookie, or `Authorization: Bearer`.
pub fn token(headers: &HeaderMap) -> Option<String> {
    if let Some(b) =
        headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "))
    {
        return Some(b.trim().to_string());
    }
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.to_string())
}

/// The logged-in user of a request; 401 without a valid session.
pub struct CurrentUser(pub User);

impl CurrentUser {
    /// 403 unless the user has at least `role`.
    pub fn require(&self, role: Role) -> Result<&User, AppError> {
        if self.0.role >= role {
            Ok(&self.0)
        } else {
            Err(AppError::Forbidden(format!("this needs the {} role", role.as_str())))
        }
    }
}

impl CurrentUser {
    /// The user of a request's session token (cookie or bearer); 401 without a valid one.
    pub async fn authenticate(auth: Arc<Auth>, headers: &HeaderMap) -> Result<CurrentUser, AppError> {
        let Some(token) = token(headers) else {
            return Err(AppError::Unauthorized("log in first".into()));
        };
        match tokio::task::spawn_blocking(move || auth.session(&token)).await {
            Ok(Some(user)) => Ok(CurrentUser(user)),
            _ => Err(AppError::Unauthorized("your session has expired or is not valid: log in again".into())),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser
where
    Arc<Auth>: FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        CurrentUser::authenticate(Arc::<Auth>::from_ref(state), &parts.headers).await
    }
}

#[derive(Deserialize)]
struct Login {
    username: String,
    password: String,
}

/// Whether a request says its body is JSON (`application/json`, any parameters).
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
}

fn with_retry_after(mut r: Response, wait: std::time::Duration) -> Response {
    if let Ok(v) = wait.as_secs().max(1).to_string().parse() {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

/// `POST /api/login` with a JSON body only (a cross-site form can send `text/plain` or a
/// form encoding, never `application/json` without CORS: 415 stops login CSRF). The session
/// token goes only in the HttpOnly cookie, never in the body, so page scripts never see it;
/// machine clients use the service token.
async fn login(State(auth): State<Arc<Auth>>, State(policy): State<CookiePolicy>, req: Request) -> Response {
    let client = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string()).unwrap_or_default();
    if !is_json(req.headers()) {
        return AppError::UnsupportedMediaType("send the login as Content-Type: application/json".into())
            .into_response();
    }
    let body = match axum::body::to_bytes(req.into_body(), 64 * 1024).await {
        Ok(b) => b,
        Err(_) => return AppError::TooLarge("request too large".into()).into_response(),
    };
    let Ok(l) = serde_json::from_slice::<Login>(&body) else {
        return AppError::BadRequest("send {\"username\": ..., \"password\": ...}".into()).into_response();
    };
    let result = tokio::task::spawn_blocking(move || auth.login(&l.username, &l.password, &client)).await;
    match result {
        Ok(Ok((user, token))) => {
            let cookie = format!(
                "{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
                policy.ttl_s,
                if policy.secure { "; Secure" } else { "" }
            );
            ([(header::SET_COOKIE, cookie)], Json(json!({ "user": user }))).into_response()
        }
        Ok(Err(e @ AuthError::RateLimited(wait))) => AppError::TooMany(e.to_string(), wait.as_secs()).into_response(),
        Ok(Err(e @ AuthError::Busy)) => {
            with_retry_after(AppError::Unavailable(e.to_string()).into_response(), std::time::Duration::from_secs(1))
        }
        Ok(Err(AuthError::BadCredentials)) => {
            AppError::Unauthorized(AuthError::BadCredentials.to_string()).into_response()
        }
        Ok(Err(e)) => AppError::Unavailable(e.to_string()).into_response(),
        Err(e) => {
            tracing::error!("login: {e}");
            AppError::Internal.into_response()
        }
    }
}

/// `GET /api/admin/login-stats` (admins): password checks run and logins refused as busy,
/// for monitoring (and the tests' count of checks).
async fn login_stats(State(auth): State<Arc<Auth>>, user: CurrentUser) -> Response {
    if let Err(e) = user.require(Role::Admin) {
        return e.into_response();
    }
    Json(auth.stats()).into_response()
}

async fn logout(State(auth): State<Arc<Auth>>, headers: HeaderMap) -> Response {
    if let Some(t) = token(&headers) {
        let _ = tokio::task::spawn_blocking(move || auth.logout(&t)).await;
    }
    let expired = format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    ([(header::SET_COOKIE, expired)], Json(json!({ "ok": true }))).into_response()
}

async fn me(user: CurrentUser) -> Response {
    Json(user.0).into_response()
}

/// `/api/login`, `/api/logout`, `/api/me`, `/api/admin/login-stats`.
pub fn routes() -> Router<super::AppState> {
    Router::new()
        .route("/api/login", post(login))
        .route("/api/logout", post(logout))
        .route("/api/me", get(me))
        .route("/api/admin/login-stats", get(login_stats))
}
