//! Live and recent calls, for the REST API and capacity checks. Updated by each call's actor
//! before it publishes the matching event, so a client that sees an event can fetch it.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use serde::Serialize;

use super::{CallId, CallState, Transport};

/// One finished turn of the caller or of the agent on the call.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Segment {
    pub text: String,
    pub start_ms: u64,
    pub end_ms: u64,
    pub language: String,
    pub speaker: Speaker,
}

/// Who spoke a [`Segment`].
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Speaker {
    #[default]
    Caller,
    Agent,
}

impl Speaker {
    pub fn as_str(self) -> &'static str {
        match self {
            Speaker::Caller => "caller",
            Speaker::Agent => "agent",
        }
    }

    /// From its stored name; anything else is the caller's (as every turn was before agents').
    pub fn parse(s: &str) -> Speaker {
        if s == "agent" {
            Speaker::Agent
        } else {
            Speaker::Caller
        }
    }
}

/// A call in a list (`GET /api/calls`).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CallInfo {
    pub id: CallId,
    pub caller: String,
    pub transport: Transport,
    pub state: CallState,
    /// RFC 3339, UTC.
    pub started_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_reason: Option<String>,
    /// The agent handling the call, once a person took it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    /// A colleague the agent is consulting on the call (they see it too).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consultant: Option<String>,
    /// Supervisors on the call and how each takes part (listen, coach, barge).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub supervisors: Vec<super::state::SupervisorOnCall>,
    /// Answered while the lines were full (`[calls.overflow]`): not transcribed, no assistant.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub overflow: bool,
}

/// A stretch of the call the recording leaves out, with why.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PausedSpan {
    pub from_ms: u64,
    /// `None` while still paused.
    pub to_ms: Option<u64>,
    pub reason: String,
}

/// A call with everything known about it (`GET /api/calls/{id}`, recordings).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CallRecord {
    #[serde(flatten)]
    pub info: CallInfo,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Keys pressed so far.
    pub dtmf: String,
    pub transcript: Vec<Segment>,
    /// The caller's state after the latest turn.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caller_state: Option<crate::pipeline::analysis::state::TurnState>,
    /// The caller's accent, once estimated (English-speaking callers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accent: Option<crate::pipeline::analysis::accent::Accent>,
    /// What an agent sees of the call (kept current by the call's actor).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub case_file: Option<crate::routing::case_file::CaseFile>,
    /// Where the recording is paused (secure card capture): silence in both channels there.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub recording_paused: Vec<PausedSpan>,
    /// The alerts raised on the call (`[alerts]`), and who acknowledged them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alerts: Vec<super::alerts::AlertOnCall>,
    /// The caller's own capability for this call (web callers: follow its events, hang up).
    #[serde(skip)]
    pub caller_token: Option<String>,
    /// The caller's leg is gone (SIP BYE answered): the call no longer holds a slot, even
    /// before its actor has seen the hang-up.
    #[serde(skip)]
    pub slot_released: bool,
}

impl CallRecord {
    /// A new live call.
    pub fn new(id: CallId, caller: String, transport: Transport, started_at: String) -> Self {
        Self {
            info: CallInfo {
                id,
                caller,
                transport,
                state: CallState::Active,
                started_at,
                ended_at: None,
                end_reason: None,
                agent: None,
                consultant: None,
                supervisors: Vec::new(),
                overflow: false,
            },
            language: None,
            dtmf: String::new(),
            transcript: Vec::new(),
            caller_state: None,
            case_file: None,
            caller_token: None,
            accent: None,
            recording_paused: Vec::new(),
            alerts: Vec::new(),
            slot_released: false,
        }
    }
}

struct Inner {
    live: HashMap<CallId, CallRecord>,
    recent: VecDeque<CallRecord>,
}

/// The registry.
pub struct Registry {
    inner: Mutex<Inner>,
    keep_recent: usize,
    /// Where live calls' changes are journalled (the database), once set.
    journal: std::sync::OnceLock<super::journal::Journal>,
}

impl Registry {
    /// Keep the last `keep_recent` ended calls.
    pub fn new(keep_recent: usize) -> Self {
        Self {
            inner: Mutex::new(Inner { live: HashMap::new(), recent: VecDeque::new() }),
            keep_recent,
            journal: Default::default(),
        }
    }

    /// Journal every change to a live call from now on (set once, at start-up).
    pub fn set_journal(&self, journal: super::journal::Journal) {
        let _ = self.journal.set(journal);
    }

    /// The journal, if set.
    pub fn journal(&self) -> Option<&super::journal::Journal> {
        self.journal.get()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Number of calls holding a slot: live and not ending. A call's slot is free the moment
    /// it ends (BYE answered), although its last turn may still be transcribing.
    pub fn live_count(&self) -> usize {
        let (transcribed, overflow) = self.counts();
        transcribed + overflow
    }

    /// Calls holding a slot: (transcribed, answered while the lines were full).
    pub fn counts(&self) -> (usize, usize) {
        let g = self.lock();
        (Self::occupied(&g, false), Self::occupied(&g, true))
    }

    /// Calls holding a slot: transcribed ones, or (`overflow`) those answered while full.
    fn occupied(g: &Inner, overflow: bool) -> usize {
        let holds = |r: &&CallRecord| r.info.state != CallState::Ending && !r.slot_released;
        g.live.values().filter(holds).filter(|r| r.info.overflow == overflow).count()
    }

    /// The transport's leg ended: free the call's slot now (the actor ends the call next).
    pub fn release_slot(&self, id: &CallId) {
        self.update(id, |r| r.slot_released = true);
    }

    /// Add a live call, unless `limit` calls of its kind (transcribed, or overflow) already
    /// hold a slot.
    pub fn try_insert(&self, rec: CallRecord, limit: usize) -> bool {
        let mut g = self.lock();
        if Self::occupied(&g, rec.info.overflow) >= limit {
            return false;
        }
        g.live.insert(rec.info.id.clone(), rec);
        true
    }

    /// Change a live call.
    pub fn update(&self, id: &CallId, f: impl FnOnce(&mut CallRecord)) {
        if let Some(r) = self.lock().live.get_mut(id) {
            let before = self.journal.get().map(|_| super::journal::Snapshot::of(r));
            f(r);
            if let (Some(j), Some(before)) = (self.journal.get(), before) {
                j.observe(&before, r);
            }
        }
    }

    /// Move a live call to the recent list; returns its final record.
    pub fn finish(&self, id: &CallId, reason: &str) -> Option<CallRecord> {
        let mut g = self.lock();
        let mut rec = g.live.remove(id)?;
        rec.info.state = CallState::Ended;
        rec.info.ended_at = Some(crate::store::now_rfc3339());
        rec.info.end_reason = Some(reason.to_string());
        g.recent.push_front(rec.clone());
        while g.recent.len() > self.keep_recent {
            g.recent.pop_back();
        }
        Some(rec)
    }

    /// Live calls (oldest first), then recent ones (newest first).
    pub fn list(&self) -> Vec<CallInfo> {
        let g = self.lock();
        let mut live: Vec<&CallRecord> = g.live.values().collect();
        live.sort_by(|a, b| a.info.started_at.cmp(&b.info.started_at));
        live.into_iter().chain(g.recent.iter()).map(|r| r.info.clone()).collect()
    }

    pub fn set_caller_token(&self, id: &CallId, token: &str) {
        self.update(id, |r| r.caller_token = Some(token.to_string()));
    }

    /// Whether `token` is this call's caller capability.
    pub fn caller_token_ok(&self, id: &CallId, token: &str) -> bool {
        self.read(id, |r| r.caller_token.as_deref().is_some_and(|t| crate::auth::same_secret(t, token)))
            .unwrap_or(false)
    }

    /// One call, live or recent.
    pub fn get(&self, id: &CallId) -> Option<CallRecord> {
        self.read(id, CallRecord::clone)
    }

    /// Look at one call (live or recent) without copying it.
    pub fn read<T>(&self, id: &CallId, f: impl FnOnce(&CallRecord) -> T) -> Option<T> {
        let g = self.lock();
        g.live.get(id).or_else(|| g.recent.iter().find(|r| &r.info.id == id)).map(f)
    }

    /// The agent a call is with, if any.
    pub fn agent_of(&self, id: &CallId) -> Option<String> {
        self.read(id, |r| r.info.agent.clone()).flatten()
    }

    /// Whether `agent` works on the call: its agent, or a colleague consulted on it.
    pub fn works_on(&self, id: &CallId, agent: &str) -> bool {
        self.read(id, |r| r.info.agent.as_deref() == Some(agent) || r.info.consultant.as_deref() == Some(agent))
            .unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(id: &str) -> CallRecord {
        CallRecord::new(CallId(id.into()), "+1".into(), Transport::Sip, format!("2026-01-01T00:00:0{id}Z"))
    }

    #[test]
    fn capacity_finish_and_listing_order() {
        let r = Registry::new(1);
        assert!(r.try_insert(rec("1"), 2));
        assert!(r.try_insert(rec("2"), 2));
        assert!(!r.try_insert(rec("3"), 2), "at capacity");
        r.update(&CallId("1".into()), |c| c.dtmf.push('5'));
        let done = r.finish(&CallId("1".into()), "caller_hangup").unwrap();
        assert_eq!((done.info.state, done.dtmf.as_str()), (CallState::Ended, "5"));
        assert_eq!(r.live_count(), 1);
        let ids: Vec<String> = r.list().into_iter().map(|c| c.id.0).collect();
        assert_eq!(ids, vec!["2", "1"]);
        // An ending call (last turn still transcribing) no longer holds its slot.
        r.update(&CallId("2".into()), |c| c.info.state = CallState::Ending);
        assert_eq!(r.live_count(), 0);
        assert!(r.try_insert(rec("4"), 1));
        r.finish(&CallId("4".into()), "x");
        r.finish(&CallId("2".into()), "x");
        assert!(r.get(&CallId("1".into())).is_none(), "only one recent call kept");
        assert!(r.get(&CallId("2".into())).is_some());
    }
}
