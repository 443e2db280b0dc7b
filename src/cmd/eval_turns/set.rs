//! The labelled set of `eval turns`, built from real recordings in the shared datasets folder
//! (how, and why the labels can be trusted: `docs/turn-taking.md`):
//!
//! * **read sentences** (`english-read-asr`): LJSpeech clips are cut from a book reading at
//!   phrase boundaries; consecutive clips up to one that ends a sentence (".", "?", "!") are
//!   joined with a 400-900 ms pause, so each item is one sentence with pauses inside it where
//!   the reader goes on, and its true end is the end of the sentence. CMU Arctic, LibriSpeech
//!   and JFK clips are one complete sentence each (JFK's "... ask not" pause included).
//! * **digits read slowly** (`narrowband-8k/fsdd`, six speakers, 8 kHz): five single-digit
//!   recordings of one speaker joined with 300-1,000 ms pauses, as a caller reads an order
//!   number; once with the assistant's question known ("order number"), once without.
//! * **a phone conversation** (`call-dialogue-audio`, SpokenWOZ MUL1011: two people on a real
//!   8 kHz call, one per channel): each side's turns, where a turn ends when the other side
//!   speaks ([`conversation_turns`]).
//!
//! Each item is padded with 0.5 s of silence before and 2.5 s after.

use std::path::Path;

use anyhow::Context;

use super::RATE;
use crate::eval::dataset;
use crate::media::decode::{read_channel_at, read_mono_at};
use crate::pipeline::endpoint::Expectation;
use crate::pipeline::turn::{TurnConfig, TurnDetector, TurnEvent, TurnMode};
use crate::pipeline::vad::CHUNK_MS;

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

/// A stretch of speech: `[start, end)` in ms.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Span {
    pub start: u64,
    pub end: u64,
}

/// Speech runs in one channel's VAD probabilities: speech separated by at least a pause (the
/// probe silence, as the eval's pauses), with the live detector's thresholds.
fn speech_runs(cfg: &TurnConfig, probs: &[f32]) -> Vec<Span> {
    let cfg = TurnConfig {
        mode: TurnMode::Silence,
        end_silence_ms: cfg.probe_silence_ms,
        speculate: false,
        max_turn_ms: u64::MAX / 4,
        ..cfg.clone()
    };
    let mut d = TurnDetector::new(cfg);
    let mut runs = Vec::new();
    let mut start = 0;
    for (i, p) in probs.iter().enumerate() {
        let t = i as u64 * CHUNK_MS;
        match d.handle_chunk(t, t + CHUNK_MS, *p) {
            Some(TurnEvent::Started { start_ms }) => start = start_ms,
            Some(TurnEvent::Ended { end_ms, .. }) => runs.push(Span { start, end: end_ms }),
            _ => {}
        }
    }
    if let Some(TurnEvent::Ended { end_ms, .. }) = d.finish(probs.len() as u64 * CHUNK_MS) {
        runs.push(Span { start, end: end_ms });
    }
    runs
}

/// The other side's speech this long inside a pause takes the floor (shorter is line noise or
/// crosstalk the VAD caught).
const FLOOR_MS: u64 = 200;

/// One side's turns in a two-party conversation: consecutive runs of `own` speech are one turn
/// until the `other` side speaks in the pause between them (at least [`FLOOR_MS`] of its
/// speech falls in the gap). So a pause the speaker goes on after, with the other side silent,
/// is a pause inside a turn; the end of a turn is the last speech before the other side answers.
/// Speech of the other side while this side talks (a backchannel over the speaker) does not end
/// the turn. The recording's last turn is left out (nobody answered it).
pub fn conversation_turns(own: &[Span], other: &[Span]) -> Vec<Vec<Span>> {
    let spoke_in = |a: u64, b: u64| -> bool {
        other.iter().map(|o| o.end.min(b).saturating_sub(o.start.max(a))).sum::<u64>() >= FLOOR_MS
    };
    let mut turns = Vec::new();
    let mut turn: Vec<Span> = Vec::new();
    for (i, run) in own.iter().enumerate() {
        turn.push(*run);
        let answered = match own.get(i + 1) {
            Some(next) => spoke_in(run.end, next.start),
            None => false,
        };
        if answered {
            turns.push(std::mem::take(&mut turn));
        }
    }
    turns
}

/// The turns of both sides of the two-channel call recordings in `call-dialogue-audio`, cut
/// from each side's own channel: from 0.5 s before the turn (less if the side spoke just before)
/// to 150 ms after its last speech, then 2.35 s of silence (the other side's reply is in the
/// other channel; the speaker's next turn is not in the item).
fn conversation_items(
    root: &Path,
    cfg: &TurnConfig,
    vad: &dyn Fn(&[f32]) -> anyhow::Result<Vec<f32>>,
) -> anyhow::Result<Vec<TurnItem>> {
    let dir = root.join("call-dialogue-audio");
    if !dir.join("labels.tsv").exists() {
        eprintln!("  {}: not found, no conversation turns", dir.display());
        return Ok(Vec::new());
    }
    let mut files: Vec<std::path::PathBuf> = dataset::read(&dir)?.into_iter().map(|r| r.path).collect();
    files.sort();
    files.dedup();
    let mut items = Vec::new();
    let at = |ms: u64| ms as usize * RATE / 1000;
    for path in files {
        let stem = path.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_default();
        let sides =
            [0u16, 1].map(|c| read_channel_at(&path, c, RATE as u32).with_context(|| path.display().to_string()));
        let [a, b] = match sides {
            [Ok(a), Ok(b)] => [a, b],
            [Err(e), _] | [_, Err(e)] => {
                eprintln!("  {}: skipped ({e:#})", path.display());
                continue;
            }
        };
        let runs = [speech_runs(cfg, &vad(&a)?), speech_runs(cfg, &vad(&b)?)];
        let audio = [a, b];
        for side in 0..2 {
            let mut prev_end = 0u64;
            for (k, turn) in conversation_turns(&runs[side], &runs[1 - side]).into_iter().enumerate() {
                let (first, last) = (turn[0].start, turn[turn.len() - 1].end);
                let from = first.saturating_sub(500).max(prev_end + 150).min(first);
                let to = (last + 150).min((audio[side].len() * 1000 / RATE) as u64);
                prev_end = last;
                let mut clip = silence(500 - (first - from).min(500));
                clip.extend_from_slice(&audio[side][at(from)..at(to)]);
                clip.extend(silence(2500u64.saturating_sub(to.saturating_sub(last))));
                items.push(TurnItem {
                    name: format!("{stem}-side{}-turn{k}", side + 1),
                    category: "phone conversation (SpokenWOZ)",
                    audio: clip,
                    expecting: None,
                });
            }
        }
    }
    Ok(items)
}

/// Build the labelled set from the shared datasets folder (`vad`: speech probabilities per
/// chunk, to find the turns of the conversation recordings).
pub fn labelled_set(
    root: &Path,
    cfg: &TurnConfig,
    vad: &dyn Fn(&[f32]) -> anyhow::Result<Vec<f32>>,
) -> anyhow::Result<Vec<TurnItem>> {
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
    items.extend(conversation_items(root, cfg, vad)?);
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(start: u64, end: u64) -> Span {
        Span { start, end }
    }

    #[test]
    fn a_turn_ends_where_the_other_side_takes_the_floor_and_not_at_its_own_pauses() {
        let own = [s(0, 1000), s(1500, 2000), s(4000, 5000), s(5600, 6000), s(9000, 9500)];
        let other = [
            s(200, 800),   // a backchannel over the speaker: no turn end
            s(1200, 1300), // 100 ms in the pause: crosstalk, not the floor
            s(2300, 3500), // the other side answers: the turn ended at 2000
            s(7000, 8000), // and again after 6000
        ];
        let turns = conversation_turns(&own, &other);
        assert_eq!(turns, vec![vec![s(0, 1000), s(1500, 2000)], vec![s(4000, 5000), s(5600, 6000)]]);
        // Nobody answered the last turn: it is not labelled.
        assert!(conversation_turns(&own, &[]).is_empty());
    }
}
