//! The calls journal (`calls`, `call_turns`): each call's record as it goes, written by the
//! call journal's writer (src/call/journal.rs), so a crash loses nothing already said; the
//! start-up repair of calls a crash left open; and the ended calls for the REST API.

use rusqlite::{params, OptionalExtension, Row, Transaction};

use super::model::Interaction;
use super::{Store, StoreError};

/// The end reason of calls a crash left open.
pub const CRASH_REASON: &str = "server_crash";
/// Their interaction outcome.
pub const CRASH_OUTCOME: &str = "abandoned: server_crash";

/// One change to the journal (applied in order, in batches, by the writer).
#[derive(Debug, Clone, PartialEq)]
pub enum CallWrite {
    Started {
        id: String,
        caller: String,
        transport: String,
        assisted: bool,
        started_at: String,
    },
    /// The call's current state, agent, keys, language and verified customer.
    Changed {
        id: String,
        state: String,
        agent: Option<String>,
        dtmf: String,
        language: Option<String>,
        customer_id: Option<i64>,
    },
    /// A final turn of the caller or the agent (`seq`: its index in the transcript).
    Turn {
        id: String,
        seq: usize,
        start_ms: u64,
        end_ms: u64,
        language: String,
        text: String,
        speaker: &'static str,
    },
    Ended {
        id: String,
        ended_at: String,
        reason: String,
    },
    Outcome {
        id: String,
        outcome: String,
    },
    /// An event of the call's timeline (`body`: the event as JSON), published at `at`.
    Event {
        id: String,
        at: String,
        kind: String,
        body: String,
    },
}

/// One event of a call's timeline as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    /// When it was published.
    pub at: String,
    /// The event as JSON (its `type` is also the row's `type` column, for queries).
    pub body: String,
}

/// A final turn as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredTurn {
    pub start_ms: u64,
    pub end_ms: u64,
    pub language: String,
    pub text: String,
    /// "caller" or "agent".
    pub speaker: String,
}

/// A call as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredCall {
    pub id: String,
    pub caller: String,
    pub transport: String,
    pub assisted: bool,
    pub state: String,
    pub started_at: String,
    pub last_seen_at: String,
    pub ended_at: Option<String>,
    pub end_reason: Option<String>,
    pub agent: Option<String>,
    pub language: Option<String>,
    pub dtmf: String,
    /// The customer verified on this call (never a number match alone).
    pub customer_id: Option<i64>,
    pub outcome: Option<String>,
    /// Filled by `stored_call` (empty in lists).
    pub turns: Vec<StoredTurn>,
}

const CALL_SELECT: &str = "SELECT id, caller, transport, assisted, state, started_at, last_seen_at, ended_at, \
     end_reason, agent, language, dtmf, customer_id, outcome FROM calls";
/// The same columns of `calls c`, for joins (then `call_row` reads the first 14).
pub(super) const CALL_SELECT_C: &str = "SELECT c.id, c.caller, c.transport, c.assisted, c.state, c.started_at, \
     c.last_seen_at, c.ended_at, c.end_reason, c.agent, c.language, c.dtmf, c.customer_id, c.outcome";

pub(super) fn call_row(r: &Row) -> rusqlite::Result<StoredCall> {
    Ok(StoredCall {
        id: r.get(0)?,
        caller: r.get(1)?,
        transport: r.get(2)?,
        assisted: r.get(3)?,
        state: r.get(4)?,
        started_at: r.get(5)?,
        last_seen_at: r.get(6)?,
        ended_at: r.get(7)?,
        end_reason: r.get(8)?,
        agent: r.get(9)?,
        language: r.get(10)?,
        dtmf: r.get(11)?,
        customer_id: r.get(12)?,
        outcome: r.get(13)?,
        turns: Vec::new(),
    })
}

/// The interactions table's channel for a transport.
pub fn channel_of(transport: &str) -> &'static str {
    match transport {
        "sip" => "phone",
        "webrtc" => "web",
        _ => "media_stream",
    }
}

fn apply(tx: &Transaction, w: &CallWrite, now: &str) -> rusqlite::Result<usize> {
    match w {
        CallWrite::Started { id, caller, transport, assisted, started_at } => tx.execute(
            "INSERT OR IGNORE INTO calls (id, caller, transport, assisted, state, started_at, last_seen_at)
             VALUES (?1, ?2, ?3, ?4, 'active', ?5, ?6)",
            params![id, caller, transport, assisted, started_at, now],
        ),
        CallWrite::Changed { id, state, agent, dtmf, language, customer_id } => tx.execute(
            "UPDATE calls SET state = ?2, agent = ?3, dtmf = ?4, language = ?5,
             customer_id = COALESCE(?6, customer_id), last_seen_at = ?7 WHERE id = ?1 AND ended_at IS NULL",
            params![id, state, agent, dtmf, language, customer_id, now],
        ),
        CallWrite::Turn { id, seq, start_ms, end_ms, language, text, speaker } => {
            tx.execute("UPDATE calls SET last_seen_at = ?2 WHERE id = ?1 AND ended_at IS NULL", params![id, now])?;
            tx.execute(
                "INSERT OR REPLACE INTO call_turns (call_id, seq, start_ms, end_ms, language, text, speaker)
                 SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7 WHERE EXISTS (SELECT 1 FROM calls WHERE id = ?1)",
                params![id, *seq as i64, *start_ms as i64, *end_ms as i64, language, text, speaker],
            )
        }
        CallWrite::Ended { id, ended_at, reason } => tx.execute(
            "UPDATE calls SET state = 'ended', ended_at = ?2, end_reason = ?3, last_seen_at = ?2 WHERE id = ?1",
            params![id, ended_at, reason],
        ),
        CallWrite::Outcome { id, outcome } => {
            tx.execute("UPDATE calls SET outcome = ?2 WHERE id = ?1", params![id, outcome])
        }
        CallWrite::Event { id, at, kind, body } => tx.execute(
            "INSERT INTO call_events (call_id, at, type, body)
             SELECT ?1, ?2, ?3, ?4 WHERE EXISTS (SELECT 1 FROM calls WHERE id = ?1)",
            params![id, at, kind, body],
        ),
    }
}

impl Store {
    /// Apply journal writes in one transaction (a write about an unknown call changes nothing).
    pub fn write_calls(&self, writes: &[CallWrite]) -> Result<(), StoreError> {
        let now = super::now_rfc3339();
        self.transaction(|tx| {
            for w in writes {
                apply(tx, w, &now)?;
            }
            Ok(())
        })
    }

    /// Mark every open call as seen now (the writer's heartbeat while calls run).
    pub fn calls_seen(&self) -> Result<usize, StoreError> {
        Ok(self.lock().execute("UPDATE calls SET last_seen_at = ?1 WHERE ended_at IS NULL", [super::now_rfc3339()])?)
    }

    /// On start-up, before any call: close every call a crash left open (ended when last seen,
    /// `server_crash`) and give each assisted one its interaction record (linked to the
    /// customer only if verified on the call) unless it already has one. Returns them.
    pub fn close_crashed_calls(&self) -> Result<Vec<StoredCall>, StoreError> {
        self.transaction(|tx| {
            let open: Vec<StoredCall> = tx
                .prepare(&format!("{CALL_SELECT} WHERE ended_at IS NULL ORDER BY started_at"))?
                .query_map([], call_row)?
                .collect::<Result<_, _>>()?;
            let mut closed = Vec::with_capacity(open.len());
            for mut c in open {
                tx.execute(
                    "UPDATE calls SET state = 'ended', ended_at = last_seen_at, end_reason = ?2,
                     outcome = COALESCE(outcome, ?3) WHERE id = ?1",
                    params![c.id, CRASH_REASON, CRASH_OUTCOME],
                )?;
                let recorded: bool =
                    tx.query_row("SELECT EXISTS (SELECT 1 FROM interactions WHERE call_id = ?1)", [&c.id], |r| {
                        r.get(0)
                    })?;
                if c.assisted && !recorded {
                    tx.execute(
                        "INSERT INTO interactions (customer_id, call_id, channel, started_at, ended_at, outcome, agent)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                        params![
                            c.customer_id,
                            c.id,
                            channel_of(&c.transport),
                            c.started_at,
                            c.last_seen_at,
                            CRASH_OUTCOME,
                            c.agent
                        ],
                    )?;
                }
                c.state = "ended".into();
                c.ended_at = Some(c.last_seen_at.clone());
                c.end_reason = Some(CRASH_REASON.into());
                c.outcome.get_or_insert_with(|| CRASH_OUTCOME.into());
                c.turns = turns(tx, &c.id)?;
                closed.push(c);
            }
            Ok(closed)
        })
    }

    /// The latest ended calls, newest first (without their turns).
    pub fn ended_calls(&self, limit: usize) -> Result<Vec<StoredCall>, StoreError> {
        let conn = self.lock();
        let rows = conn
            .prepare(&format!("{CALL_SELECT} WHERE ended_at IS NOT NULL ORDER BY ended_at DESC, id LIMIT ?1"))?
            .query_map([limit as i64], call_row)?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// One call with its turns.
    pub fn stored_call(&self, id: &str) -> Result<Option<StoredCall>, StoreError> {
        let conn = self.lock();
        let Some(mut c) = conn.query_row(&format!("{CALL_SELECT} WHERE id = ?1"), [id], call_row).optional()? else {
            return Ok(None);
        };
        c.turns = turns(&conn, id)?;
        Ok(Some(c))
    }

    /// Ended calls that started in `[from, to)` (RFC 3339, UTC), each with its timeline.
    pub fn call_timelines(&self, from: &str, to: &str) -> Result<Vec<(String, Vec<StoredEvent>)>, StoreError> {
        let conn = self.lock();
        let mut out: Vec<(String, Vec<StoredEvent>)> = Vec::new();
        let mut rows = conn.prepare(
            "SELECT e.call_id, e.at, e.body FROM call_events e JOIN calls c ON c.id = e.call_id
             WHERE c.started_at >= ?1 AND c.started_at < ?2 AND c.ended_at IS NOT NULL
             ORDER BY c.started_at, e.call_id, e.id",
        )?;
        let mut q = rows.query(params![from, to])?;
        while let Some(r) = q.next()? {
            let id: String = r.get(0)?;
            let ev = StoredEvent { at: r.get(1)?, body: r.get(2)? };
            match out.last_mut() {
                Some((last, evs)) if *last == id => evs.push(ev),
                _ => out.push((id, vec![ev])),
            }
        }
        Ok(out)
    }

    /// Calls of customers identified on them (verified) that started in `[from, until)`:
    /// (call, customer, started at).
    pub fn customer_calls(&self, from: &str, until: &str) -> Result<Vec<(String, i64, String)>, StoreError> {
        let conn = self.lock();
        let rows = conn
            .prepare(
                "SELECT id, customer_id, started_at FROM calls
                 WHERE customer_id IS NOT NULL AND started_at >= ?1 AND started_at < ?2",
            )?
            .query_map(params![from, until], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// How many calls each agent ended with since `since` (RFC 3339, UTC), by agent.
    pub fn handled_since(&self, since: &str) -> Result<std::collections::HashMap<String, u64>, StoreError> {
        let conn = self.lock();
        let rows = conn
            .prepare("SELECT agent, COUNT(*) FROM calls WHERE agent IS NOT NULL AND ended_at >= ?1 GROUP BY agent")?
            .query_map([since], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64)))?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// A call's timeline, in the order its events were published (at most `limit`, the latest).
    pub fn call_events(&self, id: &str, limit: usize) -> Result<Vec<StoredEvent>, StoreError> {
        let conn = self.lock();
        let mut rows: Vec<StoredEvent> = conn
            .prepare("SELECT at, body FROM call_events WHERE call_id = ?1 ORDER BY id DESC LIMIT ?2")?
            .query_map(params![id, limit as i64], |r| Ok(StoredEvent { at: r.get(0)?, body: r.get(1)? }))?
            .collect::<Result<_, _>>()?;
        rows.reverse();
        Ok(rows)
    }

    /// The interaction record of a call, whoever it is linked to (or to no one).
    pub fn interaction_of_call(&self, call_id: &str) -> Result<Option<Interaction>, StoreError> {
        let conn = self.lock();
        Ok(conn
            .query_row(
                "SELECT id, customer_id, call_id, channel, started_at, ended_at, outcome, intent, summary, agent
                 FROM interactions WHERE call_id = ?1 ORDER BY id DESC LIMIT 1",
                [call_id],
                super::interaction_row,
            )
            .optional()?)
    }
}

fn turns(conn: &rusqlite::Connection, id: &str) -> rusqlite::Result<Vec<StoredTurn>> {
    conn.prepare("SELECT start_ms, end_ms, language, text, speaker FROM call_turns WHERE call_id = ?1 ORDER BY seq")?
        .query_map([id], |r| {
            Ok(StoredTurn {
                start_ms: r.get::<_, i64>(0)?.max(0) as u64,
                end_ms: r.get::<_, i64>(1)?.max(0) as u64,
                language: r.get(2)?,
                text: r.get(3)?,
                speaker: r.get(4)?,
            })
        })?
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn started(id: &str, assisted: bool) -> CallWrite {
        CallWrite::Started {
            id: id.into(),
            caller: "+15550100".into(),
            transport: "sip".into(),
            assisted,
            started_at: "2026-12-01T10:00:00.000Z".into(),
        }
    }

    fn turn(id: &str, seq: usize, text: &str) -> CallWrite {
        CallWrite::Turn {
            id: id.into(),
            seq,
            start_ms: 100,
            end_ms: 900,
            language: "en".into(),
            text: text.into(),
            speaker: "caller",
        }
    }

    #[test]
    fn a_journalled_call_survives_and_a_crash_closes_it_once() {
        let s = Store::open_in_memory().unwrap();
        super::super::demo::seed(&s, 3, chrono::NaiveDate::from_ymd_opt(2026, 11, 29).unwrap()).unwrap();
        let john = s.customer_by_phone("+15550100").unwrap().unwrap();
        let changed = |id: &str, customer_id| CallWrite::Changed {
            id: id.into(),
            state: "waiting_for_agent".into(),
            agent: None,
            dtmf: "12".into(),
            language: Some("en".into()),
            customer_id,
        };
        s.write_calls(&[
            started("c-1", true),
            turn("c-1", 0, "where is my order"),
            turn("c-1", 1, "four five six"),
            changed("c-1", Some(john.id)),
            started("c-2", true),
            changed("c-2", None),
            started("c-3", true),
            CallWrite::Ended { id: "c-3".into(), ended_at: "2026-12-01T10:01:00.000Z".into(), reason: "x".into() },
            started("c-4", false),
            // About a call the journal never saw: nothing happens.
            turn("c-9", 0, "lost"),
        ])
        .unwrap();
        assert!(s.stored_call("c-9").unwrap().is_none());
        let c1 = s.stored_call("c-1").unwrap().unwrap();
        assert_eq!((c1.state.as_str(), c1.dtmf.as_str(), c1.customer_id), ("waiting_for_agent", "12", Some(john.id)));
        assert_eq!(
            c1.turns.iter().map(|t| t.text.as_str()).collect::<Vec<_>>(),
            ["where is my order", "four five six"]
        );

        let closed = s.close_crashed_calls().unwrap();
        let ids: Vec<&str> = closed.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["c-1", "c-2", "c-4"], "only the open calls");
        assert!(closed.iter().all(|c| c.end_reason.as_deref() == Some(CRASH_REASON) && c.ended_at.is_some()));
        assert_eq!(closed[0].turns.len(), 2);
        // The verified call is John's; the unverified one is on record for no one; the
        // unassisted one has no interaction (as when it ends normally).
        let i1 = s.interaction_of_call("c-1").unwrap().unwrap();
        assert_eq!((i1.customer_id, i1.outcome.as_str(), i1.channel.as_str()), (Some(john.id), CRASH_OUTCOME, "phone"));
        assert_eq!(s.interaction_of_call("c-2").unwrap().unwrap().customer_id, None);
        assert!(s.interaction_of_call("c-4").unwrap().is_none());
        assert!(s.interactions(john.id).unwrap().iter().all(|i| i.call_id.as_deref() != Some("c-2")));
        // A second start finds nothing open and adds nothing.
        assert!(s.close_crashed_calls().unwrap().is_empty());
        let ended: Vec<String> = s.ended_calls(10).unwrap().into_iter().map(|c| c.id).collect();
        assert_eq!(ended.len(), 4);
        assert_eq!(s.interactions(john.id).unwrap().iter().filter(|i| i.call_id.as_deref() == Some("c-1")).count(), 1);
        // Late writes for an ended call do not reopen it.
        s.write_calls(&[changed("c-1", None)]).unwrap();
        assert_eq!(s.stored_call("c-1").unwrap().unwrap().state, "ended");
    }
}
