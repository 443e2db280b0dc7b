//! `switchboard bench stats`: what the centre's numbers cost with many stored calls. Writes
//! `calls` synthetic finished calls with realistic timelines over a week into a fresh
//! database (a fixed seed; a third of them escalated, most of those answered by a person),
//! then times `/api/stats` for the whole week (every timeline replayed) and a `/metrics`
//! scrape after the same calls were counted live.

use std::time::Instant;

use serde_json::json;

use crate::cmd::bench::percentile;
use crate::metrics::stats::{from_store, StatsConfig};
use crate::store::calls::CallWrite;
use crate::store::{rfc3339, stored_ms};

fn at(t0: chrono::DateTime<chrono::Utc>, ms: i64) -> String {
    rfc3339(t0 + chrono::Duration::milliseconds(ms))
}

/// One call's writes: started, its events, ended.
fn call(rng: &mut fastrand::Rng, i: usize, t0: chrono::DateTime<chrono::Utc>) -> Vec<CallWrite> {
    let id = format!("c-bench{i:07}");
    let start = rng.i64(0..7 * 24 * 3_600_000);
    let mut t = start;
    let mut w = vec![CallWrite::Started {
        id: id.clone(),
        caller: format!("+1555{:07}", rng.u32(0..10_000)),
        transport: "sip".into(),
        assisted: true,
        started_at: at(t0, start),
    }];
    let ev = |t: i64, body: serde_json::Value| CallWrite::Event {
        id: id.clone(),
        at: at(t0, t),
        kind: body["type"].as_str().unwrap_or_default().to_string(),
        body: body.to_string(),
    };
    w.push(ev(
        t,
        json!({"type": "call_started", "call_id": id, "caller": "+1", "transport": "sip", "started_at": at(t0, t)}),
    ));
    let lang = ["en", "en", "en", "de", "fr", "es", "sv"][rng.usize(..7)];
    t += 4000;
    w.push(ev(
        t,
        json!({"type": "language_detected", "call_id": id, "language": lang, "confidence": 0.9, "at_ms": 4000}),
    ));
    for turn in 0..rng.usize(2..6) {
        t += rng.i64(4000..12_000);
        let ok = rng.f32() < 0.6;
        w.push(ev(
            t,
            json!({"type": "assistant_replied", "call_id": id, "text": "...", "language": lang, "intent": "order_status",
                   "actions": [{"tool": "order_status", "detail": "order 45678: shipped", "ok": ok}], "at_ms": turn * 8000}),
        ));
        let state = ["calm", "calm", "confused", "frustrated", "angry"][rng.usize(..5)];
        w.push(ev(
            t,
            json!({"type": "caller_state_changed", "call_id": id, "state": state, "frustration": 0.3, "at_ms": 0}),
        ));
    }
    if rng.f32() < 0.33 {
        w.push(ev(t, json!({"type": "escalation_requested", "call_id": id, "reason": "asked_for_person", "at_ms": 0})));
        w.push(ev(t, json!({"type": "call_state_changed", "call_id": id, "state": "waiting_for_agent"})));
        t += rng.i64(2000..60_000);
        if rng.f32() < 0.85 {
            w.push(ev(t, json!({"type": "agent_joined", "call_id": id, "agent_id": "anna"})));
            t += rng.i64(60_000..600_000);
        }
    }
    t += 2000;
    w.push(ev(t, json!({"type": "call_ended", "call_id": id, "reason": "caller_hangup", "duration_ms": t - start})));
    w.push(CallWrite::Ended { id, ended_at: at(t0, t), reason: "caller_hangup".into() });
    w
}

/// Run it.
pub fn run(calls: usize, seed: u64) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("switchboard-bench-stats-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let store = crate::store::Store::open(&dir.join("stats.db"))?;
    let t0 = chrono::Utc::now() - chrono::Duration::days(7);
    let mut rng = fastrand::Rng::with_seed(seed);
    let started = Instant::now();
    let (mut batch, mut events) = (Vec::new(), 0usize);
    let live = crate::metrics::CallMetrics::default();
    let mut tally = crate::metrics::follow::Tally::default();
    for i in 0..calls {
        let writes = call(&mut rng, i, t0);
        for w in &writes {
            if let CallWrite::Event { at, body, .. } = w {
                events += 1;
                let ms = stored_ms(at);
                let v: serde_json::Value = serde_json::from_str(body)?;
                if let Some(s) = tally.event(ms, &v) {
                    live.ended.inc(s.outcome);
                    match s.outcome {
                        "ai_resolved" => live.ai_resolution.observe(s.duration_s()),
                        "agent_handled" => live.human_handle.observe(s.handle_s.unwrap_or(0.0)),
                        _ => {}
                    }
                }
            }
        }
        batch.extend(writes);
        if batch.len() >= 5_000 || i + 1 == calls {
            store.write_calls(&batch)?;
            batch.clear();
        }
    }
    println!(
        "bench stats: {calls} stored calls over 7 days, {events} timeline events (seed {seed}), written in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let cfg = StatsConfig { service_level_s: 20, service_level_target: 0.8, fcr_days: 7 };
    let (from, to) =
        (rfc3339(t0 - chrono::Duration::hours(1)), rfc3339(chrono::Utc::now() + chrono::Duration::days(1)));
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..5 {
        let t = Instant::now();
        last = Some(from_store(&store, &from, &to, cfg, None)?);
        times.push(t.elapsed().as_millis() as u64);
    }
    times.sort_unstable();
    let s = last.expect("ran");
    println!(
        "  /api/stats over the week: p50 {} ms, max {} ms (5 runs); {} calls, containment {:.0}%, service level {:.0}%",
        percentile(&times, 0.5),
        times.last().unwrap_or(&0),
        s.calls_offered,
        s.containment.unwrap_or(0.0) * 100.0,
        s.service_level.unwrap_or(0.0) * 100.0,
    );
    let mut scrape = Vec::new();
    let g = crate::metrics::Gauges::default();
    for _ in 0..200 {
        let t = Instant::now();
        let text = crate::metrics::render(&live, &g);
        std::hint::black_box(text);
        scrape.push(t.elapsed().as_micros() as u64);
    }
    scrape.sort_unstable();
    println!(
        "  /metrics exposition after counting the same calls: p50 {} us, p99 {} us (200 renders; it reads no stored call)",
        percentile(&scrape, 0.5),
        percentile(&scrape, 0.99),
    );
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
