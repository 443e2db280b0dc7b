//! The review loop's table (`reviews`): people's verdicts on the AI's decisions of a finished
//! call, one per decision (a second verdict replaces the first), and what they are about: the
//! decision-bearing events of the call's timeline with their row ids.

use rusqlite::{params, Row};

use super::calls::StoredEvent;
use super::{Store, StoreError};

/// A verdict as stored.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StoredReview {
    pub call_id: String,
    /// The decision within the call (src/review/mod.rs names them).
    pub decision: String,
    /// intent, tool, refusal, handover, caller_state.
    pub kind: String,
    /// What the AI decided, as the reviewer saw it.
    pub ai_value: String,
    /// "right" or "wrong".
    pub verdict: String,
    /// The right value, for a wrong verdict.
    pub correct: Option<String>,
    pub note: String,
    pub reviewer: String,
    pub reviewed_at: String,
}

const SELECT: &str =
    "SELECT call_id, decision, kind, ai_value, verdict, correct, note, reviewer, reviewed_at FROM reviews";

fn row(r: &Row) -> rusqlite::Result<StoredReview> {
    Ok(StoredReview {
        call_id: r.get(0)?,
        decision: r.get(1)?,
        kind: r.get(2)?,
        ai_value: r.get(3)?,
        verdict: r.get(4)?,
        correct: r.get(5)?,
        note: r.get(6)?,
        reviewer: r.get(7)?,
        reviewed_at: r.get(8)?,
    })
}

/// The timeline event types that carry the AI's decisions.
pub const DECISION_EVENTS: [&str; 3] = ["assistant_replied", "escalation_requested", "caller_state_changed"];

impl Store {
    /// Store a verdict, replacing an earlier one on the same decision.
    pub fn save_review(&self, r: &StoredReview) -> Result<(), StoreError> {
        if !matches!(r.verdict.as_str(), "right" | "wrong") {
            return Err(StoreError::Invalid(format!("verdict must be right or wrong, not {:?}", r.verdict)));
        }
        self.lock().execute(
            "INSERT INTO reviews (call_id, decision, kind, ai_value, verdict, correct, note, reviewer, reviewed_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT (call_id, decision) DO UPDATE SET kind = ?3, ai_value = ?4, verdict = ?5, correct = ?6,
                 note = ?7, reviewer = ?8, reviewed_at = ?9",
            params![r.call_id, r.decision, r.kind, r.ai_value, r.verdict, r.correct, r.note, r.reviewer, r.reviewed_at],
        )?;
        Ok(())
    }

    /// A call's verdicts.
    pub fn reviews_of_call(&self, call_id: &str) -> Result<Vec<StoredReview>, StoreError> {
        let conn = self.lock();
        let rows = conn
            .prepare(&format!("{SELECT} WHERE call_id = ?1 ORDER BY decision"))?
            .query_map([call_id], row)?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// Verdicts given at or after `since` (RFC 3339, UTC), oldest first.
    pub fn reviews_since(&self, since: &str) -> Result<Vec<StoredReview>, StoreError> {
        let conn = self.lock();
        let rows = conn
            .prepare(&format!("{SELECT} WHERE reviewed_at >= ?1 ORDER BY reviewed_at, call_id, decision"))?
            .query_map([since], row)?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// The decision-bearing events of a call's timeline ([`DECISION_EVENTS`]), with their row
    /// ids (which name the decisions), in the order they were published.
    pub fn decision_events(&self, call_id: &str) -> Result<Vec<(i64, StoredEvent)>, StoreError> {
        let conn = self.lock();
        let rows = conn
            .prepare("SELECT id, at, body FROM call_events WHERE call_id = ?1 AND type IN (?2, ?3, ?4) ORDER BY id")?
            .query_map(params![call_id, DECISION_EVENTS[0], DECISION_EVENTS[1], DECISION_EVENTS[2]], |r| {
                Ok((r.get(0)?, StoredEvent { at: r.get(1)?, body: r.get(2)? }))
            })?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// Every verdict's (call, kind, verdict) for calls that started in `[from, to)`: the AI's
    /// accuracy from reviews.
    pub fn review_verdicts(&self, from: &str, to: &str) -> Result<Vec<(String, String, String)>, StoreError> {
        let conn = self.lock();
        let rows = conn
            .prepare(
                "SELECT r.call_id, r.kind, r.verdict FROM reviews r JOIN calls c ON c.id = r.call_id
                 WHERE c.started_at >= ?1 AND c.started_at < ?2",
            )?
            .query_map(params![from, to], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }
}
