//! Consult transfer and three-way calls from the agent desktop:
//!
//! - `POST /api/calls/{id}/consult` `{"to_agent": "james"}`: the call's agent asks an
//!   available colleague; the caller hears hold audio. The colleague's desktop is told
//!   (`consult_requested`, with the case file) and joins with its browser's audio
//!   (`POST /api/calls/{id}/agent-media`, as for an accepted call).
//! - `POST /api/calls/{id}/consult/transfer`: the colleague takes the call, the agent leaves.
//! - `POST /api/calls/{id}/consult/three-way`: the caller and both agents talk.
//! - `POST /api/calls/{id}/consult/cancel`: the agent calls it off, or the colleague
//!   declines or leaves; the caller is back with the agent.
//!
//! Every change is made by the call itself (a control message it answers); these handlers only
//! check who may ask.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::CurrentUser;
use super::{may_see, AppError, AppState};
use crate::call::{CallId, CallServices, ConsultEnd, Control, Reply};

/// How long a call has to answer a request before the request fails (it answers at once
/// unless it is stuck).
const ANSWER: Duration = Duration::from_secs(3);

/// Send the call a request and wait for its answer: its refusal is a 409 with its reason.
pub(super) async fn ask(svc: &CallServices, call: &CallId, m: impl FnOnce(Reply) -> Control) -> Result<(), AppError> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    if !svc.controls.send(call, m(tx)) {
        return Err(AppError::Conflict(format!("call {call} is not live")));
    }
    match tokio::time::timeout(ANSWER, rx).await {
        Ok(Ok(Ok(()))) => Ok(()),
        Ok(Ok(Err(why))) => Err(AppError::Conflict(why)),
        Ok(Err(_)) => Err(AppError::Conflict(format!("call {call} ended"))),
        Err(_) => {
            tracing::error!(%call, "the call did not answer within {ANSWER:?}");
            Err(AppError::Unavailable(format!("call {call} is not answering; try again")))
        }
    }
}

/// The user's agent id, if they work on the call (its agent or its consulted colleague).
fn worker(svc: &CallServices, user: &crate::auth::User, call: &CallId) -> Result<String, AppError> {
    let agent = user.agent_id.clone().ok_or_else(|| AppError::Conflict("this login has no agent profile".into()))?;
    if !svc.registry.read(call, |r| may_see(user, &r.info)).unwrap_or(false) || !svc.registry.works_on(call, &agent) {
        return Err(AppError::NotFound(format!("no call {call}")));
    }
    Ok(agent)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConsultBody {
    to_agent: String,
}

async fn consult(
    State(svc): State<Arc<CallServices>>,
    user: CurrentUser,
    Path(call): Path<String>,
    Json(b): Json<ConsultBody>,
) -> Result<Json<Value>, AppError> {
    let id = CallId(call);
    let from = worker(&svc, &user.0, &id)?;
    if b.to_agent == from {
        return Err(AppError::Invalid("choose a colleague, not yourself".into()));
    }
    let to = b.to_agent.clone();
    ask(&svc, &id, |reply| Control::Consult { from, to, reply }).await?;
    Ok(Json(json!({"call_id": id, "consulting": b.to_agent})))
}

/// `transfer`, `three-way` or `cancel`, by the call's agent (cancel: the colleague too).
async fn end(
    State(svc): State<Arc<CallServices>>,
    user: CurrentUser,
    Path((call, action)): Path<(String, String)>,
) -> Result<Json<Value>, AppError> {
    let how = match action.as_str() {
        "transfer" => ConsultEnd::Transfer,
        "three-way" => ConsultEnd::ThreeWay,
        "cancel" => ConsultEnd::Cancel,
        _ => return Err(AppError::NotFound(format!("no consult action {action:?}: transfer, three-way or cancel"))),
    };
    let id = CallId(call);
    let by = worker(&svc, &user.0, &id)?;
    ask(&svc, &id, |reply| Control::EndConsult { by, how, reply }).await?;
    Ok(Json(json!({"call_id": id, "done": how})))
}

/// Whether `user` is on the call only as a consulted colleague (their hang-up leaves the
/// consult; it does not end the caller's call).
pub(super) fn only_consulting(svc: &CallServices, user: &crate::auth::User, call: &CallId) -> bool {
    let me = user.agent_id.as_deref();
    me.is_some()
        && svc
            .registry
            .read(call, |r| r.info.consultant.as_deref() == me && r.info.agent.as_deref() != me)
            .unwrap_or(false)
}

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/calls/{id}/consult", post(consult)).route("/api/calls/{id}/consult/{action}", post(end))
}
