//! Call history and the review loop over HTTP: search finished calls, open one (transcript of
//! both sides, the AI's decisions with their verdicts), play its recording (with byte ranges,
//! so the page can seek), and give a verdict. Supervisors see every call; an agent the calls
//! they handled.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::auth::CurrentUser;
use super::{parse, AppError, AppState};
use crate::auth::{Role, User};
use crate::call::CallServices;
use crate::metrics::stats::parse_instant;
use crate::store::calls::StoredCall;
use crate::store::history::HistoryQuery;
use crate::store::{Store, StoreError};

/// The database, through the call journal.
fn store(svc: &CallServices) -> Result<Store, AppError> {
    svc.registry.journal().map(|j| j.store().clone()).ok_or_else(|| AppError::Unavailable("no call journal".into()))
}

/// Run a query off the runtime; a rule of the data broken is the client's 422.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, AppError> {
    match tokio::task::spawn_blocking(f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(StoreError::Invalid(m))) => Err(AppError::Invalid(m)),
        Ok(Err(e)) => {
            tracing::warn!("history query failed: {e}");
            Err(AppError::Internal)
        }
        Err(e) => {
            tracing::warn!("history query panicked: {e}");
            Err(AppError::Internal)
        }
    }
}

/// Whether `user` may open and review this finished call: supervisors any, agents their own.
fn may_open(user: &User, call: &StoredCall) -> bool {
    user.role >= Role::Supervisor || (user.agent_id.is_some() && call.agent == user.agent_id)
}

/// `GET /api/history?customer=&number=&from=&to=&outcome=&language=&agent=&state=&limit=`.
async fn search(
    State(svc): State<Arc<CallServices>>,
    user: CurrentUser,
    Query(mut q): Query<HistoryQuery>,
) -> Result<impl IntoResponse, AppError> {
    if user.0.role < Role::Supervisor {
        // An agent searches their own calls.
        q.agent = Some(user.0.agent_id.clone().ok_or_else(|| AppError::Forbidden("no agent profile".into()))?);
    }
    for t in [&mut q.from, &mut q.to] {
        if let Some(s) = t.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            *t = Some(crate::store::rfc3339(parse_instant(s).map_err(AppError::Invalid)?));
        }
    }
    let s = store(&svc)?;
    Ok(Json(blocking(move || s.search_calls(&q)).await?))
}

/// A finished call the user may open, or 404 (someone else's call answers like a missing one).
async fn finished(svc: &CallServices, user: &User, id: &str) -> Result<(Store, StoredCall), AppError> {
    let s = store(svc)?;
    // A call that just ended: its last writes first.
    if let Some(j) = svc.registry.journal() {
        j.flush(std::time::Duration::from_secs(2)).await;
    }
    let (s2, id2) = (s.clone(), id.to_string());
    let call = blocking(move || s2.stored_call(&id2)).await?;
    match call.filter(|c| may_open(user, c)) {
        Some(c) if c.ended_at.is_some() => Ok((s, c)),
        Some(_) => Err(AppError::Conflict(format!("call {id} is still live: review it when it is over"))),
        None => Err(AppError::NotFound(format!("no finished call {id}"))),
    }
}

/// The recording's file, when kept.
fn recording(svc: &CallServices, id: &str) -> Option<std::path::PathBuf> {
    let f = svc.settings.recording_dir.as_ref()?.join(format!("{id}.wav"));
    f.is_file().then_some(f)
}

/// `GET /api/calls/{id}/review`: the call, its transcript (caller, agent and assistant lines
/// with when each began), the AI's decisions with their verdicts, and whether it has a recording.
async fn sheet(
    State(svc): State<Arc<CallServices>>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, AppError> {
    let (s, call) = finished(&svc, &user.0, &id).await?;
    let sheet = blocking(move || crate::review::sheet(&s, call)).await?;
    let mut lines: Vec<Value> = sheet
        .call
        .turns
        .iter()
        .map(|t| json!({ "who": t.speaker, "text": t.text, "start_ms": t.start_ms, "language": t.language }))
        .collect();
    for (at_ms, text, language) in &sheet.said {
        lines.push(json!({ "who": "assistant", "text": text, "start_ms": at_ms, "language": language }));
    }
    lines.sort_by_key(|l| l["start_ms"].as_u64().unwrap_or(0));
    let has_recording = recording(&svc, &id).is_some();
    Ok(Json(json!({
        "call": crate::store::history::FoundCall::from(sheet.call),
        "transcript": lines,
        "decisions": sheet.decisions,
        "recording": has_recording.then(|| format!("/api/calls/{id}/recording")),
    })))
}

/// `POST /api/calls/{id}/review` `{decision, verdict: right|wrong, correct?, note?}`.
async fn review(
    State(svc): State<Arc<CallServices>>,
    user: CurrentUser,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<impl IntoResponse, AppError> {
    let v: crate::review::Verdict = parse(&body)?;
    let (s, call) = finished(&svc, &user.0, &id).await?;
    let s2 = s.clone();
    let sheet = blocking(move || crate::review::sheet(&s2, call)).await?;
    let d = sheet
        .decisions
        .iter()
        .find(|d| d.id == v.decision)
        .ok_or_else(|| AppError::NotFound(format!("call {id} has no decision {:?}", v.decision)))?;
    let row = crate::review::judge(&id, d, v, &user.0.username).map_err(AppError::Invalid)?;
    let stored = row.clone();
    blocking(move || s.save_review(&row)).await?;
    tracing::info!(call = %id, decision = %stored.decision, verdict = %stored.verdict, by = %stored.reviewer, "review");
    Ok(Json(stored))
}

/// Most bytes one ranged response carries (the player asks for the rest).
const CHUNK: u64 = 4 << 20;

/// `GET /api/calls/{id}/recording`: the call's WAV (two channels: the caller, what they
/// heard), with `Range: bytes=` support so a player can seek.
async fn play(
    State(svc): State<Arc<CallServices>>,
    user: CurrentUser,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    finished(&svc, &user.0, &id).await?;
    let path = recording(&svc, &id).ok_or_else(|| AppError::NotFound(format!("call {id} has no recording")))?;
    let mut file =
        tokio::fs::File::open(&path).await.map_err(|_| AppError::NotFound(format!("call {id} has no recording")))?;
    let size = file.metadata().await.map_err(|_| AppError::Internal)?.len();
    let range = headers.get(header::RANGE).and_then(|v| v.to_str().ok()).map(|r| byte_range(r, size));
    let (status, start, len) = match range {
        None => (StatusCode::OK, 0, size),
        Some(Some((a, b))) => (StatusCode::PARTIAL_CONTENT, a, (b - a + 1).min(CHUNK)),
        Some(None) => {
            let mut r = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
            r.headers_mut().insert(header::CONTENT_RANGE, HeaderValue::from_str(&format!("bytes */{size}")).unwrap());
            return Ok(r);
        }
    };
    file.seek(std::io::SeekFrom::Start(start)).await.map_err(|_| AppError::Internal)?;
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(file.take(len)));
    let mut r = Response::new(body);
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("audio/wav"));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    if status == StatusCode::PARTIAL_CONTENT {
        let v = format!("bytes {start}-{}/{size}", start + len - 1);
        h.insert(header::CONTENT_RANGE, HeaderValue::from_str(&v).unwrap());
    }
    Ok(r)
}

/// A single `bytes=a-b`, `bytes=a-` or `bytes=-n` range within `size` (inclusive ends), or
/// None when it cannot be satisfied or is not understood.
fn byte_range(h: &str, size: u64) -> Option<(u64, u64)> {
    let spec = h.trim().strip_prefix("bytes=")?;
    if spec.contains(',') || size == 0 {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (a, b) = (a.trim(), b.trim());
    let (start, end) = match (a.is_empty(), b.is_empty()) {
        (false, true) => (a.parse().ok()?, size - 1),
        (false, false) => (a.parse().ok()?, b.parse::<u64>().ok()?.min(size - 1)),
        (true, false) => {
            let n: u64 = b.parse().ok()?;
            (size.saturating_sub(n), size - 1)
        }
        (true, true) => return None,
    };
    (start <= end && start < size).then_some((start, end))
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/history", get(search))
        .route("/api/calls/{id}/review", get(sheet).post(review))
        .route("/api/calls/{id}/recording", get(play))
}

#[cfg(test)]
mod tests {
    #[test]
    fn byte_ranges() {
        use super::byte_range as r;
        assert_eq!(r("bytes=0-", 100), Some((0, 99)));
        assert_eq!(r("bytes=10-19", 100), Some((10, 19)));
        assert_eq!(r("bytes=90-500", 100), Some((90, 99)));
        assert_eq!(r("bytes=-10", 100), Some((90, 99)));
        assert_eq!(r("bytes=100-", 100), None);
        assert_eq!(r("bytes=5-2", 100), None);
        assert_eq!(r("bytes=0-1,5-6", 100), None);
        assert_eq!(r("items=0-1", 100), None);
        assert_eq!(r("bytes=x-", 100), None);
    }
}
