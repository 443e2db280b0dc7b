//! Logging in over HTTP, and the `CurrentUser` extractor every staff API and WebSocket takes.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde::Deserialize;
use serde_json::json;

use crate::web::json_error as error;

use super::{Auth, AuthError, Role, User};

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
    pub fn require(&self, role: Role) -> Result<&User, Response> {
        if self.0.role >= role {
            Ok(&self.0)
        } else {
            Err(error(StatusCode::FORBIDDEN, format!("this needs the {} role", role.as_str())))
        }
    }
}

impl CurrentUser {
    /// The user of a request's session token (cookie or bearer); 401 without a valid one.
    pub async fn authenticate(auth: Option<Arc<Auth>>, headers: &HeaderMap) -> Result<CurrentUser, Response> {
        let Some(auth) = auth else {
            return Err(error(StatusCode::SERVICE_UNAVAILABLE, "accounts are not set up on this server"));
        };
        let Some(token) = token(headers) else {
            return Err(error(StatusCode::UNAUTHORIZED, "log in first"));
        };
        match tokio::task::spawn_blocking(move || auth.session(&token)).await {
            Ok(Some(user)) => Ok(CurrentUser(user)),
            _ => Err(error(StatusCode::UNAUTHORIZED, "your session has expired or is not valid: log in again")),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Response> {
        CurrentUser::authenticate(parts.extensions.get::<Arc<Auth>>().cloned(), &parts.headers).await
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
async fn login(
    Extension(auth): Extension<Arc<Auth>>,
    Extension(policy): Extension<CookiePolicy>,
    req: Request,
) -> Response {
    let client = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string()).unwrap_or_default();
    if !is_json(req.headers()) {
        return error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "send the login as Content-Type: application/json");
    }
    let body = match axum::body::to_bytes(req.into_body(), 64 * 1024).await {
        Ok(b) => b,
        Err(_) => return error(StatusCode::PAYLOAD_TOO_LARGE, "request too large"),
    };
    let Ok(l) = serde_json::from_slice::<Login>(&body) else {
        return error(StatusCode::BAD_REQUEST, "send {\"username\": ..., \"password\": ...}");
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
        Ok(Err(e @ AuthError::RateLimited(wait))) => {
            with_retry_after(error(StatusCode::TOO_MANY_REQUESTS, e.to_string()), wait)
        }
        Ok(Err(e @ AuthError::Busy)) => {
            with_retry_after(error(StatusCode::SERVICE_UNAVAILABLE, e.to_string()), std::time::Duration::from_secs(1))
        }
        Ok(Err(AuthError::BadCredentials)) => error(StatusCode::UNAUTHORIZED, AuthError::BadCredentials.to_string()),
        Ok(Err(e)) => error(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

/// `GET /api/admin/login-stats` (admins): password checks run and logins refused as busy,
/// for monitoring (and the tests' count of checks).
async fn login_stats(Extension(auth): Extension<Arc<Auth>>, user: CurrentUser) -> Response {
    if let Err(e) = user.require(Role::Admin) {
        return e;
    }
    Json(auth.stats()).into_response()
}

async fn logout(Extension(auth): Extension<Arc<Auth>>, headers: HeaderMap) -> Response {
    if let Some(t) = token(&headers) {
        let _ = tokio::task::spawn_blocking(move || auth.logout(&t)).await;
    }
    let expired = format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    ([(header::SET_COOKIE, expired)], Json(json!({ "ok": true }))).into_response()
}

async fn me(user: CurrentUser) -> Response {
    Json(user.0).into_response()
}

/// `/api/login`, `/api/logout`, `/api/me`, `/api/admin/login-stats`. The app must carry
/// `Extension<Arc<Auth>>` and `Extension<CookiePolicy>` (see `layer`).
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/api/login", post(login))
        .route("/api/logout", post(logout))
        .route("/api/me", get(me))
        .route("/api/admin/login-stats", get(login_stats))
}

/// Put the accounts on every request of `app`.
pub fn layer<S: Clone + Send + Sync + 'static>(app: Router<S>, auth: Arc<Auth>, policy: CookiePolicy) -> Router<S> {
    app.layer(Extension(auth)).layer(Extension(policy))
}
