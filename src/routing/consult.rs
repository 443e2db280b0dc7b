//! Consulting a colleague on an accepted call: the colleague is busy with it (it counts
//! against their `max_calls`, and nothing is offered to them meanwhile) without being its
//! agent. The consult ends by hand-over (the colleague becomes the call's agent and the first
//! agent wraps up) or by the colleague going back to what they were doing.

use super::model::{AgentId, CallId, Millis, Presence, RouteError};
use super::router::{Active, Router};

impl Router {
    /// `from`, who has `call`, consults `to`, who must be available with room for a call.
    pub fn consult(&mut self, call: &CallId, from: &AgentId, to: &AgentId, _now: Millis) -> Result<(), RouteError> {
        let a = self.slot_of(from)?;
        if self.active.get(call).is_none_or(|x| x.slot != a) {
            return Err(RouteError::NotOnCall { call: call.clone(), agent: from.clone() });
        }
        let b = self.slot_of(to)?;
        let st = &self.slot(b).state;
        let busy = |why: &str| RouteError::NotAvailable { agent: to.clone(), presence: why.to_string() };
        if a == b || self.consults.contains_key(call) {
            return Err(busy("already on this call"));
        }
        if st.presence != Presence::Available {
            let p = serde_json::to_value(st.presence).unwrap_or_default();
            return Err(busy(&p.as_str().unwrap_or("not available").replace('_', " ")));
        }
        if st.active_calls >= st.agent.max_calls || st.offered.is_some() {
            return Err(busy("busy with another call"));
        }
        let st = &mut self.slot_mut(b).state;
        st.active_calls += 1;
        if st.active_calls >= st.agent.max_calls {
            st.presence = Presence::OnCall;
        }
        self.refresh(b);
        self.consults.insert(call.clone(), b);
        Ok(())
    }

    /// The consult on `call` ends without a hand-over: the colleague is free again. Returns who
    /// they were.
    pub fn end_consult(&mut self, call: &CallId, now: Millis) -> Option<AgentId> {
        let b = self.consults.remove(call)?;
        let st = &mut self.slot_mut(b).state;
        st.active_calls = st.active_calls.saturating_sub(1);
        if st.presence == Presence::OnCall && st.active_calls < st.agent.max_calls {
            st.presence = Presence::Available;
        }
        if st.active_calls == 0 {
            st.idle_since = now;
        }
        let id = st.agent.id.clone();
        self.refresh(b);
        Some(id)
    }

    /// The consulted colleague takes `call` over from `from` (a consult transfer): the call is
    /// theirs from `now`, and `from` is done with it (wrap-up as after any call).
    pub fn hand_over(&mut self, call: &CallId, from: &AgentId, now: Millis) -> Result<AgentId, RouteError> {
        let b = *self.consults.get(call).ok_or_else(|| RouteError::NoConsult(call.clone()))?;
        let waiting = self.active.get(call).map(|a| a.call.clone());
        self.call_ended(from, call, now)?;
        self.consults.remove(call);
        let waiting = waiting.expect("call_ended found it");
        self.active.insert(call.clone(), Active { slot: b, accepted_at: now, call: waiting });
        Ok(self.slot(b).state.agent.id.clone())
    }
}
