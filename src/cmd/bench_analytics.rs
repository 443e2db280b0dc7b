//! `switchboard bench analytics`: what the per-turn voice analytics cost. Prosody (YIN pitch,
//! levels, pauses) runs on the inference pool right after a turn's final decode; the fusion of
//! prosody, words, language and accent runs on the call's task. Both are timed here on real
//! turns from the fixtures, per turn and per second of turn audio.

use std::path::Path;
use std::time::Instant;

use crate::cmd::bench::percentile;
use crate::media::decode::read_mono_at;
use crate::pipeline::analysis::voice::VoiceModels;
use crate::pipeline::analysis::{analyse_turn, CallAnalyzer};

/// Percentile of nanosecond samples, in microseconds.
fn us(sorted_ns: &[u64], p: f64) -> f64 {
    percentile(sorted_ns, p) as f64 / 1e3
}

/// Run the benchmark over `files` (16 kHz after decoding), `rounds` times each.
pub fn run(files: &[&Path], rounds: usize, voice: Option<&VoiceModels>) -> anyhow::Result<()> {
    // Nanoseconds, so the shared integer percentile keeps sub-microsecond precision.
    let mut prosody_ns: Vec<u64> = Vec::new();
    let mut voice_ns: Vec<u64> = Vec::new();
    let mut per_audio_s_ns: Vec<u64> = Vec::new();
    let mut fusion_ns: Vec<u64> = Vec::new();
    let mut audio_s = 0.0;
    for path in files {
        let audio = read_mono_at(path, 16_000)?;
        let secs = audio.len() as f64 / 16_000.0;
        audio_s += secs;
        for _ in 0..rounds {
            let p = analyse_turn(&audio, Some(14), voice);
            let ns = p.compute_us * 1_000;
            voice_ns.extend(p.voice.as_ref().map(|v| v.compute_us * 1_000));
            prosody_ns.push(ns);
            per_audio_s_ns.push((ns as f64 / secs) as u64);
            let mut analyzer = CallAnalyzer::default();
            analyzer.language_probs(vec![("en".into(), 0.93), ("de".into(), 0.03), ("hi".into(), 0.02)]);
            let t = Instant::now();
            let _ = analyzer.turn("I have been waiting for my refund for three weeks and nobody called", p, "en", 0.93);
            fusion_ns.push(t.elapsed().as_nanos() as u64);
        }
    }
    for v in [&mut prosody_ns, &mut per_audio_s_ns, &mut fusion_ns, &mut voice_ns] {
        v.sort_unstable();
    }
    println!(
        "turns               {} ({} files x {rounds} rounds, {audio_s:.1} s of audio per round)",
        prosody_ns.len(),
        files.len()
    );
    println!(
        "prosody per turn    p50 {:.0} us, p95 {:.0} us, max {:.0} us (worker pool, after the final decode)",
        us(&prosody_ns, 0.5),
        us(&prosody_ns, 0.95),
        us(&prosody_ns, 1.0)
    );
    println!(
        "prosody per audio s p50 {:.0} us, p95 {:.0} us ({:.2}% of real time)",
        us(&per_audio_s_ns, 0.5),
        us(&per_audio_s_ns, 0.95),
        us(&per_audio_s_ns, 0.5) / 1e4
    );
    println!(
        "fusion per turn     p50 {:.1} us, p95 {:.1} us (words, state, language, accent; call task)",
        us(&fusion_ns, 0.5),
        us(&fusion_ns, 0.95)
    );
    if voice_ns.is_empty() {
        println!("voice classifiers  not installed (switchboard models fetch; weights in models/voice/)");
    } else {
        println!(
            "voice classifiers   p50 {:.0} us, p95 {:.0} us, max {:.0} us per turn (encoder on the turn's last 8 s, then the probes; worker pool)",
            us(&voice_ns, 0.5),
            us(&voice_ns, 0.95),
            us(&voice_ns, 1.0)
        );
    }
    Ok(())
}
