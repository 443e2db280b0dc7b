//! The centre's numbers over a period, from stored calls (`GET /api/stats`): each finished
//! call's timeline replayed through the same tally as the live metrics (`follow.rs`), then
//! summed up with the standard contact-centre definitions:
//!
//! - calls offered: calls that started in the period and have ended;
//! - containment: `ai_resolved` / offered;
//! - resolution time (AI): length of `ai_resolved` calls; handle time (humans): a person's time
//!   on `agent_handled` calls (first person joining -> end); median and p90;
//! - average speed of answer: mean wait for a person of the calls a person answered;
//! - service level: queued calls answered within Y s / (answered + abandoned after Y s) (short
//!   abandons excluded; Y = `[routing] service_level_s`, target `service_level_target`);
//! - abandonment rate: calls that gave up in the queue / calls queued;
//! - transfer rate: transferred / `agent_handled`;
//! - first-contact resolution: resolved calls (`ai_resolved`, `agent_handled`) of identified
//!   customers with no further call from the same customer within N days (default 7) / all
//!   such resolved calls;
//! - language and caller-state mix: each call's last detected language and assessed state;
//! - per hour: calls offered and `ai_resolved` by the hour they started (UTC).

use std::collections::BTreeMap;

use serde::Serialize;

use super::follow::CallSummary;

/// What the definitions need from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct StatsConfig {
    pub service_level_s: u64,
    pub service_level_target: f64,
    pub fcr_days: u64,
}

/// Median and 90th percentile of a set of durations, with how many there were.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Spread {
    pub n: usize,
    pub median_s: Option<f64>,
    pub p90_s: Option<f64>,
}

fn spread(mut v: Vec<f64>) -> Spread {
    v.sort_by(f64::total_cmp);
    let at = |p: f64| (!v.is_empty()).then(|| v[((v.len() - 1) as f64 * p).round() as usize]);
    Spread { n: v.len(), median_s: at(0.5), p90_s: at(0.9) }
}

fn share(a: usize, b: usize) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

/// One hour's calls.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hour {
    /// `2026-12-05T14:00:00Z`
    pub hour: String,
    pub calls: usize,
    pub ai_resolved: usize,
}

/// The numbers of a period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stats {
    pub calls_offered: usize,
    pub outcomes: BTreeMap<&'static str, usize>,
    pub containment: Option<f64>,
    pub escalations: BTreeMap<String, usize>,
    pub ai_resolution: Spread,
    pub human_handle: Spread,
    pub average_speed_of_answer_s: Option<f64>,
    pub queued: usize,
    pub answered_in_time: usize,
    pub service_level: Option<f64>,
    pub service_level_s: u64,
    pub service_level_target: f64,
    pub abandonment_rate: Option<f64>,
    pub transfer_rate: Option<f64>,
    pub first_contact_resolution: Option<f64>,
    /// Resolved calls of identified customers the first-contact resolution rests on.
    pub fcr_calls: usize,
    pub fcr_days: u64,
    pub languages: BTreeMap<String, usize>,
    pub caller_states: BTreeMap<String, usize>,
    pub per_hour: Vec<Hour>,
    /// Only calls that waited in this queue (skill), when the period was asked for one.
    pub queue: Option<String>,
    /// Calls that waited for a person, by queue.
    pub queues: BTreeMap<String, usize>,
    /// Agents' handle and wrap-up time / their staffed time (available, on a call or wrapping
    /// up) in the period, over all queues; with the staffed time it rests on.
    pub agent_occupancy: Option<f64>,
    pub staffed_s: f64,
    /// The AI's decisions people reviewed on the period's calls: right / reviewed, overall and
    /// by kind of decision.
    pub ai_accuracy: Option<f64>,
    pub reviews: BTreeMap<String, Reviewed>,
}

/// Verdicts on one kind of decision.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Reviewed {
    pub right: usize,
    pub reviewed: usize,
}

/// Staffed time and wrap-up time (seconds) in `[from_ms, to_ms)` from a presence log
/// (agent, presence, at RFC 3339; each agent's state before the period first).
pub fn staffing(log: &[(String, String, String)], from_ms: u64, to_ms: u64) -> (f64, f64) {
    let mut by_agent: BTreeMap<&str, Vec<(u64, &str)>> = BTreeMap::new();
    for (agent, presence, at) in log {
        by_agent.entry(agent).or_default().push((crate::store::stored_ms(at), presence));
    }
    let (mut staffed, mut wrap) = (0u64, 0u64);
    for changes in by_agent.values_mut() {
        changes.sort_by_key(|c| c.0);
        for (i, (at, presence)) in changes.iter().enumerate() {
            let until = changes.get(i + 1).map(|c| c.0).unwrap_or(to_ms).min(to_ms);
            let span = until.saturating_sub((*at).max(from_ms));
            if matches!(*presence, "available" | "on_call" | "wrap_up") {
                staffed += span;
            }
            if *presence == "wrap_up" {
                wrap += span;
            }
        }
    }
    (staffed as f64 / 1000.0, wrap as f64 / 1000.0)
}

/// A call's customer (when identified on the call) and when it started, ms since the epoch.
pub type Contact = (String, i64, u64);

/// Sum up `calls` (summaries of the period's calls). `contacts`: every identified customer's
/// calls from the period's start to N days past its end (for the first-contact resolution).
pub fn summarize(calls: &[CallSummary], contacts: &[Contact], cfg: StatsConfig) -> Stats {
    let mut outcomes: BTreeMap<&'static str, usize> = BTreeMap::new();
    for o in ["ai_resolved", "agent_handled", "abandoned_in_queue", "abandoned_with_ai", "callback_requested"] {
        outcomes.insert(o, 0);
    }
    let (mut escalations, mut languages, mut caller_states) = (BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
    let mut hours: BTreeMap<u64, (usize, usize)> = BTreeMap::new();
    let (mut ai, mut human, mut waits) = (Vec::new(), Vec::new(), Vec::new());
    let (mut queued, mut in_time, mut late_abandons, mut abandoned, mut transferred) = (0, 0, 0, 0, 0);
    let y = cfg.service_level_s as f64;
    for c in calls {
        *outcomes.entry(c.outcome).or_default() += 1;
        if let Some(r) = &c.escalation {
            *escalations.entry(r.clone()).or_default() += 1;
        }
        *languages.entry(c.language.clone().unwrap_or_else(|| "unknown".into())).or_default() += 1;
        *caller_states.entry(c.caller_state.clone().unwrap_or_else(|| "unknown".into())).or_default() += 1;
        let h = hours.entry(c.started_ms / 3_600_000).or_default();
        h.0 += 1;
        match c.outcome {
            "ai_resolved" => {
                ai.push(c.duration_s());
                h.1 += 1;
            }
            "agent_handled" => {
                human.push(c.handle_s.unwrap_or(0.0));
                transferred += c.transferred as usize;
            }
            _ => {}
        }
        if c.answer_wait_s.is_some() || c.abandoned_wait_s.is_some() {
            queued += 1;
        }
        if let Some(w) = c.answer_wait_s {
            waits.push(w);
            in_time += (w <= y) as usize;
        }
        if let Some(w) = c.abandoned_wait_s.filter(|_| c.outcome == "abandoned_in_queue") {
            abandoned += 1;
            late_abandons += (w > y) as usize;
        }
    }
    // First-contact resolution: resolved calls with no further call within N days.
    let resolved: std::collections::HashSet<&str> = calls
        .iter()
        .filter(|c| matches!(c.outcome, "ai_resolved" | "agent_handled"))
        .map(|c| c.call_id.as_str())
        .collect();
    let window = cfg.fcr_days * 24 * 3_600_000;
    let mut fcr = (0, 0);
    for (call, customer, at) in contacts.iter().filter(|(call, _, _)| resolved.contains(call.as_str())) {
        fcr.1 += 1;
        let again = contacts
            .iter()
            .any(|(c2, cust2, at2)| c2 != call && cust2 == customer && *at2 > *at && *at2 - *at <= window);
        fcr.0 += !again as usize;
    }
    let offered = calls.len();
    let hour = |h: u64| {
        chrono::DateTime::from_timestamp((h * 3600) as i64, 0)
            .map(|t| t.format("%Y-%m-%dT%H:00:00Z").to_string())
            .unwrap_or_default()
    };
    Stats {
        calls_offered: offered,
        containment: share(outcomes["ai_resolved"], offered),
        escalations,
        ai_resolution: spread(ai),
        human_handle: spread(human),
        average_speed_of_answer_s: (!waits.is_empty()).then(|| waits.iter().sum::<f64>() / waits.len() as f64),
        queued,
        answered_in_time: in_time,
        service_level: crate::routing::board::service_level((waits.len(), in_time, late_abandons)),
        service_level_s: cfg.service_level_s,
        service_level_target: cfg.service_level_target,
        abandonment_rate: share(abandoned, queued),
        transfer_rate: share(transferred, outcomes["agent_handled"]),
        first_contact_resolution: share(fcr.0, fcr.1),
        fcr_calls: fcr.1,
        fcr_days: cfg.fcr_days,
        languages,
        caller_states,
        per_hour: hours.into_iter().map(|(h, (calls, ai))| Hour { hour: hour(h), calls, ai_resolved: ai }).collect(),
        queues: calls.iter().filter_map(|c| c.queue.clone()).fold(BTreeMap::new(), |mut m, q| {
            *m.entry(q).or_default() += 1;
            m
        }),
        outcomes,
        queue: None,
        agent_occupancy: None,
        staffed_s: 0.0,
        ai_accuracy: None,
        reviews: BTreeMap::new(),
    }
}

/// A period's bound: `2026-12-05` (midnight UTC) or an RFC 3339 time.
pub fn parse_instant(s: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0).expect("midnight").and_utc());
    }
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.to_utc())
        .map_err(|_| format!("{s:?}: use a date (2026-12-05) or an RFC 3339 time"))
}

/// The numbers of calls that started in `[from, to)` (RFC 3339, UTC) in `store`: each stored
/// timeline replayed through the live metrics' tally, then summed up.
/// With `queue`, only the calls that waited in that queue count (agent occupancy is over all).
pub fn from_store(
    store: &crate::store::Store,
    from: &str,
    to: &str,
    cfg: StatsConfig,
    queue: Option<&str>,
) -> Result<Stats, crate::store::StoreError> {
    use crate::store::stored_ms as ms;
    let mut tally = super::follow::Tally::default();
    let mut all = Vec::new();
    for (_, events) in store.call_timelines(from, to)? {
        for e in events {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(&e.body) else { continue };
            all.extend(tally.event(ms(&e.at), &v));
        }
    }
    // Agent occupancy, over every call: handle time plus wrap-up over staffed time.
    let end = ms(to).min(ms(&crate::store::now_rfc3339()));
    let (staffed_s, wrap_s) = staffing(&store.presence_log(from, to)?, ms(from), end);
    let handled_s: f64 = all.iter().filter_map(|c| c.handle_s).sum();
    let occupancy = (staffed_s > 0.0).then(|| ((handled_s + wrap_s) / staffed_s).min(1.0));
    // The AI's accuracy from reviews (of the calls counted).
    let calls: Vec<CallSummary> = match queue {
        Some(q) => all.into_iter().filter(|c| c.queue.as_deref() == Some(q)).collect(),
        None => all,
    };
    let ids: std::collections::HashSet<&str> = calls.iter().map(|c| c.call_id.as_str()).collect();
    let mut reviews: BTreeMap<String, Reviewed> = BTreeMap::new();
    for (call, kind, verdict) in store.review_verdicts(from, to)? {
        if ids.contains(call.as_str()) {
            let r = reviews.entry(kind).or_default();
            r.reviewed += 1;
            r.right += usize::from(verdict == "right");
        }
    }
    let until = chrono::DateTime::parse_from_rfc3339(to)
        .map(|t| crate::store::rfc3339((t + chrono::Duration::days(cfg.fcr_days as i64)).to_utc()))
        .unwrap_or_else(|_| to.to_string());
    let contacts: Vec<Contact> =
        store.customer_calls(from, &until)?.into_iter().map(|(id, c, at)| (id, c, ms(&at))).collect();
    let mut stats = summarize(&calls, &contacts, cfg);
    let (right, reviewed) = reviews.values().fold((0, 0), |(a, b), r| (a + r.right, b + r.reviewed));
    stats.ai_accuracy = share(right, reviewed);
    stats.reviews = reviews;
    stats.queue = queue.map(str::to_string);
    stats.agent_occupancy = occupancy;
    stats.staffed_s = staffed_s;
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A whole hour (2025-12-05 02:00 UTC), so the buckets below start on it.
    const H: u64 = 1_764_900_000_000;

    fn call(id: &str, outcome: &'static str, start_s: u64, end_s: u64) -> CallSummary {
        CallSummary {
            call_id: id.into(),
            transport: "sip".into(),
            started_ms: H + start_s * 1000,
            ended_ms: H + end_s * 1000,
            outcome,
            escalation: None,
            answer_wait_s: None,
            abandoned_wait_s: None,
            handle_s: None,
            transferred: false,
            language: Some("en".into()),
            caller_state: Some("calm".into()),
            queue: None,
        }
    }

    #[test]
    fn the_standard_definitions_by_hand() {
        let cfg = StatsConfig { service_level_s: 20, service_level_target: 0.8, fcr_days: 7 };
        let mut calls = vec![
            call("a1", "ai_resolved", 0, 60),
            call("a2", "ai_resolved", 10, 130),
            call("a3", "ai_resolved", 3700, 3790),
            call("x1", "abandoned_with_ai", 20, 30),
        ];
        let mut h1 = call("h1", "agent_handled", 0, 400);
        (h1.answer_wait_s, h1.handle_s, h1.escalation) = (Some(10.0), Some(300.0), Some("asked_for_person".into()));
        let mut h2 = call("h2", "agent_handled", 0, 700);
        (h2.answer_wait_s, h2.handle_s, h2.transferred) = (Some(50.0), Some(600.0), true);
        h2.language = Some("de".into());
        let mut q1 = call("q1", "abandoned_in_queue", 0, 100);
        q1.abandoned_wait_s = Some(90.0);
        let mut q2 = call("q2", "abandoned_in_queue", 0, 10);
        (q2.abandoned_wait_s, q2.caller_state) = (Some(5.0), Some("angry".into()));
        calls.extend([h1, h2, q1, q2]);
        // Customer 1 called again two days after a1; customer 2 (h1) did not.
        let day = 24 * 3_600_000;
        let contacts = vec![
            ("a1".to_string(), 1, H),
            ("later".to_string(), 1, H + 2 * day),
            ("h1".to_string(), 2, H),
            ("a3".to_string(), 3, H + 3_700_000),
            ("much-later".to_string(), 3, H + 3_700_000 + 8 * day),
        ];
        let s = summarize(&calls, &contacts, cfg);
        assert_eq!(s.calls_offered, 8);
        assert_eq!(s.outcomes["ai_resolved"], 3);
        assert_eq!(s.containment, Some(3.0 / 8.0));
        assert_eq!(s.ai_resolution, Spread { n: 3, median_s: Some(90.0), p90_s: Some(120.0) });
        assert_eq!(s.human_handle, Spread { n: 2, median_s: Some(600.0), p90_s: Some(600.0) });
        assert_eq!(s.average_speed_of_answer_s, Some(30.0));
        // Queued 4; answered in time 1 (h1); answered late 1 (h2); abandoned after 20 s 1 (q1);
        // q2 gave up within 5 s: not counted. 1 / (2 + 1).
        assert_eq!((s.queued, s.answered_in_time, s.service_level), (4, 1, Some(1.0 / 3.0)));
        assert_eq!(s.abandonment_rate, Some(2.0 / 4.0));
        assert_eq!(s.transfer_rate, Some(0.5));
        // a1 repeated within 7 days; h1 and a3 (the next call 8 days on) did not: 2 of 3.
        assert_eq!((s.first_contact_resolution, s.fcr_calls), (Some(2.0 / 3.0), 3));
        assert_eq!(s.escalations["asked_for_person"], 1);
        assert_eq!((s.languages["en"], s.languages["de"]), (7, 1));
        assert_eq!(s.caller_states["angry"], 1);
        assert_eq!(s.per_hour.len(), 2);
        assert_eq!((s.per_hour[0].calls, s.per_hour[0].ai_resolved, s.per_hour[1].ai_resolved), (7, 2, 1));
        assert!(s.per_hour[0].hour.ends_with(":00:00Z"));
    }

    #[test]
    fn nothing_to_count_gives_no_rates() {
        let s = summarize(&[], &[], StatsConfig { service_level_s: 20, service_level_target: 0.8, fcr_days: 7 });
        assert_eq!(
            (s.calls_offered, s.containment, s.service_level, s.first_contact_resolution),
            (0, None, None, None)
        );
        assert_eq!(s.ai_resolution, Spread { n: 0, median_s: None, p90_s: None });
    }

    #[test]
    fn staffed_time_is_clipped_to_the_period_and_wrap_up_counted() {
        let row = |a: &str, p: &str, at: &str| (a.to_string(), p.to_string(), format!("2026-12-05T{at}.000Z"));
        let log = [
            row("priya", "available", "07:30:00"), // before the period: available from its start
            row("priya", "on_call", "08:10:00"),
            row("priya", "wrap_up", "08:20:00"),
            row("priya", "away", "08:25:00"),
            row("james", "available", "08:50:00"), // till the end
            row("anna", "offline", "07:00:00"),
        ];
        let ms = |t: &str| crate::store::stored_ms(&format!("2026-12-05T{t}.000Z"));
        let (staffed, wrap) = staffing(&log, ms("08:00:00"), ms("09:00:00"));
        assert_eq!((staffed, wrap), (25.0 * 60.0 + 10.0 * 60.0, 5.0 * 60.0));
    }
}
