//! Who hears whom on a call. A call is a set of legs (the caller, the assistant's voice,
//! agents, supervisors, hold audio), each with a [`Role`] and a [`Mode`]; [`Matrix::hears`]
//! answers "does this leg hear that one" from them alone, so every way of taking part is a
//! change of one leg's mode and nothing else has to be kept consistent:
//!
//! | mode      | hears                          | heard by                   |
//! |-----------|--------------------------------|----------------------------|
//! | `Talk`    | the conversation               | the conversation, listeners |
//! | `Listen`  | the conversation               | nobody                     |
//! | `Coach(a)`| the conversation               | leg `a` only               |
//! | `Held`    | the hold audio                 | nobody                     |
//! | `Consult` | the other `Consult` legs       | them, listeners            |
//! | `Out`     | nobody                         | nobody                     |
//!
//! Barge is `Talk` for a supervisor; take-over puts the new leg in `Talk` and the old one
//! `Out`; a consult holds the conversation and puts the two agents in `Consult`, then either
//! completes the transfer (the first agent leaves) or joins all three. The mixer
//! ([`super::mixer`]) turns this into audio, ramping every change so nobody hears a click.

use serde::Serialize;

/// A leg's number within its call.
pub type LegId = u32;

/// What a leg is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Caller,
    /// The assistant's voice, and the call's own prompts and messages.
    Assistant,
    Agent,
    Supervisor,
    /// Hold audio for held legs.
    Hold,
}

/// How a leg takes part (see the module's table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "mode", content = "leg")]
pub enum Mode {
    Talk,
    Listen,
    Coach(LegId),
    Held,
    Consult,
    Out,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    id: LegId,
    role: Role,
    mode: Mode,
}

/// A matrix operation that does not fit the call's legs now.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MixError {
    #[error("no leg {0} on this call")]
    NoLeg(LegId),
    #[error("leg {0} is not in the conversation")]
    NotTalking(LegId),
    #[error("no consult is under way")]
    NoConsult,
}

/// The legs of one call and how each takes part.
#[derive(Debug, Clone, Default)]
pub struct Matrix {
    legs: Vec<Entry>,
    next: LegId,
}

impl Matrix {
    /// Add a leg; its id is new on this call.
    pub fn add(&mut self, role: Role, mode: Mode) -> LegId {
        let id = self.next;
        self.next += 1;
        self.legs.push(Entry { id, role, mode });
        id
    }

    /// Take a leg off the call.
    pub fn remove(&mut self, id: LegId) -> bool {
        let before = self.legs.len();
        self.legs.retain(|l| l.id != id);
        // A coach whose agent left has nobody to talk to.
        for l in &mut self.legs {
            if l.mode == Mode::Coach(id) {
                l.mode = Mode::Listen;
            }
        }
        self.legs.len() != before
    }

    pub fn contains(&self, id: LegId) -> bool {
        self.legs.iter().any(|l| l.id == id)
    }

    pub fn role(&self, id: LegId) -> Option<Role> {
        self.entry(id).map(|l| l.role)
    }

    pub fn mode(&self, id: LegId) -> Option<Mode> {
        self.entry(id).map(|l| l.mode)
    }

    /// The legs' ids, in the order they joined.
    pub fn ids(&self) -> impl Iterator<Item = LegId> + '_ {
        self.legs.iter().map(|l| l.id)
    }

    fn entry(&self, id: LegId) -> Option<&Entry> {
        self.legs.iter().find(|l| l.id == id)
    }

    /// Set one leg's mode.
    pub fn set_mode(&mut self, id: LegId, mode: Mode) -> Result<(), MixError> {
        if let Mode::Coach(target) = mode {
            self.entry(target).ok_or(MixError::NoLeg(target))?;
        }
        let l = self.legs.iter_mut().find(|l| l.id == id).ok_or(MixError::NoLeg(id))?;
        l.mode = mode;
        Ok(())
    }

    /// `new` replaces `old` in the conversation (a supervisor or agent taking over from the
    /// assistant or from an agent): `new` talks, `old` is out of the audio.
    pub fn take_over(&mut self, new: LegId, old: LegId) -> Result<(), MixError> {
        self.entry(old).ok_or(MixError::NoLeg(old))?;
        self.set_mode(new, Mode::Talk)?;
        self.set_mode(old, Mode::Out)
    }

    /// `agent` consults `colleague` while everyone else in the conversation is held (they hear
    /// the hold leg, which must be on the call).
    pub fn consult(&mut self, agent: LegId, colleague: LegId) -> Result<(), MixError> {
        self.entry(colleague).ok_or(MixError::NoLeg(colleague))?;
        self.hold_for_consult(agent)?;
        self.set_mode(colleague, Mode::Consult)
    }

    /// The first half of a consult, before the colleague's leg is on the call: `agent` steps
    /// out of the conversation into `Consult` and everyone talking is held.
    pub fn hold_for_consult(&mut self, agent: LegId) -> Result<(), MixError> {
        if self.mode(agent).ok_or(MixError::NoLeg(agent))? != Mode::Talk {
            return Err(MixError::NotTalking(agent));
        }
        for l in &mut self.legs {
            if l.id == agent {
                l.mode = Mode::Consult;
            } else if l.mode == Mode::Talk && l.role != Role::Hold {
                l.mode = Mode::Held;
            }
        }
        Ok(())
    }

    /// End a consult by joining everyone: the held legs and both agents talk (a three-way call).
    pub fn join_all(&mut self) -> Result<(), MixError> {
        if !self.legs.iter().any(|l| l.mode == Mode::Consult) {
            return Err(MixError::NoConsult);
        }
        for l in &mut self.legs {
            if matches!(l.mode, Mode::Held | Mode::Consult) {
                l.mode = Mode::Talk;
            }
        }
        Ok(())
    }

    /// End a consult by completing the transfer: `agent` leaves, the colleague and the held
    /// legs talk.
    pub fn complete_transfer(&mut self, agent: LegId) -> Result<(), MixError> {
        if self.mode(agent).ok_or(MixError::NoLeg(agent))? != Mode::Consult {
            return Err(MixError::NoConsult);
        }
        self.remove(agent);
        self.join_all()
    }

    /// Whether leg `listener` hears leg `speaker`.
    pub fn hears(&self, listener: LegId, speaker: LegId) -> bool {
        let (Some(l), Some(s)) = (self.entry(listener), self.entry(speaker)) else { return false };
        if l.id == s.id || l.role == Role::Hold {
            return false;
        }
        if s.role == Role::Hold {
            return l.mode == Mode::Held;
        }
        let in_conversation = matches!(l.mode, Mode::Talk | Mode::Listen | Mode::Coach(_));
        match s.mode {
            Mode::Talk => in_conversation,
            Mode::Coach(target) => l.id == target,
            Mode::Consult => l.mode == Mode::Consult || matches!(l.mode, Mode::Listen | Mode::Coach(_)),
            Mode::Listen | Mode::Held | Mode::Out => false,
        }
    }

    /// Whether anybody hears `speaker` (a leg nobody hears needs no audio taken in).
    pub fn heard(&self, speaker: LegId) -> bool {
        self.legs.iter().any(|l| self.hears(l.id, speaker))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A call with a caller, the assistant and an agent, all talking.
    fn call() -> (Matrix, LegId, LegId, LegId) {
        let mut m = Matrix::default();
        let caller = m.add(Role::Caller, Mode::Talk);
        let ai = m.add(Role::Assistant, Mode::Talk);
        let agent = m.add(Role::Agent, Mode::Talk);
        (m, caller, ai, agent)
    }

    /// Every (listener, speaker) pair that hears, as a sorted list.
    fn links(m: &Matrix) -> Vec<(LegId, LegId)> {
        let ids: Vec<LegId> = m.ids().collect();
        let mut v = Vec::new();
        for &l in &ids {
            for &s in &ids {
                if m.hears(l, s) {
                    v.push((l, s));
                }
            }
        }
        v
    }

    #[test]
    fn a_conversation_hears_everyone_but_itself() {
        let (m, caller, ai, agent) = call();
        assert_eq!(
            links(&m),
            vec![(caller, ai), (caller, agent), (ai, caller), (ai, agent), (agent, caller), (agent, ai)]
        );
        assert!(m.heard(caller));
    }

    #[test]
    fn listen_hears_everyone_and_is_heard_by_nobody() {
        let (mut m, caller, ai, agent) = call();
        let sup = m.add(Role::Supervisor, Mode::Listen);
        for s in [caller, ai, agent] {
            assert!(m.hears(sup, s));
            assert!(!m.hears(s, sup));
        }
        assert!(!m.heard(sup));
    }

    #[test]
    fn coach_is_heard_by_the_agent_only() {
        let (mut m, caller, ai, agent) = call();
        let sup = m.add(Role::Supervisor, Mode::Listen);
        m.set_mode(sup, Mode::Coach(agent)).unwrap();
        assert!(m.hears(agent, sup));
        assert!(!m.hears(caller, sup) && !m.hears(ai, sup));
        assert!(m.hears(sup, caller) && m.hears(sup, agent));
        assert_eq!(m.set_mode(sup, Mode::Coach(99)), Err(MixError::NoLeg(99)));
        // The agent leaves: the coach is left listening.
        m.remove(agent);
        assert_eq!(m.mode(sup), Some(Mode::Listen));
    }

    #[test]
    fn barge_is_heard_by_everyone() {
        let (mut m, caller, ai, agent) = call();
        let sup = m.add(Role::Supervisor, Mode::Listen);
        m.set_mode(sup, Mode::Talk).unwrap();
        for s in [caller, ai, agent] {
            assert!(m.hears(sup, s) && m.hears(s, sup));
        }
    }

    #[test]
    fn take_over_replaces_the_assistant_or_the_agent() {
        let mut m = Matrix::default();
        let caller = m.add(Role::Caller, Mode::Talk);
        let ai = m.add(Role::Assistant, Mode::Talk);
        let sup = m.add(Role::Supervisor, Mode::Listen);
        m.take_over(sup, ai).unwrap();
        assert!(m.hears(caller, sup) && m.hears(sup, caller));
        assert!(!m.hears(caller, ai) && !m.hears(ai, caller), "the assistant is out of the audio");
        let agent = m.add(Role::Agent, Mode::Listen);
        m.take_over(agent, sup).unwrap();
        assert_eq!(links(&m), vec![(caller, agent), (agent, caller)]);
        assert_eq!(m.take_over(agent, 42), Err(MixError::NoLeg(42)));
    }

    #[test]
    fn consult_holds_the_caller_then_transfers_or_joins_all_three() {
        let (mut m, caller, ai, a) = call();
        let b = m.add(Role::Agent, Mode::Out);
        let hold = m.add(Role::Hold, Mode::Talk);
        let sup = m.add(Role::Supervisor, Mode::Listen);
        m.consult(a, b).unwrap();
        // The caller hears the hold audio only; the agents hear each other only.
        assert!(m.hears(caller, hold));
        assert!(!m.hears(caller, a) && !m.hears(caller, b) && !m.hears(caller, ai));
        assert!(m.hears(a, b) && m.hears(b, a));
        assert!(!m.hears(a, caller) && !m.hears(b, caller) && !m.hears(a, hold));
        assert!(m.hears(sup, a) && m.hears(sup, b), "a listening supervisor follows the consult");
        assert_eq!(m.consult(caller, b), Err(MixError::NotTalking(caller)));

        let mut transfer = m.clone();
        transfer.complete_transfer(a).unwrap();
        assert!(!transfer.contains(a));
        assert!(transfer.hears(caller, b) && transfer.hears(b, caller));
        assert!(!transfer.hears(caller, hold), "hold audio stops");

        m.join_all().unwrap();
        for (x, y) in [(caller, a), (caller, b), (a, b)] {
            assert!(m.hears(x, y) && m.hears(y, x));
        }
        assert_eq!(m.join_all(), Err(MixError::NoConsult));
        assert_eq!(m.complete_transfer(a), Err(MixError::NoConsult));
    }
}
