//! `switchboard bench analytics`: what the per-turn voice analytics cost. Prosody (YIN pitch,
//! levels, pauses) runs on the inference pool right after a turn's final decode; the fusion of
//! prosody, words, language and accent runs on the call's task. Both are timed here on real
//! turns from the fixtures, per turn and per second of turn audio.

use std::path::Path;
use std::time::Instant;

use crate::media::decode::read_mono_at;
use crate::pipeline::analysis::{prosody, CallAnalyzer};

fn pct(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Run the benchmark over `files` (16 kHz after decoding), `rounds` times each.
pub fn run(files: &[&Path], rounds: usize) -> anyhow::Result<()> {
    let mut prosody_us = Vec::new();
    let mut per_audio_s = Vec::new();
    let mut fusion_us = Vec::new();
    let mut audio_s = 0.0;
    for path in files {
        let audio = read_mono_at(path, 16_000)?;
        let secs = audio.len() as f64 / 16_000.0;
        audio_s += secs;
        for _ in 0..rounds {
            let t = Instant::now();
            let p = prosody::analyse(&audio, Some(14));
            let us = t.elapsed().as_secs_f64() * 1e6;
            prosody_us.push(us);
            per_audio_s.push(us / secs);
            let mut analyzer = CallAnalyzer::default();
            analyzer.language_probs(vec![("en".into(), 0.93), ("de".into(), 0.03), ("hi".into(), 0.02)]);
            let t = Instant::now();
            let _ = analyzer.turn("I have been waiting for my refund for three weeks and nobody called", p, "en", 0.93);
            fusion_us.push(t.elapsed().as_secs_f64() * 1e6);
        }
    }
    for v in [&mut prosody_us, &mut per_audio_s, &mut fusion_us] {
        v.sort_by(|a, b| a.total_cmp(b));
    }
    println!(
        "turns               {} ({} files x {rounds} rounds, {audio_s:.1} s of audio per round)",
        prosody_us.len(),
        files.len()
    );
    println!(
        "prosody per turn    p50 {:.0} us, p95 {:.0} us, max {:.0} us (worker pool, after the final decode)",
        pct(&prosody_us, 0.5),
        pct(&prosody_us, 0.95),
        prosody_us.last().copied().unwrap_or(0.0)
    );
    println!(
        "prosody per audio s p50 {:.0} us, p95 {:.0} us ({:.2}% of real time)",
        pct(&per_audio_s, 0.5),
        pct(&per_audio_s, 0.95),
        pct(&per_audio_s, 0.5) / 1e4
    );
    println!(
        "fusion per turn     p50 {:.1} us, p95 {:.1} us (words, state, language, accent; call task)",
        pct(&fusion_us, 0.5),
        pct(&fusion_us, 0.95)
    );
    Ok(())
}
