//! `switchboard eval turns --dataset DIR`: how often the end-of-turn decision cuts a speaker off
//! in a pause, and how long it keeps them waiting after they really finished, for the smart
//! decision ([`crate::pipeline::endpoint`]) and plain silence thresholds, on the same audio and
//! in the same run.
//!
//! The labelled set is built from real recordings in the shared datasets folder (how, and why
//! the labels can be trusted: `docs/turn-taking.md`):
//!
//! * **read sentences** (`english-read-asr`): LJSpeech clips are cut from a book reading at
//!   phrase boundaries; consecutive clips up to one that ends a sentence (".", "?", "!") are
//!   joined with a 400-900 ms pause, so each item is one sentence with pauses inside it where
//!   the reader goes on, and its true end is the end of the sentence. CMU Arctic, LibriSpeech
//!   and JFK clips are one complete sentence each (JFK's "... ask not" pause included).
//! * **digits read slowly** (`narrowband-8k/fsdd`, six speakers, 8 kHz): five single-digit
//!   recordings of one speaker joined with 300-1,000 ms pauses, as a caller reads an order
//!   number; once with the assistant's question known ("order number"), once without.
//!
//! Each item is padded with 0.5 s of silence before and 2.5 s after. The VAD's speech runs
//! give the pauses; the true end is the end of the item's last speech.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;

use crate::eval::dataset;
use crate::media::decode::read_mono_at;
use crate::pipeline::endpoint::{self, Evidence, Expectation};
use crate::pipeline::turn::{TurnConfig, TurnDetector, TurnEvent, TurnMode};
use crate::pipeline::vad::CHUNK_MS;
use crate::pipeline::Engine;

const RATE: usize = 16_000;
const PREROLL_MS: u64 = 300;
/// An end this close to the true end is the true end (VAD edges move by a chunk or two).
const SLACK_MS: u64 = 100;

/// One labelled turn.
pub struct TurnItem {
    pub name: String,
    pub category: &'static str,
    pub audio: Vec<f32>,
    pub expecting: Option<Expectation>,
}

/// A tiny deterministic generator (the set is the same on every run and machine).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
}

fn silence(ms: u64) -> Vec<f32> {
    vec![0.0; ms as usize * RATE / 1000]
}

fn pad(parts: Vec<Vec<f32>>) -> Vec<f32> {
    let mut a = silence(500);
    for p in parts {
        a.extend(p);
    }
    a.extend(silence(2500));
    a
}

/// Build the labelled set from the shared datasets folder.
pub fn labelled_set(root: &Path) -> anyhow::Result<Vec<TurnItem>> {
    let mut items = Vec::new();
    let mut rng = Lcg(19);
    let read = root.join("english-read-asr");
    let rows = dataset::read(&read)?;
    let mut group: Vec<Vec<f32>> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    for row in &rows {
        let name = row.path.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_default();
        if name.starts_with("OSR_") {
            continue; // a list of separate sentences read with long gaps: not one turn
        }
        let text = row.get(&["transcript"]).unwrap_or("").trim().trim_end_matches('"').to_string();
        let joined = row.path.to_string_lossy().contains("ljspeech");
        if !joined && !group.is_empty() {
            // The reading's last clips never finished their sentence: not a labelled turn.
            group.clear();
            names.clear();
        }
        let audio = read_mono_at(&row.path, RATE as u32).with_context(|| row.path.display().to_string())?;
        if !group.is_empty() {
            group.push(silence(rng.between(400, 900)));
        }
        group.push(audio);
        names.push(name);
        let ends_sentence = text.ends_with(['.', '?', '!']);
        if ends_sentence || !joined {
            let category = if names.len() > 1 { "read sentences, joined clips" } else { "read sentences" };
            items.push(TurnItem {
                name: names.join("+"),
                category,
                audio: pad(std::mem::take(&mut group)),
                expecting: None,
            });
            names.clear();
        }
    }
    let digits = root.join("narrowband-8k");
    let rows = dataset::read(&digits)?;
    let mut by_speaker: std::collections::BTreeMap<String, Vec<&dataset::Row>> = Default::default();
    for row in rows.iter().filter(|r| r.get(&["digit"]).is_some()) {
        by_speaker.entry(row.get(&["speaker"]).unwrap_or("").to_string()).or_default().push(row);
    }
    for (speaker, clips) in by_speaker.iter().filter(|(_, c)| c.len() >= 10) {
        for k in 0..3 {
            let mut parts = Vec::new();
            let mut said = String::new();
            for d in 0..5 {
                let row = clips[rng.next() as usize % clips.len()];
                if d > 0 {
                    parts.push(silence(rng.between(300, 1000)));
                }
                parts.push(read_mono_at(&row.path, RATE as u32).with_context(|| row.path.display().to_string())?);
                said.push_str(row.get(&["digit"]).unwrap_or("?"));
            }
            let audio = pad(parts);
            let name = format!("fsdd-{speaker}-{k}-{said}");
            items.push(TurnItem {
                name: name.clone(),
                category: "digits read slowly, order number asked",
                audio: audio.clone(),
                expecting: Some(crate::assistant::expect::order_number()),
            });
            items.push(TurnItem { name, category: "digits read slowly, nothing asked", audio, expecting: None });
        }
    }
    Ok(items)
}

/// A way of deciding the end of a turn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Policy {
    Silence(u64),
    /// The smart decision; `words`: with the hypothesis, `question`: with the expectation.
    Smart {
        words: bool,
        question: bool,
    },
}

impl Policy {
    fn name(&self) -> String {
        match self {
            Policy::Silence(ms) => format!("silence {ms} ms"),
            Policy::Smart { words: false, .. } => "smart: Smart Turn only".into(),
            Policy::Smart { words: true, question: false } => "smart: + words".into(),
            Policy::Smart { words: true, question: true } => "smart: + words + question (default)".into(),
        }
    }
}

/// What a probe at a pause found, and what it cost.
#[derive(Clone)]
struct Probe {
    p: f32,
    words: String,
    eot_ms: u64,
    decode_ms: u64,
}

/// One item's ground truth from the VAD: the true end and the pauses inside the turn.
struct Truth {
    end_ms: u64,
    pauses: usize,
}

fn truth(cfg: &TurnConfig, probs: &[f32]) -> Option<Truth> {
    let cfg = TurnConfig { mode: TurnMode::Smart, max_silence_ms: u64::MAX / 4, ..cfg.clone() };
    let mut d = TurnDetector::new(cfg.clone());
    let mut pause_ends = Vec::new();
    for (i, p) in probs.iter().enumerate() {
        let t = i as u64 * CHUNK_MS;
        if let Some(TurnEvent::Pause { last_speech_end, silence_ms, .. }) = d.handle_chunk(t, t + CHUNK_MS, *p) {
            if silence_ms == cfg.probe_silence_ms.div_ceil(CHUNK_MS) * CHUNK_MS {
                pause_ends.push(last_speech_end);
            }
        }
    }
    let end_ms = d.last_speech_end()?;
    Some(Truth { end_ms, pauses: pause_ends.iter().filter(|&&e| e + SLACK_MS < end_ms).count() })
}

/// A turn one policy ended: where its speech started and ended, and when the end was decided.
#[derive(Debug, Clone, Copy)]
struct Ended {
    start: u64,
    end: u64,
    decided: u64,
}

/// The turns one policy ended on one item.
struct Run {
    ends: Vec<Ended>,
}

impl Run {
    /// Pauses the policy took for the end of the turn.
    fn cuts(&self, truth: &Truth) -> usize {
        self.ends.iter().filter(|e| e.end + SLACK_MS < truth.end_ms).count()
    }

    /// The turn that ended at the true end.
    fn at_true_end(&self, truth: &Truth) -> Option<&Ended> {
        self.ends.iter().find(|e| e.end + SLACK_MS >= truth.end_ms)
    }
}

/// Record the turn a detector event ended (started at `start`).
fn close(ev: Option<TurnEvent>, start: u64, ends: &mut Vec<Ended>) {
    if let Some(TurnEvent::Ended { end_ms, detected_ms }) = ev {
        ends.push(Ended { start, end: end_ms, decided: detected_ms });
    }
}

struct Prober<'a> {
    engine: &'a Engine,
    cache: std::collections::HashMap<(u64, u64), Probe>,
}

impl Prober<'_> {
    fn probe(&mut self, audio: &[f32], from_ms: u64, at_ms: u64) -> anyhow::Result<Probe> {
        if let Some(p) = self.cache.get(&(from_ms, at_ms)) {
            return Ok(p.clone());
        }
        let a = (from_ms as usize * RATE / 1000).min(audio.len());
        let b = (at_ms as usize * RATE / 1000).min(audio.len());
        let slice = &audio[a..b];
        let model = self.engine.turn_model.as_ref().context("the Smart Turn model is not loaded")?;
        let started = Instant::now();
        let p = model.embed(slice).map_err(anyhow::Error::msg)?.end_of_turn;
        let eot_ms = started.elapsed().as_millis() as u64;
        let started = Instant::now();
        let words = self.engine.decode_whole(slice.to_vec(), "")?.text;
        let probe = Probe { p, words, eot_ms, decode_ms: started.elapsed().as_millis() as u64 };
        self.cache.insert((from_ms, at_ms), probe.clone());
        Ok(probe)
    }
}

fn simulate(
    policy: Policy,
    cfg: &TurnConfig,
    item: &TurnItem,
    probs: &[f32],
    prober: &mut Prober,
) -> anyhow::Result<Run> {
    let cfg = match policy {
        // Decoding ahead changes when a final is ready, not when the turn ends.
        Policy::Silence(ms) => {
            TurnConfig { mode: TurnMode::Silence, end_silence_ms: ms, speculate: false, ..cfg.clone() }
        }
        Policy::Smart { .. } => TurnConfig { mode: TurnMode::Smart, ..cfg.clone() },
    };
    let (use_words, use_question) = match policy {
        Policy::Smart { words, question } => (words, question),
        Policy::Silence(_) => (false, false),
    };
    let mut d = TurnDetector::new(cfg.clone());
    let mut ends = Vec::new();
    let mut turn_start = 0;
    // (last speech end, ready at, probe)
    let mut pending: Option<(u64, u64, Probe)> = None;
    let mut ready: Option<(u64, Probe)> = None;
    let judge = |ready: &(u64, Probe), now: u64| {
        let (last, probe) = ready;
        let ev = Evidence {
            silence_ms: now.saturating_sub(*last),
            end_of_turn: Some(probe.p),
            words: use_words.then_some(probe.words.as_str()),
            expecting: if use_question { item.expecting.as_ref() } else { None },
        };
        let v = endpoint::judge(&cfg, &ev);
        tracing::debug!(now, silence_ms = ev.silence_ms, p = probe.p, words = probe.words, ?v, "pause judged");
        v
    };
    for (i, p) in probs.iter().enumerate() {
        let t = i as u64 * CHUNK_MS;
        let now = t + CHUNK_MS;
        match d.handle_chunk(t, now, *p) {
            Some(TurnEvent::Started { start_ms }) => {
                turn_start = start_ms;
                pending = None;
                ready = None;
            }
            ev @ Some(TurnEvent::Ended { .. }) => close(ev, turn_start, &mut ends),
            Some(TurnEvent::Pause { last_speech_end, at_ms, .. }) => match &ready {
                Some(r) if r.0 == last_speech_end => {
                    if judge(r, now).ends() {
                        close(d.end_now(now), turn_start, &mut ends);
                    }
                }
                _ if pending.as_ref().is_some_and(|p| p.0 == last_speech_end) => {}
                _ => {
                    let probe = prober.probe(&item.audio, turn_start.saturating_sub(PREROLL_MS), at_ms)?;
                    let cost = probe.eot_ms + if use_words { probe.decode_ms } else { 0 };
                    pending = Some((last_speech_end, at_ms + cost, probe));
                }
            },
            None => {}
        }
        if pending.as_ref().is_some_and(|p| now >= p.1) {
            let (last, _, probe) = pending.take().expect("checked");
            if d.last_speech_end() == Some(last) {
                let r = (last, probe);
                let ends_turn = judge(&r, now).ends();
                ready = Some(r);
                if ends_turn {
                    close(d.end_now(now), turn_start, &mut ends);
                }
            }
        }
    }
    close(d.finish(probs.len() as u64 * CHUNK_MS), turn_start, &mut ends);
    Ok(Run { ends })
}

#[derive(Default)]
struct Tally {
    turns: usize,
    cut_turns: usize,
    pauses: usize,
    cut_pauses: usize,
    waits: Vec<u64>,
    /// End of speech to the final transcript ready.
    finals: Vec<u64>,
    missed: usize,
}

impl Tally {
    /// `final_ms`: the final decode's time after the decision (0 when a probe already did it).
    fn add(&mut self, truth: &Truth, run: &Run, final_ms: u64) {
        self.turns += 1;
        self.pauses += truth.pauses;
        let cuts = run.cuts(truth);
        self.cut_pauses += cuts;
        self.cut_turns += usize::from(cuts > 0);
        match run.at_true_end(truth).map(|e| e.decided) {
            Some(decided) => {
                self.waits.push(decided.saturating_sub(truth.end_ms));
                self.finals.push(decided.saturating_sub(truth.end_ms) + final_ms);
            }
            None => self.missed += 1,
        }
    }

    fn row(&self, name: &str) -> String {
        let pct = |a: usize, b: usize| if b == 0 { 0.0 } else { 100.0 * a as f64 / b as f64 };
        let q = |v: &[u64], f: f64| {
            let mut w = v.to_vec();
            w.sort_unstable();
            w.get(((w.len() as f64 - 1.0) * f).round() as usize).copied().unwrap_or(0)
        };
        format!(
            "{name:<40} {:>5}/{:<3} {:>5.1}%   {:>4}/{:<4} {:>5.1}%   {:>5} / {:>5} ms   {:>5} / {:>5} ms",
            self.cut_turns,
            self.turns,
            pct(self.cut_turns, self.turns),
            self.cut_pauses,
            self.pauses,
            pct(self.cut_pauses, self.pauses),
            q(&self.waits, 0.5),
            q(&self.waits, 0.95),
            q(&self.finals, 0.5),
            q(&self.finals, 0.95),
        )
    }
}

/// Run the evaluation and print the table.
pub fn run(engine: Arc<Engine>, root: &Path) -> anyhow::Result<()> {
    if engine.turn_model.is_none() {
        anyhow::bail!("the Smart Turn model is not loaded: run `switchboard models fetch`");
    }
    let items = labelled_set(root)?;
    let cfg = engine.config.turn.clone();
    let policies = [
        Policy::Silence(400),
        Policy::Silence(600),
        Policy::Silence(800),
        Policy::Silence(1600),
        Policy::Smart { words: false, question: false },
        Policy::Smart { words: true, question: false },
        Policy::Smart { words: true, question: true },
    ];
    let mut prober = Prober { engine: &engine, cache: Default::default() };
    let mut overall: Vec<Tally> = policies.iter().map(|_| Tally::default()).collect();
    let mut by_category: std::collections::BTreeMap<&str, Vec<Tally>> = Default::default();
    eprintln!("{} labelled turns; each pause is probed with Smart Turn and {}", items.len(), engine.recognizer.name());
    for (n, item) in items.iter().enumerate() {
        let mut vad = engine.vad.create()?;
        let probs = vad.push(&item.audio)?;
        let Some(truth) = truth(&cfg, &probs) else {
            eprintln!("  {}: no speech found, skipped", item.name);
            continue;
        };
        let cat =
            by_category.entry(item.category).or_insert_with(|| policies.iter().map(|_| Tally::default()).collect());
        let mut line = Vec::new();
        for (k, policy) in policies.iter().enumerate() {
            let run = simulate(*policy, &cfg, item, &probs, &mut prober)?;
            // Silence alone starts the final decode when it decides; the smart decision's
            // probe has it ready.
            let final_ms = match (policy, run.at_true_end(&truth)) {
                (Policy::Silence(_), Some(e)) => {
                    prober.probe(&item.audio, e.start.saturating_sub(PREROLL_MS), e.end + 300)?.decode_ms
                }
                _ => 0,
            };
            overall[k].add(&truth, &run, final_ms);
            cat[k].add(&truth, &run, final_ms);
            if matches!(policy, Policy::Smart { words: true, question: true }) {
                let wait = run.at_true_end(&truth).map(|e| e.decided.saturating_sub(truth.end_ms).to_string());
                line.push(format!(
                    "{} pauses, cut {}, wait {} ms",
                    truth.pauses,
                    run.cuts(&truth),
                    wait.unwrap_or("-".into())
                ));
            }
        }
        eprintln!("  [{}/{}] {}: {}", n + 1, items.len(), item.name, line.join(""));
    }
    let header = format!(
        "{:<40} {:>13}   {:>15}   {:>21}   {:>21}",
        "end-of-turn decision", "turns cut off", "pauses cut", "decided p50/p95", "final ready p50/p95"
    );
    println!("{header}");
    for (k, p) in policies.iter().enumerate() {
        println!("{}", overall[k].row(&p.name()));
    }
    for (cat, tallies) in &by_category {
        println!("\n{cat}:");
        for (k, p) in policies.iter().enumerate() {
            println!("{}", tallies[k].row(&p.name()));
        }
    }
    let mut eot: Vec<u64> = prober.cache.values().map(|p| p.eot_ms).collect();
    let mut dec: Vec<u64> = prober.cache.values().map(|p| p.decode_ms).collect();
    eot.sort_unstable();
    dec.sort_unstable();
    let med = |v: &[u64]| v.get(v.len() / 2).copied().unwrap_or(0);
    println!(
        "\n{} probes: Smart Turn p50 {} ms, decode ({}) p50 {} ms on this machine; the smart waits include them \
         (a decision is made when its probe would be back in a live call).",
        eot.len(),
        med(&eot),
        engine.recognizer.name(),
        med(&dec)
    );
    let missed: usize = overall.iter().map(|t| t.missed).sum();
    if missed > 0 {
        println!("{missed} turn ends were not found by some policy (counted in no wait figure).");
    }
    Ok(())
}
