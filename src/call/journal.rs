//! The call journal: every call's record goes to the database as it happens (started, each
//! state, agent, key or verified-customer change, each final turn, the end and its outcome),
//! so a crash loses nothing already said. Calls never wait for it: changes are queued on a
//! bounded channel (a full queue drops the change, logs and counts it) and one writer task
//! applies them in batches off the runtime's threads. While calls run, the writer marks them
//! seen every few seconds: a crash then ends them (on the next start) when they were last seen.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use super::{CallId, CallInfo, CallRecord, CallState, Segment, Speaker, Transport};
use crate::store::calls::{CallWrite, StoredCall};
use crate::store::Store;

/// Changes queued at most; beyond it they are dropped (and counted), never waited for.
const QUEUE: usize = 4096;
/// Most changes written in one transaction.
const BATCH: usize = 256;
/// How often running calls are marked seen.
const HEARTBEAT: Duration = Duration::from_secs(5);
/// Longest wait to queue a call's end (after the call is over, off the media path).
const END_WAIT: Duration = Duration::from_secs(2);

enum Msg {
    Write(CallWrite),
    /// An event for the call's timeline, published at `at`: turned into JSON by the writer,
    /// off the call's task.
    Event {
        at: String,
        event: Box<crate::events::Event>,
    },
    /// Answered once everything queued before it is written.
    Flush(oneshot::Sender<()>),
}

/// A handle on the journal, cheap to clone.
#[derive(Clone)]
pub struct Journal {
    tx: mpsc::Sender<Msg>,
    store: Store,
    dropped: Arc<AtomicU64>,
}

/// What the journal watches on a live call, to see what an update changed.
pub struct Snapshot {
    state: CallState,
    agent: Option<String>,
    dtmf: usize,
    language: Option<String>,
    customer: Option<i64>,
    turns: usize,
}

/// The customer verified on this call (a number match alone is not one).
fn verified_customer(r: &CallRecord) -> Option<i64> {
    r.case_file.as_ref().filter(|c| c.caller.verified).and_then(|c| c.caller.customer_id)
}

impl Snapshot {
    pub fn of(r: &CallRecord) -> Self {
        Self {
            state: r.info.state,
            agent: r.info.agent.clone(),
            dtmf: r.dtmf.len(),
            language: r.language.clone(),
            customer: verified_customer(r),
            turns: r.transcript.len(),
        }
    }
}

/// A name as serde writes it (`Transport::MediaStream` -> "media_stream").
fn name<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

fn parse<T: serde::de::DeserializeOwned>(s: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(s.to_string())).ok()
}

/// A stored call as the REST API shows it; None if the row names an unknown transport.
pub fn record_of(c: StoredCall) -> Option<CallRecord> {
    let transport: Transport = parse(&c.transport)?;
    let mut r = CallRecord::new(CallId(c.id), c.caller, transport, c.started_at);
    r.info.state = parse(&c.state).unwrap_or(CallState::Ended);
    r.info.ended_at = c.ended_at;
    r.info.end_reason = c.end_reason;
    r.info.agent = c.agent;
    r.language = c.language;
    r.dtmf = c.dtmf;
    r.transcript = c
        .turns
        .into_iter()
        .map(|t| Segment {
            text: t.text,
            start_ms: t.start_ms,
            end_ms: t.end_ms,
            language: t.language,
            speaker: Speaker::parse(&t.speaker),
        })
        .collect();
    Some(r)
}

impl Journal {
    /// Start the writer on the current runtime.
    pub fn start(store: Store) -> Self {
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(write(rx, store.clone()));
        Self { tx, store, dropped: Arc::new(AtomicU64::new(0)) }
    }

    /// Changes dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    fn queue(&self, w: CallWrite) {
        self.send(Msg::Write(w));
    }

    fn send(&self, m: Msg) {
        if let Err(e) = self.tx.try_send(m) {
            let n = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if n == 1 || n.is_power_of_two() {
                tracing::error!(
                    dropped = n,
                    "call journal: {}; a change to a call's record was dropped",
                    match e {
                        mpsc::error::TrySendError::Full(_) => "the database is not keeping up",
                        mpsc::error::TrySendError::Closed(_) => "the writer stopped",
                    }
                );
            }
        }
    }

    /// A call started (`assisted`: the assistant answers it, so it gets an interaction record).
    pub fn started(&self, info: &CallInfo, assisted: bool) {
        self.queue(CallWrite::Started {
            id: info.id.0.clone(),
            caller: info.caller.clone(),
            transport: info.transport.as_str().to_string(),
            assisted,
            started_at: info.started_at.clone(),
        });
    }

    /// A live call's record changed from `before` to `now`: journal what the journal keeps.
    pub fn observe(&self, before: &Snapshot, now: &CallRecord) {
        let id = &now.info.id.0;
        for (seq, s) in now.transcript.iter().enumerate().skip(before.turns) {
            self.queue(CallWrite::Turn {
                id: id.clone(),
                seq,
                start_ms: s.start_ms,
                end_ms: s.end_ms,
                language: s.language.clone(),
                text: s.text.clone(),
                speaker: s.speaker.as_str(),
            });
        }
        let after = Snapshot::of(now);
        let changed = before.state != after.state
            || before.agent != after.agent
            || before.dtmf != after.dtmf
            || before.language != after.language
            || before.customer != after.customer;
        if changed {
            self.queue(CallWrite::Changed {
                id: id.clone(),
                state: name(&now.info.state),
                agent: now.info.agent.clone(),
                dtmf: now.dtmf.clone(),
                language: now.language.clone(),
                customer_id: after.customer,
            });
        }
    }

    /// Queue a write that must not be lost to a momentarily full queue (waits a little).
    async fn queue_surely(&self, w: CallWrite) {
        match tokio::time::timeout(END_WAIT, self.tx.send(Msg::Write(w))).await {
            Ok(Ok(())) => {}
            _ => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
                tracing::error!("call journal: a call's end could not be queued");
            }
        }
    }

    /// The call is over (its final record, from `Registry::finish`).
    pub async fn ended(&self, rec: &CallRecord) {
        let ended_at = rec.info.ended_at.clone().unwrap_or_default();
        let reason = rec.info.end_reason.clone().unwrap_or_default();
        self.queue_surely(CallWrite::Ended { id: rec.info.id.0.clone(), ended_at, reason }).await;
    }

    /// How the call went (the interaction's outcome).
    pub async fn outcome(&self, id: &CallId, outcome: &str) {
        self.queue_surely(CallWrite::Outcome { id: id.0.clone(), outcome: outcome.to_string() }).await;
    }

    /// Wait until everything queued so far is written (shutdown), at most `timeout`.
    pub async fn flush(&self, timeout: Duration) -> bool {
        let (tx, rx) = oneshot::channel();
        let done = async {
            self.tx.send(Msg::Flush(tx)).await.ok()?;
            rx.await.ok()
        };
        matches!(tokio::time::timeout(timeout, done).await, Ok(Some(())))
    }

    /// Read from the database off the runtime; a failure is logged as `what` and reads as None.
    async fn read<T: Send + 'static>(
        &self,
        what: &str,
        f: impl FnOnce(&Store) -> Result<T, crate::store::StoreError> + Send + 'static,
    ) -> Option<T> {
        let store = self.store.clone();
        let failed = match tokio::task::spawn_blocking(move || f(&store)).await {
            Ok(Ok(v)) => return Some(v),
            Ok(Err(e)) => e.to_string(),
            Err(e) => e.to_string(),
        };
        tracing::warn!("{what} not read: {failed}");
        None
    }

    /// The latest ended calls from the database, newest first, except those in `skip`.
    pub async fn ended_calls(&self, limit: usize, skip: HashSet<CallId>) -> Vec<CallInfo> {
        let calls = self.read("ended calls", move |s| s.ended_calls(limit)).await.unwrap_or_default();
        calls
            .into_iter()
            .filter(|c| !skip.contains(&CallId(c.id.clone())))
            .filter_map(record_of)
            .map(|r| r.info)
            .collect()
    }

    /// An event on the call's timeline (not the words, which are the transcript, nor what
    /// changes many times a second or repeats the record: partials, capture digit counts,
    /// whole case files).
    pub fn event(&self, e: &crate::events::Event) {
        use crate::events::Event as E;
        if matches!(
            e,
            E::TranscriptPartial { .. }
                | E::TranscriptFinal { .. }
                | E::AgentTranscript { .. }
                | E::ConsultTranscript { .. }
                | E::SecureCaptureProgress { .. }
                | E::CaseFileUpdated { .. }
        ) {
            return;
        }
        self.send(Msg::Event { at: crate::store::now_rfc3339(), event: Box::new(e.clone()) });
    }

    /// A call's timeline (the latest `limit` events), everything queued before written first.
    pub async fn timeline(&self, id: &CallId, limit: usize) -> Vec<serde_json::Value> {
        self.flush(Duration::from_secs(2)).await;
        let id = id.0.clone();
        let rows = self.read("timeline", move |s| s.call_events(&id, limit)).await.unwrap_or_default();
        rows.into_iter()
            .filter_map(|r| {
                let mut v: serde_json::Value = serde_json::from_str(&r.body).ok()?;
                v["at"] = serde_json::Value::String(r.at);
                Some(v)
            })
            .collect()
    }

    /// The centre's numbers for calls that started in `[from, to)` (RFC 3339, UTC): each
    /// stored timeline replayed through the metrics' tally, then summed up.
    pub async fn stats(
        &self,
        from: String,
        to: String,
        cfg: crate::metrics::stats::StatsConfig,
        queue: Option<String>,
    ) -> Option<crate::metrics::stats::Stats> {
        self.read("stats", move |s| crate::metrics::stats::from_store(s, &from, &to, cfg, queue.as_deref())).await
    }

    /// The database the journal writes (for the history and review handlers' own queries,
    /// which run it off the runtime).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Calls each agent ended with today (UTC), by agent.
    pub async fn handled_today(&self) -> std::collections::HashMap<String, u64> {
        let midnight = chrono::Utc::now().format("%Y-%m-%dT00:00:00Z").to_string();
        self.read("calls handled today", move |s| s.handled_since(&midnight)).await.unwrap_or_default()
    }

    /// One call from the database, with its transcript.
    pub async fn call(&self, id: &CallId) -> Option<CallRecord> {
        let id = id.0.clone();
        self.read("call", move |s| s.stored_call(&id)).await.flatten().and_then(record_of)
    }
}

/// A timeline event as the database keeps it.
fn timeline_write(at: String, e: &crate::events::Event) -> Option<CallWrite> {
    let body = serde_json::to_value(e).ok()?;
    let kind = body["type"].as_str().unwrap_or_default().to_string();
    Some(CallWrite::Event { id: e.call_id().0.clone(), at, kind, body: body.to_string() })
}

/// The writer: batches of queued changes, one transaction each, on the blocking pool; and the
/// heartbeat of running calls. Ends when every handle is gone.
async fn write(mut rx: mpsc::Receiver<Msg>, store: Store) {
    let mut beat = tokio::time::interval(HEARTBEAT);
    beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            m = rx.recv() => {
                let Some(m) = m else { break };
                let (mut batch, mut flushes) = (Vec::new(), Vec::new());
                let mut next = Some(m);
                while let Some(m) = next.take() {
                    match m {
                        Msg::Write(w) => batch.push(w),
                        Msg::Event { at, event } => batch.extend(timeline_write(at, &event)),
                        Msg::Flush(f) => flushes.push(f),
                    }
                    if batch.len() < BATCH {
                        next = rx.try_recv().ok();
                    }
                }
                if !batch.is_empty() {
                    let s = store.clone();
                    let n = batch.len();
                    match tokio::task::spawn_blocking(move || s.write_calls(&batch)).await {
                        Ok(Ok(())) => {}
                        Ok(Err(e)) => tracing::error!(changes = n, "call journal: not written: {e}"),
                        Err(e) => tracing::error!(changes = n, "call journal: not written: {e}"),
                    }
                }
                for f in flushes {
                    let _ = f.send(());
                }
            }
            _ = beat.tick() => {
                let s = store.clone();
                if let Ok(Err(e)) = tokio::task::spawn_blocking(move || s.calls_seen()).await {
                    tracing::warn!("call journal: heartbeat not written: {e}");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn changes_reach_the_store_in_order_and_an_unverified_number_is_no_customer() {
        let store = Store::open_in_memory().unwrap();
        crate::store::demo::seed(&store, 3, chrono::NaiveDate::from_ymd_opt(2026, 11, 29).unwrap()).unwrap();
        let john = store.customer_by_phone("+15550100").unwrap().unwrap();
        let j = Journal::start(store.clone());
        let mut rec = CallRecord::new(CallId("c-1".into()), "+15550100".into(), Transport::Webrtc, "t0".into());
        j.started(&rec.info, true);
        let before = Snapshot::of(&rec);
        let mut case = crate::routing::case_file::CaseFile::new("c-1", "+15550100");
        case.set_identity(Some(&john), false);
        rec.case_file = Some(case.clone());
        rec.transcript.push(Segment {
            text: "hello".into(),
            start_ms: 1,
            end_ms: 2,
            language: "en".into(),
            speaker: Speaker::Caller,
        });
        rec.info.state = CallState::WaitingForAgent;
        j.observe(&before, &rec);
        assert!(j.flush(Duration::from_secs(5)).await);
        let c = store.stored_call("c-1").unwrap().unwrap();
        assert_eq!((c.transport.as_str(), c.state.as_str(), c.customer_id), ("webrtc", "waiting_for_agent", None));
        assert_eq!(c.turns[0].text, "hello");

        let before = Snapshot::of(&rec);
        case.set_identity(Some(&john), true);
        rec.case_file = Some(case);
        j.observe(&before, &rec);
        rec.info.ended_at = Some("t1".into());
        rec.info.end_reason = Some("caller_hangup".into());
        j.ended(&rec).await;
        assert!(j.flush(Duration::from_secs(5)).await);
        let r = j.call(&CallId("c-1".into())).await.unwrap();
        assert_eq!((r.info.state, r.info.end_reason.as_deref()), (CallState::Ended, Some("caller_hangup")));
        assert_eq!(r.transcript.len(), 1);
        assert_eq!(store.stored_call("c-1").unwrap().unwrap().customer_id, Some(john.id), "verified");
        let listed = j.ended_calls(10, HashSet::new()).await;
        assert_eq!(listed.iter().map(|c| c.id.0.as_str()).collect::<Vec<_>>(), ["c-1"]);
        assert!(j.ended_calls(10, [CallId("c-1".into())].into()).await.is_empty());
        assert_eq!(j.dropped(), 0);
    }

    #[tokio::test]
    async fn a_calls_timeline_keeps_its_events_in_order_without_the_words() {
        use crate::events::Event;
        let store = Store::open_in_memory().unwrap();
        let j = Journal::start(store.clone());
        let rec = CallRecord::new(CallId("c-9".into()), "+15550100".into(), Transport::Sip, "t0".into());
        j.started(&rec.info, false);
        let id = CallId("c-9".into());
        j.event(&Event::CallStarted {
            call_id: id.clone(),
            caller: "+15550100".into(),
            transport: Transport::Sip,
            started_at: "t0".into(),
        });
        j.event(&Event::TranscriptPartial {
            call_id: id.clone(),
            text: "my card".into(),
            start_ms: 0,
            end_ms: 1,
            language: "en".into(),
        });
        j.event(&Event::SupervisorJoined {
            call_id: id.clone(),
            supervisor: "sam".into(),
            mode: crate::call::state::StaffMode::Listen,
            at_ms: 5000,
        });
        // An event about a call the database does not know is dropped, not an error.
        j.event(&Event::CallbackOffered { call_id: CallId("c-unknown".into()), at_ms: 1 });
        let t = j.timeline(&id, 100).await;
        let kinds: Vec<&str> = t.iter().map(|e| e["type"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["call_started", "supervisor_joined"]);
        assert_eq!((t[1]["supervisor"].as_str(), t[1]["at_ms"].as_u64()), (Some("sam"), Some(5000)));
        assert!(t[1]["at"].as_str().unwrap().ends_with('Z'), "{}", t[1]);
        assert_eq!(j.timeline(&id, 1).await.len(), 1, "the latest only");
        assert!(j.timeline(&CallId("c-unknown".into()), 10).await.is_empty());
    }
}
