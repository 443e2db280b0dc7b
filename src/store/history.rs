//! Call history: finished calls searched by customer, number, dates, outcome, language,
//! agent and caller state; and retention, which deletes old transcripts (the server deletes
//! the recordings' files beside it, src/call/retention.rs).

use rusqlite::types::Value as Sql;

use super::calls::{StoredCall, CALL_SELECT_C};
use super::{Store, StoreError};

/// What to look for (every field optional; all given must match).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HistoryQuery {
    /// The verified customer: their id, or part of their name.
    pub customer: Option<String>,
    /// Part of the caller's number or address as the transport presented it.
    pub number: Option<String>,
    /// Started at or after (RFC 3339 or a date).
    pub from: Option<String>,
    /// Started before.
    pub to: Option<String>,
    /// The outcome starts with this ("resolved", "escalated", "abandoned", ...).
    pub outcome: Option<String>,
    pub language: Option<String>,
    pub agent: Option<String>,
    /// The caller was in this state at some point (calm, confused, frustrated, angry).
    pub state: Option<String>,
    /// At most this many, newest first (default 100, at most 500).
    pub limit: Option<usize>,
}

/// One call found, with its customer's name and whether its recording and transcript are kept.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Found {
    #[serde(flatten)]
    pub call: FoundCall,
    pub customer_name: Option<String>,
    /// The worst caller state heard on the call.
    pub worst_state: Option<String>,
    pub purged: bool,
}

/// The call's columns as the history shows them.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FoundCall {
    pub id: String,
    pub caller: String,
    pub transport: String,
    pub started_at: String,
    pub ended_at: Option<String>,
    pub agent: Option<String>,
    pub language: Option<String>,
    pub customer_id: Option<i64>,
    pub outcome: Option<String>,
    pub end_reason: Option<String>,
}

impl From<StoredCall> for FoundCall {
    fn from(c: StoredCall) -> Self {
        Self {
            id: c.id,
            caller: c.caller,
            transport: c.transport,
            started_at: c.started_at,
            ended_at: c.ended_at,
            agent: c.agent,
            language: c.language,
            customer_id: c.customer_id,
            outcome: c.outcome,
            end_reason: c.end_reason,
        }
    }
}

use crate::pipeline::analysis::state::STATE_NAMES as STATES;

/// The worst of the caller states a call's timeline holds.
const WORST_STATE: &str = "(SELECT json_extract(e.body, '$.state') FROM call_events e
     WHERE e.call_id = c.id AND e.type = 'caller_state_changed'
     ORDER BY CASE json_extract(e.body, '$.state') WHEN 'angry' THEN 0 WHEN 'frustrated' THEN 1
       WHEN 'confused' THEN 2 ELSE 3 END LIMIT 1)";

impl Store {
    /// Finished calls matching `q`, newest first.
    pub fn search_calls(&self, q: &HistoryQuery) -> Result<Vec<Found>, StoreError> {
        let mut conds = vec!["c.ended_at IS NOT NULL".to_string()];
        let mut args: Vec<Sql> = Vec::new();
        let mut arg = |conds: &mut Vec<String>, sql: &str, v: Sql| {
            args.push(v);
            conds.push(sql.replace('?', &format!("?{}", args.len())));
        };
        let text = |s: &Option<String>| s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
        if let Some(c) = text(&q.customer) {
            match c.parse::<i64>() {
                Ok(id) => arg(&mut conds, "c.customer_id = ?", Sql::Integer(id)),
                Err(_) => arg(&mut conds, "cu.name LIKE ?", Sql::Text(format!("%{c}%"))),
            }
        }
        if let Some(n) = text(&q.number) {
            arg(&mut conds, "c.caller LIKE ?", Sql::Text(format!("%{n}%")));
        }
        if let Some(f) = text(&q.from) {
            arg(&mut conds, "c.started_at >= ?", Sql::Text(f));
        }
        if let Some(t) = text(&q.to) {
            arg(&mut conds, "c.started_at < ?", Sql::Text(t));
        }
        if let Some(o) = text(&q.outcome) {
            arg(&mut conds, "c.outcome LIKE ?", Sql::Text(format!("{o}%")));
        }
        if let Some(l) = text(&q.language) {
            arg(&mut conds, "c.language = ?", Sql::Text(l));
        }
        if let Some(a) = text(&q.agent) {
            arg(&mut conds, "c.agent = ?", Sql::Text(a));
        }
        if let Some(s) = text(&q.state) {
            if !STATES.contains(&s.as_str()) {
                return Err(StoreError::Invalid(format!("state must be one of {}, not {s:?}", STATES.join(", "))));
            }
            arg(
                &mut conds,
                "EXISTS (SELECT 1 FROM call_events e WHERE e.call_id = c.id AND e.type = 'caller_state_changed'
                   AND json_extract(e.body, '$.state') = ?)",
                Sql::Text(s),
            );
        }
        let limit = q.limit.unwrap_or(100).clamp(1, 500);
        let sql = format!(
            "{CALL_SELECT_C}, cu.name, {WORST_STATE}, c.purged_at IS NOT NULL FROM calls c
             LEFT JOIN customers cu ON cu.id = c.customer_id
             WHERE {} ORDER BY c.started_at DESC, c.id LIMIT {limit}",
            conds.join(" AND ")
        );
        let conn = self.lock();
        let rows = conn
            .prepare(&sql)?
            .query_map(rusqlite::params_from_iter(args), |r| {
                Ok(Found {
                    call: super::calls::call_row(r)?.into(),
                    customer_name: r.get(14)?,
                    worst_state: r.get(15)?,
                    purged: r.get(16)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// Retention: delete the transcripts of calls that ended before `cutoff` (RFC 3339) and
    /// mark them purged; returns their ids (whose recording files the caller deletes).
    pub fn purge_before(&self, cutoff: &str) -> Result<Vec<String>, StoreError> {
        let now = super::now_rfc3339();
        self.transaction(|tx| {
            let ids: Vec<String> = tx
                .prepare("SELECT id FROM calls WHERE ended_at IS NOT NULL AND ended_at < ?1 AND purged_at IS NULL")?
                .query_map([cutoff], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            for id in &ids {
                tx.execute("DELETE FROM call_turns WHERE call_id = ?1", [id])?;
                tx.execute("UPDATE calls SET purged_at = ?2 WHERE id = ?1", [id, &now])?;
            }
            Ok(ids)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::calls::CallWrite;

    fn q() -> HistoryQuery {
        HistoryQuery::default()
    }

    #[test]
    fn every_filter_narrows_the_finished_calls() {
        let s = Store::open_in_memory().unwrap();
        crate::store::demo::seed(&s, 6, chrono::NaiveDate::from_ymd_opt(2026, 12, 5).unwrap()).unwrap();
        let john = s.customer_by_phone("+15550100").unwrap().unwrap();
        let call = |id: &str, caller: &str, at: &str, customer: Option<i64>, agent: Option<&str>, state: &str| {
            vec![
                CallWrite::Started {
                    id: id.into(),
                    caller: caller.into(),
                    transport: "sip".into(),
                    assisted: true,
                    started_at: at.into(),
                },
                CallWrite::Changed {
                    id: id.into(),
                    state: "active".into(),
                    agent: agent.map(String::from),
                    dtmf: String::new(),
                    language: Some(if caller.starts_with("+46") { "sv" } else { "en" }.into()),
                    customer_id: customer,
                },
                CallWrite::Event {
                    id: id.into(),
                    at: at.into(),
                    kind: "caller_state_changed".into(),
                    body: format!(r#"{{"type":"caller_state_changed","state":"{state}","at_ms":1000}}"#),
                },
                CallWrite::Ended { id: id.into(), ended_at: at.into(), reason: "hangup".into() },
                CallWrite::Outcome {
                    id: id.into(),
                    outcome: if agent.is_some() { "escalated: caller_upset" } else { "resolved" }.into(),
                },
            ]
        };
        let mut w = call("c-1", "+15550100", "2026-12-01T10:00:00.000Z", Some(john.id), None, "calm");
        w.extend(call("c-2", "+46701234567", "2026-12-03T10:00:00.000Z", None, Some("priya"), "angry"));
        w.extend(call("c-3", "+15550199", "2026-12-04T10:00:00.000Z", None, None, "frustrated"));
        // Still live: never in the history.
        w.push(CallWrite::Started {
            id: "c-4".into(),
            caller: "+15550100".into(),
            transport: "sip".into(),
            assisted: true,
            started_at: "2026-12-04T11:00:00.000Z".into(),
        });
        s.write_calls(&w).unwrap();
        let ids =
            |q: HistoryQuery| -> Vec<String> { s.search_calls(&q).unwrap().into_iter().map(|f| f.call.id).collect() };
        assert_eq!(ids(q()), ["c-3", "c-2", "c-1"]);
        assert_eq!(ids(HistoryQuery { customer: Some(john.id.to_string()), ..q() }), ["c-1"]);
        let name = john.name.split(' ').next().unwrap().to_string();
        assert_eq!(ids(HistoryQuery { customer: Some(name), ..q() }), ["c-1"]);
        assert_eq!(ids(HistoryQuery { number: Some("555019".into()), ..q() }), ["c-3"]);
        assert_eq!(
            ids(HistoryQuery { from: Some("2026-12-02".into()), to: Some("2026-12-04".into()), ..q() }),
            ["c-2"]
        );
        assert_eq!(ids(HistoryQuery { outcome: Some("escalated".into()), ..q() }), ["c-2"]);
        assert_eq!(ids(HistoryQuery { language: Some("sv".into()), ..q() }), ["c-2"]);
        assert_eq!(ids(HistoryQuery { agent: Some("priya".into()), ..q() }), ["c-2"]);
        assert_eq!(ids(HistoryQuery { state: Some("frustrated".into()), ..q() }), ["c-3"]);
        assert_eq!(ids(HistoryQuery { limit: Some(1), ..q() }), ["c-3"]);
        let found = s.search_calls(&q()).unwrap();
        assert_eq!(found[1].worst_state.as_deref(), Some("angry"));
        assert_eq!(found[2].customer_name.as_deref(), Some(john.name.as_str()));
        assert!(matches!(
            s.search_calls(&HistoryQuery { state: Some("furious".into()), ..q() }),
            Err(StoreError::Invalid(_))
        ));
    }
}
