//! The router in the server: the pure `Router` behind a lock, on the process clock, with the
//! agents' profiles persisted in the database, a tick task that turns decisions into offers
//! (event `call_routed` with the top candidates' score breakdowns), and the calls' side:
//! queueing an escalated call and taking it off when it ends.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::model::{Agent, AgentId, AgentState, Decision, Millis, Presence, RouteError, WaitingCall};
use super::{Router, RouterConfig};
use crate::call::{CallId, Control, Controls};
use crate::events::{Event, EventBus};
use crate::store::{Store, StoreError};

/// How often waiting calls are matched to free agents.
const TICK: Duration = Duration::from_millis(250);

pub struct RoutingService {
    router: Mutex<Router>,
    store: Store,
    events: EventBus,
    epoch: Instant,
    /// How the router tells a call that nobody took it (callback / voice message offer).
    controls: Arc<Controls>,
    /// Calls that left the queues (the service level) and when agents' presences changed.
    tally: Mutex<super::board::Tally>,
    presence: Mutex<super::board::PresenceClock>,
}

impl RoutingService {
    /// Load the agents' profiles (all offline until they log in and go available).
    pub fn new(
        cfg: RouterConfig,
        store: Store,
        events: EventBus,
        controls: Arc<Controls>,
    ) -> Result<Arc<Self>, StoreError> {
        let cfg_service_level_ms = cfg.service_level_s * 1000;
        let svc = Arc::new(Self {
            router: Mutex::new(Router::new(cfg)),
            store,
            events,
            epoch: Instant::now(),
            controls,
            tally: Mutex::new(super::board::Tally::new(cfg_service_level_ms)),
            presence: Default::default(),
        });
        let agents: Vec<(String, Agent)> = svc.store.agents()?;
        let now = svc.now();
        let mut r = svc.lock();
        for (_, a) in agents {
            r.add_or_update_agent(a, now);
        }
        drop(r);
        Ok(svc)
    }

    /// How long an agent's audio may take to connect after accepting.
    pub fn agent_connect_timeout(&self) -> Duration {
        Duration::from_secs(self.lock().config().agent_connect_timeout_s.max(1))
    }

    /// The service level's threshold and target, and the first-contact days: what the centre's
    /// numbers, the queue board and the `long_wait` alert need from the routing settings.
    pub fn stats_config(&self) -> crate::metrics::stats::StatsConfig {
        let r = self.lock();
        let c = r.config();
        crate::metrics::stats::StatsConfig {
            service_level_s: c.service_level_s,
            service_level_target: c.service_level_target,
            fcr_days: c.first_contact_days,
        }
    }

    /// How long an offer stands before it goes to the next agent.
    pub fn offer_timeout_s(&self) -> u64 {
        self.lock().config().offer_timeout_s.max(1)
    }

    pub fn now(&self) -> Millis {
        self.epoch.elapsed().as_millis() as Millis
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Router> {
        self.router.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Match waiting calls to free agents every tick until `stop`.
    pub fn spawn(self: &Arc<Self>, stop: CancellationToken) -> tokio::task::JoinHandle<()> {
        let svc = self.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(TICK);
            loop {
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = every.tick() => { svc.tick(); }
                }
            }
        })
    }

    /// Write presence changes to the log (agent occupancy), off the runtime when on one.
    fn log_presence(&self, changed: Vec<(AgentId, Presence)>) {
        let at = crate::store::now_rfc3339();
        let rows: Vec<(String, String, String)> = changed
            .into_iter()
            .map(|(a, p)| {
                let name = serde_json::to_value(p).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default();
                (a.0, name, at.clone())
            })
            .collect();
        let store = self.store.clone();
        let write = move || {
            if let Err(e) = store.log_presence(&rows) {
                tracing::warn!("presence changes not logged: {e}");
            }
        };
        match tokio::runtime::Handle::try_current() {
            Ok(h) => drop(h.spawn_blocking(write)),
            Err(_) => write(),
        }
    }

    /// One round: publish every new offer; calls nobody took in time are told so (the caller
    /// is then offered a callback or a voice message).
    pub fn tick(&self) -> Vec<Decision> {
        let now = self.now();
        let (decisions, gave_up, changed) = {
            let mut r = self.lock();
            let d = r.tick(now);
            let gave_up = r.give_up(now);
            let mut p = self.presence.lock().unwrap_or_else(|e| e.into_inner());
            let changed = p.observe(now, r.agents().map(|a| (&a.agent.id, a.presence)));
            (d, gave_up, changed)
        };
        if !changed.is_empty() {
            self.log_presence(changed);
        }
        for c in gave_up {
            tracing::info!(call = %c, "nobody took the call: offering a callback");
            if !self.controls.send(&c, Control::NoAgent) {
                tracing::warn!(call = %c, "could not reach the call to offer a callback");
            }
        }
        for d in &decisions {
            tracing::info!(call = %d.call_id, agent = %d.agent_id, score = d.score, "call offered");
            self.events.publish(Event::CallRouted { call_id: d.call_id.clone(), decision: Box::new(d.clone()) });
        }
        decisions
    }

    /// Queue a call for a person; returns the estimated wait.
    pub fn enqueue(&self, call: WaitingCall) -> Result<Duration, RouteError> {
        let now = self.now();
        let id = call.call_id.clone();
        let mut r = self.lock();
        r.enqueue(call, now)?;
        r.estimated_wait(&id, now)
    }

    /// The call ended or no longer waits: off the queue, and off its agent's desk.
    pub fn call_gone(&self, call: &CallId) {
        let now = self.now();
        let mut r = self.lock();
        if let Some(w) = r.remove_call(call) {
            self.tally().abandoned(now, w.skill, now.saturating_sub(w.enqueued_at));
        }
        r.end_consult(call, now);
        if let Some(agent) = r.handled_by(call).cloned() {
            let _ = r.call_ended(&agent, call, now);
        }
    }

    /// The agent's connection dropped mid-call: it goes offline and its calls go back to the
    /// front of the queue. Returns those calls.
    pub fn agent_lost(&self, agent: &AgentId) -> Vec<CallId> {
        let now = self.now();
        self.lock().disconnect(agent, now).unwrap_or_default()
    }

    /// The agent passes an accepted call on: off their desk (they wrap up), and back in the
    /// queue at the front (`call.only_agent` for a named colleague).
    pub fn transfer(&self, from: &AgentId, call: WaitingCall) -> Result<(), RouteError> {
        let now = self.now();
        let mut r = self.lock();
        r.call_ended(from, &call.call_id, now)?;
        // A new request: its wait (and the overflow rules that follow it) starts now.
        r.requeue(WaitingCall { enqueued_at: now, ..call }, now)
    }

    /// `from` consults `to` on their call (`to` is busy with it until the consult ends).
    pub fn consult(&self, call: &CallId, from: &AgentId, to: &AgentId) -> Result<(), RouteError> {
        let now = self.now();
        self.lock().consult(call, from, to, now)
    }

    /// The consult on `call` ended without a hand-over: the colleague is free again.
    pub fn end_consult(&self, call: &CallId) -> Option<AgentId> {
        let now = self.now();
        self.lock().end_consult(call, now)
    }

    /// The consulted colleague takes the call over from `from`.
    pub fn hand_over(&self, call: &CallId, from: &AgentId) -> Result<AgentId, RouteError> {
        let now = self.now();
        self.lock().hand_over(call, from, now)
    }

    /// A supervisor hands the call to the agent in `call.only_agent`: it waits (at the front)
    /// for them alone, keeping the time it already waited.
    pub fn assign(&self, call: WaitingCall) -> Result<(), RouteError> {
        let now = self.now();
        let mut r = self.lock();
        let since = r.remove_call(&call.call_id).map(|w| w.enqueued_at).unwrap_or(now);
        r.requeue(WaitingCall { enqueued_at: since, ..call }, now)
    }

    /// Put a call back at the front of the queue (its agent dropped).
    pub fn requeue(&self, call: WaitingCall) -> Result<(), RouteError> {
        let now = self.now();
        self.lock().requeue(WaitingCall { enqueued_at: now, ..call }, now)
    }

    /// Who a waiting call is on offer to right now.
    pub fn offered_to(&self, call: &CallId) -> Option<AgentId> {
        self.lock().offered_to(call).cloned()
    }

    pub fn accept(&self, call: &CallId, agent: &AgentId) -> Result<WaitingCall, RouteError> {
        let now = self.now();
        let mut r = self.lock();
        let w = r.accept(call, agent, now)?;
        self.tally().answered(now, w.skill, now.saturating_sub(w.enqueued_at));
        Ok(w)
    }

    /// A person took the call outside routing (a supervisor took it over): off the queue, as
    /// answered, or off its agent's desk.
    pub fn taken_over(&self, call: &CallId) {
        let now = self.now();
        let mut r = self.lock();
        if let Some(w) = r.remove_call(call) {
            self.tally().answered(now, w.skill, now.saturating_sub(w.enqueued_at));
        }
        drop(r);
        self.call_gone(call);
    }

    fn tally(&self) -> std::sync::MutexGuard<'_, super::board::Tally> {
        self.tally.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The queue board (one row per queue with calls or counted in the last hour, then the
    /// total) and the agent board (`handled_today` and `calls` by agent, from the caller).
    pub fn board(
        &self,
        handled_today: &std::collections::HashMap<String, u64>,
        calls: &std::collections::HashMap<String, Vec<String>>,
    ) -> (Vec<super::board::QueueRow>, Vec<super::board::AgentRow>) {
        use super::board::{service_level, AgentRow, QueueRow};
        use super::model::Skill;
        let now = self.now();
        let r = self.lock();
        let mut tally = self.tally();
        let mut queues = Vec::new();
        for skill in Skill::ALL {
            let waiting: Vec<&WaitingCall> = r.calls.values().map(|q| &q.call).filter(|c| c.skill == skill).collect();
            let counts = tally.counts(now, Some(skill));
            if waiting.is_empty() && counts == (0, 0, 0) {
                continue;
            }
            let back = waiting.iter().max_by_key(|c| c.enqueued_at);
            queues.push(QueueRow {
                skill,
                waiting: waiting.len(),
                longest_wait_s: waiting.iter().map(|c| now.saturating_sub(c.enqueued_at) / 1000).max().unwrap_or(0),
                estimated_wait_s: back.and_then(|c| r.estimated_wait(&c.call_id, now).ok()).map(|d| d.as_secs()),
                answered: counts.0,
                answered_in_time: counts.1,
                abandoned: counts.2,
                service_level: service_level(counts),
            });
        }
        let presence = self.presence.lock().unwrap_or_else(|e| e.into_inner());
        let agents = r
            .agents()
            .map(|a| AgentRow {
                agent_id: a.agent.id.clone(),
                name: a.agent.name.clone(),
                presence: a.presence,
                in_state_s: presence.since(&a.agent.id).map(|t| now.saturating_sub(t) / 1000).unwrap_or(0),
                calls: calls.get(&a.agent.id.0).cloned().unwrap_or_default(),
                handled_today: handled_today.get(&a.agent.id.0).copied().unwrap_or(0),
            })
            .collect();
        (queues, agents)
    }

    /// The service level over the last hour across queues: (answered, in time, abandoned late).
    pub fn service_counts(&self) -> (usize, usize, usize) {
        let now = self.now();
        self.tally().counts(now, None)
    }

    pub fn decline(&self, call: &CallId, agent: &AgentId) -> Result<(), RouteError> {
        self.lock().decline(call, agent)
    }

    pub fn set_presence(&self, agent: &AgentId, presence: Presence) -> Result<(), RouteError> {
        let now = self.now();
        self.lock().set_presence(agent, presence, now)
    }

    /// Agents with their presence and load.
    pub fn agents(&self) -> Vec<AgentState> {
        self.lock().agents().cloned().collect()
    }

    pub fn agent(&self, id: &AgentId) -> Option<AgentState> {
        self.lock().agent(id).cloned()
    }

    /// Create or change an agent's profile (persisted first, then live).
    pub fn put_agent(&self, agent: Agent) -> Result<(), StoreError> {
        self.store.put_agent(&agent.id.0, &agent)?;
        let now = self.now();
        self.lock().add_or_update_agent(agent, now);
        Ok(())
    }

    /// Remove an agent with no calls.
    pub fn remove_agent(&self, id: &AgentId) -> Result<(), String> {
        self.lock().remove_agent(id).map_err(|e| e.to_string())?;
        self.store.delete_agent(&id.0).map_err(|e| e.to_string())?;
        Ok(())
    }

    pub fn waiting(&self) -> Vec<(CallId, f64)> {
        let now = self.now();
        self.lock().queue(now)
    }
}
