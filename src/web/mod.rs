//! The HTTP side, and the only module that speaks it: one application state ([`AppState`]),
//! one error type ([`AppError`]) for every handler, REST for calls, the live event
//! WebSocket, staff logins (`auth`), routing and the agent desk (`routing_api`, `agent_page`),
//! browser callers (`caller_page`), provider media streams (`media_stream`) and the reference
//! back office (`back_office`, its own app for `switchboard back-office`).

use std::sync::Arc;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRef, FromRequestParts, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;

use crate::auth::{Auth, Role, User};
use crate::call::{CallId, CallServices};
use crate::events::{Event, EventBus};
use crate::routing::service::RoutingService;
use crate::transport::webrtc::WebRtcService;
use crate::web::auth::{CookiePolicy, CurrentUser};
use std::collections::HashSet;

mod agent_page;
pub mod auth;
pub mod back_office;
mod caller_page;
mod consult_api;
mod history_api;
mod media_stream;
mod routing_api;
mod supervise_api;
mod supervisor_page;

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
    /// Not logged in, or a wrong token.
    #[error("{0}")]
    Unauthorized(String),
    /// The request is well-formed but its content is not acceptable (422).
    #[error("{0}")]
    Invalid(String),
    /// The body is not in a format this endpoint takes (415).
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The body is too large (413).
    #[error("{0}")]
    TooLarge(String),
    /// Something failed inside; details are logged, not shown.
    #[error("internal error")]
    Internal,
}

impl From<crate::call::admission::Refusal> for AppError {
    fn from(r: crate::call::admission::Refusal) -> Self {
        AppError::TooMany(r.to_string(), r.retry_after().as_secs())
    }
}

impl From<crate::routing::model::RouteError> for AppError {
    fn from(e: crate::routing::model::RouteError) -> Self {
        use crate::routing::model::RouteError as R;
        match e {
            R::UnknownAgent(_) | R::UnknownCall(_) => AppError::NotFound(e.to_string()),
            R::AlreadyTaken { .. }
            | R::NotOffered { .. }
            | R::OfferExpired { .. }
            | R::NotOnCall { .. }
            | R::AgentBusy(_)
            | R::NotAvailable { .. }
            | R::NoConsult(_) => AppError::Conflict(e.to_string()),
        }
    }
}

/// An error response: `{"error": message}` with `status`.
fn json_error(status: StatusCode, message: impl Into<String>) -> Response {
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
            AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let mut r = json_error(status, self.to_string());
        if let AppError::TooMany(_, secs) = self {
            r.headers_mut().insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from(secs.max(1)));
        }
        r
    }
}

/// Everything the handlers use: one state for the whole application, of which each handler
/// extracts the part it needs (`State<Arc<CallServices>>`, `State<Arc<RoutingService>>`, ...).
#[derive(Clone)]
pub struct AppState {
    /// Calls: registry, event bus, controls, the store and back office through the assistant.
    pub calls: Arc<CallServices>,
    pub routing: Arc<RoutingService>,
    pub auth: Arc<Auth>,
    pub cookies: CookiePolicy,
    /// Browser media, when WebRTC is on.
    pub webrtc: Option<Arc<WebRtcService>>,
}

impl FromRef<AppState> for Arc<CallServices> {
    fn from_ref(s: &AppState) -> Self {
        s.calls.clone()
    }
}

impl FromRef<AppState> for Arc<RoutingService> {
    fn from_ref(s: &AppState) -> Self {
        s.routing.clone()
    }
}

impl FromRef<AppState> for Arc<Auth> {
    fn from_ref(s: &AppState) -> Self {
        s.auth.clone()
    }
}

impl FromRef<AppState> for CookiePolicy {
    fn from_ref(s: &AppState) -> Self {
        s.cookies.clone()
    }
}

/// The browser media service, for handlers only mounted when WebRTC is on (503 otherwise).
pub(crate) struct WebRtc(pub Arc<WebRtcService>);

impl FromRequestParts<AppState> for WebRtc {
    type Rejection = AppError;

    async fn from_request_parts(_: &mut axum::http::request::Parts, s: &AppState) -> Result<Self, AppError> {
        s.webrtc.clone().map(WebRtc).ok_or_else(|| AppError::Unavailable("browser calls are off".into()))
    }
}

/// The web application.
pub fn router(state: AppState, media_stream_path: Option<&str>) -> Router {
    let mut r = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/metrics", get(metrics))
        .route("/api/calls", get(list_calls))
        .route("/api/calls/load", get(calls_load))
        .route("/api/calls/{id}", get(get_call))
        .route("/api/calls/{id}/timeline", get(call_timeline))
        .route("/api/events", get(events_ws))
        .merge(auth::routes())
        .merge(routing_api::routes())
        .merge(consult_api::routes())
        .merge(supervise_api::routes())
        .merge(history_api::routes())
        .merge(supervisor_page::routes());
    if let Some(path) = media_stream_path {
        r = r.route(path, get(media_stream::media_stream_handler));
    }
    if state.webrtc.is_some() {
        r = r.merge(caller_page::routes()).merge(agent_page::routes());
    }
    r.with_state(state)
}

/// A web client's address (for the per-address admission limits); unspecified when the server
/// was not started with connection info (in-process tests).
pub(crate) fn client_ip(
    info: Option<axum::Extension<axum::extract::ConnectInfo<std::net::SocketAddr>>>,
) -> std::net::IpAddr {
    info.map(|i| i.0 .0.ip()).unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED))
}

/// Whether `user` may see this call: supervisors and admins every call, agents their own.
pub(crate) fn may_see(user: &User, call: &crate::call::CallInfo) -> bool {
    user.role >= Role::Supervisor
        || (user.agent_id.is_some() && (call.agent == user.agent_id || call.consultant == user.agent_id))
}

/// A JSON request body, or a 422 saying what is wrong with it.
pub(crate) fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, AppError> {
    serde_json::from_slice(body).map_err(|e| AppError::Invalid(format!("bad request body: {e}")))
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

/// How full the machine is: calls against `max_calls`, overflow calls, the inference backlog.
/// Staff only.
async fn calls_load(State(svc): State<Arc<CallServices>>, _user: CurrentUser) -> impl IntoResponse {
    Json(svc.load())
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

/// The Prometheus scrape: aggregate numbers only (no call, caller or agent in any label), so
/// it needs no login; put it behind your network's scrape rules like any exporter.
async fn metrics(State(svc): State<Arc<CallServices>>, State(routing): State<Arc<RoutingService>>) -> Response {
    let live: Vec<crate::call::CallInfo> = svc.registry.list().into_iter().filter(|c| c.ended_at.is_none()).collect();
    let legs: usize = live
        .iter()
        .map(|c| 2 + c.agent.is_some() as usize + c.consultant.is_some() as usize + c.supervisors.len())
        .sum();
    let pool = svc.engine.pool.stats();
    let agents = routing.agents();
    let load = svc.load();
    let g = crate::metrics::Gauges {
        max_calls: load.max_calls,
        overflow_calls: load.overflow_calls,
        overflow_max: load.overflow_max,
        active_calls: live.len(),
        legs,
        pool_workers: pool.workers,
        pool_queued: pool.queued,
        pool_running: pool.running,
        pool_completed: pool.completed,
        oldest_final_wait_s: pool.oldest_high_wait.as_secs_f64(),
        journal_dropped: svc.registry.journal().map(|j| j.dropped()).unwrap_or(0),
        agents_available: agents.iter().filter(|a| a.presence == crate::routing::Presence::Available).count(),
        queue_waiting: routing.waiting().len(),
    };
    let body = crate::metrics::render(crate::metrics::calls(), &g);
    ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], body).into_response()
}

/// Most events a timeline returns (the latest).
const TIMELINE: usize = 500;

/// A call's timeline from the database: its events besides the words, each with `at` (when
/// published), oldest first. Staff who may see the call only.
async fn call_timeline(
    State(svc): State<Arc<CallServices>>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, AppError> {
    let call = CallId(id.clone());
    let journal = svc.registry.journal().ok_or_else(|| AppError::Unavailable("no call journal".into()))?;
    let info = match svc.registry.read(&call, |r| r.info.clone()) {
        Some(i) => Some(i),
        None => journal.call(&call).await.map(|r| r.info),
    };
    if !info.is_some_and(|i| may_see(&user.0, &i)) {
        return Err(AppError::NotFound(format!("no call {id}")));
    }
    Ok(Json(journal.timeline(&call, TIMELINE).await))
}

#[derive(Deserialize)]
struct EventsQuery {
    call: Option<String>,
    /// A web caller's capability for their own call (from the offer's answer).
    token: Option<String>,
    /// `false`: leave out the words as they are spoken (`transcript_partial`). A call nobody
    /// takes partials for is not decoded for them (a quarter of the CPU).
    partials: Option<bool>,
}

/// Staff follow the calls they may see; a web caller follows only their own call, with its token.
async fn events_ws(
    State(svc): State<Arc<CallServices>>,
    Query(q): Query<EventsQuery>,
    headers: axum::http::HeaderMap,
    State(auth): State<Arc<Auth>>,
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
        let user = match CurrentUser::authenticate(auth, &headers).await {
            Ok(u) => u.0,
            Err(e) => return e.into_response(),
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
    let partials = q.partials.unwrap_or(true);
    // Subscribed before the 101 goes out, not once the upgrade completes: a client that has
    // its socket sees every event after it (a call it places next is not missed, however late
    // the upgraded task first runs on a busy machine). Staff and callers following calls get
    // their words as spoken (partials), unless they said they do not show them; an agent's
    // view counts through the call itself (the agent is on it).
    let watching = match view {
        View::Staff | View::Caller if partials => Some(svc.events.watch(call.as_ref())),
        _ => None,
    };
    let bus = svc.events.clone();
    upgrade_subscribed(ws, &bus, move |socket, rx| {
        connections.track_future(stream_events(svc, socket, rx, watching, call, view, partials))
    })
}

/// Upgrade to an event socket subscribed to `bus` before the 101 goes out, so however late the
/// upgraded task `serve` first runs, it gets every event published once the client has its
/// socket.
fn upgrade_subscribed<F, Fut>(ws: WebSocketUpgrade, bus: &EventBus, serve: F) -> Response
where
    F: FnOnce(WebSocket, tokio::sync::broadcast::Receiver<Event>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let rx = bus.subscribe();
    ws.on_upgrade(move |socket| serve(socket, rx))
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
            // A colleague asks this agent to consult: with the case file so far.
            Event::ConsultRequested { colleague, .. } if colleague.0 == agent => {
                let case = svc.registry.read(id, |r| r.case_file.clone()).flatten();
                let case = case.map(|c| Event::CaseFileUpdated { call_id: id.clone(), case_file: Box::new(c) });
                return (true, case);
            }
            Event::ConsultEnded { colleague, .. } if colleague.0 == agent => return (true, None),
            _ => {}
        }
        // Everything else only while the call is on offer to this agent or with them.
        let mine = svc.registry.works_on(id, agent)
            || (offered.contains(id)
                && svc.routing.as_ref().and_then(|r| r.offered_to(id)).is_some_and(|a| a.0 == agent));
        (mine, None)
    }
}

/// Forward the events `rx` receives that `view` may see as JSON text messages, until the
/// socket or the server closes; `_watching` marks the calls followed live meanwhile. A
/// subscriber too slow to keep up gets a `{"type":"lagged","missed":N}` notice and continues
/// with current events. A caller's own stream carries only what `Event::for_caller` allows.
async fn stream_events(
    svc: Arc<CallServices>,
    mut socket: WebSocket,
    mut rx: tokio::sync::broadcast::Receiver<Event>,
    _watching: Option<crate::events::Watching>,
    only: Option<CallId>,
    mut view: View,
    partials: bool,
) {
    let subscribed = |ev: &Event| {
        only.as_ref().is_none_or(|c| c == ev.call_id()) && (partials || !matches!(ev, Event::TranscriptPartial { .. }))
    };
    loop {
        tokio::select! {
            ev = rx.recv() => {
                let mut texts = Vec::new();
                match ev {
                    Ok(ev) => {
                        if !subscribed(&ev) {
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
                    if subscribed(&ev) && view.pass(&svc, &ev).0 {
                        let _ = socket.send(Message::Text(serde_json::to_string(&ev).expect("serialise").into())).await;
                    }
                }
                break;
            }
        }
    }
    let _ = socket.send(Message::Close(Some(CloseFrame { code: 1001, reason: "server shutting down".into() }))).await;
}

#[cfg(test)]
mod events_socket_tests;
