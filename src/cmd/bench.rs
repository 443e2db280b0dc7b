//! `switchboard bench asr`: N simultaneous streams fed at real time; latency, lag, CPU, memory.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use crate::cmd::eval::offline_transcribe;
use crate::cmd::transcribe::{stream_frames, Pace};
use crate::eval::dataset;
use crate::eval::wer::{wer, WerCount};
use crate::media::decode::read_mono_at;
use crate::media::mono_frames;
use crate::pipeline::{Engine, TranscriptEvent};

/// A speech clip with its reference text.
#[derive(Clone)]
pub struct Clip {
    pub name: String,
    pub audio: Vec<f32>,
    pub reference: String,
}

/// English clips from `audio-fixtures/` and, when present, a dataset folder.
pub fn load_clips(fixtures: &Path, extra: Option<&Path>, max_extra: usize) -> anyhow::Result<Vec<Clip>> {
    let mut clips = Vec::new();
    let mut add = |dir: &Path, max: usize| -> anyhow::Result<()> {
        for row in dataset::read(dir)?.into_iter().filter(|r| r.get(&["language"]).is_none_or(|l| l == "en")).take(max)
        {
            let Some(text) = row.get(&["normalized_transcript", "transcript"]) else { continue };
            let audio = read_mono_at(&row.path, 16_000)?;
            if audio.len() > 16_000 * 15 {
                continue; // keep the playlist varied
            }
            clips.push(Clip { name: row.path.display().to_string(), audio, reference: text.to_string() });
        }
        Ok(())
    };
    add(fixtures, usize::MAX)?;
    if let Some(dir) = extra.filter(|d| d.join("labels.tsv").is_file()) {
        add(dir, max_extra)?;
    }
    if clips.is_empty() {
        anyhow::bail!("no English clips found in {}", fixtures.display());
    }
    Ok(clips)
}

pub(crate) fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

pub(crate) fn proc_cpu_ticks() -> u64 {
    let s = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = s.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    f.get(11).and_then(|u| u.parse::<u64>().ok()).unwrap_or(0)
        + f.get(12).and_then(|u| u.parse::<u64>().ok()).unwrap_or(0)
}

pub(crate) fn proc_mem_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0)
}

/// Figures for one stream count.
#[derive(Debug, Clone)]
pub struct BenchRow {
    pub streams: usize,
    pub finals: usize,
    pub p50_ms: u64,
    pub p95_ms: u64,
    pub first_half_mean_ms: u64,
    pub second_half_mean_ms: u64,
    pub rtf: f64,
    pub cpu_pct: f64,
    pub rss_mb: u64,
    pub keeps_up: bool,
    pub wer: WerCount,
}

/// Run `n` streams for about `seconds` of audio each, paced at real time.
pub async fn run_streams(
    engine: &Arc<Engine>,
    clips: &[Clip],
    n: usize,
    seconds: u64,
    pace: Pace,
) -> anyhow::Result<BenchRow> {
    let busy_before = engine.pool.stats().busy_us;
    let cpu_before = proc_cpu_ticks();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..n {
        // Each stream: a staggered start, then clips in rotated order with 1 s pauses.
        let mut audio = vec![0.0f32; ((i * 173) % 1000) * 16];
        let mut refs = Vec::new();
        let mut k = i;
        while audio.len() < seconds as usize * 16_000 {
            let c = &clips[k % clips.len()];
            audio.extend_from_slice(&c.audio);
            audio.extend(std::iter::repeat_n(0.0, 16_000));
            refs.push(c.reference.clone());
            k += 1;
        }
        let engine = engine.clone();
        tasks.push(tokio::spawn(async move {
            let result = stream_frames(&engine, mono_frames(audio, 16_000, 20).map(Ok), pace, |_| {}).await;
            (result, refs.join(" "))
        }));
    }
    let mut all = Vec::new();
    let mut wer_total = WerCount::default();
    for t in tasks {
        let (result, reference) = t.await?;
        let result = result?;
        wer_total.add(wer(&reference, &result.text()));
        all.extend(result.events.iter().filter_map(|e| match e {
            TranscriptEvent::Final { end_ms, latency_ms, .. } => Some((*end_ms, *latency_ms)),
            _ => None,
        }));
    }
    let wall = started.elapsed();
    let audio_ms = (n as u64 * seconds * 1000).max(1);
    let busy_ms = (engine.pool.stats().busy_us - busy_before) / 1000;
    let cpu_ticks = proc_cpu_ticks() - cpu_before;
    let mut lat: Vec<u64> = all.iter().map(|(_, l)| *l).collect();
    lat.sort_unstable();
    let half = seconds * 1000 / 2;
    let mean = |v: Vec<u64>| if v.is_empty() { 0 } else { v.iter().sum::<u64>() / v.len() as u64 };
    let first = mean(all.iter().filter(|(e, _)| *e < half).map(|(_, l)| *l).collect());
    let second = mean(all.iter().filter(|(e, _)| *e >= half).map(|(_, l)| *l).collect());
    let p95 = percentile(&lat, 0.95);
    Ok(BenchRow {
        streams: n,
        finals: lat.len(),
        p50_ms: percentile(&lat, 0.5),
        p95_ms: p95,
        first_half_mean_ms: first,
        second_half_mean_ms: second,
        rtf: busy_ms as f64 / audio_ms as f64,
        // Clock ticks are 1/100 s: percent of one core = ticks * 1000 / wall ms.
        cpu_pct: cpu_ticks as f64 * 1000.0 / wall.as_millis().max(1) as f64,
        rss_mb: proc_mem_kb("VmRSS:") / 1024,
        keeps_up: p95 <= 2500 && second <= first * 3 / 2 + 300,
        wer: wer_total,
    })
}

/// Run `switchboard bench asr`.
pub async fn asr(
    engine: Arc<Engine>,
    counts: &[usize],
    seconds: u64,
    fixtures: PathBuf,
    dataset: Option<PathBuf>,
    unwatched: bool,
) -> anyhow::Result<Vec<BenchRow>> {
    let clips = load_clips(&fixtures, dataset.as_deref(), 8)?;
    println!(
        "bench asr: model {}, {} inference workers, {} clips, {} s of speech per stream, fed at real time, {}",
        engine.recognizer.name(),
        engine.pool.stats().workers,
        clips.len(),
        seconds,
        if unwatched { "calls nobody follows (finals only)" } else { "followed calls (partial transcripts)" }
    );
    let pace = if unwatched { Pace::RealtimeUnwatched } else { Pace::Realtime };
    // Streaming vs offline WER on the same clips (one stream, no load).
    let (mut s_wer, mut o_wer) = (WerCount::default(), WerCount::default());
    for c in &clips {
        let offline = offline_transcribe(&engine, c.audio.clone()).await?;
        o_wer.add(wer(&c.reference, &offline));
        let streamed =
            stream_frames(&engine, mono_frames(c.audio.clone(), 16_000, 20).map(Ok), Pace::Fast, |_| {}).await?;
        s_wer.add(wer(&c.reference, &streamed.text()));
    }
    println!("WER on {} clips: streaming {s_wer}, offline (whole clip) {o_wer}", clips.len());
    println!(
        "{:>7} {:>6} {:>8} {:>8} {:>14} {:>7} {:>6} {:>7} {:>9} {:>15}  wer under load",
        "streams",
        "finals",
        "p50 ms",
        "p95 ms",
        "lag 1st->2nd",
        "rtf",
        "cpu %*",
        "rss MB",
        "keeps up",
        "ahead used/run/shed"
    );
    let mut rows = Vec::new();
    for &n in counts {
        let before = crate::pipeline::stream::SPECULATIVE.snapshot();
        let r = run_streams(&engine, &clips, n, seconds, pace).await?;
        let after = crate::pipeline::stream::SPECULATIVE.snapshot();
        let [run, used, shed] = [0, 1, 2].map(|i| after[i].1 - before[i].1);
        println!(
            "{:>7} {:>6} {:>8} {:>8} {:>14} {:>7.3} {:>6.0} {:>7} {:>9} {:>15}  {}",
            r.streams,
            r.finals,
            r.p50_ms,
            r.p95_ms,
            format!("{}->{}", r.first_half_mean_ms, r.second_half_mean_ms),
            r.rtf,
            r.cpu_pct,
            r.rss_mb,
            if r.keeps_up { "yes" } else { "NO" },
            format!("{used}/{run}/{shed}"),
            r.wer
        );
        rows.push(r);
    }
    println!(
        "* cpu % is percent of one core (this machine has {}); rtf is inference time per second of audio;\n  ahead: turns decoded ahead at a pause (silence mode): used as the final / started / skipped under load",
        crate::pipeline::default_workers()
    );
    let best = rows.iter().filter(|r| r.keeps_up).map(|r| r.streams).max();
    println!(
        "largest stream count that keeps up in real time: {}; peak memory {} MB",
        best.map(|b| b.to_string()).unwrap_or_else(|| "none".into()),
        proc_mem_kb("VmHWM:") / 1024
    );
    Ok(rows)
}
