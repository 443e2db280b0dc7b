//! The call's human side: the agent's leg on the call's mixer (which gives each side the
//! other's audio at its own rate), the agent's speech transcribed into the call and its case
//! file,
//! the agent dropping mid-call (back to the front of the queue, with a message), and the
//! callback / voice-message offer when nobody takes the call.

use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::DropGuard;

use super::Actor;
use crate::assistant::replies::{say, Msg};
use crate::call::mix::{LegId, Mode, Role};
use crate::call::CallState;
use crate::media::AudioFrame;
use crate::pipeline::TranscriptEvent;
use crate::routing::{AgentId, Skill};

/// A connected agent (the call's, or a colleague consulted on it).
pub(super) struct AgentBridge {
    pub agent: String,
    /// The agent's leg on the call's mixer.
    pub leg: LegId,
    /// Dropping the bridge ends the agent's media session.
    _done: DropGuard,
    /// The agent's own transcription stream (None if it could not start).
    input: Option<mpsc::Sender<AudioFrame>>,
    pub(super) events: Option<mpsc::Receiver<TranscriptEvent>>,
    /// When the agent joined, ms into the call (the agent stream's clock starts there).
    pub(super) joined_ms: u64,
}

/// How long a caller has to answer the callback offer before they go back to the queue.
const CALLBACK_ANSWER: Duration = Duration::from_secs(20);

/// Where the callback offer stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CallbackOffer {
    /// Offered: 1 books a callback, speech is a message.
    Offered,
    /// Taken; the call is ending.
    Taken,
}

/// The next transcript event of an agent's stream (pending while there is none).
pub(super) async fn next_agent_event(agent: Option<&mut AgentBridge>) -> Option<TranscriptEvent> {
    match agent.and_then(|a| a.events.as_mut()) {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

impl Actor {
    /// A message from the rest of the server.
    pub(super) fn on_control(&mut self, c: crate::call::Control) {
        use crate::call::Control;
        match c {
            Control::Accepted { agent, reply } => {
                let r = self.core.handle_accepted(self.now(), &agent);
                self.answer(reply, r);
            }
            Control::AgentJoined(leg) => self.agent_joined(leg),
            Control::AgentLost { agent, requeued } => self.agent_lost(&agent, requeued),
            Control::NoAgent => self.offer_callback(),
            Control::Transfer { from, to_agent, skill, note } => self.transfer(&from, to_agent, skill, &note),
            Control::Hangup(r) => self.core.handle_hangup(self.now(), r),
            Control::SecureCapture { by } => self.start_capture(&by, None),
            Control::Consult { from, to, reply } => {
                let r = self.consult(&from, &to);
                self.answer(reply, r);
            }
            Control::EndConsult { by, how, reply } => {
                let r = self.end_consult(&by, how);
                self.answer(reply, r);
            }
            Control::Supervise { leg, mode, reply } => {
                let r = self.supervisor_joined(leg, mode);
                self.answer(reply, r);
            }
            Control::SuperviseMode { supervisor, mode, reply } => {
                let r = self.core.handle_supervisor_mode(self.now(), &supervisor, mode);
                self.answer(reply, r);
            }
            Control::TakeOver { supervisor, reply } => {
                let r = self.core.handle_take_over(self.now(), &supervisor);
                self.answer(reply, r);
            }
            Control::SupervisorLeave { supervisor } => {
                self.core.handle_supervisor_left(self.now(), &supervisor);
            }
            Control::Assign { by, agent, reply } => {
                let r = self.assign(&by, &agent);
                self.answer(reply, r);
            }
            Control::AcknowledgeAlert { alert, by, reply } => {
                let r = self.core.handle_alert_acknowledged(self.now(), &alert, &by);
                self.answer(reply, r);
            }
        }
    }

    /// Answer a request once what it changed is on the record (the person asking acts on the
    /// answer at once: an accepted agent's browser connects next).
    fn answer(&mut self, reply: crate::call::Reply, r: Result<(), String>) {
        self.apply();
        let _ = reply.send(r);
    }

    pub(super) fn ms(&self) -> u64 {
        self.now().as_millis() as u64
    }

    /// The agent's audio is up: stop whatever the assistant was playing and bridge (or, for a
    /// consulted colleague, join the consult).
    pub(super) fn agent_joined(&mut self, leg: crate::call::AgentLeg) {
        if self.consult.as_ref().is_some_and(|c| c.to == leg.agent && c.colleague.is_none()) {
            return self.colleague_joined(leg);
        }
        // The core checks it is the call's agent; it then stops the assistant (its work in
        // flight and queued is dropped) and tells everyone.
        if self.agent.is_some() || !self.core.handle_agent_joined(self.now(), &leg.agent) {
            tracing::warn!(call = %self.id, agent = %leg.agent, "agent media refused: not this call's agent");
            return;
        }
        tracing::info!(call = %self.id, agent = %leg.agent, "agent connected");
        self.agent = Some(self.bridge(leg, Mode::Talk));
    }

    /// An agent's leg on the mixer in `mode`, with their speech transcribed.
    pub(super) fn bridge(&mut self, leg: crate::call::AgentLeg, mode: Mode) -> AgentBridge {
        self.bridge_as(leg, Role::Agent, mode)
    }

    /// A staff member's leg (`role`: an agent or a supervisor) in `mode`, transcribed.
    pub(super) fn bridge_as(&mut self, leg: crate::call::AgentLeg, role: Role, mode: Mode) -> AgentBridge {
        let (input, events) = match self.svc.engine.start_staff_stream() {
            Ok(s) => (Some(s.input), Some(s.events)),
            Err(e) => {
                tracing::warn!(call = %self.id, agent = %leg.agent, "the agent's speech will not be transcribed: {e}");
                (None, None)
            }
        };
        let id = self.mix().add_person_with(role, mode, leg.rate, leg.sink);
        AgentBridge { agent: leg.agent, leg: id, _done: leg.done, input, events, joined_ms: self.ms() }
    }

    /// An agent's voice: to whoever hears them, and to their transcription.
    pub(super) fn agent_audio(&mut self, agent: &str, frame: AudioFrame) {
        let colleague = self.consult.as_ref().and_then(|c| c.colleague.as_ref());
        let supervisor = self.supervisors.iter().find(|b| b.agent == agent);
        let Some(bridge) =
            self.agent.as_ref().filter(|a| a.agent == agent).or(colleague.filter(|a| a.agent == agent)).or(supervisor)
        else {
            return;
        };
        let (leg, input) = (bridge.leg, bridge.input.clone());
        self.mix().push(leg, &frame.samples, frame.sample_rate);
        if let Some(input) = input {
            let _ = input.try_send(frame);
        }
    }

    /// A turn of an agent's (`colleague`: the consulted one), transcribed. What the caller
    /// heard goes on the call's record and case file; what only the other agent heard (a
    /// consult) is a staff event and nothing more.
    pub(super) fn on_agent_transcript(&mut self, colleague: bool, ev: Option<TranscriptEvent>) {
        let private = self.consulting_privately();
        let bridge =
            if colleague { self.consult.as_mut().and_then(|c| c.colleague.as_mut()) } else { self.agent.as_mut() };
        let Some(a) = bridge else { return };
        let Some(ev) = ev else {
            a.events = None;
            return;
        };
        let TranscriptEvent::Final { text, start_ms, end_ms, language, .. } = ev else { return };
        let (agent, offset) = (a.agent.clone(), a.joined_ms);
        let (start_ms, end_ms) = (offset + start_ms, offset + end_ms);
        // On the call's record too (REST, the journal, the recording's transcript), unless
        // only the other agent heard it.
        let now = self.now();
        if !self.core.handle_staff_words(now, &agent, private, text.clone(), start_ms, end_ms, language) {
            return;
        }
        self.case.on_agent_turn(start_ms, &text);
        self.case_changed();
    }

    /// The agent's connection dropped: the call goes back to the front of the queue with its
    /// case file, and the caller is told. `requeued`: the router already did (the agent held
    /// several calls and another call reported the drop first).
    pub(super) fn agent_lost(&mut self, agent: &str, requeued: bool) {
        if self.is_supervisor(agent) {
            tracing::info!(call = %self.id, supervisor = %agent, "supervisor media ended");
            self.core.handle_supervisor_left(self.now(), agent);
            return;
        }
        if self.consult_member_lost(agent) {
            return;
        }
        if self.agent.as_ref().is_some_and(|a| a.agent != agent) || self.core.agent() != Some(agent) {
            return;
        }
        tracing::warn!(call = %self.id, %agent, "agent connection lost: back to the front of the queue");
        if let (Some(routing), false) = (self.svc.routing.clone(), requeued) {
            let calls = routing.agent_lost(&AgentId(agent.to_string()));
            // The agent's other calls hear it from their own actors.
            for other in calls.iter().filter(|c| **c != self.id) {
                let m = crate::call::Control::AgentLost { agent: agent.to_string(), requeued: true };
                self.svc.controls.send(other, m);
            }
            if !calls.contains(&self.id) {
                // Not on the agent's desk in the router (it should be): queue it anyway.
                if let Err(e) = routing.requeue(self.waiting_call(self.case_skill(), None)) {
                    tracing::warn!(call = %self.id, "could not requeue: {e}");
                }
            }
        }
        self.detach_agent(agent, "connection_lost", Msg::AgentLost);
    }

    /// The agent is off the call (dropped or transferred): their media goes, the call waits for
    /// a person again, everyone is told, and the caller hears `msg`.
    fn detach_agent(&mut self, agent: &str, reason: &str, msg: Msg) {
        self.release_agent();
        self.playout.clear();
        self.core.handle_agent_left(self.now(), agent, reason);
        let lang = self.caller_language();
        self.speak(vec![say(&lang, &msg)], lang, false);
    }

    /// The agent passes the call on: their audio goes, the call is queued again at the front
    /// for the colleague or the skill's queue, the note goes in the case file, the caller is told.
    pub(super) fn transfer(&mut self, from: &str, to_agent: Option<String>, skill: Option<Skill>, note: &str) {
        if self.core.agent() != Some(from) {
            tracing::warn!(call = %self.id, %from, "transfer refused: not this agent's call");
            return;
        }
        let Some(routing) = self.svc.routing.clone() else { return };
        let skill = skill.unwrap_or_else(|| self.case_skill());
        let call = self.waiting_call(skill, to_agent.clone().map(AgentId));
        if let Err(e) = routing.transfer(&AgentId(from.to_string()), call) {
            tracing::warn!(call = %self.id, "transfer failed: {e}");
            return;
        }
        let to = to_agent.unwrap_or_else(|| format!("the {} queue", skill.name()));
        tracing::info!(call = %self.id, %from, %to, "transferred");
        self.case.on_transfer(from, &to, note);
        self.case_changed();
        self.detach_agent(from, "transferred", Msg::Transferring);
    }

    /// The skill the call needs, from its latest intent.
    pub(super) fn case_skill(&self) -> Skill {
        self.case.intents.last().map(|i| Skill::from_intent(*i)).unwrap_or(Skill::General)
    }

    /// The caller's language as the assistant last spoke it (English before any turn).
    pub(super) fn caller_language(&self) -> String {
        self.case.language.clone().unwrap_or_else(|| "en".into())
    }

    /// Nobody took the call: offer a callback (key 1) or a voice message (speak).
    pub(super) fn offer_callback(&mut self) {
        let waiting = self.core.state() == CallState::WaitingForAgent;
        if !waiting || self.agent.is_some() || self.callback.is_some() {
            return;
        }
        self.callback = Some(CallbackOffer::Offered);
        self.core.handle_callback_offered(self.now());
        let lang = self.caller_language();
        // An untranscribed call cannot leave a message: a callback or waiting on.
        let text = say(&lang, if self.overflow { &Msg::CallbackOfferKeys } else { &Msg::CallbackOffer });
        // No answer (about 70 ms a character to say it, then CALLBACK_ANSWER): back to the queue.
        let speaking = Duration::from_millis(70 * text.chars().count() as u64);
        self.core.handle_awaiting_answer(self.now(), Some(speaking + CALLBACK_ANSWER));
        self.speak(vec![text], lang, false);
    }

    /// The caller neither keyed 1 nor left a message: they keep waiting, back in the queue
    /// (at the front), and are told so. False when no callback offer stands.
    pub(super) fn callback_unanswered(&mut self) -> bool {
        if self.callback != Some(CallbackOffer::Offered) {
            return false;
        }
        self.callback = None;
        if let Some(routing) = self.svc.routing.clone() {
            if let Err(e) = routing.requeue(self.waiting_call(self.case_skill(), None)) {
                tracing::warn!(call = %self.id, "could not requeue after the callback offer: {e}");
            }
        }
        tracing::info!(call = %self.id, "no answer to the callback offer: back in the queue");
        let lang = self.caller_language();
        self.speak(vec![say(&lang, &Msg::BackInQueue)], lang, false);
        true
    }

    /// A key while the callback is on offer; true if it was taken here.
    pub(super) async fn callback_key(&mut self, digit: char) -> bool {
        if self.callback != Some(CallbackOffer::Offered) {
            return false;
        }
        if digit != '1' {
            return true;
        }
        let number = self.case.caller.number.clone();
        self.playout.clear();
        self.save_callback("callback", &number, "").await;
        let lang = self.caller_language();
        self.speak(vec![say(&lang, &Msg::CallbackConfirmed { number })], lang, true);
        true
    }

    /// A caller's turn while the callback is on offer: their message. True if taken here.
    pub(super) async fn callback_turn(&mut self, text: &str) -> bool {
        match self.callback {
            Some(CallbackOffer::Offered) => {
                let number = self.case.caller.number.clone();
                let message = crate::privacy::mask_cards(text);
                self.playout.clear();
                self.save_callback("voicemail", &number, &message).await;
                let lang = self.caller_language();
                self.speak(vec![say(&lang, &Msg::VoicemailSaved)], lang, true);
                true
            }
            Some(CallbackOffer::Taken) => true,
            None => false,
        }
    }

    pub(super) async fn save_callback(&mut self, kind: &str, number: &str, message: &str) {
        self.callback = Some(CallbackOffer::Taken);
        if let Some(services) = self.svc.assistant.clone() {
            let store = services.store.clone();
            let (call, customer) = (self.id.0.clone(), self.case.caller.customer_id);
            let (n, k, m) = (number.to_string(), kind.to_string(), message.to_string());
            let saved = tokio::task::spawn_blocking(move || store.add_callback(&call, customer, &n, &k, &m)).await;
            if !matches!(saved, Ok(Ok(_))) {
                tracing::error!(call = %self.id, "the {kind} could not be saved: {saved:?}");
            }
        }
        tracing::info!(call = %self.id, kind, "callback requested");
        self.core.handle_callback_requested(self.now(), kind, number, message);
    }

    /// The call is over: release the agent's media (and a consulted colleague's).
    pub(super) fn release_agent(&mut self) {
        if let Some(a) = self.agent.take() {
            self.mix().remove(a.leg);
        }
        self.drop_consult();
        self.release_supervisors();
    }
}
