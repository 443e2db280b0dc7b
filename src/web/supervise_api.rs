//! Supervisors stepping into a live call (supervisor and admin logins only), on any call:
//! with the assistant, waiting in the queue, or with an agent.
//!
//! - `POST /api/calls/{id}/supervise` `{"sdp": offer, "mode": "listen"}`: the supervisor's
//!   browser joins the call's audio in `listen` (default), `coach` or `barge`; the answer SDP
//!   comes back. A call that cannot take it (coaching with no agent on the call) is a 409
//!   with the reason.
//! - `POST /api/calls/{id}/supervise/{listen|coach|barge}`: change how they take part.
//! - `POST /api/calls/{id}/supervise/take-over`: they replace the assistant or the agent.
//! - `POST /api/calls/{id}/supervise/leave`: they leave (closing the browser's connection
//!   does too).
//!
//! - `POST /api/calls/{id}/assign` `{"agent": "anna"}`: hand the call to an agent they pick
//!   (from the assistant, the queue or another agent): it is offered to that agent alone.
//! - `POST /api/calls/{id}/alerts/{alert}/acknowledge`: the supervisor is on it
//!   (`alert_acknowledged`; a second acknowledgement is a 409 naming who was first).
//!
//! Each step is the call's own decision (a control message it answers) and an event with who
//! and when (`supervisor_joined`, `supervisor_mode_changed`, `taken_over`, `supervisor_left`),
//! which staff see and callers never do.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::CurrentUser;
use super::consult_api::ask;
use super::{parse, AppError, AppState, WebRtc};
use crate::auth::Role;
use crate::call::state::StaffMode;
use crate::call::{CallId, CallServices, Control};

/// The supervisor's id on calls (their login), if this login may supervise.
fn supervisor(user: &CurrentUser) -> Result<String, AppError> {
    Ok(user.require(Role::Supervisor)?.username.clone())
}

fn live(svc: &CallServices, id: &CallId) -> Result<(), AppError> {
    match svc.registry.read(id, |r| r.info.ended_at.is_none()) {
        Some(true) => Ok(()),
        Some(false) => Err(AppError::Conflict(format!("call {id} is over"))),
        None => Err(AppError::NotFound(format!("no call {id}"))),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Join {
    sdp: String,
    #[serde(default = "listen")]
    mode: StaffMode,
}

fn listen() -> StaffMode {
    StaffMode::Listen
}

async fn join(
    WebRtc(w): WebRtc,
    State(svc): State<Arc<CallServices>>,
    user: CurrentUser,
    Path(call): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, AppError> {
    let who = supervisor(&user)?;
    let id = CallId(call);
    live(&svc, &id)?;
    let b: Join = parse(&body)?;
    let sdp = w.answer_supervisor(&id, &who, b.mode, b.sdp).await?;
    Ok(Json(json!({"call_id": id, "supervisor": who, "mode": b.mode, "sdp": sdp})))
}

async fn step(
    State(svc): State<Arc<CallServices>>,
    user: CurrentUser,
    Path((call, action)): Path<(String, String)>,
) -> Result<Json<Value>, AppError> {
    let who = supervisor(&user)?;
    let id = CallId(call);
    live(&svc, &id)?;
    let mode = match action.as_str() {
        "listen" => Some(StaffMode::Listen),
        "coach" => Some(StaffMode::Coach),
        "barge" => Some(StaffMode::Barge),
        "take-over" | "leave" => None,
        _ => {
            return Err(AppError::NotFound(format!(
                "no supervisor action {action:?}: listen, coach, barge, take-over or leave"
            )))
        }
    };
    let supervisor = who.clone();
    match (mode, action.as_str()) {
        (Some(mode), _) => ask(&svc, &id, |reply| Control::SuperviseMode { supervisor, mode, reply }).await?,
        (None, "take-over") => ask(&svc, &id, |reply| Control::TakeOver { supervisor, reply }).await?,
        _ => {
            svc.controls.send(&id, Control::SupervisorLeave { supervisor });
        }
    }
    Ok(Json(json!({"call_id": id, "supervisor": who, "done": action})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Assign {
    agent: String,
}

async fn assign(
    State(svc): State<Arc<CallServices>>,
    user: CurrentUser,
    Path(call): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, AppError> {
    let by = supervisor(&user)?;
    let id = CallId(call);
    live(&svc, &id)?;
    let b: Assign = parse(&body)?;
    let (who, agent) = (by.clone(), b.agent.clone());
    ask(&svc, &id, |reply| Control::Assign { by: who, agent, reply }).await?;
    Ok(Json(json!({"call_id": id, "agent": b.agent, "by": by})))
}

async fn acknowledge(
    State(svc): State<Arc<CallServices>>,
    user: CurrentUser,
    Path((call, alert)): Path<(String, String)>,
) -> Result<Json<Value>, AppError> {
    let by = supervisor(&user)?;
    let id = CallId(call);
    live(&svc, &id)?;
    let (who, which) = (by.clone(), alert.clone());
    ask(&svc, &id, |reply| Control::AcknowledgeAlert { alert: which, by: who, reply }).await?;
    Ok(Json(json!({"call_id": id, "alert_id": alert, "acknowledged_by": by})))
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/calls/{id}/supervise", post(join))
        .route("/api/calls/{id}/supervise/{action}", post(step))
        .route("/api/calls/{id}/assign", post(assign))
        .route("/api/calls/{id}/alerts/{alert}/acknowledge", post(acknowledge))
}
