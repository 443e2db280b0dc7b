//! Consulting a colleague before handing over (a consult transfer) and three-way calls.
//!
//! The call's agent asks a colleague to consult: the caller (and the assistant's voice) are
//! held and hear the hold chime, the agent waits in `Consult`; the colleague's browser joins
//! in `Consult` and the two agents talk, heard by nobody else (their words are
//! `consult_transcript` events, not the call's transcript). The agent then completes the
//! transfer (the colleague is the call's agent, the agent leaves), joins all three, or calls
//! it off; the colleague may decline or leave. If the agent drops during a consult the
//! colleague already on the line keeps the call.

use super::agent::AgentBridge;
use super::Actor;
use crate::call::mix::{LegId, Mode};
use crate::call::{AgentLeg, ConsultEnd};
use crate::routing::AgentId;

/// A consult under way.
pub(super) struct Consult {
    /// The call's agent, who asked.
    pub from: String,
    /// The colleague asked.
    pub to: String,
    /// The colleague's leg, once their audio joined.
    pub colleague: Option<AgentBridge>,
    /// All three talk (the consult part is over; the colleague is still on the call).
    pub three_way: bool,
    /// The hold audio the caller hears meanwhile.
    hold: Option<LegId>,
}

impl Actor {
    /// Whether the agents are talking without the caller (agents' words stay off the record).
    pub(super) fn consulting_privately(&self) -> bool {
        self.consult.as_ref().is_some_and(|c| !c.three_way)
    }

    /// `from` (who must be talking to the caller) consults `to`.
    pub(super) fn consult(&mut self, from: &str, to: &str) -> Result<(), String> {
        let Some(leg) = self.agent.as_ref().filter(|a| a.agent == from).map(|a| a.leg) else {
            return Err(format!("{from} is not talking to the caller on this call"));
        };
        if self.consult.is_some() {
            return Err("a consult is already under way on this call".into());
        }
        if self.capturing() {
            return Err("the caller is keying a card: consult after the capture".into());
        }
        let routing = self.svc.routing.clone().ok_or("routing is not enabled")?;
        routing.consult(&self.id, &AgentId(from.into()), &AgentId(to.into())).map_err(|e| e.to_string())?;
        let hold = {
            let mut mix = self.mix();
            let hold = mix.add_hold();
            if let Err(e) = mix.with_matrix(|m| m.hold_for_consult(leg)) {
                tracing::error!(call = %self.id, "consult: cannot hold the caller: {e}");
            }
            hold
        };
        self.consult =
            Some(Consult { from: from.into(), to: to.into(), colleague: None, three_way: false, hold: Some(hold) });
        if let Err(e) = self.core.handle_consult_requested(self.now(), to) {
            tracing::error!(call = %self.id, "consult: {e}");
        }
        tracing::info!(call = %self.id, %from, %to, "consult requested: the caller is on hold");
        Ok(())
    }

    /// The consulted colleague's audio is up: the two agents talk.
    pub(super) fn colleague_joined(&mut self, leg: AgentLeg) {
        let bridge = self.bridge(leg, Mode::Consult);
        let Some(c) = self.consult.as_mut() else { return };
        c.colleague = Some(bridge);
        tracing::info!(call = %self.id, agent = %c.from, colleague = %c.to, "consult started");
        self.core.handle_consult_started(self.now());
    }

    /// End the consult `how`, asked by `by`.
    pub(super) fn end_consult(&mut self, by: &str, how: ConsultEnd) -> Result<(), String> {
        let Some(c) = self.consult.as_ref() else { return Err("no consult is under way on this call".into()) };
        let (host, guest, joined) = (by == c.from, by == c.to, c.colleague.is_some());
        match how {
            ConsultEnd::Cancel if host => self.finish_consult("cancelled"),
            ConsultEnd::Cancel if guest => self.finish_consult(if joined { "left" } else { "declined" }),
            ConsultEnd::ThreeWay | ConsultEnd::Transfer if host && !joined => {
                return Err(format!("{} has not joined yet", c.to));
            }
            ConsultEnd::ThreeWay if host => self.three_way()?,
            ConsultEnd::Transfer if host => self.hand_over("transferred")?,
            _ => return Err("only the call's agent can do that".into()),
        }
        Ok(())
    }

    /// Everyone talks: the caller comes off hold and hears both agents.
    fn three_way(&mut self) -> Result<(), String> {
        let c = self.consult.as_mut().expect("checked");
        if c.three_way {
            return Err("the call is already three-way".into());
        }
        c.three_way = true;
        let (hold, from, to) = (c.hold.take(), c.from.clone(), c.to.clone());
        self.rejoin(None, hold);
        tracing::info!(call = %self.id, %from, %to, "three-way call");
        self.consult_ended(&from, &to, "three_way");
        Ok(())
    }

    /// The colleague takes the call; its agent leaves (`reason` on their `agent_left`).
    fn hand_over(&mut self, reason: &str) -> Result<(), String> {
        let c = self.consult.take().expect("checked");
        if let Some(routing) = self.svc.routing.clone() {
            if let Err(e) = routing.hand_over(&self.id, &AgentId(c.from.clone())) {
                self.consult = Some(c);
                return Err(e.to_string());
            }
        }
        let Consult { from, to, colleague, hold, .. } = c;
        let old = self.agent.take();
        self.rejoin(old.as_ref().map(|a| a.leg), hold);
        self.agent = colleague;
        tracing::info!(call = %self.id, %from, %to, "consult transfer: the colleague has the call");
        self.consult_ended(&from, &to, "transferred");
        // The colleague is the call's agent now (agent_left for the agent, call_accepted).
        self.core.handle_handed_over(self.now(), &to, reason);
        self.case.on_transfer(&from, &to, "after a consult");
        self.case_changed();
        // The agent's media ends with their bridge.
        drop(old);
        Ok(())
    }

    /// The consult is over without a hand-over: the colleague's leg and the hold audio go, the
    /// caller and the agent talk again.
    fn finish_consult(&mut self, outcome: &str) {
        let Some(Consult { from, to, colleague, hold, .. }) = self.consult.take() else { return };
        self.rejoin(colleague.as_ref().map(|b| b.leg), hold);
        if let Some(routing) = &self.svc.routing {
            routing.end_consult(&self.id);
        }
        tracing::info!(call = %self.id, %from, %to, outcome, "consult ended");
        self.consult_ended(&from, &to, outcome);
    }

    /// The consult's end in the mix: `leaving` goes (silent at once, then off the call), the
    /// held and consulting legs talk again, the hold audio goes.
    fn rejoin(&self, leaving: Option<LegId>, hold: Option<LegId>) {
        let mut mix = self.mix();
        if let Some(l) = leaving {
            let _ = mix.set_mode(l, Mode::Out);
            mix.remove(l);
        }
        // Nothing to join when the consult had already become a three-way call.
        let _ = mix.with_matrix(|m| m.join_all());
        if let Some(h) = hold {
            mix.remove(h);
        }
    }

    fn consult_ended(&mut self, from: &str, to: &str, outcome: &str) {
        self.core.handle_consult_ended(self.now(), from, to, outcome);
    }

    /// A consult member's connection dropped; true if that is all there is to it. The
    /// colleague dropping ends the consult; the agent dropping once the colleague is on the
    /// line hands the call to the colleague. Otherwise (the agent dropped before the colleague
    /// joined) the consult is called off and the usual drop follows.
    pub(super) fn consult_member_lost(&mut self, agent: &str) -> bool {
        let Some(c) = self.consult.as_ref() else { return false };
        let (host, guest, joined) = (agent == c.from, agent == c.to, c.colleague.is_some());
        if guest {
            self.finish_consult("colleague_lost");
            return true;
        }
        if host && joined {
            tracing::warn!(call = %self.id, %agent, "the agent dropped during a consult: the colleague keeps the call");
            if self.hand_over("connection_lost").is_ok() {
                return true;
            }
        }
        if host {
            self.finish_consult("cancelled");
        }
        false
    }

    /// The colleague never joined: the consult is called off (`no_answer`), and their offer
    /// withdrawn from their desk.
    pub(super) fn consult_unanswered(&mut self) {
        if self.consult.as_ref().is_some_and(|c| c.colleague.is_none()) {
            self.finish_consult("no_answer");
        }
    }

    /// The call is over or its agent left: the consult ends with it.
    pub(super) fn drop_consult(&mut self) {
        self.finish_consult("cancelled");
    }
}
