//! Supervisors on a call: their audio legs and what the core decides about them. The core
//! ([`crate::call::state`]) keeps who is on the call and how, and asks for mix changes
//! ([`MixChange`]); this keeps each supervisor's leg (their browser's audio, transcribed)
//! and puts those changes on the mix matrix.
//!
//! - *Listen*: the supervisor hears everyone, nobody hears them.
//! - *Coach*: the call's agent hears them, the caller does not.
//! - *Barge*: everyone hears everyone; what they say joins the call's transcript.
//! - *Take over*: their leg replaces the agent's (who leaves, `taken_over`) or joins in the
//!   assistant's place (whose work stops): they are the call's person from then on.

use std::future::poll_fn;
use std::task::Poll;

use super::agent::AgentBridge;
use super::Actor;
use crate::call::mix::{Mode, Role};
use crate::call::state::{MixChange, StaffMode};
use crate::call::AgentLeg;
use crate::pipeline::TranscriptEvent;

/// The next transcript event of any supervisor's stream, with whose (pending while none).
pub(super) async fn next_supervisor_event(bridges: &mut [AgentBridge]) -> (String, Option<TranscriptEvent>) {
    poll_fn(|cx| {
        for b in bridges.iter_mut() {
            let Some(rx) = b.events.as_mut() else { continue };
            if let Poll::Ready(ev) = rx.poll_recv(cx) {
                if ev.is_none() {
                    b.events = None;
                }
                return Poll::Ready((b.agent.clone(), ev));
            }
        }
        Poll::Pending
    })
    .await
}

impl Actor {
    /// A supervisor's audio arrived to join the call in `mode`: the core decides; their leg
    /// starts heard by nobody and takes its mode from the core's mix change.
    pub(super) fn supervisor_joined(&mut self, leg: AgentLeg, mode: StaffMode) -> Result<(), String> {
        let id = leg.agent.clone();
        self.core.handle_supervisor_joined(self.now(), &id, mode)?;
        tracing::info!(call = %self.id, supervisor = %id, ?mode, "supervisor joined");
        let bridge = self.bridge_as(leg, Role::Supervisor, Mode::Listen);
        self.supervisors.push(bridge);
        Ok(())
    }

    /// A supervisor's words: on the call's transcript when everyone heard them (barge).
    pub(super) fn on_supervisor_transcript(&mut self, id: &str, ev: Option<TranscriptEvent>) {
        let Some(TranscriptEvent::Final { text, start_ms, end_ms, language, .. }) = ev else { return };
        let barging = self.core.supervisors().iter().any(|s| s.id == id && s.mode == StaffMode::Barge);
        let Some(b) = self.supervisors.iter().find(|b| b.agent == id) else { return };
        if !barging {
            return;
        }
        let (start_ms, end_ms) = (b.joined_ms + start_ms, b.joined_ms + end_ms);
        self.core.handle_staff_words(self.now(), id, false, text, start_ms, end_ms, language);
    }

    /// Whether `id` is a supervisor on the call (not one who took it over).
    pub(super) fn is_supervisor(&self, id: &str) -> bool {
        self.supervisors.iter().any(|b| b.agent == id)
    }

    /// Carry out one of the core's mix changes.
    pub(super) fn mix_change(&mut self, change: MixChange) {
        match change {
            MixChange::Supervisor { id, mode } => {
                let Some(leg) = self.supervisors.iter().find(|b| b.agent == id).map(|b| b.leg) else {
                    tracing::warn!(call = %self.id, supervisor = %id, "no audio leg for the supervisor");
                    return;
                };
                let target = mode.map(|m| self.staff_mode(m));
                let mut mix = self.mix();
                let result = match target {
                    // Silent at once (ramped), then off the call.
                    None => mix.set_mode(leg, Mode::Out).map(|_| mix.remove(leg)),
                    Some(m) => mix.set_mode(leg, m),
                };
                drop(mix);
                if let Err(e) = result {
                    tracing::error!(call = %self.id, supervisor = %id, "mix change failed: {e}");
                }
                if mode.is_none() {
                    // Their media session ends with the bridge.
                    self.supervisors.retain(|b| b.agent != id);
                    tracing::info!(call = %self.id, supervisor = %id, "supervisor left");
                }
            }
            MixChange::TakeOver { by } => {
                let Some(i) = self.supervisors.iter().position(|b| b.agent == by) else {
                    tracing::warn!(call = %self.id, supervisor = %by, "no audio leg to take the call over with");
                    return;
                };
                let new = self.supervisors.remove(i);
                let old = self.agent.take();
                let result = {
                    let mut mix = self.mix();
                    match &old {
                        // The agent goes out of the audio and off the call.
                        Some(o) => mix.with_matrix(|m| m.take_over(new.leg, o.leg)).map(|_| mix.remove(o.leg)),
                        // In the assistant's place: its voice stays on the call for the call's
                        // own prompts (hold, card capture), but the assistant says no more.
                        None => mix.set_mode(new.leg, Mode::Talk),
                    }
                };
                if let Err(e) = result {
                    tracing::error!(call = %self.id, supervisor = %by, "take-over failed: {e}");
                }
                // Off the queue, or off the previous agent's desk (they wrap up).
                if let Some(r) = &self.svc.routing {
                    r.taken_over(&self.id);
                }
                let from = old.as_ref().map(|o| o.agent.clone()).unwrap_or_else(|| "assistant".into());
                tracing::info!(call = %self.id, supervisor = %by, %from, "supervisor took the call over");
                self.case.on_transfer(&from, &by, "taken over by a supervisor");
                self.case_changed();
                self.agent = Some(new);
                // The previous agent's media ends with their bridge.
                drop(old);
            }
        }
    }

    /// A supervisor's mode on the matrix: coaching is heard by the call's agent (the core
    /// refuses coaching with no agent, and makes coaches listeners when the agent leaves).
    fn staff_mode(&self, mode: StaffMode) -> Mode {
        match (mode, self.agent.as_ref()) {
            (StaffMode::Listen, _) | (StaffMode::Coach, None) => Mode::Listen,
            (StaffMode::Coach, Some(a)) => Mode::Coach(a.leg),
            (StaffMode::Barge, _) => Mode::Talk,
        }
    }

    /// The call is over: every supervisor's leg goes.
    pub(super) fn release_supervisors(&mut self) {
        for b in std::mem::take(&mut self.supervisors) {
            self.mix().remove(b.leg);
        }
    }

    /// A supervisor hands the call to `agent`: from an agent, a transfer to them; from the
    /// assistant or the queue, the call waits for them alone (their desktop is offered it).
    pub(super) fn assign(&mut self, by: &str, agent: &str) -> Result<(), String> {
        let routing = self.svc.routing.clone().ok_or("this server routes no calls to agents")?;
        let id = crate::routing::AgentId(agent.to_string());
        if routing.agent(&id).is_none() {
            return Err(format!("no agent {agent}"));
        }
        let current = self.core.agent().map(str::to_string);
        self.core.handle_assigned(self.now(), by, agent)?;
        let note = format!("handed to {agent} by supervisor {by}");
        match current {
            Some(from) => self.transfer(&from, Some(agent.to_string()), None, &note),
            None => {
                let call = self.waiting_call(self.case_skill(), Some(id));
                routing.assign(call).map_err(|e| e.to_string())?;
                self.case.on_transfer("assistant", agent, &note);
                self.case_changed();
                // The assistant's voice stopped (on the core's word): the caller is told why.
                self.apply();
                let lang = self.caller_language();
                let text = crate::assistant::replies::say(&lang, &crate::assistant::replies::Msg::Transferring);
                self.speak(vec![text], lang, false);
            }
        }
        tracing::info!(call = %self.id, supervisor = %by, %agent, "call handed to an agent by a supervisor");
        Ok(())
    }
}
