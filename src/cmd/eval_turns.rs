//! `switchboard eval turns --dataset DIR`: how often the end-of-turn decision cuts a speaker off
//! in a pause, and how long it keeps them waiting after they really finished, for the smart
//! decision ([`crate::pipeline::endpoint`]) and plain silence thresholds, on the same audio and
//! in the same run.
//!
//! The labelled set is built from real recordings in the shared datasets folder ([`set`]).
//!
//! Each item is padded with 0.5 s of silence before and 2.5 s after. The VAD's speech runs
//! give the pauses; the true end is the end of the item's last speech.

mod set;

pub use set::{conversation_turns, labelled_set, Span, TurnItem};

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;

use crate::pipeline::endpoint::{self, Evidence};
use crate::pipeline::turn::{TurnConfig, TurnDetector, TurnEvent, TurnMode};
use crate::pipeline::vad::CHUNK_MS;
use crate::pipeline::Engine;

const RATE: usize = 16_000;
const PREROLL_MS: u64 = 300;
/// An end this close to the true end is the true end (VAD edges move by a chunk or two).
const SLACK_MS: u64 = 100;

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
#[derive(Debug, Clone)]
struct Ended {
    start: u64,
    end: u64,
    decided: u64,
    /// What the smart decision saw when it ended the turn (`None`: the detector's silence).
    why: Option<String>,
}

/// The turns one policy ended on one item.
struct Run {
    ends: Vec<Ended>,
    /// Every judgement: silence so far and the verdict (for `--verbose`).
    trace: Vec<String>,
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
fn close(ev: Option<TurnEvent>, start: u64, ends: &mut Vec<Ended>, why: Option<String>) {
    if let Some(TurnEvent::Ended { end_ms, detected_ms }) = ev {
        ends.push(Ended { start, end: end_ms, decided: detected_ms, why });
    }
}

struct Prober<'a> {
    engine: &'a Engine,
    /// Probes by item name and span: the two digit items made of the same audio (with and
    /// without the question) share theirs, no other items do.
    cache: std::collections::HashMap<(String, u64, u64), Probe>,
}

impl Prober<'_> {
    fn probe(&mut self, item: &TurnItem, from_ms: u64, at_ms: u64) -> anyhow::Result<Probe> {
        let key = (item.name.clone(), from_ms, at_ms);
        if let Some(p) = self.cache.get(&key) {
            return Ok(p.clone());
        }
        let audio = &item.audio;
        let a = (from_ms as usize * RATE / 1000).min(audio.len());
        let b = (at_ms as usize * RATE / 1000).min(audio.len());
        let slice = &audio[a..b];
        let model = self.engine.turn_model.as_ref().context("the Smart Turn model is not loaded")?;
        let started = Instant::now();
        let p = model.embed(slice).map_err(anyhow::Error::msg)?.end_of_turn;
        let eot_ms = started.elapsed().as_millis() as u64;
        let started = Instant::now();
        let words = self.engine.decode_whole_as_live(slice.to_vec())?.text;
        let probe = Probe { p, words, eot_ms, decode_ms: started.elapsed().as_millis() as u64 };
        self.cache.insert(key, probe.clone());
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
    let trace = std::cell::RefCell::new(Vec::new());
    let judge = |ready: &(u64, Probe), now: u64| {
        let (last, probe) = ready;
        let ev = Evidence {
            silence_ms: now.saturating_sub(*last),
            end_of_turn: Some(probe.p),
            words: use_words.then_some(probe.words.as_str()),
            expecting: if use_question { item.expecting.as_ref() } else { None },
        };
        let v = endpoint::judge(&cfg, &ev);
        trace.borrow_mut().push(format!("{} ms: {v:?}", ev.silence_ms));
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
            ev @ Some(TurnEvent::Ended { .. }) => {
                // The detector's own limit; the last judgement says what held the turn open.
                let last = trace.borrow().last().cloned().unwrap_or_default();
                let held = ready.as_ref().map(|r| format!("max silence, last judged {last}; {}", evidence(None, &r.1)));
                close(ev, turn_start, &mut ends, held)
            }
            Some(TurnEvent::Pause { last_speech_end, at_ms, .. }) => match &ready {
                Some(r) if r.0 == last_speech_end => {
                    let v = judge(r, now);
                    if v.ends() {
                        close(d.end_now(now), turn_start, &mut ends, Some(evidence(Some(&v), &r.1)));
                    }
                }
                _ if pending.as_ref().is_some_and(|p| p.0 == last_speech_end) => {}
                _ => {
                    let probe = prober.probe(item, turn_start.saturating_sub(PREROLL_MS), at_ms)?;
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
                let v = judge(&r, now);
                if v.ends() {
                    close(d.end_now(now), turn_start, &mut ends, Some(evidence(Some(&v), &r.1)));
                }
                ready = Some(r);
            }
        }
    }
    close(d.finish(probs.len() as u64 * CHUNK_MS), turn_start, &mut ends, None);
    Ok(Run { ends, trace: trace.into_inner() })
}

/// What a probe showed, after the verdict it led to (if any), for `--verbose`.
fn evidence(v: Option<&endpoint::Verdict>, probe: &Probe) -> String {
    let why = match v {
        Some(endpoint::Verdict::End(w) | endpoint::Verdict::Wait(w)) => format!("{w}; "),
        None => String::new(),
    };
    format!("{why}Smart Turn {:.2}; words {:?}", probe.p, probe.words)
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
pub fn run(engine: Arc<Engine>, root: &Path, only: Option<&str>, verbose: bool) -> anyhow::Result<()> {
    if engine.turn_model.is_none() {
        anyhow::bail!("the Smart Turn model is not loaded: run `switchboard models fetch`");
    }
    let cfg = engine.config.turn.clone();
    let vad = |audio: &[f32]| -> anyhow::Result<Vec<f32>> { Ok(engine.vad.create()?.push(audio)?) };
    let mut items = labelled_set(root, &cfg, &vad)?;
    if let Some(only) = only {
        items.retain(|i| i.category.contains(only));
        anyhow::ensure!(!items.is_empty(), "no labelled turns in a category containing {only:?}");
    }
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
                    prober.probe(item, e.start.saturating_sub(PREROLL_MS), e.end + 300)?.decode_ms
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
                if verbose {
                    for e in &run.ends {
                        let at = if e.end + SLACK_MS < truth.end_ms { "CUT a pause" } else { "true end" };
                        let why = e.why.as_deref().unwrap_or("the detector's silence");
                        line.push(format!("\n      {at} after {} ms: {why}", e.decided.saturating_sub(e.end)));
                    }
                    line.push(format!("\n      judged: {}", run.trace.join(", ")));
                }
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
