//! The agent desktop: the `/agent` page (embedded HTML/JS, no build step), its settings, and
//! the agent's WebRTC audio for an accepted call (`/api/calls/{id}/agent-media`).

use super::WebRtc;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{Html, IntoResponse};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use super::AppError;
use crate::call::CallId;
use crate::routing::service::RoutingService;
use crate::web::auth::CurrentUser;

const AGENT_HTML: &str = include_str!("assets/agent.html");
const AGENT_JS: &str = include_str!("assets/agent.js");

/// Routes for the agent desktop.
pub fn routes() -> Router<super::AppState> {
    Router::new()
        .route("/agent", get(|| async { Html(AGENT_HTML) }))
        .route(
            "/assets/agent.js",
            get(|| async { ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], AGENT_JS) }),
        )
        .route("/api/agent/config", get(config))
        .route("/api/calls/{id}/agent-media", post(media))
}

/// What the desktop needs to know: ICE servers, how long an offer stands, the dispositions.
async fn config(WebRtc(w): WebRtc, State(r): State<Arc<RoutingService>>, _user: CurrentUser) -> impl IntoResponse {
    Json(serde_json::json!({
        "ice_servers": w.cfg.ice_servers,
        "offer_timeout_s": r.offer_timeout_s(),
        "dispositions": super::routing_api::DISPOSITIONS,
    }))
}

#[derive(Deserialize)]
struct Offer {
    sdp: String,
}

/// The agent's browser offers its audio for a call it accepted; the answer bridges it to the caller.
async fn media(
    WebRtc(w): WebRtc,
    user: CurrentUser,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<impl IntoResponse, AppError> {
    let Some(agent) = user.0.agent_id.clone() else {
        return Err(AppError::Forbidden("this login has no agent profile".into()));
    };
    // Someone else's call answers like a missing one (as GET /api/calls/{id}).
    let call = CallId(id.clone());
    if !w.calls().registry.read(&call, |r| super::may_see(&user.0, &r.info)).unwrap_or(false) {
        return Err(AppError::NotFound(format!("no call {id}")));
    }
    let offer: Offer = super::caller_page::parse_offer(&body)?;
    let sdp = w.answer_agent(&call, &agent, offer.sdp).await?;
    Ok(Json(serde_json::json!({ "call_id": id, "sdp": sdp })))
}
