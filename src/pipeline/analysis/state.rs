//! The caller's state, turn by turn (sans-IO): prosody normalised against the caller's own
//! first turns plus lexical cues, fused into `frustration` 0..1 and a state
//! (calm / confused / frustrated / angry, or unknown when the evidence is too thin), with the
//! evidence that moved it and a call-level trend.

use super::lexical::Cues;
use super::prosody::Prosody;

/// The states a verdict names (all but `unknown`), as events spell them: for the history's
/// filter and the reviewers' choices.
pub const STATE_NAMES: [&str; 4] = ["calm", "confused", "frustrated", "angry"];

/// The caller's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Unknown,
    Calm,
    Confused,
    Frustrated,
    Angry,
}

/// The verdict for one turn.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TurnState {
    pub state: State,
    /// 0 (relaxed) .. 1 (furious).
    pub frustration: f32,
    pub confidence: f32,
    /// Prosodic arousal against the caller's baseline, roughly -1..1.
    pub arousal: f32,
    /// Human-readable reasons ("pitch +4.1 st above the caller's first turn", "asked for a person").
    pub evidence: Vec<String>,
}

/// Fusion weights. Defaults are hand-set from first principles and the fixtures; `eval
/// emotion` measures them (see the README for the figures and how to refit them).
#[derive(Debug, Clone, Copy)]
pub struct Weights {
    pub pitch_per_st: f32,
    pub level_per_db: f32,
    pub rate_per_ratio: f32,
    pub range_per_st: f32,
    pub negative: f32,
    pub escalation: f32,
    pub repetition: f32,
    pub polite: f32,
    pub bias: f32,
    /// Per unit of the anger classifier's log-odds.
    pub voice_anger: f32,
}

impl Default for Weights {
    fn default() -> Self {
        Self {
            pitch_per_st: 0.22,
            level_per_db: 0.12,
            rate_per_ratio: 1.6,
            range_per_st: 0.08,
            negative: 1.0,
            escalation: 1.3,
            repetition: 1.5,
            polite: -0.6,
            bias: -1.8,
            voice_anger: 1.5,
        }
    }
}

/// The frustration at which a turn is "frustrated", and "angry" (with arousal, negative words
/// or an angry voice). Shipped: 0.5 and 0.75; `switchboard calibrate caller-state` re-fits them
/// to people's reviews and `serve` installs the result once at start ([`Thresholds::install`]).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Thresholds {
    pub frustrated_at: f32,
    pub angry_at: f32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self { frustrated_at: 0.5, angry_at: 0.75 }
    }
}

static INSTALLED: std::sync::OnceLock<Thresholds> = std::sync::OnceLock::new();

impl Thresholds {
    /// Use these for every call from now on (once per process; later calls are ignored).
    pub fn install(t: Thresholds) -> bool {
        INSTALLED.set(t).is_ok()
    }

    /// The installed thresholds, or the shipped ones.
    pub fn current() -> Thresholds {
        INSTALLED.get().copied().unwrap_or_default()
    }

    /// Whether they make sense: 0 < frustrated < angry < 1.
    pub fn check(&self) -> Result<(), String> {
        if 0.0 < self.frustrated_at && self.frustrated_at < self.angry_at && self.angry_at < 1.0 {
            Ok(())
        } else {
            Err(format!("thresholds must be 0 < frustrated_at < angry_at < 1, got {self:?}"))
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Baseline {
    pitch_hz: f32,
    level_db: f32,
    range_st: f32,
    words_per_s: Option<f32>,
    turns: u32,
}

/// Tracks one call.
#[derive(Debug, Default)]
pub struct CallerStateTracker {
    weights: Weights,
    baseline: Option<Baseline>,
    history: Vec<f32>,
    last: Option<State>,
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

impl CallerStateTracker {
    /// A tracker with the given weights.
    pub fn new(weights: Weights) -> Self {
        Self { weights, ..Default::default() }
    }

    /// The mean frustration of the last three turns minus that of the three before (positive = rising).
    pub fn trend(&self) -> f32 {
        let n = self.history.len();
        if n < 2 {
            return 0.0;
        }
        let recent = &self.history[n.saturating_sub(3)..];
        let before = &self.history[n.saturating_sub(6)..n.saturating_sub(3).max(1)];
        let mean = |v: &[f32]| if v.is_empty() { 0.0 } else { v.iter().sum::<f32>() / v.len() as f32 };
        mean(recent) - mean(before)
    }

    /// Fix the caller's baseline from a reference turn (evaluation: a speaker's median
    /// recording), instead of learning it from the call's first turns.
    pub fn seed_baseline(&mut self, p: &Prosody) {
        if let Some(pitch) = p.pitch_hz {
            self.baseline = Some(Baseline {
                pitch_hz: pitch,
                level_db: p.level_db,
                range_st: p.pitch_range_st.unwrap_or(0.0),
                words_per_s: p.words_per_s,
                turns: 2,
            });
        }
    }

    /// The state of the previous turn, if any.
    pub fn last(&self) -> Option<State> {
        self.last
    }

    /// Judge one turn.
    pub fn turn(&mut self, p: &Prosody, c: &Cues) -> TurnState {
        let w = self.weights;
        let has_prosody = p.has_voice();
        let mut evidence = Vec::new();
        let mut arousal = 0.0f32;
        if has_prosody {
            let pitch = p.pitch_hz.expect("checked");
            let range = p.pitch_range_st.unwrap_or(0.0);
            match self.baseline {
                Some(b) => {
                    let d_pitch = 12.0 * (pitch / b.pitch_hz).log2();
                    let d_level = p.level_db - b.level_db;
                    let d_range = range - b.range_st;
                    let d_rate = match (p.words_per_s, b.words_per_s) {
                        (Some(r), Some(br)) if br > 0.0 => r / br - 1.0,
                        _ => 0.0,
                    };
                    arousal = w.pitch_per_st * d_pitch
                        + w.level_per_db * d_level
                        + w.range_per_st * d_range
                        + w.rate_per_ratio * d_rate;
                    if d_pitch.abs() >= 2.0 {
                        evidence.push(format!("pitch {d_pitch:+.1} st vs the caller's first turn"));
                    }
                    if d_level.abs() >= 3.0 {
                        evidence.push(format!("loudness {d_level:+.1} dB vs the caller's first turn"));
                    }
                    if d_rate.abs() >= 0.2 {
                        evidence.push(format!("speaking rate {:+.0}% vs the caller's first turn", d_rate * 100.0));
                    }
                }
                None => {
                    // First turn: only what is unusual for any caller (wide pitch swings, fast speech).
                    arousal = w.range_per_st * (range - 8.0).max(0.0)
                        + p.words_per_s.map(|r| w.rate_per_ratio * ((r / 3.0) - 1.0).max(0.0)).unwrap_or(0.0);
                    if range > 12.0 {
                        evidence.push(format!("wide pitch range {range:.0} st"));
                    }
                }
            }
            // The first two voiced turns set the caller's baseline.
            let b = self.baseline.get_or_insert(Baseline {
                pitch_hz: pitch,
                level_db: p.level_db,
                range_st: range,
                words_per_s: p.words_per_s,
                turns: 0,
            });
            if b.turns < 2 {
                let k = b.turns as f32;
                b.pitch_hz = (b.pitch_hz * k + pitch) / (k + 1.0);
                b.level_db = (b.level_db * k + p.level_db) / (k + 1.0);
                b.range_st = (b.range_st * k + range) / (k + 1.0);
                b.words_per_s = match (b.words_per_s, p.words_per_s) {
                    (Some(a), Some(r)) => Some((a * k + r) / (k + 1.0)),
                    (a, r) => a.or(r),
                };
                b.turns += 1;
            }
        }
        let lexical = w.negative * c.negative.min(3) as f32
            + w.escalation * c.escalation.min(2) as f32
            + w.repetition * c.repetition
            + w.polite * c.polite.min(2) as f32;
        if c.negative > 0 {
            evidence.push(format!("negative words ({})", c.matched.join(", ")));
        } else if c.escalation > 0 {
            evidence.push("asked for a person".into());
        }
        if c.repetition >= 0.5 {
            evidence.push(format!("repeated an earlier request ({:.0}% of words)", c.repetition * 100.0));
        }
        // The learned anger classifier judges the voice on its own, with no baseline, so it
        // speaks from the first turn: its log-odds move frustration (a calm-sounding voice pulls
        // it down only a little, so angry words still count).
        let scores = p.voice.as_ref().filter(|_| has_prosody);
        let p_angry = scores.and_then(|v| v.p_angry());
        let voice = p_angry
            .map(|pa| {
                let pa = pa.clamp(0.01, 0.99);
                (w.voice_anger * (pa / (1.0 - pa)).ln()).clamp(-1.0, 4.0)
            })
            .unwrap_or(0.0);
        if let Some(a) = scores.and_then(|v| v.anger.as_ref()).filter(|a| a.label == "angry") {
            evidence.push(format!("voice classifier: angry {:.2}", a.confidence));
        }
        if let Some(a) = scores.and_then(|v| v.arousal.as_ref()).filter(|a| a.label == "aroused") {
            evidence.push(format!("voice classifier: high arousal, not anger {:.2}", a.confidence));
        }
        let frustration = sigmoid(w.bias + arousal.max(-1.5) + lexical + voice);
        let confusion = c.confusion as f32 + 0.5 * c.hesitation.min(4) as f32;
        if c.confusion > 0 {
            evidence.push("said they do not understand".into());
        }
        let evidence_amount = (has_prosody as u8 as f32) + (c.negative + c.escalation + c.confusion + c.polite) as f32;
        let t = Thresholds::current();
        let state = if !has_prosody && evidence_amount == 0.0 {
            State::Unknown
        } else if frustration >= t.angry_at && (arousal > 0.5 || c.negative > 0 || p_angry.is_some_and(|pa| pa >= 0.8))
        {
            State::Angry
        } else if frustration >= t.frustrated_at {
            State::Frustrated
        } else if confusion >= 1.0 {
            State::Confused
        } else {
            State::Calm
        };
        // Confidence: how far from the nearest decision boundary, scaled by how much evidence there was.
        let margin = match state {
            State::Unknown => 0.0,
            State::Angry => (frustration - t.angry_at) * 4.0,
            State::Frustrated => ((frustration - t.frustrated_at).min(t.angry_at - frustration)) * 8.0,
            State::Confused => (confusion - 0.5).min(1.0) * (t.frustrated_at - frustration).max(0.0) * 2.0,
            State::Calm => (t.frustrated_at - frustration) * 2.0,
        };
        let confidence = (0.35 + 0.65 * margin.clamp(0.0, 1.0)) * (evidence_amount.min(2.0) / 2.0).max(0.3);
        // Clipped audio distorts level and pitch: trust the verdict half as much.
        let clipped = p.clipped_ratio > 0.01;
        if clipped && has_prosody {
            evidence.push(format!("audio clipped ({:.1}% of samples): prosody less reliable", p.clipped_ratio * 100.0));
        }
        let confidence = if clipped { confidence * 0.5 } else { confidence };
        let confidence = if state == State::Unknown { 0.0 } else { confidence.clamp(0.0, 1.0) };
        self.history.push(frustration);
        self.last = Some(state);
        TurnState { state, frustration, confidence, arousal, evidence }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn prosody(pitch: f32, level: f32, rate: f32, range: f32) -> Prosody {
        Prosody {
            duration_ms: 3000,
            frames: 150,
            voiced_ratio: 0.6,
            pitch_hz: Some(pitch),
            pitch_range_st: Some(range),
            pitch_sd_st: Some(range / 4.0),
            level_db: level,
            level_sd_db: 4.0,
            peak_db: level + 6.0,
            pause_ratio: 0.2,
            clipped_ratio: 0.0,
            words_per_s: Some(rate),
            speech_ms: 2400,
            compute_us: 0,
            voice: None,
        }
    }

    fn words(t: &str) -> Cues {
        super::super::lexical::cues(t, &HashSet::new())
    }

    #[test]
    fn a_calm_caller_who_escalates_becomes_angry_with_evidence() {
        let mut t = CallerStateTracker::default();
        let first = t.turn(&prosody(120.0, -24.0, 2.6, 6.0), &words("Hello, I am calling about my order."));
        assert_eq!(first.state, State::Calm);
        let second = t.turn(&prosody(122.0, -23.0, 2.7, 6.5), &words("It was number four five six."));
        assert_eq!(second.state, State::Calm);
        let angry = t.turn(
            &prosody(170.0, -14.0, 3.8, 12.0),
            &words("This is ridiculous, it is still not working. Let me speak to a person!"),
        );
        assert_eq!(angry.state, State::Angry, "{angry:?}");
        assert!(angry.frustration > second.frustration + 0.4);
        assert!(angry.evidence.iter().any(|e| e.starts_with("pitch +")), "{:?}", angry.evidence);
        assert!(angry.evidence.iter().any(|e| e.starts_with("negative words")));
        assert!(t.trend() > 0.2);
    }

    #[test]
    fn confusion_and_unknown() {
        let mut t = CallerStateTracker::default();
        let c = t.turn(&prosody(200.0, -25.0, 2.2, 5.0), &words("Um, sorry, I don't understand what you mean."));
        assert_eq!(c.state, State::Confused, "{c:?}");
        let silent = Prosody { frames: 50, voiced_ratio: 0.0, pitch_hz: None, ..Default::default() };
        let u = t.turn(&silent, &words(""));
        assert_eq!((u.state, u.confidence), (State::Unknown, 0.0));
    }
}
