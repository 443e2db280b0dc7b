//! The HTTP side: REST for calls, the live event WebSocket, and the router that mounts the
//! transports that speak HTTP (provider media streams).

use std::sync::Arc;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;

use crate::auth::http::{CookiePolicy, CurrentUser};
use crate::auth::{Auth, Role, User};
use crate::call::{CallId, CallServices};
use crate::events::Event;
use crate::transport::webrtc::WebRtcService;
use std::collections::HashSet;

mod agent_page;
mod caller_page;

/// Errors a handler returns: client mistakes with a clear message, internal ones hidden.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The thing asked for does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The request is wrong.
    #[error("{0}")]
    BadRequest(String),
    /// Not allowed (wrong token).
    #[error("{0}")]
    Forbidden(String),
    /// Not possible in the thing's current state.
    #[error("{0}")]
    Conflict(String),
    /// The server cannot take this now (capacity, shutdown).
    #[error("{0}")]
    Unavailable(String),
    /// This client is over a limit; try again after this many seconds (429, Retry-After).
    #[error("{0}")]
    TooMany(String, u64),
    /// Something failed inside; details are logged, not shown.
    #[error("internal error")]
    Internal,
}

/// An error response: `{"error": message}` with `status`.
pub fn json_error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(serde_json::json!({ "error": message.into() }))).into_response()
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = match self {
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::TooMany(_, _) => StatusCode::TOO_MANY_REQUESTS,
            AppError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let mut r = json_error(status, self.to_string());
        if let AppError::TooMany(_, secs) = self {
            r.headers_mut().insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from(secs.max(1)));
        }
        r
    }
}

/// The web application.
pub fn router(
    svc: Arc<CallServices>,
    media_stream_path: Option<&str>,
    webrtc: Option<Arc<WebRtcService>>,
    auth: Arc<Auth>,
    cookies: CookiePolicy,
) -> Router {
    let mut r = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/api/calls", get(list_calls))
        .route("/api/calls/{id}", get(get_call))
        .route("/api/events", get(events_ws))
        .merge(crate::auth::http::routes())
        .merge(crate::routing::api::routes());
    if let Some(path) = media_stream_path {
        r = r.route(path, get(crate::transport::stream::media_stream_handler));
    }
    let r = r.with_state(svc);
    let r = match webrtc {
        Some(w) => r.merge(caller_page::router(w.clone())).merge(agent_page::router(w)),
        None => r,
    };
    crate::auth::http::layer(r, auth, cookies)
}

/// Whether `user` may see this call: supervisors and admins every call, agents their own.
pub(crate) fn may_see(user: &User, call: &crate::call::CallInfo) -> bool {
    user.role >= Role::Supervisor || (call.agent.is_some() && call.agent == user.agent_id)
}

/// Ended calls listed from the database besides those in memory (after a restart, all of them).
const STORED_CALLS: usize = 200;

async fn list_calls(State(svc): State<Arc<CallServices>>, user: CurrentUser) -> impl IntoResponse {
    let mut calls = svc.registry.list();
    if let Some(j) = svc.registry.journal() {
        let known = calls.iter().map(|c| c.id.clone()).collect();
        calls.extend(j.ended_calls(STORED_CALLS, known).await);
        // The live ones and the latest ended ones (those in memory first: they are the newest).
        let live = calls.iter().filter(|c| c.ended_at.is_none()).count();
        calls.truncate(live + STORED_CALLS);
    }
    Json(calls.into_iter().filter(|c| may_see(&user.0, c)).collect::<Vec<_>>())
}

async fn get_call(
    State(svc): State<Arc<CallServices>>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, AppError> {
    // Someone else's call answers like a missing one. Not in memory: from the database.
    let call = CallId(id.clone());
    let rec = match svc.registry.get(&call) {
        Some(r) => Some(r),
        None => match svc.registry.journal() {
            Some(j) => j.call(&call).await,
            None => None,
        },
    };
    rec.filter(|c| may_see(&user.0, &c.info)).map(Json).ok_or_else(|| AppError::NotFound(format!("no call {id}")))
}

#[derive(Deserialize)]
struct EventsQuery {
    call: Option<String>,
    /// A web caller's capability for their own call (from the offer's answer).
    token: Option<String>,
}

/// Staff follow the calls they may see; a web caller follows only their own call, with its token.
async fn events_ws(
    State(svc): State<Arc<CallServices>>,
    Query(q): Query<EventsQuery>,
    headers: axum::http::HeaderMap,
    auth: Option<axum::Extension<Arc<Auth>>>,
    ws: WebSocketUpgrade,
) -> Response {
    let call = q.call.map(CallId);
    let caller_ok = match (&call, &q.token) {
        (Some(c), Some(t)) => svc.registry.caller_token_ok(c, t),
        _ => false,
    };
    let view = if caller_ok {
        View::Caller
    } else {
        let user = match CurrentUser::authenticate(auth.map(|a| a.0), &headers).await {
            Ok(u) => u.0,
            Err(r) => return r,
        };
        match (&call, user.role >= Role::Supervisor, user.agent_id.clone()) {
            (Some(c), _, _) if !svc.registry.read(c, |r| may_see(&user, &r.info)).unwrap_or(false) => {
                return AppError::Forbidden("not your call".into()).into_response();
            }
            (_, true, _) => View::Staff,
            // An agent's view of one call follows the call only while it is theirs.
            (_, false, Some(agent)) => View::Agent { agent, offered: HashSet::new() },
            (_, false, None) => return AppError::Forbidden("this login has no agent profile".into()).into_response(),
        }
    };
    // Tracked, so shutdown waits for the last call_ended to go out before the process exits
    // (upgraded sockets are not part of the HTTP server's graceful shutdown).
    let connections = svc.connections.clone();
    ws.on_upgrade(move |socket| connections.track_future(stream_events(svc, socket, call, view)))
}

/// What one event subscription may see.
enum View {
    /// Supervisors: everything (or the one call asked for).
    Staff,
    /// A web caller: their own call's conversation (`Event::for_caller`).
    Caller,
    /// An agent's desktop: offers to this agent (with the case file) and the calls they hold.
    /// `offered`: calls offered to this agent, so it also hears when such an offer ends
    /// (rolled over, caller gone).
    Agent { agent: String, offered: HashSet<CallId> },
}

impl View {
    /// Whether `ev` goes out; an offer to this agent also sends the case file so far.
    fn pass(&mut self, svc: &CallServices, ev: &Event) -> (bool, Option<Event>) {
        let (agent, offered) = match self {
            View::Staff => return (true, None),
            View::Caller => return (ev.for_caller(), None),
            View::Agent { agent, offered } => (agent.as_str(), offered),
        };
        let id = ev.call_id();
        match ev {
            Event::CallRouted { decision, .. } if decision.agent_id.0 == agent => {
                offered.insert(id.clone());
                let case = svc.registry.read(id, |r| r.case_file.clone()).flatten();
                let case = case.map(|c| Event::CaseFileUpdated { call_id: id.clone(), case_file: Box::new(c) });
                return (true, case);
            }
            // Rolled over to someone else, or the caller left: the desktop withdraws the offer.
            Event::CallRouted { .. } | Event::CallEnded { .. } if offered.remove(id) => return (true, None),
            Event::AgentLeft { agent_id, .. } if agent_id.0 == agent => return (true, None),
            _ => {}
        }
        // Everything else only while the call is on offer to this agent or with them.
        let mine = svc.registry.agent_of(id).as_deref() == Some(agent)
            || (offered.contains(id)
                && svc.routing.as_ref().and_then(|r| r.offered_to(id)).is_some_and(|a| a.0 == agent));
        (mine, None)
    }
}

/// Forward bus events as JSON text messages. A subscriber too slow to keep up gets a
/// `{"type":"lagged","missed":N}` notice and continues with current events.
/// A caller's own stream (`caller_view`) carries only what `Event::for_caller` allows.
async fn stream_events(svc: Arc<CallServices>, mut socket: WebSocket, only: Option<CallId>, mut view: View) {
    let mut rx = svc.events.subscribe();
    loop {
        tokio::select! {
            ev = rx.recv() => {
                let mut texts = Vec::new();
                match ev {
                    Ok(ev) => {
                        if only.as_ref().is_some_and(|c| c != ev.call_id()) {
                            continue;
                        }
                        let (pass, extra) = view.pass(&svc, &ev);
                        if !pass {
                            continue;
                        }
                        texts.push(serde_json::to_string(&ev).expect("events serialise"));
                        texts.extend(extra.map(|e| serde_json::to_string(&e).expect("events serialise")));
                    }
                    Err(RecvError::Lagged(n)) => texts.push(serde_json::json!({"type": "lagged", "missed": n}).to_string()),
                    Err(RecvError::Closed) => break,
                };
                for text in texts {
                    if socket.send(Message::Text(text.into())).await.is_err() {
                        return;
                    }
                }
            }
            m = socket.recv() => match m {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                _ => {}
            },
            _ = svc.shutdown.cancelled() => {
                // Let the last call_ended events out before closing.
                svc.tracker.wait().await;
                while let Ok(ev) = rx.try_recv() {
                    if only.as_ref().is_none_or(|c| c == ev.call_id()) && view.pass(&svc, &ev).0 {
                        let _ = socket.send(Message::Text(serde_json::to_string(&ev).expect("serialise").into())).await;
                    }
                }
                break;
            }
        }
    }
    let _ = socket.send(Message::Close(Some(CloseFrame { code: 1001, reason: "server shutting down".into() }))).await;
}
