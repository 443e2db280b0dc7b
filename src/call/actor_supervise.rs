//! The audio side of supervisors on a call: the core decides who is on the call and how
//! ([`super::super::state::MixChange`]); this puts it on the mix matrix.

use super::Actor;
use crate::call::mix::Mode;
use crate::call::state::{MixChange, StaffMode};

impl Actor {
    /// Carry out one of the core's mix changes.
    pub(super) fn mix_change(&mut self, change: MixChange) {
        match change {
            MixChange::Supervisor { id, mode } => {
                let Some(leg) = self.supervisor_leg(&id) else {
                    tracing::warn!(call = %self.id, supervisor = %id, "no audio leg for the supervisor");
                    return;
                };
                let mut mix = self.mix();
                let result = match mode {
                    None => {
                        // Silent at once (ramped), then off the call.
                        let r = mix.set_mode(leg, Mode::Out);
                        mix.remove(leg);
                        r
                    }
                    Some(m) => mix.set_mode(leg, self.staff_mode(m)),
                };
                if let Err(e) = result {
                    tracing::error!(call = %self.id, supervisor = %id, "mix change failed: {e}");
                }
                drop(mix);
                if mode.is_none() {
                    self.supervisor_legs.retain(|(s, _)| *s != id);
                }
            }
            MixChange::TakeOver { by } => {
                let Some(leg) = self.supervisor_leg(&by) else {
                    tracing::warn!(call = %self.id, supervisor = %by, "no audio leg to take the call over with");
                    return;
                };
                // The agent's leg if a person had the call, otherwise the assistant's voice.
                let old = self.agent.as_ref().map(|a| a.leg).unwrap_or(self.assistant_leg);
                if let Err(e) = self.mix().with_matrix(|m| m.take_over(leg, old)) {
                    tracing::error!(call = %self.id, supervisor = %by, "take-over failed: {e}");
                }
            }
        }
    }

    fn supervisor_leg(&self, id: &str) -> Option<crate::call::mix::LegId> {
        self.supervisor_legs.iter().find(|(s, _)| s == id).map(|(_, l)| *l)
    }

    /// A supervisor's mode on the matrix: coaching is heard by the call's agent (nobody when
    /// there is none: the core refuses that, and turns coaches into listeners when the agent
    /// leaves).
    fn staff_mode(&self, mode: StaffMode) -> Mode {
        match (mode, self.agent.as_ref()) {
            (StaffMode::Listen, _) | (StaffMode::Coach, None) => Mode::Listen,
            (StaffMode::Coach, Some(a)) => Mode::Coach(a.leg),
            (StaffMode::Barge, _) => Mode::Talk,
        }
    }
}
