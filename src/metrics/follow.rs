//! What each call did, from its events: a pure state machine (`Tally`) fed each event (as
//! JSON, the form in which events are published and stored) with the time it was published,
//! that sums a call up (`CallSummary`) when it ends. The same tally counts live calls for
//! `/metrics` (`follow`) and replays stored timelines for `/api/stats`, so both use one
//! definition of every outcome and time.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;

use super::CallMetrics;
use crate::events::Event;

/// A finished call, summed up.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CallSummary {
    pub call_id: String,
    pub transport: String,
    /// Publication times of `call_started` and `call_ended`, ms since the epoch.
    pub started_ms: u64,
    pub ended_ms: u64,
    pub outcome: &'static str,
    /// Why the assistant handed the call over, if it did.
    pub escalation: Option<String>,
    /// From the first wait for a person until one was on the line, seconds.
    pub answer_wait_s: Option<f64>,
    /// How long the caller had waited when they gave up in the queue, seconds.
    pub abandoned_wait_s: Option<f64>,
    /// A person's time on the call (first one joining -> end), seconds.
    pub handle_s: Option<f64>,
    pub transferred: bool,
    pub language: Option<String>,
    /// The caller's last assessed state.
    pub caller_state: Option<String>,
    /// The queue (skill) a call that waited for a person waited in, from its last intent.
    pub queue: Option<String>,
}

impl CallSummary {
    pub fn duration_s(&self) -> f64 {
        self.ended_ms.saturating_sub(self.started_ms) as f64 / 1000.0
    }
}

/// The call outcome (see the module documentation of `metrics`).
pub fn outcome(person: bool, waiting: bool, ai_served: bool, callback: bool) -> &'static str {
    if callback {
        "callback_requested"
    } else if person {
        "agent_handled"
    } else if waiting {
        "abandoned_in_queue"
    } else if ai_served {
        "ai_resolved"
    } else {
        "abandoned_with_ai"
    }
}

/// The queue (skill) of a call whose last understood intent is `intent`.
pub fn queue_of(intent: Option<&str>) -> String {
    use crate::assistant::intents::Intent;
    let i = intent.and_then(Intent::from_name).unwrap_or(Intent::Unknown);
    crate::routing::Skill::from_intent(i).name().to_string()
}

/// What is kept about a call while it runs.
#[derive(Debug, Default)]
struct Facts {
    transport: String,
    started_ms: u64,
    first_wait_ms: Option<u64>,
    waiting_since_ms: Option<u64>,
    person_since_ms: Option<u64>,
    ai_served: bool,
    callback: bool,
    escalation: Option<String>,
    transferred: bool,
    language: Option<String>,
    caller_state: Option<String>,
    /// The last intent the assistant understood (the queue a waiting call is in).
    last_intent: Option<String>,
    /// End of the caller's last turn not yet answered, ms into the call (reply latency).
    unanswered_turn_end_ms: Option<u64>,
}

/// Calls being followed, by id.
#[derive(Debug, Default)]
pub struct Tally {
    calls: HashMap<String, Facts>,
}

impl Tally {
    /// One event published at `at_ms` (ms since the epoch); the call's summary when it ended.
    pub fn event(&mut self, at_ms: u64, ev: &Value) -> Option<CallSummary> {
        let kind = ev["type"].as_str()?;
        let id = ev["call_id"].as_str()?;
        if kind == "call_started" {
            let transport = ev["transport"].as_str().unwrap_or_default().to_string();
            self.calls.insert(id.to_string(), Facts { transport, started_ms: at_ms, ..Facts::default() });
            return None;
        }
        let f = self.calls.get_mut(id)?;
        let text = |k: &str| ev[k].as_str().map(str::to_string);
        match kind {
            "assistant_replied" => {
                let served = ev["actions"].as_array().into_iter().flatten().any(|a| {
                    a["ok"] == true && crate::assistant::dialogue::serves_the_caller(a["tool"].as_str().unwrap_or(""))
                });
                f.ai_served |= served;
                f.last_intent = text("intent").or(f.last_intent.take());
            }
            "escalation_requested" => {
                f.escalation = f.escalation.take().or(text("reason"));
                f.last_intent = text("intent").or(f.last_intent.take());
            }
            "call_state_changed" if ev["state"] == "waiting_for_agent" => {
                f.waiting_since_ms.get_or_insert(at_ms);
                f.first_wait_ms.get_or_insert(at_ms);
            }
            "agent_joined" | "taken_over" => {
                f.waiting_since_ms = None;
                f.person_since_ms.get_or_insert(at_ms);
            }
            "agent_left" if ev["reason"] == "transferred" => f.transferred = true,
            "call_assigned" => f.transferred |= ev["from"] != "assistant" && ev["from"] != "queue",
            "callback_requested" => f.callback = true,
            "language_detected" => f.language = text("language"),
            "language_changed" => f.language = text("to"),
            "caller_state_changed" => f.caller_state = text("state"),
            "call_ended" => {
                let f = self.calls.remove(id)?;
                let person = f.person_since_ms.is_some();
                let waiting = f.waiting_since_ms.is_some();
                let secs = |from: Option<u64>, to: u64| from.map(|t| to.saturating_sub(t) as f64 / 1000.0);
                return Some(CallSummary {
                    call_id: id.to_string(),
                    transport: f.transport,
                    started_ms: f.started_ms,
                    ended_ms: at_ms,
                    outcome: outcome(person, waiting, f.ai_served, f.callback),
                    escalation: f.escalation,
                    answer_wait_s: f.person_since_ms.and_then(|p| secs(f.first_wait_ms, p)),
                    abandoned_wait_s: if person { None } else { secs(f.waiting_since_ms, at_ms) },
                    handle_s: secs(f.person_since_ms, at_ms),
                    transferred: f.transferred,
                    language: f.language,
                    caller_state: f.caller_state,
                    queue: f.first_wait_ms.map(|_| queue_of(f.last_intent.as_deref())),
                });
            }
            _ => {}
        }
        None
    }

    /// Calls being followed.
    pub fn live(&self) -> usize {
        self.calls.len()
    }
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// Count one live event into `m` (the event-level counters), and its call's summary when
/// the call ended (outcome and times).
pub fn count(m: &CallMetrics, tally: &mut Tally, at_ms: u64, ev: &Event) {
    match ev {
        Event::CallStarted { transport, .. } => m.started.inc(transport.as_str()),
        Event::TranscriptFinal { latency_ms, end_ms, call_id, .. } => {
            m.turns.fetch_add(1, Ordering::Relaxed);
            m.final_latency.observe(*latency_ms as f64 / 1000.0);
            if let Some(f) = tally.calls.get_mut(&call_id.0) {
                f.unanswered_turn_end_ms = Some(*end_ms);
            }
        }
        Event::AssistantReplied { at_ms: reply_ms, call_id, .. } => {
            if let Some(end) = tally.calls.get_mut(&call_id.0).and_then(|f| f.unanswered_turn_end_ms.take()) {
                m.reply_latency.observe(reply_ms.saturating_sub(end) as f64 / 1000.0);
            }
        }
        Event::EscalationRequested { reason, .. } => m.escalations.inc(reason.name()),
        Event::AlertRaised { rule, .. } => {
            let name = serde_json::to_value(rule).ok().and_then(|v| v.as_str().map(str::to_string));
            m.alerts.inc(name.as_deref().unwrap_or("other"));
        }
        _ => {}
    }
    // The kinds the tally reads (the rest, partials and transcripts above all, are not
    // serialised for it).
    let reads = matches!(
        ev,
        Event::CallStarted { .. }
            | Event::AssistantReplied { .. }
            | Event::EscalationRequested { .. }
            | Event::CallStateChanged { .. }
            | Event::AgentJoined { .. }
            | Event::TakenOver { .. }
            | Event::AgentLeft { .. }
            | Event::CallAssigned { .. }
            | Event::CallbackRequested { .. }
            | Event::LanguageDetected { .. }
            | Event::LanguageChanged { .. }
            | Event::CallerStateChanged { .. }
            | Event::CallEnded { .. }
    );
    let Some(v) = reads.then(|| serde_json::to_value(ev).ok()).flatten() else { return };
    if let Some(s) = tally.event(at_ms, &v) {
        m.ended.inc(s.outcome);
        if s.transferred {
            m.transfers.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(w) = s.answer_wait_s {
            m.answer_wait.observe(w);
        }
        match s.outcome {
            "ai_resolved" => m.ai_resolution.observe(s.duration_s()),
            "agent_handled" => m.human_handle.observe(s.handle_s.unwrap_or(0.0)),
            _ => {}
        }
    }
}

/// Count the bus's events into `metrics::calls()` until the bus closes.
pub fn follow(bus: &crate::events::EventBus) -> tokio::task::JoinHandle<()> {
    let mut rx = bus.subscribe();
    tokio::spawn(async move {
        let mut tally = Tally::default();
        let m = super::calls();
        loop {
            match rx.recv().await {
                Ok(ev) => count(m, &mut tally, now_ms(), &ev),
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    m.missed_events.fetch_add(n, Ordering::Relaxed);
                    tracing::warn!(missed = n, "metrics fell behind the event bus");
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            }
        }
    })
}

#[cfg(test)]
#[path = "follow_tests.rs"]
mod tests;
