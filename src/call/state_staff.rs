//! Staff on the call besides its agent: a colleague the agent consults, and supervisors who
//! listen, coach, barge in or take the call over. The core keeps who is on the call and how,
//! writes it on the record and publishes it; the actor carries out the audio side
//! ([`Output::Mix`]) on the mix matrix.

use serde::{Deserialize, Serialize};

use super::{ms, At, CallCore, Change, Output};
use crate::call::CallState;
use crate::events::Event;
use crate::routing::AgentId;

/// How a supervisor takes part (their leg's mode in the mix matrix).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StaffMode {
    /// Hears everyone; nobody hears them.
    Listen,
    /// Hears everyone; only the call's agent hears them.
    Coach,
    /// Hears everyone and is heard by everyone.
    Barge,
}

/// A supervisor on the call, as the record shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SupervisorOnCall {
    pub id: String,
    pub mode: StaffMode,
}

/// An audio change for the actor to make on the mix matrix.
#[derive(Debug, Clone, PartialEq)]
pub enum MixChange {
    /// The supervisor's leg takes `mode` (coach: heard by the call's agent only), or leaves
    /// the call (None).
    Supervisor { id: String, mode: Option<StaffMode> },
    /// The supervisor's leg replaces the assistant's voice, or the agent's leg, in the
    /// conversation: it talks, the other is out.
    TakeOver { by: String },
}

impl CallCore {
    /// The supervisors on the call.
    pub fn supervisors(&self) -> &[SupervisorOnCall] {
        &self.supervisors
    }

    /// The call's agent asks `colleague` to consult (the caller is on hold from now).
    pub fn handle_consult_requested(&mut self, now: At, colleague: &str) -> Result<(), String> {
        let Some(agent) = self.agent.clone().filter(|_| self.connected) else {
            return Err("only a call with an agent on the line can consult".into());
        };
        if let Some(c) = &self.consultant {
            return Err(format!("{c} is already consulted on this call"));
        }
        self.consultant = Some(colleague.to_string());
        self.consult_by = Some(now + super::CONSULT_ANSWER);
        self.out.push_back(Output::Record(Change::Consultant(self.consultant.clone())));
        self.publish(Event::ConsultRequested {
            call_id: self.id.clone(),
            agent_id: AgentId(agent),
            colleague: AgentId(colleague.into()),
            at_ms: ms(now),
        });
        Ok(())
    }

    /// The consulted colleague's audio is up.
    pub fn handle_consult_started(&mut self, now: At) {
        self.consult_by = None;
        let (Some(agent), Some(colleague)) = (self.agent.clone(), self.consultant.clone()) else { return };
        let (agent_id, colleague) = (AgentId(agent), AgentId(colleague));
        self.publish(Event::ConsultStarted { call_id: self.id.clone(), agent_id, colleague, at_ms: ms(now) });
    }

    /// The consult ended `outcome` (see `consult_ended`). A three-way call keeps the colleague
    /// on the call (and on the record) until they leave; any other outcome clears them.
    pub fn handle_consult_ended(&mut self, now: At, from: &str, colleague: &str, outcome: &str) {
        if outcome != "three_way" {
            self.clear_consultant();
        }
        self.publish(Event::ConsultEnded {
            call_id: self.id.clone(),
            agent_id: AgentId(from.into()),
            colleague: AgentId(colleague.into()),
            outcome: outcome.into(),
            at_ms: ms(now),
        });
    }

    pub(super) fn clear_consultant(&mut self) {
        self.consult_by = None;
        if self.consultant.take().is_some() {
            self.out.push_back(Output::Record(Change::Consultant(None)));
        }
    }

    /// The consulted colleague, on the line, takes the call from its agent (`reason` on the
    /// agent's `agent_left`: `transferred`, `connection_lost`).
    pub fn handle_handed_over(&mut self, now: At, to: &str, reason: &str) {
        let from = self.agent.clone().unwrap_or_default();
        self.clear_consultant();
        self.set_agent(Some(to.to_string()));
        self.connected = true;
        let call_id = self.id.clone();
        self.publish(Event::AgentLeft { call_id: call_id.clone(), agent_id: AgentId(from), reason: reason.into() });
        self.publish(Event::CallAccepted { call_id, agent_id: AgentId(to.to_string()) });
        self.set_state(now, CallState::WithAgent);
    }

    fn supervisors_changed(&mut self) {
        self.out.push_back(Output::Record(Change::Supervisors(self.supervisors.clone())));
    }

    fn check_mode(&self, mode: StaffMode) -> Result<(), String> {
        if mode == StaffMode::Coach && !self.agent_connected() {
            return Err("nobody to coach: no agent is on the call (listen, barge in or take over)".into());
        }
        Ok(())
    }

    /// A supervisor's audio joined the call in `mode`.
    pub fn handle_supervisor_joined(&mut self, now: At, id: &str, mode: StaffMode) -> Result<(), String> {
        if self.ended {
            return Err("the call is ending".into());
        }
        if self.supervisors.iter().any(|s| s.id == id) {
            return Err(format!("{id} is already on the call"));
        }
        if self.agent.as_deref() == Some(id) || self.consultant.as_deref() == Some(id) {
            return Err(format!("{id} is already on the call as its agent"));
        }
        self.check_mode(mode)?;
        self.supervisors.push(SupervisorOnCall { id: id.into(), mode });
        self.supervisors_changed();
        self.out.push_back(Output::Mix(MixChange::Supervisor { id: id.into(), mode: Some(mode) }));
        let (call_id, supervisor) = (self.id.clone(), id.to_string());
        self.publish(Event::SupervisorJoined { call_id, supervisor, mode, at_ms: ms(now) });
        Ok(())
    }

    /// A supervisor on the call changes how they take part.
    pub fn handle_supervisor_mode(&mut self, now: At, id: &str, mode: StaffMode) -> Result<(), String> {
        self.check_mode(mode)?;
        let s = self.supervisors.iter_mut().find(|s| s.id == id).ok_or_else(|| format!("{id} is not on the call"))?;
        if s.mode == mode {
            return Ok(());
        }
        s.mode = mode;
        self.supervisors_changed();
        self.out.push_back(Output::Mix(MixChange::Supervisor { id: id.into(), mode: Some(mode) }));
        let (call_id, supervisor) = (self.id.clone(), id.to_string());
        self.publish(Event::SupervisorModeChanged { call_id, supervisor, mode, at_ms: ms(now) });
        Ok(())
    }

    /// The agent left: a supervisor coaching them now only listens.
    pub(super) fn nobody_to_coach(&mut self, now: At) {
        let coaching: Vec<String> =
            self.supervisors.iter().filter(|s| s.mode == StaffMode::Coach).map(|s| s.id.clone()).collect();
        for id in coaching {
            if let Some(s) = self.supervisors.iter_mut().find(|s| s.id == id) {
                s.mode = StaffMode::Listen;
            }
            self.supervisors_changed();
            self.out.push_back(Output::Mix(MixChange::Supervisor { id: id.clone(), mode: Some(StaffMode::Listen) }));
            let call_id = self.id.clone();
            self.publish(Event::SupervisorModeChanged {
                call_id,
                supervisor: id,
                mode: StaffMode::Listen,
                at_ms: ms(now),
            });
        }
    }

    /// A supervisor left (or their connection dropped). False if they were not on the call.
    pub fn handle_supervisor_left(&mut self, now: At, id: &str) -> bool {
        let Some(i) = self.supervisors.iter().position(|s| s.id == id) else { return false };
        self.supervisors.remove(i);
        self.supervisors_changed();
        self.out.push_back(Output::Mix(MixChange::Supervisor { id: id.into(), mode: None }));
        let (call_id, supervisor) = (self.id.clone(), id.to_string());
        self.publish(Event::SupervisorLeft { call_id, supervisor, at_ms: ms(now) });
        true
    }

    /// A supervisor on the call takes it over: they become the call's person, replacing the
    /// assistant (whose work stops) or the agent (who leaves, `taken_over`).
    pub fn handle_take_over(&mut self, now: At, id: &str) -> Result<(), String> {
        if self.ended {
            return Err("the call is ending".into());
        }
        let Some(i) = self.supervisors.iter().position(|s| s.id == id) else {
            return Err(format!("{id} is not on the call: join it first"));
        };
        self.may_change_hands("take over")?;
        self.supervisors.remove(i);
        self.supervisors_changed();
        let from = match self.agent.clone() {
            Some(agent) => {
                self.nobody_to_coach(now);
                self.publish(Event::AgentLeft {
                    call_id: self.id.clone(),
                    agent_id: AgentId(agent.clone()),
                    reason: "taken_over".into(),
                });
                agent
            }
            None => "assistant".to_string(),
        };
        self.connect_by = None;
        self.drop_assistant_timers();
        self.set_agent(Some(id.to_string()));
        self.connected = true;
        self.out.push_back(Output::StopAssistant);
        self.out.push_back(Output::Mix(MixChange::TakeOver { by: id.into() }));
        let (call_id, by) = (self.id.clone(), id.to_string());
        self.publish(Event::TakenOver { call_id, by, from, at_ms: ms(now) });
        self.set_state(now, CallState::WithAgent);
        Ok(())
    }

    /// A supervisor hands the call to an agent they picked (`agent`), from the assistant, the
    /// queue or the current agent. The core checks and tells everyone; the actor queues the
    /// call for that agent alone (an agent's call is transferred to them).
    pub fn handle_assigned(&mut self, now: At, by: &str, agent: &str) -> Result<(), String> {
        self.may_change_hands("hand the call over")?;
        if self.agent.as_deref() == Some(agent) {
            return Err(format!("{agent} already has the call"));
        }
        let from = self.agent.clone().unwrap_or_else(|| {
            if self.state == CallState::WaitingForAgent { "queue" } else { "assistant" }.to_string()
        });
        let (call_id, agent_id) = (self.id.clone(), AgentId(agent.to_string()));
        self.publish(Event::CallAssigned { call_id, by: by.into(), agent_id, from, at_ms: ms(now) });
        if self.agent.is_none() {
            self.stop_assistant();
            self.set_state(now, CallState::WaitingForAgent);
        }
        Ok(())
    }

    /// Whether the call may change hands now: not while it ends, a consult runs or a card is
    /// keyed (`what` the person asking can do once it is).
    fn may_change_hands(&self, what: &str) -> Result<(), String> {
        if self.ended {
            return Err("the call is ending".into());
        }
        if self.consultant.is_some() {
            return Err("a consult is under way on this call".into());
        }
        if self.capture.is_some() {
            return Err(format!("a card is being keyed: {what} when it is done"));
        }
        Ok(())
    }
}
