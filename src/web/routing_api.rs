//! The staff REST API of routing: agents (admins edit profiles, supervisors see everyone,
//! agents see and set themselves), presence, the queue, and an agent's answer to an offer
//! (exactly one accept wins).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::{may_see, AppError, AppState};

use super::auth::CurrentUser;
use crate::auth::{Role, User};
use crate::call::{CallId, CallServices};
use crate::routing::model::{Agent, AgentId, Presence, RouteError};
use crate::routing::service::RoutingService;

fn route_error(e: RouteError) -> Response {
    AppError::from(e).into_response()
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
    AppError::NotFound(format!("no call {call}")).into_response()
}

/// The agent a user answers calls as ("me"), or the one named, which only supervisors may act for.
fn whose(user: &User, id: &str) -> Result<AgentId, AppError> {
    if id == "me" {
        return user
            .agent_id
            .clone()
            .map(AgentId)
            .ok_or_else(|| AppError::Conflict("this login has no agent profile".into()));
    }
    if user.role >= Role::Supervisor || user.agent_id.as_deref() == Some(id) {
        Ok(AgentId(id.into()))
    } else {
        Err(AppError::Forbidden("agents act only for themselves".into()))
    }
}

async fn list_agents(State(r): State<Arc<RoutingService>>, user: CurrentUser) -> Response {
    let all = r.agents();
    let visible: Vec<_> = all
        .into_iter()
        .filter(|a| user.0.role >= Role::Supervisor || user.0.agent_id.as_deref() == Some(a.agent.id.0.as_str()))
        .collect();
    Json(visible).into_response()
}

async fn get_agent(State(r): State<Arc<RoutingService>>, user: CurrentUser, Path(id): Path<String>) -> Response {
    let id = match whose(&user.0, &id) {
        Ok(id) => id,
        Err(e) => return e.into_response(),
    };
    match r.agent(&id) {
        Some(a) => Json(a).into_response(),
        None => AppError::NotFound(format!("no agent {id}")).into_response(),
    }
}

async fn put_agent(
    State(r): State<Arc<RoutingService>>,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(mut agent): Json<Agent>,
) -> Response {
    if let Err(e) = user.require(Role::Admin) {
        return e.into_response();
    }
    if id.is_empty() || id.len() > 64 || !id.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)) {
        return AppError::Invalid("an agent id is 1-64 letters, digits or . _ -".into()).into_response();
    }
    if agent.name.trim().is_empty() || agent.languages.is_empty() || agent.max_calls == 0 {
        return AppError::Invalid("an agent needs a name, a language and max_calls >= 1".into()).into_response();
    }
    agent.id = AgentId(id);
    match r.put_agent(agent.clone()) {
        Ok(()) => Json(agent).into_response(),
        Err(e) => AppError::Unavailable(e.to_string()).into_response(),
    }
}

async fn delete_agent(State(r): State<Arc<RoutingService>>, user: CurrentUser, Path(id): Path<String>) -> Response {
    if let Err(e) = user.require(Role::Admin) {
        return e.into_response();
    }
    match r.remove_agent(&AgentId(id)) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => AppError::Conflict(e).into_response(),
    }
}

#[derive(Deserialize)]
struct PresenceBody {
    presence: Presence,
}

async fn set_presence(
    State(r): State<Arc<RoutingService>>,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(b): Json<PresenceBody>,
) -> Response {
    let id = match whose(&user.0, &id) {
        Ok(id) => id,
        Err(e) => return e.into_response(),
    };
    if matches!(b.presence, Presence::OnCall | Presence::WrapUp) {
        return AppError::Invalid("on_call and wrap_up follow the calls; set available, away or offline".into())
            .into_response();
    }
    match r.set_presence(&id, b.presence) {
        Ok(()) => Json(r.agent(&id)).into_response(),
        Err(e) => route_error(e),
    }
}

async fn queue(State(r): State<Arc<RoutingService>>, user: CurrentUser) -> Response {
    if let Err(e) = user.require(Role::Supervisor) {
        return e.into_response();
    }
    let q: Vec<_> = r.waiting().into_iter().map(|(c, p)| json!({"call_id": c, "priority": p})).collect();
    Json(q).into_response()
}

/// An agent takes an offered call; exactly one accept wins.
async fn accept(
    State(r): State<Arc<RoutingService>>,
    State(svc): State<Arc<CallServices>>,
    user: CurrentUser,
    Path(call): Path<String>,
) -> Response {
    let agent = match whose(&user.0, "me") {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    let call = CallId(call);
    match r.accept(&call, &agent) {
        Ok(_) => {
            // The call records its agent itself (and checks their audio connects in time).
            let who = agent.0.clone();
            match super::consult_api::ask(&svc, &call, |reply| crate::call::Control::Accepted { agent: who, reply })
                .await
            {
                Ok(()) => Json(json!({"call_id": call, "agent_id": agent})).into_response(),
                Err(e) => {
                    // The caller left meanwhile: off the agent's desk again.
                    r.call_gone(&call);
                    e.into_response()
                }
            }
        }
        Err(e) if hides_call(&user.0, &agent, &e) => no_call(&call.0),
        Err(e) => route_error(e),
    }
}

async fn decline(State(r): State<Arc<RoutingService>>, user: CurrentUser, Path(call): Path<String>) -> Response {
    let agent = match whose(&user.0, "me") {
        Ok(a) => a,
        Err(e) => return e.into_response(),
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
async fn secure_capture(State(svc): State<Arc<CallServices>>, user: CurrentUser, Path(call): Path<String>) -> Response {
    let id = CallId(call.clone());
    if !svc.registry.read(&id, |r| may_see(&user.0, &r.info)).unwrap_or(user.0.role >= Role::Supervisor) {
        return no_call(&call);
    }
    let by = user.0.username.clone();
    if svc.controls.send(&id, crate::call::Control::SecureCapture { by }) {
        (StatusCode::ACCEPTED, Json(json!({"call_id": call, "secure_capture": true}))).into_response()
    } else {
        AppError::Conflict(format!("call {call} is not live")).into_response()
    }
}

/// The agent (or a supervisor) ends the call: the caller's leg is hung up.
async fn hangup(State(svc): State<Arc<CallServices>>, user: CurrentUser, Path(call): Path<String>) -> Response {
    let id = CallId(call.clone());
    if !svc.registry.read(&id, |r| may_see(&user.0, &r.info)).unwrap_or(user.0.role >= Role::Supervisor) {
        return no_call(&call);
    }
    // A consulted colleague hanging up leaves the consult; the caller's call goes on.
    if super::consult_api::only_consulting(&svc, &user.0, &id) {
        let by = user.0.agent_id.clone().unwrap_or_default();
        let how = crate::call::ConsultEnd::Cancel;
        return match super::consult_api::ask(&svc, &id, |reply| crate::call::Control::EndConsult { by, how, reply })
            .await
        {
            Ok(()) => Json(json!({"call_id": call, "left": true})).into_response(),
            Err(e) => e.into_response(),
        };
    }
    if svc.controls.send(&id, crate::call::Control::Hangup(crate::call::EndReason::AgentHangup)) {
        Json(json!({"call_id": call, "ending": true})).into_response()
    } else {
        AppError::Conflict(format!("call {call} is not live")).into_response()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Transfer {
    /// A named colleague ...
    to_agent: Option<String>,
    /// ... or a skill's queue.
    to_queue: Option<crate::routing::Skill>,
    /// For the next person (goes in the case file).
    #[serde(default)]
    note: String,
}

/// The agent passes their call on to a colleague or a queue, with the case file and a note.
async fn transfer(
    State(r): State<Arc<RoutingService>>,
    State(svc): State<Arc<CallServices>>,
    user: CurrentUser,
    Path(call): Path<String>,
    Json(b): Json<Transfer>,
) -> Response {
    let id = CallId(call.clone());
    if !svc.registry.read(&id, |r| may_see(&user.0, &r.info)).unwrap_or(false) {
        return no_call(&call);
    }
    let Some(from) = svc.registry.agent_of(&id) else {
        return AppError::Conflict(format!("call {call} is not with an agent")).into_response();
    };
    if b.to_agent.is_some() == b.to_queue.is_some() {
        return AppError::Invalid("give to_agent or to_queue".into()).into_response();
    }
    if b.note.chars().count() > 1000 {
        return AppError::Invalid("the note is limited to 1000 characters".into()).into_response();
    }
    if let Some(to) = &b.to_agent {
        if to == &from {
            return AppError::Invalid("the call is already with this agent".into()).into_response();
        }
        match r.agent(&AgentId(to.clone())) {
            None => return AppError::NotFound(format!("no agent {to}")).into_response(),
            Some(a) if a.presence != Presence::Available => {
                let presence = serde_json::to_value(a.presence).unwrap_or_default();
                let presence = presence.as_str().unwrap_or("not available").replace('_', " ");
                return AppError::Conflict(format!("{to} is {presence}: choose an available colleague or a queue"))
                    .into_response();
            }
            Some(_) => {}
        }
    }
    let m = crate::call::Control::Transfer { from, to_agent: b.to_agent.clone(), skill: b.to_queue, note: b.note };
    if svc.controls.send(&id, m) {
        Json(json!({"call_id": call, "to_agent": b.to_agent, "to_queue": b.to_queue})).into_response()
    } else {
        AppError::Conflict(format!("call {call} is not live")).into_response()
    }
}

/// Every agent's name, presence, languages and skills, for a transfer (any logged-in staff).
async fn directory(State(r): State<Arc<RoutingService>>, _user: CurrentUser) -> Response {
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
    State(svc): State<Arc<CallServices>>,
    user: CurrentUser,
    Path(call): Path<String>,
    Json(b): Json<WrapUp>,
) -> Response {
    // Someone else's call answers like a missing one.
    let Some(rec) = svc.registry.get(&CallId(call.clone())).filter(|r| may_see(&user.0, &r.info)) else {
        return no_call(&call);
    };
    let Some(agent) = rec.info.agent.clone() else {
        return AppError::Conflict("no agent took this call".into()).into_response();
    };
    if rec.info.ended_at.is_none() {
        return AppError::Conflict("the call is still going: wrap up after it ends".into()).into_response();
    }
    if !DISPOSITIONS.contains(&b.disposition.as_str()) {
        return AppError::Invalid(format!("disposition must be one of {}", DISPOSITIONS.join(", "))).into_response();
    }
    if b.notes.chars().count() > 4000 {
        return AppError::Invalid("notes are limited to 4000 characters".into()).into_response();
    }
    let Some(store) = svc.assistant.as_ref().map(|a| a.store.clone()) else {
        return AppError::Unavailable("no database".into()).into_response();
    };
    let notes = crate::privacy::mask_cards(&b.notes);
    let (c, d) = (call.clone(), b.disposition.clone());
    match tokio::task::spawn_blocking(move || store.wrap_up(&c, &agent, &d, &notes)).await {
        Ok(Ok(())) => Json(json!({"call_id": call, "disposition": b.disposition, "saved": true})).into_response(),
        Ok(Err(e @ crate::store::StoreError::Invalid(_))) => AppError::Conflict(e.to_string()).into_response(),
        Ok(Err(e)) => AppError::NotFound(e.to_string()).into_response(),
        Err(e) => {
            tracing::error!("wrap-up: {e}");
            AppError::Internal.into_response()
        }
    }
}

/// `/api/agents...`, `/api/queue`, `/api/calls/{id}/accept|decline|wrap-up`.
pub fn routes() -> Router<AppState> {
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
