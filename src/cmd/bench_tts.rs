//! `switchboard bench tts`: what speaking a reply costs. The assistant synthesises sentence by
//! sentence, so the figure that matters is the time to one sentence (the caller hears nothing
//! until the first is ready) and the real-time factor (synthesis time / audio length; below 1
//! the next sentence is ready before the current one has played). Each engine speaks the same
//! English reply sentences, one at a time on one thread, as a call does.

use std::time::Instant;

use crate::assistant::tts::piper::ENGLISH_VOICE;
use crate::assistant::tts::{Espeak, Piper, Synthesizer};
use crate::cmd::bench::percentile;
use crate::models::Manifest;

/// Sentences the assistant says, in the shapes its replies take.
pub const SENTENCES: [&str; 10] = [
    "Thank you for calling.",
    "I'm the automated assistant.",
    "How can I help you today?",
    "Before I look at your account, please say your date of birth or key in your four digit PIN.",
    "Sorry, that doesn't match our records.",
    "Order four five six seven eight is on its way with UPS.",
    "It should arrive on Friday, December the nineteenth.",
    "Your next payment of one hundred and twenty dollars is due on the fifteenth.",
    "I've moved the due date to the twenty second.",
    "Is there anything else I can help you with?",
];

/// Timings of one engine.
#[derive(Debug, Clone)]
pub struct TtsFigures {
    pub engine: String,
    pub sentences: usize,
    pub p50_ms: u64,
    pub p95_ms: u64,
    pub max_ms: u64,
    pub audio_s: f64,
    pub synth_s: f64,
}

impl TtsFigures {
    pub fn rtf(&self) -> f64 {
        self.synth_s / self.audio_s.max(1e-9)
    }
}

/// Speak every sentence `rounds` times (after one warm-up sentence) and time each.
pub fn measure(tts: &dyn Synthesizer, engine: &str, rounds: usize) -> anyhow::Result<TtsFigures> {
    tts.synthesize(SENTENCES[0], "en")?;
    let mut ms = Vec::new();
    let (mut audio_s, mut synth_s) = (0.0, 0.0);
    for _ in 0..rounds.max(1) {
        for s in SENTENCES {
            let t = Instant::now();
            let speech = tts.synthesize(s, "en")?;
            let took = t.elapsed().as_secs_f64();
            ms.push((took * 1000.0).round() as u64);
            synth_s += took;
            audio_s += speech.samples.len() as f64 / speech.rate as f64;
        }
    }
    ms.sort_unstable();
    Ok(TtsFigures {
        engine: engine.to_string(),
        sentences: ms.len(),
        p50_ms: percentile(&ms, 0.5),
        p95_ms: percentile(&ms, 0.95),
        max_ms: *ms.last().unwrap_or(&0),
        audio_s,
        synth_s,
    })
}

/// Bench Piper (when installed) and espeak-ng, and print a table.
pub fn run(manifest: &Manifest, rounds: usize) -> anyhow::Result<Vec<TtsFigures>> {
    let mut rows = Vec::new();
    let t = Instant::now();
    match Piper::from_manifest(manifest, ENGLISH_VOICE) {
        Ok(piper) => {
            eprintln!("{} loaded in {} ms", piper.name(), t.elapsed().as_millis());
            let name = piper.name().to_string();
            rows.push(measure(&piper, &name, rounds)?);
        }
        Err(e) => eprintln!("Piper not measured: {e}"),
    }
    let espeak = Espeak::default();
    espeak.check()?;
    rows.push(measure(&espeak, "espeak-ng", rounds)?);
    println!(
        "{} English sentences x {} rounds, one at a time on one thread ({} cores on this machine)",
        SENTENCES.len(),
        rounds.max(1),
        crate::pipeline::default_workers()
    );
    println!(
        "{:<24} {:>9} {:>8} {:>8} {:>8} {:>9} {:>7}",
        "ENGINE", "SENTENCES", "P50 MS", "P95 MS", "MAX MS", "AUDIO S", "RTF"
    );
    for r in &rows {
        println!(
            "{:<24} {:>9} {:>8} {:>8} {:>8} {:>9.1} {:>7.3}",
            r.engine,
            r.sentences,
            r.p50_ms,
            r.p95_ms,
            r.max_ms,
            r.audio_s,
            r.rtf()
        );
    }
    Ok(rows)
}
