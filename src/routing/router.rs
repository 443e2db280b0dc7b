//! The router's state and the life cycle of agents and calls: presence, queueing, offers,
//! accept/decline, call end and wrap-up. Choosing agents (`tick`), explaining a choice
//! (`rank`) and the wait estimate live in `dispatch.rs`.
//!
//! Sans-IO: no clock, no tasks, no locks. The owner (one task, or a mutex) calls in with the
//! time; since calls are serialised, `accept` is decided by state alone and exactly one of two
//! agents racing for a call wins.
//!
//! An offer's life: `tick` offers a waiting call to one agent (the call leaves the queue, the
//! agent is reserved); `accept` before the offer timeout makes it the agent's call; `decline`,
//! the timeout, or the agent leaving puts the call back in its place in the queue, and a
//! decliner is never offered that call again.

use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use super::bits::Bits;
use super::config::RouterConfig;
use super::model::{Agent, AgentId, AgentState, CallId, Millis, Presence, RouteError, WaitingCall};
use super::score::{Profile, MAX_LANGS, MAX_REGIONS};

/// A queue priority, ordered (f64 by `total_cmp`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Prio(pub f64);

impl Eq for Prio {}
impl PartialOrd for Prio {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Prio {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.total_cmp(&other.0)
    }
}

/// Queue order: highest priority first, then first queued.
pub(crate) type OrderKey = (Reverse<Prio>, u64);

pub(crate) struct Slot {
    pub state: AgentState,
}

pub(crate) struct Queued {
    pub call: WaitingCall,
    pub langs: Vec<u16>,
    pub region: Option<u16>,
    /// Priority without the part that grows with time (the same for every call), so the queue
    /// order is fixed and kept in a `BTreeSet`.
    pub prio: Prio,
    pub seq: u64,
    pub requeued: bool,
    /// (agent slot, offer expiry).
    pub offered: Option<(u32, Millis)>,
    pub declined_by: Vec<u32>,
    /// When it last entered the queue (a requeue after a drop or transfer starts over), for
    /// `voicemail_after_s`.
    pub queued_since: Millis,
}

impl Queued {
    pub fn key(&self) -> OrderKey {
        (Reverse(self.prio), self.seq)
    }
}

pub(crate) struct Active {
    pub slot: u32,
    pub accepted_at: Millis,
    pub call: WaitingCall,
}

/// The router. See the module documentation.
pub struct Router {
    pub(crate) cfg: RouterConfig,
    pub(crate) agents: Vec<Option<Slot>>,
    /// Scoring's view of each slot, dense (a removed agent's entry is stale and unindexed).
    pub(crate) profiles: Vec<Profile>,
    free_slots: Vec<u32>,
    pub(crate) ids: HashMap<AgentId, u32>,
    lang_ids: HashMap<String, u16>,
    region_ids: HashMap<String, u16>,
    /// Agents by language id, then by skill index (membership follows the profile only).
    pub(crate) by_lang_skill: Vec<[Bits; 7]>,
    pub(crate) by_lang: Vec<Bits>,
    pub(crate) by_skill: [Bits; 7],
    /// Agents that can be offered a call now: `Available`, below `max_calls`, no offer out.
    pub(crate) available: Bits,
    pub(crate) available_n: u32,
    /// Agents logged in and working (`Available`, `OnCall`, `WrapUp`).
    pub(crate) staffed: Bits,
    /// Waiting and offered calls by sequence number.
    pub(crate) calls: HashMap<u64, Queued>,
    pub(crate) seq_of: HashMap<CallId, u64>,
    /// Waiting calls not on offer, in priority order.
    pub(crate) order: BTreeSet<OrderKey>,
    pub(crate) offers: BTreeSet<(Millis, u64)>,
    pub(crate) wrapups: BTreeSet<(Millis, u32)>,
    pub(crate) active: HashMap<CallId, Active>,
    /// Colleagues consulted on an accepted call (`consult.rs`): busy with it, not its agent.
    pub(crate) consults: HashMap<CallId, u32>,
    next_seq: u64,
    /// Moving average of handle time (talk + wrap-up), ms.
    pub(crate) aht_ms: f64,
}

/// "sv-SE", "SV" -> "sv".
fn norm_lang(l: &str) -> String {
    l.split(['-', '_']).next().unwrap_or("").trim().to_ascii_lowercase()
}

fn intern(map: &mut HashMap<String, u16>, key: String) -> u16 {
    let n = map.len() as u16;
    *map.entry(key).or_insert(n)
}

impl Router {
    pub fn new(cfg: RouterConfig) -> Self {
        let aht_ms = cfg.initial_handle_time_s as f64 * 1000.0;
        Self {
            cfg,
            agents: Vec::new(),
            profiles: Vec::new(),
            free_slots: Vec::new(),
            ids: HashMap::new(),
            lang_ids: HashMap::new(),
            region_ids: HashMap::new(),
            by_lang_skill: Vec::new(),
            by_lang: Vec::new(),
            by_skill: Default::default(),
            available: Bits::default(),
            available_n: 0,
            staffed: Bits::default(),
            calls: HashMap::new(),
            seq_of: HashMap::new(),
            order: BTreeSet::new(),
            offers: BTreeSet::new(),
            wrapups: BTreeSet::new(),
            active: HashMap::new(),
            consults: HashMap::new(),
            next_seq: 0,
            aht_ms,
        }
    }

    pub fn config(&self) -> &RouterConfig {
        &self.cfg
    }

    pub fn agent(&self, id: &AgentId) -> Option<&AgentState> {
        self.ids.get(id).map(|&s| &self.slot(s).state)
    }

    pub fn agents(&self) -> impl Iterator<Item = &AgentState> {
        self.agents.iter().flatten().map(|s| &s.state)
    }

    /// Calls waiting (including those on offer).
    pub fn waiting_len(&self) -> usize {
        self.calls.len()
    }

    /// The waiting call, if it is waiting or on offer.
    pub fn waiting_call(&self, call: &CallId) -> Option<&WaitingCall> {
        self.seq_of.get(call).map(|s| &self.calls[s].call)
    }

    /// The agent handling an accepted call.
    pub fn handled_by(&self, call: &CallId) -> Option<&AgentId> {
        self.active.get(call).map(|a| &self.slot(a.slot).state.agent.id)
    }

    /// The agent a waiting call is on offer to right now.
    pub fn offered_to(&self, call: &CallId) -> Option<&AgentId> {
        let (s, _) = self.calls.get(self.seq_of.get(call)?)?.offered?;
        Some(&self.slot(s).state.agent.id)
    }

    /// The learned average handle time (talk + wrap-up).
    pub fn average_handle_time(&self) -> Duration {
        Duration::from_millis(self.aht_ms as u64)
    }

    pub(crate) fn slot(&self, s: u32) -> &Slot {
        self.agents[s as usize].as_ref().expect("live slot")
    }

    pub(crate) fn slot_mut(&mut self, s: u32) -> &mut Slot {
        self.agents[s as usize].as_mut().expect("live slot")
    }

    pub(crate) fn slot_of(&self, id: &AgentId) -> Result<u32, RouteError> {
        self.ids.get(id).copied().ok_or_else(|| RouteError::UnknownAgent(id.clone()))
    }

    /// Re-derive the `available` and `staffed` bits of a slot from its state.
    pub(crate) fn refresh(&mut self, s: u32) {
        let st = &self.agents[s as usize].as_ref().expect("live slot").state;
        let p = &mut self.profiles[s as usize];
        (p.active_calls, p.idle_since) = (st.active_calls, st.idle_since);
        let can = st.presence == Presence::Available && st.active_calls < st.agent.max_calls && st.offered.is_none();
        let staffed = st.presence.staffed();
        if self.available.get(s) != can {
            self.available.set(s, can);
            if can {
                self.available_n += 1;
            } else {
                self.available_n -= 1;
            }
        }
        self.staffed.set(s, staffed);
    }

    fn index(&mut self, s: u32, on: bool) {
        let p = self.profiles[s as usize];
        for skill in 0..7 {
            if p.skills & (1 << skill) != 0 {
                self.by_skill[skill].set(s, on);
                for &(l, _) in p.langs() {
                    self.by_lang_skill[l as usize][skill].set(s, on);
                }
            }
        }
        for &(l, _) in p.langs() {
            self.by_lang[l as usize].set(s, on);
        }
    }

    fn profile(&mut self, a: &mut Agent) -> Profile {
        for (l, _) in a.languages.iter_mut() {
            *l = norm_lang(l);
        }
        for r in a.regions.iter_mut() {
            *r = r.trim().to_ascii_uppercase();
        }
        a.seniority = a.seniority.clamp(1, 3);
        a.languages.truncate(MAX_LANGS);
        a.regions.truncate(MAX_REGIONS);
        let langs: Vec<(u16, f32)> =
            a.languages.iter().map(|(l, p)| (intern(&mut self.lang_ids, l.clone()), p.factor())).collect();
        let regions: Vec<u16> = a.regions.iter().map(|r| intern(&mut self.region_ids, r.clone())).collect();
        let n = self.lang_ids.len();
        self.by_lang_skill.resize_with(n, Default::default);
        self.by_lang.resize_with(n, Default::default);
        let skills = a.skills.iter().fold(0u8, |m, s| m | 1 << s.index());
        Profile::new(&langs, &regions, skills, a.seniority, a.max_calls)
    }

    /// Add an agent (`Offline`) or replace an agent's profile (its presence and calls stay).
    pub fn add_or_update_agent(&mut self, mut agent: Agent, now: Millis) {
        let profile = self.profile(&mut agent);
        if let Some(&s) = self.ids.get(&agent.id) {
            self.index(s, false);
            self.profiles[s as usize] = profile;
            let slot = self.slot_mut(s);
            slot.state.agent = agent;
            let st = &mut slot.state;
            if st.active_calls > 0 && matches!(st.presence, Presence::Available | Presence::OnCall) {
                st.presence =
                    if st.active_calls >= st.agent.max_calls { Presence::OnCall } else { Presence::Available };
            }
            self.index(s, true);
            self.refresh(s);
            return;
        }
        let state = AgentState {
            agent,
            presence: Presence::Offline,
            active_calls: 0,
            idle_since: now,
            wrap_up_until: 0,
            last_offer_declined_for: Default::default(),
            offered: None,
        };
        let id = state.agent.id.clone();
        let slot = Slot { state };
        let s = match self.free_slots.pop() {
            Some(s) => {
                self.agents[s as usize] = Some(slot);
                self.profiles[s as usize] = profile;
                s
            }
            None => {
                self.agents.push(Some(slot));
                self.profiles.push(profile);
                self.agents.len() as u32 - 1
            }
        };
        self.ids.insert(id, s);
        self.index(s, true);
        self.refresh(s);
    }

    /// Remove an agent that has no calls (its pending offer, if any, goes back to the queue).
    pub fn remove_agent(&mut self, id: &AgentId) -> Result<Agent, RouteError> {
        let s = self.slot_of(id)?;
        if self.slot(s).state.active_calls > 0 {
            return Err(RouteError::AgentBusy(id.clone()));
        }
        self.withdraw_offer(s);
        self.leave_wrap_up(s);
        for call in std::mem::take(&mut self.slot_mut(s).state.last_offer_declined_for) {
            if let Some(q) = self.seq_of.get(&call).and_then(|seq| self.calls.get_mut(seq)) {
                q.declined_by.retain(|&d| d != s);
            }
        }
        self.slot_mut(s).state.presence = Presence::Offline;
        self.refresh(s);
        self.index(s, false);
        let slot = self.agents[s as usize].take().expect("live slot");
        self.free_slots.push(s);
        self.ids.remove(id);
        Ok(slot.state.agent)
    }

    /// Set an agent's presence. `Available` ends a wrap-up early (and starts the idle clock if
    /// the agent was not available); `Away`, `Offline`, `WrapUp` or `OnCall` withdraw a pending
    /// offer (the call keeps its place; not a decline). Calls in progress continue: an agent who
    /// goes `Away` on a call stays away when it ends. An agent at capacity asking for
    /// `Available` is `OnCall`.
    pub fn set_presence(&mut self, id: &AgentId, presence: Presence, now: Millis) -> Result<(), RouteError> {
        let s = self.slot_of(id)?;
        let was = self.slot(s).state.presence;
        if presence != Presence::Available {
            self.withdraw_offer(s);
        }
        if was == Presence::WrapUp {
            self.leave_wrap_up(s);
        }
        let wrap_up_ms = self.cfg.wrap_up_s * 1000;
        let st = &mut self.slot_mut(s).state;
        st.presence = match presence {
            Presence::Available if st.active_calls >= st.agent.max_calls => Presence::OnCall,
            Presence::Available => {
                if was != Presence::Available && st.active_calls == 0 {
                    st.idle_since = now;
                }
                Presence::Available
            }
            Presence::WrapUp => {
                st.wrap_up_until = now + wrap_up_ms;
                Presence::WrapUp
            }
            other => other,
        };
        if presence == Presence::WrapUp {
            self.wrapups.insert((now + wrap_up_ms, s));
        }
        self.refresh(s);
        Ok(())
    }

    fn leave_wrap_up(&mut self, s: u32) {
        let until = self.slot(s).state.wrap_up_until;
        self.wrapups.remove(&(until, s));
    }

    /// End wrap-ups due by `now` (agents become available, idle since their wrap-up ended).
    pub(crate) fn finish_wrap_ups(&mut self, now: Millis) {
        while let Some(&(until, s)) = self.wrapups.first().filter(|(t, _)| *t <= now) {
            self.wrapups.pop_first();
            let st = &mut self.slot_mut(s).state;
            if st.presence == Presence::WrapUp && st.wrap_up_until == until {
                st.presence =
                    if st.active_calls >= st.agent.max_calls { Presence::OnCall } else { Presence::Available };
                st.idle_since = until;
                self.refresh(s);
            }
        }
    }

    fn priority_base(&self, c: &WaitingCall, requeued: bool) -> Prio {
        let p = &self.cfg.priority;
        let mut base = p.base + c.frustration.clamp(0.0, 1.0) as f64 * p.per_frustration;
        if c.high_value {
            base += p.high_value;
        }
        if requeued {
            base += p.requeued;
        }
        Prio(base - c.enqueued_at as f64 / 1000.0 * p.per_wait_s)
    }

    /// A call's queue priority at `now`.
    pub(crate) fn priority_at(&self, q: &Queued, now: Millis) -> f64 {
        q.prio.0 + now as f64 / 1000.0 * self.cfg.priority.per_wait_s
    }

    /// Queue a call at `now` (sets `enqueued_at`). Enqueuing a call that is already waiting
    /// updates what is known of it (frustration, skill, ...) and keeps its `enqueued_at`.
    pub fn enqueue(&mut self, mut call: WaitingCall, now: Millis) -> Result<(), RouteError> {
        call.enqueued_at = match self.seq_of.get(&call.call_id) {
            Some(seq) => self.calls[seq].call.enqueued_at,
            None => now,
        };
        self.insert(call, false, now)
    }

    /// Put a call whose agent dropped back in the queue: it keeps its `enqueued_at` (clamped to
    /// `now`) and gets the `requeued` priority bonus, so it goes to the front.
    pub fn requeue(&mut self, mut call: WaitingCall, now: Millis) -> Result<(), RouteError> {
        call.enqueued_at = call.enqueued_at.min(now);
        self.insert(call, true, now)
    }

    fn insert(&mut self, mut call: WaitingCall, requeued: bool, now: Millis) -> Result<(), RouteError> {
        if let Some(a) = self.active.get(&call.call_id) {
            let by = self.slot(a.slot).state.agent.id.clone();
            return Err(RouteError::AlreadyTaken { call: call.call_id, by });
        }
        for l in call.languages.iter_mut() {
            *l = norm_lang(l);
        }
        call.languages.retain(|l| !l.is_empty());
        call.region = call.region.map(|r| r.trim().to_ascii_uppercase());
        call.frustration = call.frustration.clamp(0.0, 1.0);
        let langs: Vec<u16> = call.languages.iter().map(|l| intern(&mut self.lang_ids, l.clone())).collect();
        let region = call.region.clone().map(|r| intern(&mut self.region_ids, r));
        let (declined_by, offered, was_requeued, seq, since) = match self.seq_of.get(&call.call_id) {
            Some(&seq) => {
                let old = self.calls.remove(&seq).expect("indexed call");
                self.order.remove(&old.key());
                (old.declined_by, old.offered, old.requeued, seq, old.queued_since)
            }
            None => {
                self.next_seq += 1;
                self.seq_of.insert(call.call_id.clone(), self.next_seq);
                (Vec::new(), None, false, self.next_seq, now)
            }
        };
        let queued_since = if requeued { now } else { since };
        let requeued = requeued || was_requeued;
        let prio = self.priority_base(&call, requeued);
        let q = Queued { call, langs, region, prio, seq, requeued, offered, declined_by, queued_since };
        if q.offered.is_none() {
            self.order.insert(q.key());
        }
        self.calls.insert(seq, q);
        Ok(())
    }

    /// The caller hung up (or was served elsewhere) while waiting or on offer.
    pub fn remove_call(&mut self, call: &CallId) -> Option<WaitingCall> {
        let seq = self.seq_of.remove(call)?;
        let q = self.calls.remove(&seq).expect("indexed call");
        self.order.remove(&q.key());
        if let Some((s, expires)) = q.offered {
            self.offers.remove(&(expires, seq));
            self.slot_mut(s).state.offered = None;
            self.refresh(s);
        }
        for &s in &q.declined_by {
            self.slot_mut(s).state.last_offer_declined_for.remove(call);
        }
        Some(q.call)
    }

    /// Put an offered call back in the queue; `declined`: never offer it to this agent again.
    pub(crate) fn release_offer(&mut self, seq: u64, declined: bool) {
        let q = self.calls.get_mut(&seq).expect("offered call");
        let Some((s, expires)) = q.offered.take() else { return };
        if declined {
            q.declined_by.push(s);
            // A transfer to a named colleague who does not take it goes to the queue at large.
            q.call.only_agent = None;
        }
        let (key, id) = (q.key(), q.call.call_id.clone());
        self.order.insert(key);
        self.offers.remove(&(expires, seq));
        let st = &mut self.slot_mut(s).state;
        st.offered = None;
        if declined {
            st.last_offer_declined_for.insert(id);
        }
        self.refresh(s);
    }

    fn withdraw_offer(&mut self, s: u32) {
        if let Some(seq) = self.slot(s).state.offered.as_ref().and_then(|c| self.seq_of.get(c)).copied() {
            self.release_offer(seq, false);
        }
    }

    /// The offer timed out: the call goes back, the agent is never offered it again and, with
    /// `away_on_missed_offer`, is set `Away`.
    pub(crate) fn time_out(&mut self, seq: u64) {
        let Some(s) = self.calls.get(&seq).and_then(|q| q.offered).map(|(s, _)| s) else { return };
        self.release_offer(seq, true);
        if self.cfg.away_on_missed_offer && self.slot(s).state.presence == Presence::Available {
            self.slot_mut(s).state.presence = Presence::Away;
            self.refresh(s);
        }
    }

    /// The agent declines an offered call: it goes back to its place in the queue and is never
    /// offered to this agent again. Declining a call not on offer to the agent only records the
    /// refusal.
    pub fn decline(&mut self, call: &CallId, agent: &AgentId) -> Result<(), RouteError> {
        let s = self.slot_of(agent)?;
        let seq = *self.seq_of.get(call).ok_or_else(|| RouteError::UnknownCall(call.clone()))?;
        let q = self.calls.get_mut(&seq).expect("indexed call");
        match q.offered {
            Some((o, _)) if o == s => self.release_offer(seq, true),
            _ => {
                if !q.declined_by.contains(&s) {
                    q.declined_by.push(s);
                }
                self.slot_mut(s).state.last_offer_declined_for.insert(call.clone());
            }
        }
        Ok(())
    }

    /// The agent accepts the call offered to it. Exactly one accept per call succeeds: a
    /// second gets `AlreadyTaken`, an agent the call is not offered to `NotOffered`, and an
    /// accept at or after the offer's expiry `OfferExpired` (the call then goes back to the
    /// queue and is never offered to this agent again). Returns the call.
    pub fn accept(&mut self, call: &CallId, agent: &AgentId, now: Millis) -> Result<WaitingCall, RouteError> {
        let s = self.slot_of(agent)?;
        if let Some(a) = self.active.get(call) {
            let by = self.slot(a.slot).state.agent.id.clone();
            return Err(RouteError::AlreadyTaken { call: call.clone(), by });
        }
        let seq = *self.seq_of.get(call).ok_or_else(|| RouteError::UnknownCall(call.clone()))?;
        let expires = match self.calls[&seq].offered {
            Some((o, expires)) if o == s => expires,
            _ => return Err(RouteError::NotOffered { call: call.clone(), agent: agent.clone() }),
        };
        if now >= expires {
            // Too late: the call rolls over as on a timeout, but the agent is evidently at the
            // desk, so it is not set away.
            self.release_offer(seq, true);
            return Err(RouteError::OfferExpired { call: call.clone(), agent: agent.clone() });
        }
        self.offers.remove(&(expires, seq));
        self.seq_of.remove(call);
        let q = self.calls.remove(&seq).expect("indexed call");
        for &d in &q.declined_by {
            self.slot_mut(d).state.last_offer_declined_for.remove(call);
        }
        let st = &mut self.slot_mut(s).state;
        st.offered = None;
        st.active_calls += 1;
        if st.active_calls >= st.agent.max_calls && st.presence == Presence::Available {
            st.presence = Presence::OnCall;
        }
        self.refresh(s);
        self.active.insert(call.clone(), Active { slot: s, accepted_at: now, call: q.call.clone() });
        Ok(q.call)
    }

    /// An accepted call ended. The agent's handle time feeds the average; after its last call
    /// the agent wraps up for `wrap_up_s` (then `tick` makes it available), unless it went
    /// `Away`/`Offline` meanwhile.
    pub fn call_ended(&mut self, agent: &AgentId, call: &CallId, now: Millis) -> Result<(), RouteError> {
        let s = self.slot_of(agent)?;
        match self.active.get(call) {
            Some(a) if a.slot == s => {}
            _ => return Err(RouteError::NotOnCall { call: call.clone(), agent: agent.clone() }),
        }
        let a = self.active.remove(call).expect("checked");
        let wrap_up_ms = self.cfg.wrap_up_s * 1000;
        let handle = now.saturating_sub(a.accepted_at) as f64 + wrap_up_ms as f64;
        self.aht_ms += self.cfg.handle_time_smoothing.clamp(0.0, 1.0) * (handle - self.aht_ms);
        let st = &mut self.slot_mut(s).state;
        st.active_calls = st.active_calls.saturating_sub(1);
        if matches!(st.presence, Presence::Available | Presence::OnCall) {
            if st.active_calls > 0 {
                st.presence = Presence::Available;
            } else if wrap_up_ms > 0 {
                st.presence = Presence::WrapUp;
                st.wrap_up_until = now + wrap_up_ms;
            } else {
                st.presence = Presence::Available;
                st.idle_since = now;
            }
        }
        if self.slot(s).state.presence == Presence::WrapUp {
            self.wrapups.insert((now + wrap_up_ms, s));
        }
        self.refresh(s);
        Ok(())
    }

    /// The agent dropped (browser closed, network gone): it goes `Offline`, a pending offer
    /// goes back, and its calls are requeued at the front (`requeue`). Returns those calls.
    pub fn disconnect(&mut self, agent: &AgentId, now: Millis) -> Result<Vec<CallId>, RouteError> {
        let s = self.slot_of(agent)?;
        self.set_presence(agent, Presence::Offline, now)?;
        let mine: Vec<CallId> = self.active.iter().filter(|(_, a)| a.slot == s).map(|(c, _)| c.clone()).collect();
        for c in &mine {
            let a = self.active.remove(c).expect("listed");
            self.requeue(a.call, now)?;
        }
        // Consults they were in end with them (the calls stay with their agents).
        self.consults.retain(|_, c| *c != s);
        self.slot_mut(s).state.active_calls = 0;
        self.refresh(s);
        Ok(mine)
    }
}

#[cfg(test)]
#[path = "router_tests.rs"]
mod tests;
