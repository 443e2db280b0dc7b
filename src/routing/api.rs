//! The staff REST API of routing: agents (admins edit profiles, supervisors see everyone,
//! agents see and set themselves), presence, the queue, and an agent's answer to an offer
//! (exactly one accept wins).

use std::sync::Arc;

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Extension, Json, Router};
use serde::Deserialize;
use serde_json::json;

use crate::web::{json_error as error, may_see};

use super::model::{Agent, AgentId, Presence, RouteError};
use super::service::RoutingService;
use crate::auth::http::CurrentUser;
use crate::auth::{Role, User};
use crate::call::{CallId, CallServices};

fn route_error(e: RouteError) -> Response {
    let status = match e {
        RouteError::UnknownAgent(_) | RouteError::UnknownCall(_) => StatusCode::NOT_FOUND,
        RouteError::AlreadyTaken { .. }
        | RouteError::NotOffered { .. }
        | RouteError::OfferExpired { .. }
        | RouteError::NotOnCall { .. }
        | RouteError::AgentBusy(_) => StatusCode::CONFLICT,
    };
    error(status, e.to_string())
}

/// One access rule for calls (as `GET /api/calls/{id}`): a call an agent may not see (offered
/// to or taken by someone else) answers 404 like a missing one, whatever the action; only its
/// own agent (and supervisors) learn that it is taken, expired or still going.
fn hides_call(user: &User, agent: &AgentId, e: &RouteError) -> bool {
    user.role < Role::Supervisor
        && match e {
            RouteError::AlreadyTaken { by, .. } => by != agent,
            RouteError::NotOffered { .. } => true,
            _ => false,
        }
}

fn no_call(call: &str) -> Response {
    error(StatusCode::NOT_FOUND, format!("no call {call}"))
}

/// The agent a user answers calls as ("me"), or the one named, which only supervisors may act for.
fn whose(user: &User, id: &str) -> Result<AgentId, Response> {
    if id == "me" {
        return user
            .agent_id
            .clone()
            .map(AgentId)
            .ok_or_else(|| error(StatusCode::CONFLICT, "this login has no agent profile"));
    }
    if user.role >= Role::Supervisor || user.agent_id.as_deref() == Some(id) {
        Ok(AgentId(id.into()))
    } else {
        Err(error(StatusCode::FORBIDDEN, "agents act only for themselves"))
    }
}

async fn list_agents(Extension(r): Extension<Arc<RoutingService>>, user: CurrentUser) -> Response {
    let all = r.agents();
    let visible: Vec<_> = all
        .into_iter()
        .filter(|a| user.0.role >= Role::Supervisor || user.0.agent_id.as_deref() == Some(a.agent.id.0.as_str()))
        .collect();
    Json(visible).into_response()
}

async fn get_agent(
    Extension(r): Extension<Arc<RoutingService>>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Response {
    let id = match whose(&user.0, &id) {
        Ok(id) => id,
        Err(e) => return e,
    };
    match r.agent(&id) {
        Some(a) => Json(a).into_response(),
        None => error(StatusCode::NOT_FOUND, format!("no agent {id}")),
    }
}

async fn put_agent(
    Extension(r): Extension<Arc<RoutingService>>,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(mut agent): Json<Agent>,
) -> Response {
    if let Err(e) = user.require(Role::Admin) {
        return e;
    }
    if id.is_empty() || id.len() > 64 || !id.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)) {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "an agent id is 1-64 letters, digits or . _ -");
    }
    if agent.name.trim().is_empty() || agent.languages.is_empty() || agent.max_calls == 0 {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "an agent needs a name, a language and max_calls >= 1");
    }
    agent.id = AgentId(id);
    match r.put_agent(agent.clone()) {
        Ok(()) => Json(agent).into_response(),
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
    }
}

async fn delete_agent(
    Extension(r): Extension<Arc<RoutingService>>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Response {
    if let Err(e) = user.require(Role::Admin) {
        return e;
    }
    match r.remove_agent(&AgentId(id)) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => error(StatusCode::CONFLICT, e),
    }
}

#[derive(Deserialize)]
struct PresenceBody {
    presence: Presence,
}

async fn set_presence(
    Extension(r): Extension<Arc<RoutingService>>,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(b): Json<PresenceBody>,
) -> Response {
    let id = match whose(&user.0, &id) {
        Ok(id) => id,
        Err(e) => return e,
    };
    if matches!(b.presence, Presence::OnCall | Presence::WrapUp) {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "on_call and wrap_up follow the calls; set available, away or offline",
        );
    }
    match r.set_presence(&id, b.presence) {
        Ok(()) => Json(r.agent(&id)).into_response(),
        Err(e) => route_error(e),
    }
}

async fn queue(Extension(r): Extension<Arc<RoutingService>>, user: CurrentUser) -> Response {
    if let Err(e) = user.require(Role::Supervisor) {
        return e;
    }
    let q: Vec<_> = r.waiting().into_iter().map(|(c, p)| json!({"call_id": c, "priority": p})).collect();
    Json(q).into_response()
}

/// An agent takes an offered call; exactly one accept wins.
async fn accept(
    Extension(r): Extension<Arc<RoutingService>>,
    axum::extract::State(svc): axum::extract::State<Arc<CallServices>>,
    user: CurrentUser,
    Path(call): Path<String>,
) -> Response {
    let agent = match whose(&user.0, "me") {
        Ok(a) => a,
        Err(e) => return e,
    };
    let call = CallId(call);
    match r.accept(&call, &agent) {
        Ok(_) => {
            let accept_id = fastrand::u64(..);
            svc.registry.update(&call, |rec| {
                rec.info.agent = Some(agent.0.clone());
                rec.info.state = crate::call::CallState::WithAgent;
                rec.accept_id = Some(accept_id);
            });
            svc.events.publish(crate::events::Event::CallAccepted { call_id: call.clone(), agent_id: agent.clone() });
            svc.events.publish(crate::events::Event::CallStateChanged {
                call_id: call.clone(),
                state: crate::call::CallState::WithAgent,
            });
            // An agent who accepts but whose audio never connects (page closed, no microphone)
            // must not leave the caller in silence: the call goes back to the queue.
            let (controls, id, who, wait) =
                (svc.controls.clone(), call.clone(), agent.0.clone(), r.agent_connect_timeout());
            tokio::spawn(async move {
                tokio::time::sleep(wait).await;
                controls.send(&id, crate::call::Control::AgentCheck { agent: who, accept_id });
            });
            Json(json!({"call_id": call, "agent_id": agent})).into_response()
        }
        Err(e) if hides_call(&user.0, &agent, &e) => no_call(&call.0),
        Err(e) => route_error(e),
    }
}

async fn decline(
    Extension(r): Extension<Arc<RoutingService>>,
    user: CurrentUser,
    Path(call): Path<String>,
) -> Response {
    let agent = match whose(&user.0, "me") {
        Ok(a) => a,
        Err(e) => return e,
    };
    let id = CallId(call.clone());
    // An agent declines only what is offered to them; anything else is not theirs to see.
    if user.0.role < Role::Supervisor && r.offered_to(&id).as_ref() != Some(&agent) {
        return no_call(&call);
    }
    match r.decline(&id, &agent) {
        Ok(()) => Json(json!({"declined": true})).into_response(),
        Err(e) => route_error(e),
    }
}

/// The call's agent or a supervisor asks for a card: the caller keys it on the phone pad
/// (secure capture: muted for everyone else, out of the recording, transcript and events).
async fn secure_capture(
    axum::extract::State(svc): axum::extract::State<Arc<CallServices>>,
    user: CurrentUser,
    Path(call): Path<String>,
) -> Response {
    let id = CallId(call.clone());
    if !svc.registry.read(&id, |r| may_see(&user.0, &r.info)).unwrap_or(user.0.role >= Role::Supervisor) {
        return no_call(&call);
    }
    let by = user.0.username.clone();
    if svc.controls.send(&id, crate::call::Control::SecureCapture { by }) {
        (StatusCode::ACCEPTED, Json(json!({"call_id": call, "secure_capture": true}))).into_response()
    } else {
        error(StatusCode::CONFLICT, format!("call {call} is not live"))
    }
}

/// The agent (or a supervisor) ends the call: the caller's leg is hung up.
async fn hangup(
    axum::extract::State(svc): axum::extract::State<Arc<CallServices>>,
    user: CurrentUser,
    Path(call): Path<String>,
) -> Response {
    let id = CallId(call.clone());
    if !svc.registry.read(&id, |r| may_see(&user.0, &r.info)).unwrap_or(user.0.role >= Role::Supervisor) {
        return no_call(&call);
    }
    if svc.controls.send(&id, crate::call::Control::Hangup(crate::call::EndReason::AgentHangup)) {
        Json(json!({"call_id": call, "ending": true})).into_response()
    } else {
        error(StatusCode::CONFLICT, format!("call {call} is not live"))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Transfer {
    /// A named colleague ...
    to_agent: Option<String>,
    /// ... or a skill's queue.
    to_queue: Option<super::Skill>,
    /// For the next person (goes in the case file).
    #[serde(default)]
    note: String,
}

/// The agent passes their call on to a colleague or a queue, with the case file and a note.
async fn transfer(
    Extension(r): Extension<Arc<RoutingService>>,
    axum::extract::State(svc): axum::extract::State<Arc<CallServices>>,
    user: CurrentUser,
    Path(call): Path<String>,
    Json(b): Json<Transfer>,
) -> Response {
    let id = CallId(call.clone());
    if !svc.registry.read(&id, |r| may_see(&user.0, &r.info)).unwrap_or(false) {
        return no_call(&call);
    }
    let Some(from) = svc.registry.agent_of(&id) else {
        return error(StatusCode::CONFLICT, format!("call {call} is not with an agent"));
    };
    if b.to_agent.is_some() == b.to_queue.is_some() {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "give to_agent or to_queue");
    }
    if b.note.chars().count() > 1000 {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "the note is limited to 1000 characters");
    }
    if let Some(to) = &b.to_agent {
        if to == &from {
            return error(StatusCode::UNPROCESSABLE_ENTITY, "the call is already with this agent");
        }
        match r.agent(&AgentId(to.clone())) {
            None => return error(StatusCode::NOT_FOUND, format!("no agent {to}")),
            Some(a) if a.presence != Presence::Available => {
                let presence = serde_json::to_value(a.presence).unwrap_or_default();
                let presence = presence.as_str().unwrap_or("not available").replace('_', " ");
                return error(
                    StatusCode::CONFLICT,
                    format!("{to} is {presence}: choose an available colleague or a queue"),
                );
            }
            Some(_) => {}
        }
    }
    let m = crate::call::Control::Transfer { from, to_agent: b.to_agent.clone(), skill: b.to_queue, note: b.note };
    if svc.controls.send(&id, m) {
        Json(json!({"call_id": call, "to_agent": b.to_agent, "to_queue": b.to_queue})).into_response()
    } else {
        error(StatusCode::CONFLICT, format!("call {call} is not live"))
    }
}

/// Every agent's name, presence, languages and skills, for a transfer (any logged-in staff).
async fn directory(Extension(r): Extension<Arc<RoutingService>>, _user: CurrentUser) -> Response {
    let list: Vec<_> = r
        .agents()
        .into_iter()
        .map(|a| {
            json!({"id": a.agent.id, "name": a.agent.name, "presence": a.presence,
                "languages": a.agent.languages, "skills": a.agent.skills})
        })
        .collect();
    Json(list).into_response()
}

/// Disposition codes an agent closes a call with.
pub const DISPOSITIONS: &[&str] = &[
    "resolved",
    "callback_needed",
    "follow_up_email",
    "fraud_case_opened",
    "complaint_logged",
    "transferred",
    "other",
];

#[derive(Deserialize)]
struct WrapUp {
    disposition: String,
    #[serde(default)]
    notes: String,
}

/// The agent's wrap-up of an ended call: disposition code and notes on its interaction record.
/// Written once: a second wrap-up of the same call is refused (409), the first one stands.
async fn wrap_up(
    axum::extract::State(svc): axum::extract::State<Arc<CallServices>>,
    user: CurrentUser,
    Path(call): Path<String>,
    Json(b): Json<WrapUp>,
) -> Response {
    // Someone else's call answers like a missing one.
    let Some(rec) = svc.registry.get(&CallId(call.clone())).filter(|r| may_see(&user.0, &r.info)) else {
        return no_call(&call);
    };
    let Some(agent) = rec.info.agent.clone() else {
        return error(StatusCode::CONFLICT, "no agent took this call");
    };
    if rec.info.ended_at.is_none() {
        return error(StatusCode::CONFLICT, "the call is still going: wrap up after it ends");
    }
    if !DISPOSITIONS.contains(&b.disposition.as_str()) {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("disposition must be one of {}", DISPOSITIONS.join(", ")),
        );
    }
    if b.notes.chars().count() > 4000 {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "notes are limited to 4000 characters");
    }
    let Some(store) = svc.assistant.as_ref().map(|a| a.store.clone()) else {
        return error(StatusCode::SERVICE_UNAVAILABLE, "no database");
    };
    let notes = crate::routing::case_file::mask_cards(&b.notes);
    let (c, d) = (call.clone(), b.disposition.clone());
    match tokio::task::spawn_blocking(move || store.wrap_up(&c, &agent, &d, &notes)).await {
        Ok(Ok(())) => Json(json!({"call_id": call, "disposition": b.disposition, "saved": true})).into_response(),
        Ok(Err(e @ crate::store::StoreError::Invalid(_))) => error(StatusCode::CONFLICT, e.to_string()),
        Ok(Err(e)) => error(StatusCode::NOT_FOUND, e.to_string()),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

/// `/api/agents...`, `/api/queue`, `/api/calls/{id}/accept|decline|wrap-up`.
pub fn routes() -> Router<Arc<CallServices>> {
    Router::new()
        .route("/api/agents", get(list_agents))
        .route("/api/agents/directory", get(directory))
        .route("/api/agents/{id}", get(get_agent).put(put_agent).delete(delete_agent))
        .route("/api/agents/{id}/presence", put(set_presence))
        .route("/api/queue", get(queue))
        .route("/api/calls/{id}/accept", post(accept))
        .route("/api/calls/{id}/decline", post(decline))
        .route("/api/calls/{id}/wrap-up", post(wrap_up))
        .route("/api/calls/{id}/hangup", post(hangup))
        .route("/api/calls/{id}/secure-capture", post(secure_capture))
        .route("/api/calls/{id}/transfer", post(transfer))
}
