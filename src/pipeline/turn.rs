//! End-of-turn detection from per-chunk speech probabilities (sans-IO: time comes in as stream ms).

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
    /// Silence that ends a turn.
    pub end_silence_ms: u64,
    /// A turn longer than this is cut (and a new one starts if speech goes on).
    pub max_turn_ms: u64,
}

impl Default for TurnConfig {
    fn default() -> Self {
        Self {
            speech_threshold: 0.5,
            silence_threshold: 0.35,
            min_speech_ms: 120,
            end_silence_ms: 600,
            max_turn_ms: 30_000,
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
}

#[derive(Debug, Clone, Copy)]
enum State {
    Idle { run_start: Option<u64> },
    Speech { last_speech_end: u64, start_ms: u64 },
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
                        self.state = State::Speech { last_speech_end: end_ms, start_ms: run_start };
                        return Some(TurnEvent::Started { start_ms: run_start });
                    }
                    self.state = State::Idle { run_start: Some(run_start) };
                } else if prob < self.cfg.silence_threshold {
                    self.state = State::Idle { run_start: None };
                }
                None
            }
            State::Speech { last_speech_end, start_ms: turn_start } => {
                let is_speech = prob >= self.cfg.silence_threshold;
                let last = if is_speech { end_ms } else { last_speech_end };
                if end_ms - turn_start >= self.cfg.max_turn_ms {
                    // Cut here; speech that continues opens a new turn right away.
                    self.state = if is_speech {
                        State::Idle { run_start: Some(end_ms) }
                    } else {
                        State::Idle { run_start: None }
                    };
                    return Some(TurnEvent::Ended { end_ms: last, detected_ms: end_ms });
                }
                if !is_speech && end_ms - last >= self.cfg.end_silence_ms {
                    self.state = State::Idle { run_start: None };
                    return Some(TurnEvent::Ended { end_ms: last, detected_ms: end_ms });
                }
                self.state = State::Speech { last_speech_end: last, start_ms: turn_start };
                None
            }
        }
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

    #[test]
    fn speech_then_silence_makes_one_turn() {
        let mut p = vec![0.0; 10];
        p.extend(vec![0.9; 40]); // 320..1600 ms
        p.extend(vec![0.0; 30]);
        let ev = run(&p, TurnConfig::default());
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
        assert!(run(&p, TurnConfig::default()).is_empty());
    }

    #[test]
    fn short_pauses_stay_inside_the_turn_and_hysteresis_holds() {
        let mut p = vec![0.9; 20];
        p.extend(vec![0.1; 10]); // 320 ms pause < 600
        p.extend(vec![0.4; 10]); // between thresholds: still speech once in a turn
        p.extend(vec![0.9; 10]);
        p.extend(vec![0.0; 25]);
        let ev = run(&p, TurnConfig::default());
        assert_eq!(ev.len(), 2, "{ev:?}");
        assert_eq!(ev[1], TurnEvent::Ended { end_ms: 50 * 32, detected_ms: 50 * 32 + 19 * 32 });
    }

    #[test]
    fn long_speech_is_cut_at_max_turn_and_continues() {
        let cfg = TurnConfig { max_turn_ms: 1000, ..TurnConfig::default() };
        let ev = run(&vec![0.9; 100], cfg);
        let starts = ev.iter().filter(|e| matches!(e, TurnEvent::Started { .. })).count();
        let ends = ev.iter().filter(|e| matches!(e, TurnEvent::Ended { .. })).count();
        assert!(starts >= 3 && starts == ends, "{ev:?}");
    }

    #[test]
    fn stream_end_closes_open_turn() {
        let ev = run(&vec![0.9; 20], TurnConfig::default());
        assert_eq!(ev.last(), Some(&TurnEvent::Ended { end_ms: 640, detected_ms: 640 }));
    }
}
