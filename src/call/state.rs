//! A call's control state, sans-IO: who has the call (the assistant, the queue, an agent, a
//! consulted colleague), where it is in its life, the caller's keyed entry and every timer
//! the call runs on. Inputs go in with the time since the call started (`now`); what to do
//! comes out of [`CallCore::poll_output`] and when to come back of [`CallCore::poll_timeout`].
//! No clock, no tasks, no locks: the unit tests below drive whole calls on a simulated clock.
//!
//! The core is the only writer of the call record's state, agent, consultant and keyed digits
//! ([`Change`]) and of the events about them; the per-call actor (`actor.rs`) is the I/O shell
//! that applies its outputs (registry, event bus, assistant jobs, playout) and feeds it what
//! happens (transport, control messages, job results, the next timeout). Everyone outside the
//! call (routing's accept, consult, transfer, the staff API) sends the actor a control message
//! and never writes the record.

use std::collections::VecDeque;
use std::time::Duration;

use super::{CallId, CallState, EndReason};
use crate::events::Event;
use crate::routing::AgentId;

#[path = "state_alerts.rs"]
mod alerting;
#[path = "state_record.rs"]
mod record;
#[path = "state_staff.rs"]
mod staff;

pub use record::{AssistantSaid, CallerWords};
pub use staff::{MixChange, StaffMode, SupervisorOnCall};

/// Time since the call started.
pub type At = Duration;

/// The recording's marker for a secure card capture.
pub const CAPTURE_REASON: &str = "secure_card_capture";

/// How long a consulted colleague has to join (their audio up) before the consult is called
/// off and the caller is back with the agent.
pub const CONSULT_ANSWER: Duration = Duration::from_secs(45);

/// A pause after the last key that ends the entry (a PIN or an order number without #).
pub const KEY_TIMEOUT: Duration = Duration::from_secs(2);

/// `now` as ms into the call (events' `at_ms`).
fn ms(now: At) -> u64 {
    now.as_millis() as u64
}

/// A field of the call's record the core owns.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    State(CallState),
    Agent(Option<String>),
    Consultant(Option<String>),
    /// A key the caller pressed (outside secure capture).
    Dtmf(char),
    /// A finished turn of the caller or of the agent.
    Segment(crate::call::Segment),
    /// The caller's state, and the call's language and accent (when known), after a turn.
    Analysis {
        caller_state: crate::pipeline::analysis::state::TurnState,
        language: Option<String>,
        accent: Option<crate::pipeline::analysis::accent::Accent>,
    },
    CaseFile(Box<crate::routing::case_file::CaseFile>),
    /// The recording leaves the call out from `from_ms` (secure capture) ...
    RecordingPaused {
        from_ms: u64,
        reason: String,
    },
    /// ... until `at_ms`.
    RecordingResumed {
        at_ms: u64,
    },
    /// The supervisors on the call and how each takes part.
    Supervisors(Vec<SupervisorOnCall>),
    /// The alerts raised on the call, and who acknowledged them.
    Alerts(Vec<super::alerts::AlertOnCall>),
}

/// What the core wants done.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Write to the call's record.
    Record(Change),
    /// Tell everyone following the call.
    Publish(Event),
    /// Change who hears whom.
    Mix(MixChange),
    /// A keyed entry is complete (ended with # or a pause): for the assistant.
    Digits(String),
    /// The caller said nothing for the answer time after the assistant (or an offer) spoke.
    Silence,
    /// Playback paused for a possible barge-in resumes: no turn followed.
    ResumePlayout,
    /// A person has the call: the assistant's work in flight and queued stops, its audio too.
    StopAssistant,
    /// The agent accepted but their audio never connected: treat them as lost.
    AgentNeverConnected(String),
    /// Secure card capture: no key for the pause, or the time limit reached.
    CaptureTimedOut,
    /// The consulted colleague did not join in time: call the consult off.
    ConsultUnanswered,
    /// End the call.
    End(EndReason),
}

/// A call's control state (see the module documentation).
#[derive(Debug)]
pub struct CallCore {
    id: CallId,
    state: CallState,
    /// The state to return to when the caller comes off hold.
    before_hold: CallState,
    agent: Option<String>,
    /// Whether the agent's audio is connected.
    connected: bool,
    consultant: Option<String>,
    /// When a consulted colleague who has not joined yet is given up on.
    consult_by: Option<At>,
    supervisors: Vec<SupervisorOnCall>,
    keys: String,
    keys_at: Option<At>,
    silence_at: Option<At>,
    resume_at: Option<At>,
    /// The agent who accepted, and when their audio must be up by.
    connect_by: Option<(String, At)>,
    /// A secure card capture under way: when it stops without another key, and at the latest.
    capture: Option<(At, At)>,
    deadline: At,
    connect_timeout: Duration,
    /// The alert rules watching the call (none: no alerts).
    watch: Option<super::alerts::Watch>,
    alerts: Vec<super::alerts::AlertOnCall>,
    ended: bool,
    out: VecDeque<Output>,
}

impl CallCore {
    /// A call that may last `max_duration`; an agent who accepts has `connect_timeout` to
    /// connect their audio.
    pub fn new(id: CallId, max_duration: Duration, connect_timeout: Duration) -> Self {
        Self {
            id,
            state: CallState::Active,
            before_hold: CallState::Active,
            agent: None,
            connected: false,
            consultant: None,
            consult_by: None,
            supervisors: Vec::new(),
            keys: String::new(),
            keys_at: None,
            silence_at: None,
            resume_at: None,
            connect_by: None,
            capture: None,
            deadline: max_duration,
            connect_timeout,
            watch: None,
            alerts: Vec::new(),
            ended: false,
            out: VecDeque::new(),
        }
    }

    pub fn state(&self) -> CallState {
        self.state
    }

    /// The call's agent (accepted; see [`CallCore::agent_connected`]).
    pub fn agent(&self) -> Option<&str> {
        self.agent.as_deref()
    }

    /// Whether a person is talking to the caller (the agent's audio is up).
    pub fn agent_connected(&self) -> bool {
        self.agent.is_some() && self.connected
    }

    pub fn ended(&self) -> bool {
        self.ended
    }

    /// Whether a card is being keyed (secure capture).
    pub fn capturing(&self) -> bool {
        self.capture.is_some()
    }

    /// Whether an assistant reply that comes back now is still wanted: the call goes on and
    /// no person has it (a reply from a job the call moved past is dropped unsaid).
    pub fn wants_reply(&self) -> bool {
        !self.ended && !self.agent_connected()
    }

    /// What to do next, in order.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// When [`CallCore::handle_timeout`] is next due.
    pub fn poll_timeout(&self) -> Option<At> {
        if self.ended {
            return None;
        }
        let capture = self.capture.map(|(pause, max)| pause.min(max));
        [
            self.keys_at,
            self.silence_at,
            self.resume_at,
            self.connect_by.as_ref().map(|c| c.1),
            self.consult_by,
            capture,
            self.watch.as_ref().and_then(|w| w.next_timeout()),
            Some(self.deadline),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    fn publish(&mut self, e: Event) {
        self.out.push_back(Output::Publish(e));
    }

    fn set_state(&mut self, now: At, state: CallState) {
        if self.state == state {
            return;
        }
        self.state = state;
        if let Some(w) = self.watch.as_mut() {
            w.on_state(now, state);
        }
        self.out.push_back(Output::Record(Change::State(state)));
        self.publish(Event::CallStateChanged { call_id: self.id.clone(), state });
    }

    /// No prompt for silence, no paused reply to resume, no keyed entry pending: what the
    /// assistant was waiting on is dropped.
    fn drop_assistant_timers(&mut self) {
        (self.silence_at, self.resume_at, self.keys_at) = (None, None, None);
        self.keys.clear();
    }

    /// A person has the call: the assistant's timers go and its work stops.
    fn stop_assistant(&mut self) {
        self.drop_assistant_timers();
        self.out.push_back(Output::StopAssistant);
    }

    fn set_agent(&mut self, agent: Option<String>) {
        self.agent = agent.clone();
        self.out.push_back(Output::Record(Change::Agent(agent)));
    }

    /// Fire every timer due at `now`.
    pub fn handle_timeout(&mut self, now: At) {
        if self.ended {
            return;
        }
        if now >= self.deadline {
            return self.handle_hangup(now, EndReason::MaxDuration);
        }
        if self.keys_at.is_some_and(|t| now >= t) {
            self.keys_at = None;
            let keys = std::mem::take(&mut self.keys);
            if !keys.is_empty() {
                self.out.push_back(Output::Digits(keys));
            }
        }
        if self.resume_at.is_some_and(|t| now >= t) {
            self.resume_at = None;
            self.out.push_back(Output::ResumePlayout);
        }
        if self.silence_at.is_some_and(|t| now >= t) {
            self.silence_at = None;
            self.out.push_back(Output::Silence);
        }
        if self.capture.is_some_and(|(pause, max)| now >= pause.min(max)) {
            self.capture = None;
            self.out.push_back(Output::CaptureTimedOut);
        }
        if self.consult_by.is_some_and(|t| now >= t) {
            self.consult_by = None;
            self.out.push_back(Output::ConsultUnanswered);
        }
        if self.connect_by.as_ref().is_some_and(|(_, t)| now >= *t) {
            let (agent, _) = self.connect_by.take().expect("checked");
            if self.agent.as_deref() == Some(agent.as_str()) && !self.connected {
                self.out.push_back(Output::AgentNeverConnected(agent));
            }
        }
        if let Some(fired) = self.watch.as_mut().map(|w| w.on_timeout(now)) {
            self.raise(now, fired);
        }
    }

    /// The caller pressed a key (outside secure capture): it goes on the record and out as an
    /// event.
    pub fn handle_key(&mut self, now: At, digit: char) {
        if self.ended {
            return;
        }
        self.out.push_back(Output::Record(Change::Dtmf(digit)));
        self.publish(Event::Dtmf { call_id: self.id.clone(), digit, at_ms: ms(now) });
    }

    /// A key nobody else took (no agent on the line, no callback offer) adds to the caller's
    /// entry for the assistant, which ends at `#` or after [`KEY_TIMEOUT`].
    pub fn handle_entry(&mut self, now: At, digit: char, assistant: bool) {
        if self.ended || !assistant || self.agent_connected() {
            return;
        }
        if digit.is_ascii_digit() {
            self.keys.push(digit);
            self.keys_at = Some(now + KEY_TIMEOUT);
        }
        if digit == '#' && !self.keys.is_empty() {
            self.keys_at = None;
            self.out.push_back(Output::Digits(std::mem::take(&mut self.keys)));
        }
    }

    /// The caller started a turn: they are answering, and a paused reply will not resume.
    pub fn handle_turn_started(&mut self, _now: At) {
        (self.silence_at, self.resume_at) = (None, None);
    }

    /// Something was said to the caller that wants an answer within `within` (None: nothing
    /// is awaited).
    pub fn handle_awaiting_answer(&mut self, now: At, within: Option<Duration>) {
        self.silence_at = within.map(|w| now + w);
    }

    /// Playback paused because the caller may be barging in: resume after `after` unless a
    /// turn starts.
    pub fn handle_paused_for_barge_in(&mut self, now: At, after: Duration) {
        self.resume_at = Some(now + after);
    }

    /// A secure card capture began: it stops after `pause` without a key or `max` overall.
    /// Nothing the caller says or keys meanwhile is for the assistant: a pending entry and its
    /// timers are dropped. (The digits themselves never come here: the actor's capture holds
    /// them, and wipes them.)
    /// `by`: who asked (on the `secure_capture_started` event); the recording pauses.
    pub fn handle_capture_started(&mut self, now: At, by: &str, pause: Duration, max: Duration) {
        self.drop_assistant_timers();
        self.capture = Some((now + pause, now + max));
        self.capture_opened(now, by);
    }

    /// A key during the capture: the pause starts again.
    pub fn handle_capture_key(&mut self, now: At, pause: Duration) {
        if let Some(c) = self.capture.as_mut() {
            c.0 = now + pause;
        }
    }

    /// The capture ended `outcome` (`captured` with the card's brand and last four digits,
    /// `invalid`, `cancelled`, `timeout`): the recording resumes.
    pub fn handle_capture_ended(&mut self, now: At, outcome: &str, card: Option<(String, String)>) {
        self.capture = None;
        self.capture_closed(now, outcome, card);
    }

    /// The assistant hands the call to a person.
    pub fn handle_escalated(
        &mut self,
        now: At,
        reason: crate::assistant::dialogue::EscalationReason,
        intent: Option<crate::assistant::intents::Intent>,
    ) {
        self.publish(Event::EscalationRequested { call_id: self.id.clone(), reason, intent, at_ms: ms(now) });
        self.set_state(now, CallState::WaitingForAgent);
        if let Some(fired) = self.watch.as_mut().map(|w| w.on_escalated(reason)) {
            self.raise(now, fired);
        }
    }

    /// An agent accepted the call's offer (routing decided; exactly one accept reaches here).
    pub fn handle_accepted(&mut self, now: At, agent: &str) -> Result<(), String> {
        if self.ended {
            return Err("the call is ending".into());
        }
        if let Some(a) = &self.agent {
            return Err(format!("the call is already with {a}"));
        }
        self.set_agent(Some(agent.to_string()));
        self.connected = false;
        self.publish(Event::CallAccepted { call_id: self.id.clone(), agent_id: AgentId(agent.to_string()) });
        self.set_state(now, CallState::WithAgent);
        self.connect_by = Some((agent.to_string(), now + self.connect_timeout));
        Ok(())
    }

    /// The agent's audio connected. False (and nothing changes) unless it is the call's agent
    /// and not connected yet.
    pub fn handle_agent_joined(&mut self, _now: At, agent: &str) -> bool {
        if self.ended || self.agent.as_deref() != Some(agent) || self.connected {
            return false;
        }
        self.connected = true;
        self.connect_by = None;
        self.stop_assistant();
        self.publish(Event::AgentJoined { call_id: self.id.clone(), agent_id: AgentId(agent.to_string()) });
        true
    }

    /// The agent is off the call (`connection_lost`, `transferred`): it waits for a person
    /// again. False if `agent` is not the call's agent.
    pub fn handle_agent_left(&mut self, now: At, agent: &str, reason: &str) -> bool {
        if self.agent.as_deref() != Some(agent) {
            return false;
        }
        self.connected = false;
        self.connect_by = None;
        self.set_agent(None);
        self.nobody_to_coach(now);
        let (call_id, agent_id) = (self.id.clone(), AgentId(agent.to_string()));
        self.publish(Event::AgentLeft { call_id, agent_id, reason: reason.into() });
        self.set_state(now, CallState::WaitingForAgent);
        true
    }

    /// The caller put the call on hold, or took it off.
    pub fn handle_hold(&mut self, now: At, on: bool) {
        if on && self.state != CallState::OnHold {
            self.before_hold = self.state;
            self.set_state(now, CallState::OnHold);
        } else if !on && self.state == CallState::OnHold {
            let back = self.before_hold;
            self.set_state(now, back);
        }
    }

    /// The call ends for `reason` (the first reason wins).
    pub fn handle_hangup(&mut self, _now: At, reason: EndReason) {
        if self.ended {
            return;
        }
        self.ended = true;
        (self.keys_at, self.silence_at, self.resume_at, self.connect_by) = (None, None, None, None);
        (self.capture, self.consult_by) = (None, None);
        self.state = CallState::Ending;
        self.out.push_back(Output::Record(Change::State(CallState::Ending)));
        self.out.push_back(Output::StopAssistant);
        self.out.push_back(Output::End(reason));
    }
}

#[cfg(test)]
#[path = "state_tests.rs"]
mod tests;
