//! Turn detection from per-chunk speech probabilities (sans-IO: time comes in as stream ms).
//!
//! The detector finds where speech starts and stops. In `silence` mode a fixed silence ends a
//! turn (the default). In `smart` mode (opt-in) it reports pauses ([`TurnEvent::Pause`]) from
//! `probe_silence_ms` of silence on, every `recheck_ms`; the stream weighs each pause
//! ([`super::endpoint::judge`]) and ends the turn with [`TurnDetector::end_now`], and the
//! detector itself only ends a turn after `max_silence_ms`. In `silence` mode with `speculate`
//! on it reports each pause once, at `probe_silence_ms`, so the stream can decode the turn
//! ahead of the silence rule (the decode is the final if the rule then ends the turn).

use serde::{Deserialize, Serialize};

/// Thresholds for turn detection.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct TurnConfig {
    /// Probability at or above which a chunk counts as speech.
    pub speech_threshold: f32,
    /// Probability below which a chunk counts as silence (hysteresis between the two).
    pub silence_threshold: f32,
    /// Sustained speech needed before a turn starts (coughs and clicks are shorter).
    pub min_speech_ms: u64,
    /// Silence that ends a turn in `silence` mode (and in `smart` mode when the end-of-turn
    /// model is not available).
    pub end_silence_ms: u64,
    /// A turn longer than this is cut (and a new one starts if speech goes on).
    pub max_turn_ms: u64,
    /// `smart`: the end-of-turn model, the words and the assistant's question decide after a
    /// short silence; `silence`: `end_silence_ms` of silence alone.
    pub mode: TurnMode,
    /// Silence after which a pause is first judged (smart mode), or decoded ahead (`speculate`).
    pub probe_silence_ms: u64,
    /// `silence` mode: decode the turn once a pause reaches `speculate_ms`, so its final is
    /// ready when `end_silence_ms` ends the turn; if the caller goes on the decode is dropped.
    /// Costs a decode per pause that does not end a turn; under load (a queue on the inference
    /// pool) it is skipped, and offered again at [`TurnConfig::late_speculate_ms`]; calls
    /// followed live (partials) do not speculate. Files fed faster than real time never
    /// speculate.
    pub speculate: bool,
    /// Silence after which `silence` mode decodes the turn ahead (below `end_silence_ms`).
    pub speculate_ms: u64,
    /// A pause is judged again every this many ms of further silence.
    pub recheck_ms: u64,
    /// Smart Turn probability at or above which a turn is complete.
    pub model_threshold: f32,
    /// Silence that ends a turn the model judged unfinished (not for unfinished words or an
    /// answer under way, which wait up to `max_silence_ms`).
    pub unsure_silence_ms: u64,
    /// A Smart Turn probability below this is the model sure the caller goes on: the turn
    /// waits up to `max_silence_ms`, like unfinished words.
    pub goes_on_below: f32,
    /// The model threshold when the recogniser closed the sentence (".", "?", "!": Whisper
    /// punctuates from what it hears) and its last word does not leave it unfinished.
    pub sentence_end_threshold: f32,
    /// Silence that ends every turn, whatever the model, the words and the dialogue say.
    pub max_silence_ms: u64,
}

/// How turns end: see [`TurnConfig::mode`].
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum TurnMode {
    Smart,
    Silence,
}

const SPECULATE_MS: u64 = 160;
const MIN_SPECULATE_MS: u64 = 64;
/// How long before `end_silence_ms` a pause not decoded ahead at `speculate_ms` is offered
/// again: about one whole-turn decode on one thread, so the final is ready soon after the
/// rule; a pause this long ends its turn more often, so fewer decodes ahead are wasted.
pub const LATE_SPECULATE_LEAD_MS: u64 = 250;

impl Default for TurnConfig {
    fn default() -> Self {
        Self {
            speech_threshold: 0.5,
            silence_threshold: 0.35,
            min_speech_ms: 120,
            end_silence_ms: 600,
            max_turn_ms: 30_000,
            mode: TurnMode::Silence,
            probe_silence_ms: 160,
            speculate: true,
            speculate_ms: SPECULATE_MS,
            recheck_ms: 96,
            model_threshold: 0.5,
            unsure_silence_ms: 1000,
            goes_on_below: 0.2,
            sentence_end_threshold: 0.15,
            max_silence_ms: 2000,
        }
    }
}

impl TurnConfig {
    /// Check the values; the message names the field.
    pub fn validate(&self) -> Result<(), String> {
        let probs = [
            ("speech_threshold", self.speech_threshold),
            ("silence_threshold", self.silence_threshold),
            ("model_threshold", self.model_threshold),
            ("goes_on_below", self.goes_on_below),
            ("sentence_end_threshold", self.sentence_end_threshold),
        ];
        for (name, v) in probs {
            if !(0.0..=1.0).contains(&v) {
                return Err(format!("[pipeline.turn] {name} = {v} must be between 0 and 1"));
            }
        }
        if self.silence_threshold > self.speech_threshold {
            return Err("[pipeline.turn] silence_threshold must not be above speech_threshold".into());
        }
        if self.end_silence_ms == 0 || self.recheck_ms == 0 {
            return Err("[pipeline.turn] end_silence_ms and recheck_ms must be above 0".into());
        }
        if self.mode == TurnMode::Silence
            && self.speculate
            && !(MIN_SPECULATE_MS..self.end_silence_ms).contains(&self.speculate_ms)
        {
            return Err(format!(
                "[pipeline.turn] speculate_ms ({}) must be from {MIN_SPECULATE_MS} (shorter gaps come between words) to below end_silence_ms ({}), or set speculate = false",
                self.speculate_ms, self.end_silence_ms
            ));
        }
        if self.mode == TurnMode::Smart
            && !(self.probe_silence_ms <= self.unsure_silence_ms && self.unsure_silence_ms <= self.max_silence_ms)
        {
            return Err(format!(
                "[pipeline.turn] needs probe_silence_ms ({}) <= unsure_silence_ms ({}) <= max_silence_ms ({})",
                self.probe_silence_ms, self.unsure_silence_ms, self.max_silence_ms
            ));
        }
        Ok(())
    }

    /// `silence` mode: the silence at which a pause not yet decoded ahead (the machine was too
    /// busy at `speculate_ms`) is offered a second time, [`LATE_SPECULATE_LEAD_MS`] before
    /// `end_silence_ms` ends the turn. `None` when that is not after `speculate_ms`.
    pub fn late_speculate_ms(&self) -> Option<u64> {
        let late = self.end_silence_ms.saturating_sub(LATE_SPECULATE_LEAD_MS);
        (late > self.speculate_ms).then_some(late)
    }

    /// The silence at which a pause is first reported.
    fn first_pause_ms(&self) -> u64 {
        match self.mode {
            TurnMode::Smart => self.probe_silence_ms,
            TurnMode::Silence => self.speculate_ms,
        }
    }

    /// The silence after which the detector itself ends a turn.
    fn hard_silence_ms(&self) -> u64 {
        match self.mode {
            TurnMode::Smart => self.max_silence_ms,
            TurnMode::Silence => self.end_silence_ms,
        }
    }
}

/// What the detector reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TurnEvent {
    /// Speech began at `start_ms`.
    Started { start_ms: u64 },
    /// Speech ended at `end_ms`; the end was recognised at stream time `detected_ms`.
    Ended { end_ms: u64, detected_ms: u64 },
    /// Smart mode: the speaker has been silent since `last_speech_end` (`silence_ms` so far,
    /// at stream time `at_ms`); judge whether the turn is over. Silence mode with `speculate`:
    /// once per pause, decode ahead.
    Pause { last_speech_end: u64, silence_ms: u64, at_ms: u64 },
}

#[derive(Debug, Clone, Copy)]
enum State {
    Idle { run_start: Option<u64> },
    Speech { last_speech_end: u64, start_ms: u64, next_pause: u64 },
}

/// Hysteresis state machine over VAD chunks.
#[derive(Debug, Clone)]
pub struct TurnDetector {
    cfg: TurnConfig,
    state: State,
}

impl TurnDetector {
    /// A detector in the idle state.
    pub fn new(cfg: TurnConfig) -> Self {
        Self { cfg, state: State::Idle { run_start: None } }
    }

    /// Whether a turn is in progress.
    pub fn in_turn(&self) -> bool {
        matches!(self.state, State::Speech { .. })
    }

    /// Feed one VAD chunk covering `[start_ms, end_ms)` with speech probability `prob`.
    pub fn handle_chunk(&mut self, start_ms: u64, end_ms: u64, prob: f32) -> Option<TurnEvent> {
        match self.state {
            State::Idle { run_start } => {
                if prob >= self.cfg.speech_threshold {
                    let run_start = run_start.unwrap_or(start_ms);
                    if end_ms - run_start >= self.cfg.min_speech_ms {
                        let next_pause = self.cfg.first_pause_ms();
                        self.state = State::Speech { last_speech_end: end_ms, start_ms: run_start, next_pause };
                        return Some(TurnEvent::Started { start_ms: run_start });
                    }
                    self.state = State::Idle { run_start: Some(run_start) };
                } else if prob < self.cfg.silence_threshold {
                    self.state = State::Idle { run_start: None };
                }
                None
            }
            State::Speech { last_speech_end, start_ms: turn_start, next_pause } => {
                let is_speech = prob >= self.cfg.silence_threshold;
                let last = if is_speech { end_ms } else { last_speech_end };
                let next_pause = if is_speech { self.cfg.first_pause_ms() } else { next_pause };
                if end_ms - turn_start >= self.cfg.max_turn_ms {
                    // Cut here; speech that continues opens a new turn right away.
                    self.state = if is_speech {
                        State::Idle { run_start: Some(end_ms) }
                    } else {
                        State::Idle { run_start: None }
                    };
                    return Some(TurnEvent::Ended { end_ms: last, detected_ms: end_ms });
                }
                let silence_ms = end_ms - last;
                if !is_speech && silence_ms >= self.cfg.hard_silence_ms() {
                    self.state = State::Idle { run_start: None };
                    return Some(TurnEvent::Ended { end_ms: last, detected_ms: end_ms });
                }
                // (A pause at or past end_silence_ms never comes: the turn ended above.)
                let pauses = self.cfg.mode == TurnMode::Smart || self.cfg.speculate;
                if !is_speech && pauses && silence_ms >= next_pause {
                    // Smart mode judges the pause again later; silence mode offers a decode ahead
                    // at most twice, early and late (the stream runs the late one only if the
                    // early one did not run).
                    let next_pause = match (self.cfg.mode, self.cfg.late_speculate_ms()) {
                        (TurnMode::Smart, _) => silence_ms + self.cfg.recheck_ms,
                        (TurnMode::Silence, Some(late)) if silence_ms < late => late,
                        (TurnMode::Silence, _) => u64::MAX,
                    };
                    self.state = State::Speech { last_speech_end: last, start_ms: turn_start, next_pause };
                    return Some(TurnEvent::Pause { last_speech_end: last, silence_ms, at_ms: end_ms });
                }
                self.state = State::Speech { last_speech_end: last, start_ms: turn_start, next_pause };
                None
            }
        }
    }

    /// The end of the last speech in the turn in progress.
    pub fn last_speech_end(&self) -> Option<u64> {
        match self.state {
            State::Speech { last_speech_end, .. } => Some(last_speech_end),
            State::Idle { .. } => None,
        }
    }

    /// End the turn in progress now (a pause was judged to end it), at stream time `now_ms`.
    pub fn end_now(&mut self, now_ms: u64) -> Option<TurnEvent> {
        self.finish(now_ms)
    }

    /// The stream ended at `now_ms`: close an open turn.
    pub fn finish(&mut self, now_ms: u64) -> Option<TurnEvent> {
        let ev = match self.state {
            State::Speech { last_speech_end, .. } => {
                Some(TurnEvent::Ended { end_ms: last_speech_end, detected_ms: now_ms })
            }
            State::Idle { .. } => None,
        };
        self.state = State::Idle { run_start: None };
        ev
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Drive the detector with a probability per 32 ms chunk on a simulated clock.
    fn run(probs: &[f32], cfg: TurnConfig) -> Vec<TurnEvent> {
        let mut d = TurnDetector::new(cfg);
        let mut out = Vec::new();
        for (i, p) in probs.iter().enumerate() {
            let t = i as u64 * 32;
            out.extend(d.handle_chunk(t, t + 32, *p));
        }
        out.extend(d.finish(probs.len() as u64 * 32));
        out
    }

    fn smart() -> TurnConfig {
        TurnConfig { mode: TurnMode::Smart, ..TurnConfig::default() }
    }

    fn silence_mode() -> TurnConfig {
        TurnConfig { mode: TurnMode::Silence, speculate: false, ..TurnConfig::default() }
    }

    #[test]
    fn speech_then_silence_makes_one_turn() {
        let mut p = vec![0.0; 10];
        p.extend(vec![0.9; 40]); // 320..1600 ms
        p.extend(vec![0.0; 30]);
        let ev = run(&p, silence_mode());
        assert_eq!(
            ev,
            vec![TurnEvent::Started { start_ms: 320 }, TurnEvent::Ended { end_ms: 1600, detected_ms: 2208 }]
        );
    }

    #[test]
    fn a_click_is_not_a_turn() {
        let mut p = vec![0.0; 10];
        p.extend(vec![0.9; 2]); // 64 ms < min_speech_ms
        p.extend(vec![0.0; 30]);
        assert!(run(&p, silence_mode()).is_empty());
    }

    #[test]
    fn short_pauses_stay_inside_the_turn_and_hysteresis_holds() {
        let mut p = vec![0.9; 20];
        p.extend(vec![0.1; 10]); // 320 ms pause < 600
        p.extend(vec![0.4; 10]); // between thresholds: still speech once in a turn
        p.extend(vec![0.9; 10]);
        p.extend(vec![0.0; 25]);
        let ev = run(&p, silence_mode());
        assert_eq!(ev.len(), 2, "{ev:?}");
        assert_eq!(ev[1], TurnEvent::Ended { end_ms: 50 * 32, detected_ms: 50 * 32 + 19 * 32 });
    }

    #[test]
    fn long_speech_is_cut_at_max_turn_and_continues() {
        let cfg = TurnConfig { max_turn_ms: 1000, ..silence_mode() };
        let ev = run(&vec![0.9; 100], cfg);
        let starts = ev.iter().filter(|e| matches!(e, TurnEvent::Started { .. })).count();
        let ends = ev.iter().filter(|e| matches!(e, TurnEvent::Ended { .. })).count();
        assert!(starts >= 3 && starts == ends, "{ev:?}");
    }

    #[test]
    fn stream_end_closes_open_turn() {
        let ev = run(&[0.9; 20], TurnConfig::default());
        assert_eq!(ev.last(), Some(&TurnEvent::Ended { end_ms: 640, detected_ms: 640 }));
    }

    #[test]
    fn smart_mode_reports_pauses_then_ends_at_the_hard_maximum() {
        let cfg = smart();
        let mut p = vec![0.9; 20]; // 0..640 ms
        p.extend(vec![0.0; 70]); // 2240 ms of silence
        let ev = run(&p, cfg.clone());
        let pauses: Vec<u64> = ev
            .iter()
            .filter_map(|e| match e {
                TurnEvent::Pause { last_speech_end: 640, silence_ms, .. } => Some(*silence_ms),
                _ => None,
            })
            .collect();
        // First at probe_silence_ms (rounded up to a chunk), then every recheck_ms.
        assert_eq!(pauses.first(), Some(&160));
        assert!(pauses.windows(2).all(|w| w[1] - w[0] >= cfg.recheck_ms && w[1] - w[0] < cfg.recheck_ms + 32));
        assert!(*pauses.last().unwrap() < cfg.max_silence_ms);
        assert_eq!(ev.last(), Some(&TurnEvent::Ended { end_ms: 640, detected_ms: 640 + 2016 }));
    }

    #[test]
    fn silence_mode_offers_a_pause_early_and_late_and_the_silence_rule_still_ends_the_turn() {
        let cfg = TurnConfig { mode: TurnMode::Silence, speculate: true, speculate_ms: 160, ..TurnConfig::default() };
        assert_eq!(cfg.late_speculate_ms(), Some(600 - LATE_SPECULATE_LEAD_MS));
        let mut p = vec![0.9; 10]; // 0..320 ms
        p.extend(vec![0.0; 8]); // a 256 ms pause: offered at 160 ms, the turn goes on
        p.extend(vec![0.9; 10]); // ..896 ms
        p.extend(vec![0.0; 25]); // offered at 160 and at 352 ms, then the rule ends the turn
        let ev = run(&p, cfg.clone());
        let pauses: Vec<(u64, u64)> = ev
            .iter()
            .filter_map(|e| match e {
                TurnEvent::Pause { last_speech_end, silence_ms, .. } => Some((*last_speech_end, *silence_ms)),
                _ => None,
            })
            .collect();
        assert_eq!(pauses, vec![(320, 160), (896, 160), (896, 352)], "{ev:?}");
        assert_eq!(ev.last(), Some(&TurnEvent::Ended { end_ms: 896, detected_ms: 896 + 608 }));
        // A late offer that would not come after the early one is not made.
        let late = TurnConfig { speculate_ms: 400, ..cfg.clone() };
        assert_eq!(late.late_speculate_ms(), None);
        assert_eq!(run(&p, late).iter().filter(|e| matches!(e, TurnEvent::Pause { .. })).count(), 1);
        // Off, or a probe no earlier than the rule: no pauses at all.
        for cfg in [TurnConfig { speculate: false, ..cfg.clone() }, TurnConfig { speculate_ms: 600, ..cfg }] {
            assert!(!run(&p, cfg).iter().any(|e| matches!(e, TurnEvent::Pause { .. })));
        }
    }

    #[test]
    fn speech_after_a_pause_restarts_the_probes_and_end_now_closes_the_turn() {
        let mut d = TurnDetector::new(smart());
        let mut t = 0;
        let mut feed = |d: &mut TurnDetector, prob: f32, n: usize| {
            let mut out = Vec::new();
            for _ in 0..n {
                out.extend(d.handle_chunk(t, t + 32, prob));
                t += 32;
            }
            out
        };
        feed(&mut d, 0.9, 10);
        assert!(matches!(feed(&mut d, 0.0, 6)[..], [TurnEvent::Pause { last_speech_end: 320, silence_ms: 160, .. }]));
        feed(&mut d, 0.9, 10); // speech again: the same turn
        assert_eq!(d.last_speech_end(), Some(832));
        let again = feed(&mut d, 0.0, 6);
        assert!(matches!(again[..], [TurnEvent::Pause { last_speech_end: 832, silence_ms: 160, .. }]), "{again:?}");
        assert_eq!(d.end_now(1100), Some(TurnEvent::Ended { end_ms: 832, detected_ms: 1100 }));
        assert!(!d.in_turn());
    }

    #[test]
    fn bad_turn_settings_are_refused_by_name() {
        assert!(smart().validate().is_ok());
        let e = TurnConfig { model_threshold: 1.5, ..smart() }.validate().unwrap_err();
        assert!(e.contains("model_threshold"), "{e}");
        let on = TurnConfig { speculate: true, ..TurnConfig::default() };
        let e = TurnConfig { speculate_ms: 600, ..on.clone() }.validate().unwrap_err();
        assert!(e.contains("speculate_ms"), "{e}");
        assert!(TurnConfig { speculate_ms: 600, speculate: false, ..on.clone() }.validate().is_ok());
        let e = TurnConfig { speculate_ms: 0, ..on }.validate().unwrap_err();
        assert!(e.contains("speculate_ms"), "{e}");
        let e = TurnConfig { unsure_silence_ms: 5000, ..smart() }.validate().unwrap_err();
        assert!(e.contains("max_silence_ms"), "{e}");
    }
}
