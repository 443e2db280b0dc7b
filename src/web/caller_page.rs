//! The browser caller: the `/call` page (embedded HTML/JS, no build step) and its WebRTC
//! signalling (`/api/webrtc/...`).

use super::WebRtc;

use axum::extract::{ConnectInfo, Path};
use axum::http::header;
use axum::response::{Html, IntoResponse};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use super::AppError;
use crate::call::CallId;
use crate::transport::webrtc::WebRtcError;

const CALL_HTML: &str = include_str!("assets/call.html");
const CALL_JS: &str = include_str!("assets/call.js");
/// Largest SDP offer accepted (browsers send 2-6 KB).
const MAX_OFFER: usize = 64 * 1024;

/// Routes for the caller page.
pub fn routes() -> Router<super::AppState> {
    Router::new()
        .route("/call", get(|| async { Html(CALL_HTML) }))
        .route(
            "/assets/call.js",
            get(|| async { ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], CALL_JS) }),
        )
        .route("/api/webrtc/config", get(page_config))
        .route("/api/webrtc/offer", post(offer))
        .route("/api/webrtc/{id}/hangup", post(hangup))
        .route("/api/webrtc/{id}/keys", post(keys))
        .route("/api/webrtc/{id}/speaking", post(speaking))
}

async fn page_config(WebRtc(w): WebRtc) -> impl IntoResponse {
    Json(serde_json::json!({ "ice_servers": w.cfg.ice_servers, "show_transcript": w.cfg.show_transcript }))
}

#[derive(Deserialize)]
struct Offer {
    sdp: String,
    /// The caller's phone number, if they gave one (identifies, does not verify).
    #[serde(default)]
    caller: Option<String>,
}

async fn offer(
    WebRtc(w): WebRtc,
    client: Option<axum::Extension<ConnectInfo<std::net::SocketAddr>>>,
    body: axum::body::Bytes,
) -> Result<impl IntoResponse, AppError> {
    let offer: Offer = parse_offer(&body)?;
    let caller = offer.caller.filter(|c| !c.trim().is_empty());
    let client = super::client_ip(client);
    Ok(Json(w.answer(offer.sdp, caller, client).await?))
}

/// A browser's JSON offer (`{"sdp": ...}` and more), size-limited.
pub(super) fn parse_offer<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, AppError> {
    if body.len() > MAX_OFFER {
        return Err(AppError::BadRequest(format!("offer larger than {MAX_OFFER} bytes")));
    }
    serde_json::from_slice(body).map_err(|e| AppError::BadRequest(format!("expected {{\"sdp\": \"...\"}}: {e}")))
}

impl From<WebRtcError> for AppError {
    fn from(e: WebRtcError) -> Self {
        match e {
            WebRtcError::BadOffer(m) => {
                tracing::info!("webrtc offer refused: {m}");
                AppError::BadRequest(m)
            }
            WebRtcError::Unavailable(m) => AppError::Unavailable(m),
            WebRtcError::Conflict(m) => AppError::Conflict(m),
            WebRtcError::Refused(r) => {
                tracing::info!("webrtc offer refused: {r}");
                r.into()
            }
            WebRtcError::Internal(m) => {
                tracing::error!("webrtc: {m}");
                AppError::Internal
            }
        }
    }
}

#[derive(Deserialize)]
/// The call's token, the page's capability for its own call.
struct CallToken {
    token: String,
}

async fn hangup(
    WebRtc(w): WebRtc,
    Path(id): Path<String>,
    Json(h): Json<CallToken>,
) -> Result<impl IntoResponse, AppError> {
    if w.hangup(&CallId(id.clone()), &h.token) {
        Ok(Json(serde_json::json!({ "call_id": id, "ended": true })))
    } else {
        Err(AppError::Forbidden(format!("no live browser call {id} with that token")))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Keys {
    token: String,
    /// Keys pressed on the page's keypad, in order: 0-9, * and #.
    keys: String,
}

/// The page heard its caller start speaking over the assistant (barge-in from the browser,
/// ahead of the server's VAD; the call's token is the capability).
async fn speaking(
    WebRtc(w): WebRtc,
    Path(id): Path<String>,
    Json(h): Json<CallToken>,
) -> Result<impl IntoResponse, AppError> {
    match w.speaking(&CallId(id.clone()), &h.token) {
        Some(assistant) => Ok(Json(serde_json::json!({ "call_id": id, "assistant": assistant }))),
        None => Err(AppError::Forbidden(format!("no live browser call {id} with that token"))),
    }
}

/// The caller's keypad (the call's token is the capability, as for hanging up).
async fn keys(WebRtc(w): WebRtc, Path(id): Path<String>, Json(k): Json<Keys>) -> Result<impl IntoResponse, AppError> {
    if k.keys.is_empty() || k.keys.len() > 32 || !k.keys.chars().all(|c| c.is_ascii_digit() || c == '*' || c == '#') {
        return Err(AppError::Invalid("keys: 1 to 32 of 0-9, * and #".into()));
    }
    if w.keys(&CallId(id.clone()), &k.token, &k.keys) {
        Ok(Json(serde_json::json!({ "call_id": id, "keys": k.keys.len() })))
    } else {
        Err(AppError::Forbidden(format!("no live browser call {id} with that token")))
    }
}
