//! `switchboard report`: the centre's own results table from its stored calls, in the shape of
//! the headline tables blended AI + human centres publish (resolution time AI vs humans,
//! first-contact resolution, containment, languages served, hours covered, agent-hours the
//! assistant saved), as Markdown, JSON or a self-contained HTML page with charts.

use std::fmt::Write;

use crate::metrics::stats::{Stats, StatsConfig};

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Md,
    Json,
    Html,
}

/// The handle time assumed for a call the assistant resolved when no person handled a call in
/// the period (the router's `initial_handle_time_s` default).
const ASSUMED_HANDLE_S: f64 = 300.0;

fn pct(x: Option<f64>) -> String {
    x.map(|x| format!("{:.0}%", x * 100.0)).unwrap_or_else(|| "–".into())
}

fn mins(x: Option<f64>) -> String {
    let show = |s: f64| match s {
        s if s >= 90.0 => format!("{:.1} min", s / 60.0),
        s if s >= 10.0 => format!("{s:.0} s"),
        s => format!("{s:.1} s"),
    };
    x.map(show).unwrap_or_else(|| "–".into())
}

/// The agent-hours the assistant's resolved calls would have taken people: resolved calls x
/// the people's median handle time in the period (or 300 s when people handled none).
pub fn agent_hours_saved(s: &Stats) -> f64 {
    let per_call = s.human_handle.median_s.unwrap_or(ASSUMED_HANDLE_S);
    s.outcomes.get("ai_resolved").copied().unwrap_or(0) as f64 * per_call / 3600.0
}

/// The table's rows: (measure, value).
pub fn rows(s: &Stats) -> Vec<(String, String)> {
    let mut langs: Vec<(&String, &usize)> = s.languages.iter().filter(|(l, _)| *l != "unknown").collect();
    langs.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let hours: Vec<String> = s.per_hour.iter().map(|h| h.hour[11..13].to_string()).collect();
    let mut distinct = hours.clone();
    distinct.sort();
    distinct.dedup();
    vec![
        ("Calls offered".into(), s.calls_offered.to_string()),
        (
            "Resolution time, AI (median / p90)".into(),
            format!(
                "{} / {} ({} calls)",
                mins(s.ai_resolution.median_s),
                mins(s.ai_resolution.p90_s),
                s.ai_resolution.n
            ),
        ),
        (
            "Handle time, humans (median / p90)".into(),
            format!("{} / {} ({} calls)", mins(s.human_handle.median_s), mins(s.human_handle.p90_s), s.human_handle.n),
        ),
        ("Resolved by the AI (containment)".into(), pct(s.containment)),
        (
            format!("First-contact resolution ({} days)", s.fcr_days),
            format!("{} of {} resolved calls of verified customers", pct(s.first_contact_resolution), s.fcr_calls),
        ),
        (
            "Service level".into(),
            format!(
                "{} answered within {} s (target {}; {} of {} queued)",
                pct(s.service_level),
                s.service_level_s,
                pct(Some(s.service_level_target)),
                s.answered_in_time,
                s.queued
            ),
        ),
        ("Average speed of answer".into(), mins(s.average_speed_of_answer_s)),
        ("Abandoned in the queue".into(), pct(s.abandonment_rate)),
        (
            "Languages served".into(),
            format!(
                "{} ({})",
                langs.len(),
                langs.iter().map(|(l, n)| format!("{l} {n}")).collect::<Vec<_>>().join(", ")
            ),
        ),
        ("Hours covered (UTC hours with calls)".into(), format!("{} of 24 ({})", distinct.len(), distinct.join(", "))),
        ("Agent-hours saved by the AI".into(), format!("{:.2} h", agent_hours_saved(s))),
        ("Agent occupancy".into(), format!("{} of {:.2} staffed hours", pct(s.agent_occupancy), s.staffed_s / 3600.0)),
        (
            "AI decisions right in reviews".into(),
            format!("{} of {} reviewed", pct(s.ai_accuracy), s.reviews.values().map(|r| r.reviewed).sum::<usize>()),
        ),
    ]
}

fn markdown(s: &Stats, from: &str, to: &str) -> String {
    let mut out = format!("# Switchboard: the centre's numbers\n\nCalls that started from {from} to {to}.\n\n");
    out.push_str("| Measure | Value |\n|---|---|\n");
    for (k, v) in rows(s) {
        let _ = writeln!(out, "| {k} | {v} |");
    }
    out.push_str("\nOutcomes: ");
    out.push_str(&s.outcomes.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", "));
    out.push_str("\n\nDefinitions: see the README, \"The centre's numbers\".\n");
    out
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Calls per hour as an SVG bar chart (grey: all, blue: resolved by the AI).
fn hours_chart(s: &Stats) -> String {
    let top = s.per_hour.iter().map(|h| h.calls).max().unwrap_or(1).max(1) as f64;
    let w = 560.0 / s.per_hour.len().max(1) as f64;
    let mut svg = String::from(r#"<svg viewBox="0 0 600 170" width="600" role="img" aria-label="Calls per hour">"#);
    for (i, h) in s.per_hour.iter().enumerate() {
        let x = 20.0 + i as f64 * w;
        let (hc, ha) = (h.calls as f64 / top * 130.0, h.ai_resolved as f64 / top * 130.0);
        let _ = write!(
            svg,
            r##"<rect x="{x:.1}" y="{:.1}" width="{:.1}" height="{hc:.1}" fill="#c9d2e3"/><rect x="{x:.1}" y="{:.1}" width="{:.1}" height="{ha:.1}" fill="#1a56db"/><text x="{x:.1}" y="160" font-size="10">{}</text>"##,
            140.0 - hc,
            w * 0.8,
            140.0 - ha,
            w * 0.8,
            esc(&h.hour[5..13].replace('T', " ")),
        );
    }
    svg.push_str("</svg>");
    svg
}

/// AI vs human time (medians) as two bars.
fn times_chart(s: &Stats) -> String {
    let (ai, hu) = (s.ai_resolution.median_s.unwrap_or(0.0), s.human_handle.median_s.unwrap_or(0.0));
    let top = ai.max(hu).max(1.0);
    format!(
        r##"<svg viewBox="0 0 600 90" width="600" role="img" aria-label="Resolution time"><text x="0" y="25">AI</text><rect x="80" y="10" width="{:.1}" height="22" fill="#1a56db"/><text x="{:.1}" y="26">{}</text><text x="0" y="70">Humans</text><rect x="80" y="55" width="{:.1}" height="22" fill="#137a3a"/><text x="{:.1}" y="71">{}</text></svg>"##,
        ai / top * 400.0,
        ai / top * 400.0 + 90.0,
        mins(s.ai_resolution.median_s),
        hu / top * 400.0,
        hu / top * 400.0 + 90.0,
        mins(s.human_handle.median_s),
    )
}

fn html(s: &Stats, from: &str, to: &str) -> String {
    let mut table = String::new();
    for (k, v) in rows(s) {
        let _ = write!(table, "<tr><th>{}</th><td>{}</td></tr>", esc(&k), esc(&v));
    }
    format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Switchboard report</title>
<style>body{{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;color:#1d2433}}
table{{border-collapse:collapse}}th,td{{text-align:left;padding:.35rem .8rem;border-bottom:1px solid #e6eaf2}}
th{{color:#5a6478;font-weight:600}}</style></head><body>
<h1>Switchboard: the centre's numbers</h1><p>Calls that started from {} to {}.</p>
<table>{table}</table>
<h2>Calls per hour (blue: resolved by the AI)</h2>{}
<h2>Resolution time, median: AI vs humans</h2>{}
</body></html>
"#,
        esc(from),
        esc(to),
        hours_chart(s),
        times_chart(s),
    )
}

/// Print the report of `db` for `[from, to)`.
pub fn run(db: &std::path::Path, from: &str, to: &str, format: Format, cfg: StatsConfig) -> anyhow::Result<String> {
    if !db.exists() {
        anyhow::bail!("no database at {} (set --db, or run the server first)", db.display());
    }
    let store = crate::store::Store::open(db)?;
    let s = crate::metrics::stats::from_store(&store, from, to, cfg, None)?;
    Ok(match format {
        Format::Md => markdown(&s, from, to),
        Format::Json => {
            let mut v = serde_json::to_value(&s)?;
            v["from"] = from.into();
            v["to"] = to.into();
            v["agent_hours_saved"] = agent_hours_saved(&s).into();
            serde_json::to_string_pretty(&v)? + "\n"
        }
        Format::Html => html(&s, from, to),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::stats::summarize;

    #[test]
    fn an_empty_period_reports_every_row_with_no_rates() {
        let s = summarize(&[], &[], StatsConfig { service_level_s: 20, service_level_target: 0.8, fcr_days: 7 });
        let md = markdown(&s, "2026-12-01", "2026-12-05");
        for row in ["Calls offered | 0", "containment) | –", "First-contact resolution (7 days) | –", "0.00 h"] {
            assert!(md.contains(row), "{row} in {md}");
        }
        let page = html(&s, "2026-12-01", "2026-12-05");
        assert!(page.contains("<svg") && page.contains("Agent-hours saved"), "{page}");
        assert_eq!(mins(Some(0.432)), "0.4 s");
        assert_eq!(mins(Some(38.3)), "38 s");
        assert_eq!(mins(Some(300.0)), "5.0 min");
    }
}
