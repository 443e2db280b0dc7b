//! `switchboard bench desk`: how fast the supervisor's desk shows what happens, with a real
//! server in this process, the real `/supervisor` page in headless Chromium (logged in as the
//! demo supervisor) and its event WebSocket.
//!
//! Two loads, one after the other:
//! 1. `calls` live phone calls (sipp speaking the fixtures' turns as G.711 RTP, the assistant
//!    answering, transcription, analysis and alert rules all running);
//! 2. `synthetic` calls on the wall with a stream of `events_per_s` events about them (caller
//!    state, transcript) published on the server's event bus.
//!
//! In each, `probes` alerts are published on the event bus, one every 500 ms, onto calls on
//! the wall; the page notes when each was first rendered (`window.switchboard.shown`). The
//! latency is publication -> on screen, both read from this machine's clock. Alerts the rules
//! raise on the live calls are timed the same way (from when the bench saw them on the bus).
//! Prints p50/p95/max with counts, and the server's CPU and peak memory during the load.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use fantoccini::{Client, Locator};
use serde_json::Value;

use crate::call::alerts::AlertRule;
use crate::call::{CallId, Transport};
use crate::cmd::bench::{percentile, proc_cpu_ticks, proc_mem_kb};
use crate::cmd::bench_sip::{bench_config, SippSetup};
use crate::events::Event;
use crate::pipeline::Engine;

/// The load's settings.
pub struct DeskSpec {
    pub calls: usize,
    pub synthetic: usize,
    pub events_per_s: usize,
    pub probes: usize,
}

fn epoch_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

async fn page(c: &Client, expr: &str) -> anyhow::Result<Value> {
    Ok(c.execute(&format!("return {expr};"), vec![]).await?)
}

async fn wait_page(c: &Client, what: &str, timeout: Duration, expr: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if page(c, expr).await? == Value::Bool(true) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("the desk did not show {what} within {timeout:?}")
}

/// Publish `n` probe alerts (one every 500 ms) on calls from `on`; (key, published at).
async fn probes(bus: &crate::events::EventBus, on: &[CallId], n: usize, tag: &str) -> Vec<(String, u64)> {
    let mut sent = Vec::new();
    for i in 0..n {
        let call = on[i % on.len()].clone();
        let id = format!("probe-{tag}-{i}");
        sent.push((format!("{}/{id}", call.0), epoch_ms()));
        bus.publish(Event::AlertRaised {
            call_id: call,
            alert_id: id,
            rule: AlertRule::CallerAngry,
            detail: "desk bench probe".into(),
            at_ms: 0,
        });
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    sent
}

/// (shown, p50, p95, max) of publication -> on screen for `sent`.
async fn latencies(c: &Client, sent: &[(String, u64)]) -> anyhow::Result<(usize, u64, u64, u64)> {
    tokio::time::sleep(Duration::from_secs(2)).await;
    let shown = page(c, "window.switchboard.shown").await?;
    let mut ms: Vec<u64> =
        sent.iter().filter_map(|(k, t)| shown[k].as_f64().map(|s| (s as u64).saturating_sub(*t))).collect();
    ms.sort_unstable();
    Ok((ms.len(), percentile(&ms, 0.5), percentile(&ms, 0.95), ms.last().copied().unwrap_or(0)))
}

/// CPU time of this process (the server) over `since`, as % of one core.
fn cpu_pct(ticks_before: u64, since: Instant) -> f64 {
    let ticks = proc_cpu_ticks().saturating_sub(ticks_before) as f64 / 100.0;
    100.0 * ticks / since.elapsed().as_secs_f64().max(0.001)
}

/// Run it.
pub async fn run(engine: Arc<Engine>, fixtures: &std::path::Path, spec: DeskSpec) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("switchboard-bench-desk-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let db = dir.join("desk.db");
    crate::cmd::demo_data::seed(&db, 50, true)?;
    let mut cfg = bench_config(spec.calls + 2)?;
    cfg.store.path = db;
    let (audio, _) = crate::cmd::bench_load::caller_audio(fixtures, 60)?;
    let setup = SippSetup::new("desk", &audio)?;
    let running = crate::server::start(&cfg, engine).await?;
    let bus = running.services.events.clone();
    let mut rx = bus.subscribe();
    let (_driver, c) =
        crate::cmd::headless::chromium(&dir.join("chromium"), &["--window-size=1400,1000".into()]).await?;
    let base = format!("http://{}", running.http);
    c.goto(&format!("{base}/supervisor")).await?;
    c.find(Locator::Id("username")).await?.send_keys("sam").await?;
    c.find(Locator::Id("password")).await?.send_keys("sam-demo-pass").await?;
    c.find(Locator::Css("#login button[type=submit]")).await?.click().await?;
    wait_page(&c, "the login", Duration::from_secs(15), "!!(window.switchboard.user && window.switchboard.desk)")
        .await?;
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    println!(
        "bench desk: event published -> shown on the /supervisor wall (headless Chromium, event WebSocket); \
         {} probe alerts per load, one every 500 ms; {cores} cores",
        spec.probes
    );

    // 1. Live calls.
    let sip = running.sip.ok_or_else(|| anyhow::anyhow!("SIP is off"))?;
    let rss_before = proc_mem_kb("VmRSS:") / 1024;
    let mut sipp = setup.sipp(sip, spec.calls, spec.calls, 1, 150)?;
    let mut live: Vec<CallId> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while live.len() < spec.calls && Instant::now() < deadline {
        if let Ok(Ok(Event::CallStarted { call_id, .. })) =
            tokio::time::timeout(Duration::from_secs(1), rx.recv()).await
        {
            live.push(call_id);
        }
    }
    if live.is_empty() {
        anyhow::bail!("no call started (sipp could not reach the server)");
    }
    let count = live.len();
    wait_page(
        &c,
        "the live calls",
        Duration::from_secs(20),
        &format!("Object.keys(window.switchboard.calls).length >= {count}"),
    )
    .await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (ticks, t0) = (proc_cpu_ticks(), Instant::now());
    // Real alerts the rules raise meanwhile, timed from when the bus carried them.
    let seen_real: Arc<std::sync::Mutex<Vec<(String, u64)>>> = Default::default();
    let peak_rss = Arc::new(std::sync::atomic::AtomicU64::new(rss_before));
    let watcher = {
        let (seen, peak) = (seen_real.clone(), peak_rss.clone());
        let mut rx = bus.subscribe();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_millis(500));
            loop {
                tokio::select! {
                    ev = rx.recv() => match ev {
                        Ok(Event::AlertRaised { call_id, alert_id, .. }) if !alert_id.starts_with("probe-") => {
                            seen.lock().unwrap().push((format!("{}/{alert_id}", call_id.0), epoch_ms()));
                        }
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                        _ => {}
                    },
                    _ = every.tick() => {
                        peak.fetch_max(proc_mem_kb("VmRSS:") / 1024, std::sync::atomic::Ordering::Relaxed);
                    }
                }
            }
        })
    };
    let sent = probes(&bus, &live, spec.probes, "live").await;
    let cpu = cpu_pct(ticks, t0);
    let (shown, p50, p95, max) = latencies(&c, &sent).await?;
    let real = seen_real.lock().unwrap().clone();
    let (real_shown, r50, r95, _) = latencies(&c, &real).await?;
    watcher.abort();
    println!(
        "  {count} live SIP calls (assistant answering): {shown}/{} probes shown, p50 {p50} ms, p95 {p95} ms, \
         max {max} ms; alerts the rules raised: {real_shown}/{} shown{}; server CPU {cpu:.0}% of one core \
         ({:.0}% of {cores}), RSS {} MB peak ({rss_before} MB before the calls)",
        sent.len(),
        real.len(),
        if real.is_empty() {
            " (the fixtures' calm callers raise none)".to_string()
        } else {
            format!(", p50 {r50} ms, p95 {r95} ms")
        },
        cpu / cores as f64,
        peak_rss.load(std::sync::atomic::Ordering::Relaxed),
    );
    let _ = sipp.kill().await;
    // The calls end (sipp is gone: their RTP stops); the wall empties.
    for id in &live {
        running.services.controls.send(id, crate::call::Control::Hangup(crate::call::EndReason::Shutdown));
    }
    let _ =
        wait_page(&c, "an empty wall", Duration::from_secs(30), "Object.keys(window.switchboard.calls).length === 0")
            .await;

    // 2. Synthetic calls and a stream of events about them.
    let n = spec.synthetic;
    let synthetic: Vec<CallId> = (0..n).map(|i| CallId(format!("c-synth{i:05}"))).collect();
    for (i, id) in synthetic.iter().enumerate() {
        bus.publish(Event::CallStarted {
            call_id: id.clone(),
            caller: format!("+1555{:07}", i),
            transport: Transport::Sip,
            started_at: crate::store::now_rfc3339(),
        });
    }
    wait_page(
        &c,
        "the synthetic calls",
        Duration::from_secs(20),
        &format!("Object.keys(window.switchboard.calls).length >= {n}"),
    )
    .await?;
    let (ticks, t0) = (proc_cpu_ticks(), Instant::now());
    let chatter = {
        let (bus, calls, rate) = (bus.clone(), synthetic.clone(), spec.events_per_s.max(1));
        tokio::spawn(async move {
            let mut rng = fastrand::Rng::with_seed(7);
            let mut every = tokio::time::interval(Duration::from_micros(1_000_000 / rate as u64));
            let mut sent = 0u64;
            loop {
                every.tick().await;
                let call_id = calls[rng.usize(..calls.len())].clone();
                let at_ms = sent * 10;
                sent += 1;
                if rng.bool() {
                    use crate::pipeline::analysis::state::State;
                    let state = [State::Calm, State::Confused, State::Frustrated, State::Angry][rng.usize(..4)];
                    bus.publish(Event::CallerStateChanged {
                        call_id,
                        state,
                        previous: None,
                        frustration: rng.f32(),
                        confidence: 0.8,
                        trend: rng.f32() - 0.5,
                        evidence: vec![],
                        at_ms,
                    });
                } else {
                    bus.publish(Event::TranscriptFinal {
                        call_id,
                        text: "I have been waiting for my order for two weeks now.".into(),
                        start_ms: at_ms,
                        end_ms: at_ms + 2000,
                        language: "en".into(),
                        language_prob: 0.97,
                        latency_ms: 300,
                        translation: None,
                        ended_by: None,
                    });
                }
            }
        })
    };
    let sent = probes(&bus, &synthetic, spec.probes, "synthetic").await;
    let cpu = cpu_pct(ticks, t0);
    chatter.abort();
    let (shown, p50, p95, max) = latencies(&c, &sent).await?;
    println!(
        "  {n} synthetic calls on the wall, {} events/s about them: {shown}/{} probes shown, p50 {p50} ms, \
         p95 {p95} ms, max {max} ms; server CPU {cpu:.0}% of one core",
        spec.events_per_s,
        sent.len(),
    );
    for id in synthetic {
        bus.publish(Event::CallEnded { call_id: id, reason: "bench".into(), duration_ms: 0 });
    }
    let _ = c.close().await;
    running.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
