//! Typed call events and the broadcast bus that carries them to WebSocket subscribers,
//! recorders and (later) the store. Serialised with a snake_case `type` tag.

use serde::Serialize;
use tokio::sync::broadcast;

use crate::call::{CallId, Transport};

/// Something that happened on a call.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// A call was answered and its pipeline started.
    CallStarted { call_id: CallId, caller: String, transport: Transport, started_at: String },
    /// The caller's current, not yet final, words.
    TranscriptPartial { call_id: CallId, text: String, start_ms: u64, end_ms: u64, language: String },
    /// A finished turn of the caller.
    TranscriptFinal {
        call_id: CallId,
        text: String,
        start_ms: u64,
        end_ms: u64,
        language: String,
        language_prob: f32,
        /// End of speech to this event, in ms.
        latency_ms: u64,
        #[serde(skip_serializing_if = "Option::is_none")]
        translation: Option<String>,
        /// Why the turn was taken as over ("model 0.91", "answered order number", "silence").
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ended_by: Option<String>,
    },
    /// The call's language, settled on the first turn with evidence.
    LanguageDetected { call_id: CallId, language: String, confidence: f32, at_ms: u64 },
    /// The caller switched language (two turns in a row agree on the new one).
    LanguageChanged { call_id: CallId, from: String, to: String, confidence: f32, at_ms: u64 },
    /// The estimate of an English-speaking caller's accent moved (first estimate included).
    AccentDetected { call_id: CallId, accent: crate::pipeline::analysis::accent::Accent, at_ms: u64 },
    /// The caller pressed a key (never during secure card capture).
    Dtmf { call_id: CallId, digit: char, at_ms: u64 },
    /// Secure card capture began: the caller keys a card number, muted on every other leg,
    /// left out of the recording, transcript and events.
    SecureCaptureStarted { call_id: CallId, by: String, at_ms: u64 },
    /// How many digits the caller has keyed so far (never which).
    SecureCaptureProgress { call_id: CallId, digits: usize },
    /// Secure card capture ended: `captured` (with the card's brand and last four digits),
    /// `invalid`, `cancelled` or `timeout`.
    SecureCaptureEnded {
        call_id: CallId,
        outcome: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        brand: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        last4: Option<String>,
        at_ms: u64,
    },
    /// The caller's state (calm / confused / frustrated / angry) moved, with the evidence.
    CallerStateChanged {
        call_id: CallId,
        state: crate::pipeline::analysis::state::State,
        /// The state of the previous turn (absent on the first verdict).
        #[serde(skip_serializing_if = "Option::is_none")]
        previous: Option<crate::pipeline::analysis::state::State>,
        frustration: f32,
        confidence: f32,
        /// Frustration of the last turns minus the turns before (positive = rising).
        trend: f32,
        evidence: Vec<String>,
        /// End of the turn that moved it, ms into the call.
        at_ms: u64,
    },
    /// The assistant answered: what it said (in `language`), the intent it understood and
    /// the back-office tools it used.
    AssistantReplied {
        call_id: CallId,
        text: String,
        language: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        intent: Option<crate::assistant::intents::Intent>,
        actions: Vec<crate::assistant::dialogue::ActionRecord>,
        at_ms: u64,
    },
    /// The caller spoke over the assistant: its playback stopped and the rest was dropped.
    AssistantInterrupted { call_id: CallId, at_ms: u64 },
    /// The assistant hands the call to a person, and why.
    EscalationRequested {
        call_id: CallId,
        reason: crate::assistant::dialogue::EscalationReason,
        #[serde(skip_serializing_if = "Option::is_none")]
        intent: Option<crate::assistant::intents::Intent>,
        at_ms: u64,
    },
    /// A waiting call was offered to an agent: the decision with the top candidates' score
    /// breakdowns (explainable routing).
    CallRouted { call_id: CallId, decision: Box<crate::routing::Decision> },
    /// An agent took the call (exactly one accept wins).
    CallAccepted { call_id: CallId, agent_id: crate::routing::AgentId },
    /// The case file an agent will see changed (sent whole; secrets are never in it).
    CaseFileUpdated { call_id: CallId, case_file: Box<crate::routing::case_file::CaseFile> },
    /// The agent's audio is connected: caller and agent hear each other.
    AgentJoined { call_id: CallId, agent_id: crate::routing::AgentId },
    /// The agent left the call: `reason` is `connection_lost` (the call goes back to the front
    /// of the queue) or `transferred`.
    AgentLeft { call_id: CallId, agent_id: crate::routing::AgentId, reason: String },
    /// What the agent said, transcribed (times in ms into the call).
    AgentTranscript { call_id: CallId, agent_id: crate::routing::AgentId, text: String, start_ms: u64, end_ms: u64 },
    /// The call's agent asked a colleague to consult on the call; the caller is on hold.
    ConsultRequested {
        call_id: CallId,
        agent_id: crate::routing::AgentId,
        colleague: crate::routing::AgentId,
        at_ms: u64,
    },
    /// The colleague's audio joined: the two agents talk, the caller hears hold audio.
    ConsultStarted {
        call_id: CallId,
        agent_id: crate::routing::AgentId,
        colleague: crate::routing::AgentId,
        at_ms: u64,
    },
    /// The consult ended: `transferred` (the colleague has the call now), `three_way` (all
    /// three talk), `cancelled` (by the agent), `declined` or `left` (by the colleague),
    /// `colleague_lost` (their connection dropped), `no_answer` (they did not join within 45 s).
    ConsultEnded {
        call_id: CallId,
        agent_id: crate::routing::AgentId,
        colleague: crate::routing::AgentId,
        outcome: String,
        at_ms: u64,
    },
    /// What an agent said to a colleague during a consult, which the caller did not hear.
    ConsultTranscript { call_id: CallId, agent_id: crate::routing::AgentId, text: String, start_ms: u64, end_ms: u64 },
    /// A supervisor joined the call: `listen` (nobody hears them), `coach` (the agent hears
    /// them) or `barge` (everyone does).
    SupervisorJoined { call_id: CallId, supervisor: String, mode: crate::call::state::StaffMode, at_ms: u64 },
    /// A supervisor on the call changed how they take part.
    SupervisorModeChanged { call_id: CallId, supervisor: String, mode: crate::call::state::StaffMode, at_ms: u64 },
    /// A supervisor left the call.
    SupervisorLeft { call_id: CallId, supervisor: String, at_ms: u64 },
    /// A supervisor took the call over from `from` (`assistant`, or the agent's id).
    TakenOver { call_id: CallId, by: String, from: String, at_ms: u64 },
    /// A supervisor handed the call to an agent they picked, from `from` (`assistant`, `queue`
    /// or the agent who had it): it is offered to that agent alone.
    CallAssigned { call_id: CallId, by: String, agent_id: crate::routing::AgentId, from: String, at_ms: u64 },
    /// An alert rule fired on the call (`[alerts]`): supervisors should look at it.
    AlertRaised { call_id: CallId, alert_id: String, rule: crate::call::alerts::AlertRule, detail: String, at_ms: u64 },
    /// A supervisor acknowledged an alert.
    AlertAcknowledged {
        call_id: CallId,
        alert_id: String,
        rule: crate::call::alerts::AlertRule,
        by: String,
        at_ms: u64,
    },
    /// Nobody took the call in time: the caller is offered a callback or a voice message.
    CallbackOffered { call_id: CallId, at_ms: u64 },
    /// The caller asked to be called back (`kind` "callback") or left a message ("voicemail").
    CallbackRequested { call_id: CallId, kind: String, number: String, message: String },
    /// Hold, resume and similar state changes.
    CallStateChanged { call_id: CallId, state: crate::call::CallState },
    /// The call is over; `reason` says why (caller_hangup, max_duration, shutdown, ...).
    CallEnded { call_id: CallId, reason: String, duration_ms: u64 },
}

impl Event {
    /// Whether the caller's own page may see it: an allow-list of the conversation and the
    /// call's state. Staff material (case file, routing, the caller's assessed mood or accent,
    /// hand-over reasons, agents leaving) is not. The match names every kind, so a new kind
    /// does not compile until someone decides whether callers see it.
    pub fn for_caller(&self) -> bool {
        match self {
            Event::CallStarted { .. }
            | Event::TranscriptPartial { .. }
            | Event::TranscriptFinal { .. }
            | Event::LanguageDetected { .. }
            | Event::LanguageChanged { .. }
            | Event::AssistantReplied { .. }
            | Event::AssistantInterrupted { .. }
            | Event::Dtmf { .. }
            | Event::CallStateChanged { .. }
            | Event::AgentJoined { .. }
            | Event::AgentTranscript { .. }
            | Event::CallbackOffered { .. }
            | Event::CallbackRequested { .. }
            | Event::CallEnded { .. } => true,
            Event::CaseFileUpdated { .. }
            | Event::CallRouted { .. }
            | Event::CallAccepted { .. }
            | Event::CallerStateChanged { .. }
            | Event::AccentDetected { .. }
            | Event::EscalationRequested { .. }
            | Event::AgentLeft { .. }
            | Event::ConsultRequested { .. }
            | Event::ConsultStarted { .. }
            | Event::ConsultEnded { .. }
            | Event::ConsultTranscript { .. }
            | Event::SecureCaptureStarted { .. }
            | Event::SecureCaptureProgress { .. }
            | Event::SecureCaptureEnded { .. }
            | Event::SupervisorJoined { .. }
            | Event::SupervisorModeChanged { .. }
            | Event::SupervisorLeft { .. }
            | Event::TakenOver { .. }
            | Event::CallAssigned { .. }
            | Event::AlertRaised { .. }
            | Event::AlertAcknowledged { .. } => false,
        }
    }

    /// The call this event belongs to.
    pub fn call_id(&self) -> &CallId {
        match self {
            Event::CallStarted { call_id, .. }
            | Event::TranscriptPartial { call_id, .. }
            | Event::TranscriptFinal { call_id, .. }
            | Event::LanguageDetected { call_id, .. }
            | Event::LanguageChanged { call_id, .. }
            | Event::AccentDetected { call_id, .. }
            | Event::AssistantReplied { call_id, .. }
            | Event::AssistantInterrupted { call_id, .. }
            | Event::EscalationRequested { call_id, .. }
            | Event::Dtmf { call_id, .. }
            | Event::SecureCaptureStarted { call_id, .. }
            | Event::SecureCaptureProgress { call_id, .. }
            | Event::SecureCaptureEnded { call_id, .. }
            | Event::CallStateChanged { call_id, .. }
            | Event::CaseFileUpdated { call_id, .. }
            | Event::CallRouted { call_id, .. }
            | Event::CallAccepted { call_id, .. }
            | Event::CallerStateChanged { call_id, .. }
            | Event::AgentJoined { call_id, .. }
            | Event::AgentLeft { call_id, .. }
            | Event::AgentTranscript { call_id, .. }
            | Event::ConsultRequested { call_id, .. }
            | Event::ConsultStarted { call_id, .. }
            | Event::ConsultEnded { call_id, .. }
            | Event::ConsultTranscript { call_id, .. }
            | Event::SupervisorJoined { call_id, .. }
            | Event::SupervisorModeChanged { call_id, .. }
            | Event::SupervisorLeft { call_id, .. }
            | Event::TakenOver { call_id, .. }
            | Event::CallAssigned { call_id, .. }
            | Event::AlertRaised { call_id, .. }
            | Event::AlertAcknowledged { call_id, .. }
            | Event::CallbackOffered { call_id, .. }
            | Event::CallbackRequested { call_id, .. }
            | Event::CallEnded { call_id, .. } => call_id,
        }
    }
}

/// The process-wide event bus. Publishing never blocks; a subscriber that falls more than
/// the channel's capacity behind is told how many events it missed.
#[derive(Clone)]
pub struct EventBus {
    tx: broadcast::Sender<Event>,
    watchers: std::sync::Arc<Watchers>,
}

/// Who follows calls live (event WebSockets that get the words as they are spoken): all calls,
/// or one each. A call nobody follows needs no partial transcripts.
#[derive(Debug, Default)]
pub struct Watchers {
    all: std::sync::atomic::AtomicUsize,
    calls: std::sync::Mutex<std::collections::HashMap<CallId, usize>>,
}

/// One follower; it stops counting when dropped.
#[derive(Debug)]
pub struct Watching {
    watchers: std::sync::Arc<Watchers>,
    call: Option<CallId>,
}

impl Drop for Watching {
    fn drop(&mut self) {
        use std::sync::atomic::Ordering;
        match self.call.take() {
            None => {
                self.watchers.all.fetch_sub(1, Ordering::Relaxed);
            }
            Some(id) => {
                let mut calls = self.watchers.calls.lock().unwrap_or_else(|p| p.into_inner());
                if let Some(n) = calls.get_mut(&id) {
                    *n -= 1;
                    if *n == 0 {
                        calls.remove(&id);
                    }
                }
            }
        }
    }
}

impl Watchers {
    /// Count a live follower of every call (`None`) or of one, until the guard is dropped.
    fn watch(self: &std::sync::Arc<Self>, call: Option<&CallId>) -> Watching {
        match call {
            None => {
                self.all.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            Some(id) => {
                *self.calls.lock().unwrap_or_else(|p| p.into_inner()).entry(id.clone()).or_default() += 1;
            }
        }
        Watching { watchers: self.clone(), call: call.cloned() }
    }

    /// Whether anyone follows `call` live.
    pub fn watched(&self, call: &CallId) -> bool {
        self.all.load(std::sync::atomic::Ordering::Relaxed) > 0
            || self.calls.lock().unwrap_or_else(|p| p.into_inner()).contains_key(call)
    }
}

impl EventBus {
    /// A bus keeping up to `capacity` events per subscriber.
    pub fn new(capacity: usize) -> Self {
        Self { tx: broadcast::channel(capacity).0, watchers: Default::default() }
    }

    /// Count a live follower of every call (`None`) or of one, until the guard is dropped.
    pub fn watch(&self, call: Option<&CallId>) -> Watching {
        self.watchers.watch(call)
    }

    /// Who follows calls live.
    pub fn watchers(&self) -> std::sync::Arc<Watchers> {
        self.watchers.clone()
    }

    /// Publish (no subscribers is fine).
    pub fn publish(&self, ev: Event) {
        let _ = self.tx.send(ev);
    }

    /// A new subscription starting now.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.tx.subscribe()
    }
}

impl Default for EventBus {
    fn default() -> Self {
        Self::new(4096)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callers_see_the_conversation_not_staff_material() {
        let id = CallId("c-1".into());
        let said = Event::TranscriptFinal {
            call_id: id.clone(),
            text: "hello".into(),
            start_ms: 0,
            end_ms: 1,
            language: "en".into(),
            language_prob: 1.0,
            latency_ms: 1,
            translation: None,
            ended_by: None,
        };
        assert!(said.for_caller());
        let case = Event::CaseFileUpdated { call_id: id.clone(), case_file: Box::default() };
        assert!(!case.for_caller());
        use crate::call::state::StaffMode;
        let (sup, at_ms) = ("sam".to_string(), 0);
        for staff in [
            Event::SupervisorJoined { call_id: id.clone(), supervisor: sup.clone(), mode: StaffMode::Listen, at_ms },
            Event::SupervisorModeChanged {
                call_id: id.clone(),
                supervisor: sup.clone(),
                mode: StaffMode::Coach,
                at_ms,
            },
            Event::SupervisorLeft { call_id: id.clone(), supervisor: sup.clone(), at_ms },
            Event::TakenOver { call_id: id.clone(), by: sup.clone(), from: "assistant".into(), at_ms },
            Event::CallAssigned {
                call_id: id.clone(),
                by: sup.clone(),
                agent_id: crate::routing::AgentId("anna".into()),
                from: "assistant".into(),
                at_ms,
            },
            Event::AlertRaised {
                call_id: id.clone(),
                alert_id: "a1".into(),
                rule: crate::call::alerts::AlertRule::CallerAngry,
                detail: String::new(),
                at_ms,
            },
            Event::AlertAcknowledged {
                call_id: id.clone(),
                alert_id: "a1".into(),
                rule: crate::call::alerts::AlertRule::CallerAngry,
                by: sup,
                at_ms,
            },
        ] {
            assert!(!staff.for_caller(), "a caller never learns who listens in: {staff:?}");
        }
        let why = Event::EscalationRequested {
            call_id: id,
            reason: crate::assistant::dialogue::EscalationReason::CallerUpset,
            intent: None,
            at_ms: 0,
        };
        assert!(!why.for_caller());
    }

    #[test]
    fn a_call_is_watched_while_someone_follows_it_or_all_calls() {
        let bus = EventBus::new(8);
        let (a, b) = (CallId("c-a".into()), CallId("c-b".into()));
        let w = bus.watchers();
        assert!(!w.watched(&a));
        let one = bus.watch(Some(&a));
        let again = bus.watch(Some(&a));
        assert!(w.watched(&a) && !w.watched(&b));
        drop(one);
        assert!(w.watched(&a), "a second follower of the same call still counts");
        drop(again);
        assert!(!w.watched(&a));
        let all = bus.watch(None);
        assert!(w.watched(&a) && w.watched(&b));
        drop(all);
        assert!(!w.watched(&b));
    }
}
