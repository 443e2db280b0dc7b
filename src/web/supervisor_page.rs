//! The supervisor's desk: the `/supervisor` page (embedded HTML/JS, no build step). A login
//! without the supervisor role gets a 403 for the page (and for every supervisor API); a
//! visitor who is not logged in gets the page's login form.
//!
//! `GET /api/stats?from=&to=` (supervisors): the centre's numbers for calls that started in
//! the period (dates `2026-12-05` or RFC 3339 times; default the last 24 hours), with the
//! definitions in `metrics::stats`.
//!
//! `GET /api/desk` (supervisors): the queue board, the agent board, the service level against
//! its target and every live call's open (unacknowledged) alerts; the page polls it.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use super::auth::CurrentUser;
use super::AppError;
use crate::auth::Role;
use crate::call::CallServices;
use crate::routing::service::RoutingService;

const SUPERVISOR_HTML: &str = include_str!("assets/supervisor.html");
const SUPERVISOR_JS: &str = include_str!("assets/supervisor.js");
/// Reviewing a finished call's AI decisions: this page's history and the agent's wrap-up.
const REVIEW_JS: &str = include_str!("assets/review.js");
/// The call history (this page).
const HISTORY_JS: &str = include_str!("assets/history.js");
/// Level meters and ICE gathering: the caller page, the agent desktop and this page.
const MEDIA_JS: &str = include_str!("assets/media.js");
/// The API helper and the case file's rows: the agent desktop and this page.
const STAFF_JS: &str = include_str!("assets/staff.js");

fn script(js: &'static str) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], js)
}

async fn page(user: Result<CurrentUser, AppError>) -> Response {
    match user {
        Ok(u) if u.0.role < Role::Supervisor => (
            StatusCode::FORBIDDEN,
            Html("<!doctype html><title>Forbidden</title><p>This page needs a supervisor login.</p>"),
        )
            .into_response(),
        _ => Html(SUPERVISOR_HTML).into_response(),
    }
}

async fn desk(
    State(svc): State<Arc<CallServices>>,
    State(routing): State<Arc<RoutingService>>,
    user: CurrentUser,
) -> Result<Json<Value>, AppError> {
    user.require(Role::Supervisor)?;
    let handled = match svc.registry.journal() {
        Some(j) => j.handled_today().await,
        None => HashMap::new(),
    };
    let mut calls: HashMap<String, Vec<String>> = HashMap::new();
    let mut alerts = Vec::new();
    for info in svc.registry.list().into_iter().filter(|c| c.ended_at.is_none()) {
        if let Some(a) = &info.agent {
            calls.entry(a.clone()).or_default().push(info.id.0.clone());
        }
        let open = svc
            .registry
            .read(&info.id, |r| r.alerts.iter().filter(|a| a.acknowledged_by.is_none()).cloned().collect::<Vec<_>>());
        for a in open.unwrap_or_default() {
            alerts.push(
                json!({"call_id": info.id, "alert_id": a.id, "rule": a.rule, "detail": a.detail, "at_ms": a.at_ms}),
            );
        }
    }
    let (queues, agents) = routing.board(&handled, &calls);
    let service = routing.service_counts();
    let cfg = routing.stats_config();
    Ok(Json(json!({
        "queues": queues,
        "agents": agents,
        "service_level": crate::routing::board::service_level(service),
        "service_level_s": cfg.service_level_s,
        "service_level_target": cfg.service_level_target,
        "alerts": alerts,
    })))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Period {
    from: Option<String>,
    to: Option<String>,
    /// Only calls that waited in this queue (a skill: orders, refunds, payments, ...).
    queue: Option<String>,
}

fn instant(s: &str, what: &str) -> Result<chrono::DateTime<chrono::Utc>, AppError> {
    crate::metrics::stats::parse_instant(s).map_err(|e| AppError::Invalid(format!("{what}: {e}")))
}

async fn stats(
    State(svc): State<Arc<CallServices>>,
    State(routing): State<Arc<RoutingService>>,
    user: CurrentUser,
    axum::extract::Query(p): axum::extract::Query<Period>,
) -> Result<Json<Value>, AppError> {
    user.require(Role::Supervisor)?;
    let to = match &p.to {
        Some(t) => instant(t, "to")?,
        None => chrono::Utc::now(),
    };
    let from = match &p.from {
        Some(f) => instant(f, "from")?,
        None => to - chrono::Duration::hours(24),
    };
    if from >= to {
        return Err(AppError::Invalid("from must be before to".into()));
    }
    let fmt = crate::store::rfc3339;
    let journal = svc.registry.journal().ok_or_else(|| AppError::Unavailable("no call database".into()))?;
    let queue = p.queue.as_deref().map(str::trim).filter(|q| !q.is_empty());
    if let Some(q) = queue {
        if !crate::routing::Skill::ALL.iter().any(|s| s.name() == q) {
            let names: Vec<&str> = crate::routing::Skill::ALL.iter().map(|s| s.name()).collect();
            return Err(AppError::Invalid(format!("queue must be one of {}, not {q:?}", names.join(", "))));
        }
    }
    let s = journal
        .stats(fmt(from), fmt(to), routing.stats_config(), queue.map(str::to_string))
        .await
        .ok_or(AppError::Internal)?;
    let mut v = serde_json::to_value(s).map_err(|_| AppError::Internal)?;
    v["from"] = json!(fmt(from));
    v["to"] = json!(fmt(to));
    Ok(Json(v))
}

pub fn routes() -> Router<super::AppState> {
    Router::new()
        .route("/supervisor", get(page))
        .route("/api/desk", get(desk))
        .route("/api/stats", get(stats))
        .route("/assets/supervisor.js", get(|| async { script(SUPERVISOR_JS) }))
        .route("/assets/media.js", get(|| async { script(MEDIA_JS) }))
        .route("/assets/staff.js", get(|| async { script(STAFF_JS) }))
        .route("/assets/review.js", get(|| async { script(REVIEW_JS) }))
        .route("/assets/history.js", get(|| async { script(HISTORY_JS) }))
}
