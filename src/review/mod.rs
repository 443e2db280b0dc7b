//! The review loop: the AI's decisions on a finished call, people's verdicts on them, and
//! the export that retrains the AI ([`retrain`]).
//!
//! A call's decisions are read back from its stored timeline, each named by the event it came
//! from, so a verdict stays attached to exactly what the reviewer saw:
//! - `e<row>/intent`: what the assistant understood the caller wanted (`assistant_replied`);
//! - `e<row>/action/<n>`: a back-office tool call it made (`tool`), or one a business rule
//!   refused (`refusal`);
//! - `e<row>/handover`: it handed the call to a person, and why (`escalation_requested`);
//!   `call/handover`: it kept the call to the end (an assisted call with no hand-over);
//! - `e<row>/caller_state`: the caller's state it heard in the voice (`caller_state_changed`).
//!
//! Each comes with the caller's turn that led to it (the last one that ended by then) and its
//! inputs (the event itself), which is what `switchboard export reviews` writes out.

pub mod retrain;

use std::io::Write;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::store::calls::{StoredCall, StoredEvent};
use crate::store::reviews::StoredReview;
use crate::store::{Store, StoreError};

/// What kind of decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Intent,
    Tool,
    Refusal,
    Handover,
    CallerState,
}

impl Kind {
    pub const ALL: [Kind; 5] = [Self::Intent, Self::Tool, Self::Refusal, Self::Handover, Self::CallerState];

    /// The kind a stored review names.
    pub fn from_name(name: &str) -> Option<Kind> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Intent => "intent",
            Self::Tool => "tool",
            Self::Refusal => "refusal",
            Self::Handover => "handover",
            Self::CallerState => "caller_state",
        }
    }

    /// The correct values a reviewer picks from; empty: free text (what should have happened).
    pub fn choices(self) -> Vec<String> {
        match self {
            Self::Intent => crate::assistant::intents::EXAMPLES
                .iter()
                .map(|(i, _)| i.name().to_string())
                .chain(std::iter::once("unknown".to_string()))
                .collect(),
            Self::CallerState => crate::pipeline::analysis::state::STATE_NAMES.map(String::from).to_vec(),
            Self::Handover => [HAND_OVER, KEEP].map(String::from).to_vec(),
            Self::Tool | Self::Refusal => Vec::new(),
        }
    }
}

/// The hand-over verdicts' values.
pub const HAND_OVER: &str = "hand_over";
pub const KEEP: &str = "no_hand_over";

/// A caller's turn, as the decision heard it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Turn {
    pub text: String,
    pub language: String,
    pub start_ms: u64,
    pub end_ms: u64,
}

/// One decision of the AI on a call, with its verdict if it has one.
#[derive(Debug, Clone, Serialize)]
pub struct Decision {
    pub id: String,
    pub kind: Kind,
    /// What the AI decided, in words a reviewer reads.
    pub value: String,
    /// When, ms into the call.
    pub at_ms: u64,
    /// The caller's turn that led to it (absent when none, or after retention removed it).
    pub turn: Option<Turn>,
    /// What it decided from: the timeline event.
    pub inputs: Value,
    /// The correct values to pick from (empty: free text).
    pub choices: Vec<String>,
    pub review: Option<StoredReview>,
}

/// The caller's last turn that ended by `at_ms` (with a little slack: a caller-state verdict
/// is stamped with the end of its turn).
fn turn_before(call: &StoredCall, at_ms: u64) -> Option<Turn> {
    call.turns
        .iter()
        .filter(|t| t.speaker == "caller" && t.end_ms <= at_ms + 50)
        .max_by_key(|t| t.end_ms)
        .map(|t| Turn { text: t.text.clone(), language: t.language.clone(), start_ms: t.start_ms, end_ms: t.end_ms })
}

/// Decision-bearing timeline events (`Store::decision_events`) parsed, with their row ids;
/// a row that is not JSON is skipped.
pub fn parsed(events: &[(i64, StoredEvent)]) -> Vec<(i64, Value)> {
    events.iter().filter_map(|(row, e)| Some((*row, serde_json::from_str(&e.body).ok()?))).collect()
}

/// The AI's decisions on a call, from its turns and its parsed decision-bearing timeline
/// events ([`parsed`]), in the order they were made.
pub fn decisions(call: &StoredCall, events: &[(i64, Value)]) -> Vec<Decision> {
    let mut out = Vec::new();
    let mut handed_over = false;
    let mut last_ms = 0;
    for (row, v) in events {
        let at_ms = v["at_ms"].as_u64().unwrap_or(0);
        last_ms = last_ms.max(at_ms);
        let mut add = |id: String, kind: Kind, value: String, inputs: Value| {
            out.push(Decision {
                id,
                kind,
                value,
                at_ms,
                turn: turn_before(call, at_ms),
                inputs,
                choices: kind.choices(),
                review: None,
            })
        };
        match v["type"].as_str() {
            Some("assistant_replied") => {
                // The greeting and prompts that answer no turn carry no intent.
                if let Some(intent) = v["intent"].as_str() {
                    add(format!("e{row}/intent"), Kind::Intent, intent.to_string(), v.clone());
                }
                for (n, a) in v["actions"].as_array().into_iter().flatten().enumerate() {
                    let refused = a["refused"].as_bool().unwrap_or(false);
                    let kind = if refused { Kind::Refusal } else { Kind::Tool };
                    let outcome = if refused {
                        "refused"
                    } else if a["ok"].as_bool() == Some(true) {
                        "ok"
                    } else {
                        "failed"
                    };
                    let value = format!(
                        "{} ({outcome}): {}",
                        a["tool"].as_str().unwrap_or("?"),
                        a["detail"].as_str().unwrap_or("")
                    );
                    add(format!("e{row}/action/{n}"), kind, value, a.clone());
                }
            }
            Some("escalation_requested") => {
                handed_over = true;
                let reason = v["reason"].as_str().unwrap_or("?");
                add(format!("e{row}/handover"), Kind::Handover, format!("{HAND_OVER}: {reason}"), v.clone());
            }
            Some("caller_state_changed") => {
                let state = v["state"].as_str().unwrap_or("unknown").to_string();
                add(format!("e{row}/caller_state"), Kind::CallerState, state, v.clone());
            }
            _ => {}
        }
    }
    if call.assisted && call.ended_at.is_some() && !handed_over {
        out.push(Decision {
            id: "call/handover".into(),
            kind: Kind::Handover,
            value: KEEP.into(),
            at_ms: last_ms,
            turn: None,
            inputs: serde_json::json!({ "outcome": call.outcome, "end_reason": call.end_reason }),
            choices: Kind::Handover.choices(),
            review: None,
        });
    }
    out
}

/// What the assistant said on a call: (ms into the call, text, language), from its replies.
pub fn assistant_lines(events: &[(i64, Value)]) -> Vec<(u64, String, String)> {
    events
        .iter()
        .map(|(_, v)| v)
        .filter(|v| v["type"] == "assistant_replied" && v["text"].as_str().is_some_and(|t| !t.is_empty()))
        .map(|v| {
            let s = |k: &str| v[k].as_str().unwrap_or_default().to_string();
            (v["at_ms"].as_u64().unwrap_or(0), s("text"), s("language"))
        })
        .collect()
}

/// A finished call for its reviewer: the call with its turns, the AI's decisions with their
/// verdicts, and what the assistant said.
pub struct Sheet {
    pub call: StoredCall,
    pub decisions: Vec<Decision>,
    pub said: Vec<(u64, String, String)>,
}

/// The review sheet of a call read from the database (with its turns).
pub fn sheet(store: &Store, call: StoredCall) -> Result<Sheet, StoreError> {
    let events = parsed(&store.decision_events(&call.id)?);
    let mut list = decisions(&call, &events);
    let reviews = store.reviews_of_call(&call.id)?;
    for d in &mut list {
        d.review = reviews.iter().find(|r| r.decision == d.id).cloned();
    }
    Ok(Sheet { said: assistant_lines(&events), call, decisions: list })
}

/// A verdict as a reviewer sends it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Verdict {
    pub decision: String,
    /// "right" or "wrong".
    pub verdict: String,
    /// The right value (required when wrong; one of the decision's choices when it has any).
    #[serde(default)]
    pub correct: Option<String>,
    #[serde(default)]
    pub note: String,
}

/// The longest note or free-text correction kept.
pub const MAX_TEXT: usize = 2000;

/// Check a verdict against the decision it is about; the row to store, or why not.
pub fn judge(call_id: &str, d: &Decision, v: Verdict, reviewer: &str) -> Result<StoredReview, String> {
    let correct = v.correct.map(|c| c.trim().to_string()).filter(|c| !c.is_empty());
    let correct = match v.verdict.as_str() {
        "right" => None,
        "wrong" => {
            let Some(c) = correct else {
                return Err(format!("a wrong {} needs the correct value", d.kind.name()));
            };
            if !d.choices.is_empty() && !d.choices.contains(&c) {
                return Err(format!("{c:?} is not one of {}", d.choices.join(", ")));
            }
            if c.chars().count() > MAX_TEXT {
                return Err(format!("the correct value is longer than {MAX_TEXT} characters"));
            }
            Some(c)
        }
        other => return Err(format!("verdict must be right or wrong, not {other:?}")),
    };
    if v.note.chars().count() > MAX_TEXT {
        return Err(format!("the note is longer than {MAX_TEXT} characters"));
    }
    Ok(StoredReview {
        call_id: call_id.to_string(),
        decision: d.id.clone(),
        kind: d.kind.name().to_string(),
        ai_value: d.value.clone(),
        verdict: v.verdict,
        correct,
        note: v.note.trim().to_string(),
        reviewer: reviewer.to_string(),
        reviewed_at: crate::store::now_rfc3339(),
    })
}

/// The AI's decision in an exported review.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AiDecision {
    pub value: String,
    pub at_ms: u64,
    pub inputs: Value,
}

/// One line of `switchboard export reviews`: the turn's transcript, the AI's decision with
/// its inputs, the human verdict and correction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exported {
    pub call_id: String,
    pub decision: String,
    pub kind: Kind,
    pub turn: Option<Turn>,
    pub ai: AiDecision,
    pub verdict: String,
    pub correct: Option<String>,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub reviewer: String,
    #[serde(default)]
    pub reviewed_at: String,
}

impl Exported {
    /// The value the human says is right: the AI's when it was right, the correction otherwise.
    pub fn truth(&self) -> Option<&str> {
        match self.verdict.as_str() {
            "right" => Some(self.ai.value.as_str()),
            _ => self.correct.as_deref(),
        }
    }
}

/// Write every verdict given since `since` (RFC 3339) as JSON lines; returns how many.
pub fn export(store: &Store, since: &str, out: &mut dyn Write) -> anyhow::Result<usize> {
    let reviews = store.reviews_since(since)?;
    let mut sheets: std::collections::HashMap<String, Vec<Decision>> = Default::default();
    let mut n = 0;
    for r in reviews {
        if !sheets.contains_key(&r.call_id) {
            let list = match store.stored_call(&r.call_id)? {
                Some(call) => decisions(&call, &parsed(&store.decision_events(&r.call_id)?)),
                None => Vec::new(),
            };
            sheets.insert(r.call_id.clone(), list);
        }
        let d = sheets[&r.call_id].iter().find(|d| d.id == r.decision);
        let line = Exported {
            call_id: r.call_id.clone(),
            decision: r.decision.clone(),
            kind: d.map(|d| d.kind).or_else(|| Kind::from_name(&r.kind)).unwrap_or(Kind::Tool),
            turn: d.and_then(|d| d.turn.clone()),
            ai: AiDecision {
                value: r.ai_value.clone(),
                at_ms: d.map(|d| d.at_ms).unwrap_or(0),
                inputs: d.map(|d| d.inputs.clone()).unwrap_or(Value::Null),
            },
            verdict: r.verdict,
            correct: r.correct,
            note: r.note,
            reviewer: r.reviewer,
            reviewed_at: r.reviewed_at,
        };
        serde_json::to_writer(&mut *out, &line)?;
        out.write_all(b"\n")?;
        n += 1;
    }
    Ok(n)
}

/// Read an export back (blank lines skipped; a bad line is an error naming it).
pub fn read_export(path: &std::path::Path) -> anyhow::Result<Vec<Exported>> {
    let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| anyhow::anyhow!("{} line {}: not a review: {e}", path.display(), i + 1))
        })
        .collect()
}

#[cfg(test)]
mod tests;
