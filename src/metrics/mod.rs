//! The server's numbers for Prometheus (`GET /metrics`, text exposition format 0.0.4):
//! counters and histograms named by Prometheus conventions (`switchboard_` prefix, base units,
//! `_total` for counters), labelled only by small fixed sets (transport, outcome, reason,
//! rule), never by call. What calls do comes from the event bus (`follow.rs`); the pipeline's
//! health (inference pool, journal, media) is read when scraped.
//!
//! Outcome of a call (`switchboard_calls_ended_total{outcome}`), decided when it ends:
//! - `callback_requested`: the caller asked to be called back or left a message;
//! - `agent_handled`: a person (an agent or a supervisor taking over) was on the call;
//! - `abandoned_in_queue`: the caller hung up while waiting for a person;
//! - `ai_resolved`: the assistant served a request (a tool that serves the caller succeeded)
//!   and nobody else was needed (containment);
//! - `abandoned_with_ai`: the call ended with the assistant and nothing served.

pub mod follow;
pub mod stats;

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// A histogram with fixed upper bounds (seconds), cumulative when rendered.
#[derive(Debug)]
pub struct Histogram {
    bounds: &'static [f64],
    counts: Vec<AtomicU64>,
    /// Sum of observations in microseconds.
    sum_us: AtomicU64,
    count: AtomicU64,
}

/// End of speech -> final transcript, assistant reply: 50 ms to 10 s.
pub const LATENCY_BUCKETS: &[f64] = &[0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0];
/// Call and queue durations: 5 s to 1 h.
pub const DURATION_BUCKETS: &[f64] = &[5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 1800.0, 3600.0];

impl Histogram {
    pub fn new(bounds: &'static [f64]) -> Self {
        Self {
            bounds,
            counts: bounds.iter().map(|_| AtomicU64::new(0)).collect(),
            sum_us: AtomicU64::new(0),
            count: AtomicU64::new(0),
        }
    }

    pub fn observe(&self, secs: f64) {
        let secs = if secs.is_finite() { secs.max(0.0) } else { 0.0 };
        if let Some(i) = self.bounds.iter().position(|b| secs <= *b) {
            self.counts[i].fetch_add(1, Ordering::Relaxed);
        }
        self.sum_us.fetch_add((secs * 1e6) as u64, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let mut cumulative = 0;
        let sep = if labels.is_empty() { "" } else { "," };
        for (b, c) in self.bounds.iter().zip(&self.counts) {
            cumulative += c.load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{b}\"}} {cumulative}");
        }
        let count = self.count();
        let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {count}");
        let braces = if labels.is_empty() { String::new() } else { format!("{{{labels}}}") };
        let sum = self.sum_us.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum{braces} {sum}");
        let _ = writeln!(out, "{name}_count{braces} {count}");
    }
}

/// Counters by one label's value (a small, fixed set of values).
#[derive(Debug, Default)]
pub struct Labelled(Mutex<BTreeMap<String, u64>>);

impl Labelled {
    pub fn inc(&self, value: &str) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()).entry(value.to_string()).or_default() += 1;
    }

    pub fn get(&self, value: &str) -> u64 {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).get(value).copied().unwrap_or(0)
    }

    fn snapshot(&self) -> Vec<(String, u64)> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).iter().map(|(k, v)| (k.clone(), *v)).collect()
    }
}

/// Everything counted from the calls' events.
#[derive(Debug)]
pub struct CallMetrics {
    pub started: Labelled,
    pub ended: Labelled,
    pub escalations: Labelled,
    pub alerts: Labelled,
    /// Calls refused: `at_capacity`, `overloaded`, `shutting_down`, `rate_limited`, `pipeline`.
    pub refused: Labelled,
    /// Calls answered untranscribed while the lines were full, by `[calls.overflow]` action.
    pub overflowed: Labelled,
    pub transfers: AtomicU64,
    pub turns: AtomicU64,
    /// End of the caller's speech -> final transcript.
    pub final_latency: Histogram,
    /// End of the caller's turn -> the assistant's reply decided.
    pub reply_latency: Histogram,
    /// Whole calls the assistant resolved alone (resolution time, AI).
    pub ai_resolution: Histogram,
    /// A person's part of the calls they handled (handle time, humans).
    pub human_handle: Histogram,
    /// Waiting for a person -> a person on the line (speed of answer).
    pub answer_wait: Histogram,
    /// Media frames dropped because a call's queue was full.
    pub dropped_frames: AtomicU64,
    /// Events the follower missed because it fell behind (the numbers are short by them).
    pub missed_events: AtomicU64,
}

impl Default for CallMetrics {
    fn default() -> Self {
        Self {
            started: Labelled::default(),
            ended: Labelled::default(),
            escalations: Labelled::default(),
            alerts: Labelled::default(),
            refused: Labelled::default(),
            overflowed: Labelled::default(),
            transfers: AtomicU64::new(0),
            turns: AtomicU64::new(0),
            final_latency: Histogram::new(LATENCY_BUCKETS),
            reply_latency: Histogram::new(LATENCY_BUCKETS),
            ai_resolution: Histogram::new(DURATION_BUCKETS),
            human_handle: Histogram::new(DURATION_BUCKETS),
            answer_wait: Histogram::new(DURATION_BUCKETS),
            dropped_frames: AtomicU64::new(0),
            missed_events: AtomicU64::new(0),
        }
    }
}

/// The process's call metrics (one server per process).
pub fn calls() -> &'static CallMetrics {
    static M: std::sync::OnceLock<CallMetrics> = std::sync::OnceLock::new();
    M.get_or_init(CallMetrics::default)
}

/// Live values read at scrape time.
#[derive(Debug, Default, Clone)]
pub struct Gauges {
    pub active_calls: usize,
    pub legs: usize,
    pub pool_workers: usize,
    pub pool_queued: usize,
    pub pool_running: usize,
    pub pool_completed: u64,
    pub oldest_final_wait_s: f64,
    pub journal_dropped: u64,
    pub agents_available: usize,
    pub queue_waiting: usize,
    pub max_calls: usize,
    pub overflow_calls: usize,
    pub overflow_max: usize,
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn labelled(out: &mut String, name: &str, label: &str, help: &str, c: &Labelled) {
    labelled_values(out, name, label, help, c.snapshot());
}

/// A counter family with one label, from its (value, count) pairs.
fn labelled_values<V: AsRef<str>>(
    out: &mut String,
    name: &str,
    label: &str,
    help: &str,
    values: impl IntoIterator<Item = (V, u64)>,
) {
    family(out, name, "counter", help);
    for (v, n) in values {
        let _ = writeln!(out, "{name}{{{label}=\"{}\"}} {n}", escape(v.as_ref()));
    }
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// The whole exposition.
pub fn render(m: &CallMetrics, g: &Gauges) -> String {
    let mut out = String::with_capacity(8 * 1024);
    labelled(&mut out, "switchboard_calls_started_total", "transport", "Calls answered, by transport.", &m.started);
    labelled(
        &mut out,
        "switchboard_calls_ended_total",
        "outcome",
        "Calls ended, by outcome (ai_resolved, agent_handled, abandoned_in_queue, abandoned_with_ai, callback_requested).",
        &m.ended,
    );
    labelled(
        &mut out,
        "switchboard_escalations_total",
        "reason",
        "Calls the assistant handed to a person, by reason.",
        &m.escalations,
    );
    labelled(&mut out, "switchboard_alerts_total", "rule", "Alerts raised for supervisors, by rule.", &m.alerts);
    let counters: [(&str, &str, u64); 5] = [
        (
            "switchboard_transfers_total",
            "Calls an agent transferred or a supervisor handed on.",
            m.transfers.load(Ordering::Relaxed),
        ),
        (
            "switchboard_caller_turns_total",
            "Finished turns of callers (final transcripts).",
            m.turns.load(Ordering::Relaxed),
        ),
        (
            "switchboard_media_frames_dropped_total",
            "Caller audio frames dropped because the call's queue was full.",
            m.dropped_frames.load(Ordering::Relaxed),
        ),
        (
            "switchboard_metrics_events_missed_total",
            "Events the metrics missed by falling behind the event bus.",
            m.missed_events.load(Ordering::Relaxed),
        ),
        (
            "switchboard_journal_writes_dropped_total",
            "Call record writes dropped (database not keeping up).",
            g.journal_dropped,
        ),
    ];
    for (name, help, v) in counters {
        family(&mut out, name, "counter", help);
        let _ = writeln!(out, "{name} {v}");
    }
    family(&mut out, "switchboard_inference_jobs_total", "counter", "Inference jobs the pool finished.");
    let _ = writeln!(out, "switchboard_inference_jobs_total {}", g.pool_completed);
    family(
        &mut out,
        "switchboard_inference_partials_shed_total",
        "counter",
        "Partial decodes skipped because the inference pool had a backlog (finals are never skipped).",
    );
    let shed = crate::pipeline::stream::PARTIALS_SHED.load(std::sync::atomic::Ordering::Relaxed);
    let _ = writeln!(out, "switchboard_inference_partials_shed_total {shed}");
    labelled_values(
        &mut out,
        "switchboard_speculative_decodes_total",
        "outcome",
        "Turns decoded ahead at a short pause (silence turn mode), by outcome: started, used as the final, shed under load.",
        crate::pipeline::stream::SPECULATIVE.snapshot(),
    );
    labelled_values(
        &mut out,
        "switchboard_answer_rereads_total",
        "outcome",
        "Answers the assistant asked for (a date of birth, a PIN, an order number) re-read held to their form, by outcome: agreed with the free decode, disagreed (checked with the caller), not_whole (the free decode stands).",
        crate::pipeline::asr::form::REREADS.snapshot(),
    );
    labelled(&mut out, "switchboard_calls_refused_total", "reason", "Calls refused, by reason.", &m.refused);
    labelled(
        &mut out,
        "switchboard_calls_overflowed_total",
        "action",
        "Calls answered untranscribed while the lines were full, by action (queue, callback).",
        &m.overflowed,
    );
    let histograms: [(&str, &str, &Histogram); 5] = [
        ("switchboard_final_latency_seconds", "End of the caller's speech to the final transcript.", &m.final_latency),
        ("switchboard_reply_latency_seconds", "End of the caller's turn to the assistant's reply.", &m.reply_latency),
        ("switchboard_ai_resolution_seconds", "Length of calls the assistant resolved alone.", &m.ai_resolution),
        ("switchboard_human_handle_seconds", "A person's time on the calls they handled.", &m.human_handle),
        ("switchboard_answer_wait_seconds", "Waiting for a person until one is on the line.", &m.answer_wait),
    ];
    for (name, help, h) in histograms {
        family(&mut out, name, "histogram", help);
        h.render(&mut out, name, "");
    }
    let gauges: [(&str, &str, f64); 11] = [
        ("switchboard_active_calls", "Calls in progress.", g.active_calls as f64),
        ("switchboard_max_calls", "Transcribed calls the server takes at once (calls.max_calls).", g.max_calls as f64),
        (
            "switchboard_overflow_calls",
            "Calls in progress that came in while the lines were full (not transcribed).",
            g.overflow_calls as f64,
        ),
        ("switchboard_overflow_max_calls", "Most such calls at once.", g.overflow_max as f64),
        ("switchboard_active_legs", "Legs on live calls (caller, assistant, agents, supervisors).", g.legs as f64),
        ("switchboard_inference_workers", "Inference pool workers.", g.pool_workers as f64),
        ("switchboard_inference_queue_length", "Inference jobs waiting for a worker.", g.pool_queued as f64),
        ("switchboard_inference_running", "Inference jobs running.", g.pool_running as f64),
        (
            "switchboard_inference_oldest_final_wait_seconds",
            "How long the oldest queued final has waited.",
            g.oldest_final_wait_s,
        ),
        ("switchboard_agents_available", "Agents available for calls.", g.agents_available as f64),
        ("switchboard_queue_waiting_calls", "Calls waiting for a person.", g.queue_waiting as f64),
    ];
    for (name, help, v) in gauges {
        family(&mut out, name, "gauge", help);
        let _ = writeln!(out, "{name} {v}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_are_cumulative_with_sum_and_count() {
        let h = Histogram::new(&[0.1, 1.0]);
        for s in [0.05, 0.5, 0.7, 3.0, f64::NAN] {
            h.observe(s);
        }
        let mut out = String::new();
        h.render(&mut out, "x_seconds", "");
        assert_eq!(
            out,
            "x_seconds_bucket{le=\"0.1\"} 2\nx_seconds_bucket{le=\"1\"} 4\nx_seconds_bucket{le=\"+Inf\"} 5\n\
             x_seconds_sum 4.25\nx_seconds_count 5\n"
        );
    }

    #[test]
    fn the_exposition_names_every_family_once_with_help_and_type() {
        let m = CallMetrics::default();
        m.started.inc("sip");
        m.ended.inc("ai_resolved");
        m.escalations.inc("asked \"person\"");
        let text = render(&m, &Gauges { active_calls: 3, ..Gauges::default() });
        assert!(text.contains("switchboard_calls_started_total{transport=\"sip\"} 1\n"));
        assert!(text.contains("switchboard_escalations_total{reason=\"asked \\\"person\\\"\"} 1\n"));
        assert!(text.contains("switchboard_active_calls 3\n"));
        let types: Vec<&str> = text.lines().filter(|l| l.starts_with("# TYPE ")).collect();
        let mut names: Vec<&str> = types.iter().map(|l| l.split(' ').nth(2).unwrap()).collect();
        let n = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), n, "a family twice");
        assert!(names.iter().all(|n| n.starts_with("switchboard_")));
        for l in text.lines().filter(|l| !l.starts_with('#')) {
            let name = l.split(['{', ' ']).next().unwrap();
            let family = name.trim_end_matches("_bucket").trim_end_matches("_sum").trim_end_matches("_count");
            assert!(names.contains(&family) || names.contains(&name), "{l} has no TYPE");
        }
    }

    #[test]
    fn the_grafana_dashboard_asks_only_for_metrics_we_export() {
        let text = render(&CallMetrics::default(), &Gauges::default());
        let dashboard = include_str!("../../docs/grafana-dashboard.json");
        let mut asked = 0;
        for (i, _) in dashboard.match_indices("switchboard_") {
            let name: String = dashboard[i..]
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_' || c.is_ascii_digit())
                .collect();
            let family = name.trim_end_matches("_bucket");
            if family == "switchboard_" {
                continue;
            }
            asked += 1;
            assert!(text.contains(&format!("# TYPE {family} ")), "the dashboard asks for {family}");
        }
        assert!(asked > 10, "{asked}");
    }
}
