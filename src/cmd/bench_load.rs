//! `switchboard bench load`: a steady load of phone calls for minutes, to see whether the
//! server holds up over time rather than in one burst. sipp keeps `concurrent` calls of
//! `call_seconds` each going (a new call as often as one ends on average) for `minutes`;
//! every caller speaks several turns (English fixtures with pauses) as G.711 RTP to the real
//! server in this process, with the assistant answering. Prints per minute: calls started
//! and ended, calls live, turns transcribed, end-of-speech -> final latency p50/p95, RSS;
//! then the totals: calls refused, turns transcribed / spoken, WER.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::cmd::bench::{percentile, proc_cpu_ticks, proc_mem_kb};
use crate::cmd::bench_sip::{bench_config, SippSetup};
use crate::eval::wer::{wer, WerCount};
use crate::events::Event;
use crate::media::decode::read_mono_at;
use crate::pipeline::Engine;

/// The turns each caller speaks, in order (fixture, transcript).
const TURNS: [(&str, &str); 6] = [
    ("order_status_8k.wav", "Hello, I am calling about my order. The order number is four five six seven eight."),
    ("digits_8k.wav", "My account number is three one four one five nine."),
    ("refund_8k.wav", "I would like to return the shoes and get a refund please."),
    ("payment_due_8k.wav", "When is my next payment due, and how much do I owe?"),
    ("change_address_8k.wav", "Can you change the delivery address to twelve Baker Street?"),
    ("order_status_8k.wav", "Hello, I am calling about my order. The order number is four five six seven eight."),
];

/// Pause after each turn (the assistant answers in it).
const GAP_S: f32 = 2.5;

/// The load's settings.
pub struct LoadSpec {
    pub concurrent: usize,
    pub call_seconds: u64,
    pub minutes: u64,
    /// `calls.max_calls` of the server (default: `concurrent` + 2).
    pub max_calls: usize,
}

/// Build one caller's audio: turns with pauses until `seconds` are filled (at least one turn).
pub(crate) fn caller_audio(fixtures: &std::path::Path, seconds: u64) -> anyhow::Result<(Vec<f32>, Vec<&'static str>)> {
    let mut audio = vec![0.0f32; 8000]; // 1 s before the first word
    let mut said = Vec::new();
    for (file, text) in TURNS.iter().cycle() {
        let turn = read_mono_at(fixtures.join(file), 8000)?;
        if !said.is_empty() && (audio.len() + turn.len()) as u64 > seconds * 8000 {
            break;
        }
        audio.extend_from_slice(&turn);
        audio.extend(std::iter::repeat_n(0.0, (GAP_S * 8000.0) as usize));
        said.push(*text);
        if said.len() > 100 {
            break;
        }
    }
    audio.resize((seconds * 8000).max(audio.len() as u64) as usize, 0.0);
    Ok((audio, said))
}

#[derive(Default)]
struct Minute {
    started: usize,
    ended: usize,
    finals: Vec<u64>,
    rss_mb: u64,
    live: usize,
}

/// Run the load.
pub async fn run(engine: Arc<Engine>, fixtures: &std::path::Path, spec: LoadSpec) -> anyhow::Result<()> {
    let (audio, said) = caller_audio(fixtures, spec.call_seconds)?;
    let reference = said.join(" ");
    let setup = SippSetup::new("load", &audio)?;
    let cfg = bench_config(spec.max_calls)?;
    let workers = engine.pool.stats().workers;
    let model = engine.recognizer.name().to_string();
    let running = crate::server::start(&cfg, engine).await?;
    let sip = running.sip.expect("sip enabled");
    let mut rx = running.services.events.subscribe();
    // Steady state: one new call per call_seconds / concurrent.
    let period_ms = spec.call_seconds * 1000 / spec.concurrent.max(1) as u64;
    let total = ((spec.minutes * 60_000) / period_ms.max(1)) as usize;
    println!(
        "bench load: {} concurrent calls of {:.1} s ({} turns each, {}), one new call every {period_ms} ms, \
         {total} calls over {} min, max_calls {}, model {model}, {workers} inference workers",
        spec.concurrent,
        setup.audio_ms as f64 / 1000.0,
        said.len(),
        if running.voice.is_some() { "assistant answering" } else { "no assistant" },
        spec.minutes,
        spec.max_calls,
    );
    let baseline_mb = proc_mem_kb("VmRSS:") / 1024;
    let cpu_before = proc_cpu_ticks();
    let t0 = Instant::now();
    let mut sipp = setup.sipp(sip, total, spec.concurrent, 1, period_ms)?;

    let mut minutes: Vec<Minute> = Vec::new();
    let (mut started, mut ended, mut failed) = (0usize, 0usize, Vec::new());
    let mut texts: std::collections::HashMap<String, Vec<String>> = Default::default();
    let mut sample =
        tokio::time::interval_at(tokio::time::Instant::now() + Duration::from_secs(60), Duration::from_secs(60));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(spec.minutes * 60 + spec.call_seconds + 180);
    let mut sipp_status = None;
    let minute = |m: &mut Vec<Minute>| {
        let i = (t0.elapsed().as_secs() / 60) as usize;
        while m.len() <= i {
            m.push(Minute::default());
        }
        i
    };
    while sipp_status.is_none() || ended < started {
        tokio::select! {
            ev = rx.recv() => match ev {
                Ok(Event::CallStarted { .. }) => {
                    started += 1;
                    let i = minute(&mut minutes);
                    minutes[i].started += 1;
                }
                Ok(Event::TranscriptFinal { call_id, text, latency_ms, .. }) => {
                    let i = minute(&mut minutes);
                    minutes[i].finals.push(latency_ms);
                    texts.entry(call_id.0).or_default().push(text);
                }
                Ok(Event::CallEnded { reason, .. }) => {
                    ended += 1;
                    let i = minute(&mut minutes);
                    minutes[i].ended += 1;
                    if reason != "caller_hangup" {
                        failed.push(reason);
                    }
                }
                Ok(_) => {}
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => println!("(missed {n} events)"),
                Err(e) => anyhow::bail!("event bus: {e}"),
            },
            _ = sample.tick() => {
                let i = minute(&mut minutes).saturating_sub(1);
                if let Some(m) = minutes.get_mut(i) {
                    m.rss_mb = proc_mem_kb("VmRSS:") / 1024;
                    m.live = running.services.registry.live_count();
                }
            }
            s = sipp.wait(), if sipp_status.is_none() => sipp_status = Some(s?),
            _ = tokio::time::sleep_until(deadline) => {
                println!("gave up waiting: {ended}/{started} calls ended");
                break;
            }
        }
    }
    let wall = t0.elapsed();
    let cpu_pct = (proc_cpu_ticks() - cpu_before) as f64 * 1000.0 / wall.as_millis().max(1) as f64;
    let end_mb = proc_mem_kb("VmRSS:") / 1024;
    let mut stderr = String::new();
    if let Some(mut e) = sipp.stderr.take() {
        use tokio::io::AsyncReadExt;
        let _ = e.read_to_string(&mut stderr).await;
    }
    println!("minute  started  ended  live  finals  p50 ms  p95 ms  max ms  RSS MB");
    for (i, m) in minutes.iter_mut().enumerate() {
        m.finals.sort_unstable();
        let rss = if m.rss_mb > 0 { m.rss_mb.to_string() } else { "-".into() };
        println!(
            "{:>6}  {:>7}  {:>5}  {:>4}  {:>6}  {:>6}  {:>6}  {:>6}  {rss:>6}",
            i + 1,
            m.started,
            m.ended,
            m.live,
            m.finals.len(),
            percentile(&m.finals, 0.5),
            percentile(&m.finals, 0.95),
            m.finals.last().copied().unwrap_or(0),
        );
    }
    let mut all: Vec<u64> = minutes.iter().flat_map(|m| m.finals.iter().copied()).collect();
    all.sort_unstable();
    let mut werc = WerCount::default();
    for t in texts.values() {
        werc.add(wer(&reference, &t.join(" ")));
    }
    let completed = ended - failed.len();
    println!(
        "calls refused       {}/{total} (sipp attempted {total}, the server started {started})",
        total.saturating_sub(started)
    );
    println!("calls completed     {completed}/{started} (ended by the caller's BYE)");
    println!("calls failed        {} {:?}", failed.len(), failed.iter().take(10).collect::<Vec<_>>());
    println!(
        "turns transcribed   {}/{} ({} turns spoken per call x {started} calls)",
        all.len(),
        said.len() * started,
        said.len()
    );
    println!(
        "finals              p50 {} ms, p95 {} ms, max {} ms (end of speech -> final)",
        percentile(&all, 0.5),
        percentile(&all, 0.95),
        all.last().copied().unwrap_or(0)
    );
    println!("WER over all calls  {werc}");
    println!(
        "CPU                 {cpu_pct:.0}% of one core over {:.0} s (server process; {} cores)",
        wall.as_secs_f64(),
        crate::pipeline::default_workers()
    );
    println!(
        "memory              RSS {baseline_mb} MB before, {end_mb} MB after, peak {} MB",
        proc_mem_kb("VmHWM:") / 1024
    );
    if sipp_status.is_some_and(|s| !s.success()) && !stderr.trim().is_empty() {
        println!("sipp said:\n{}", stderr.trim().lines().take(20).collect::<Vec<_>>().join("\n"));
    }
    running.shutdown().await;
    Ok(())
}
