//! Voice analytics per turn (sans-IO): prosody from the audio, lexical cues from the
//! transcript, and their fusion into the caller's state; the call's language; and, for
//! English-speaking callers, their accent.

pub mod accent;
pub mod encoder;
pub mod language;
pub mod lexical;
pub mod probe;
pub mod prosody;
pub mod state;
pub mod voice;

use std::collections::HashSet;

use accent::{Accent, AccentEstimator, LearnedAccent};
use language::{LanguageEvent, LanguageTracker, TurnLanguage};
use prosody::Prosody;
use state::{CallerStateTracker, State, TurnState};

/// A finished turn's voice features, on the inference worker right after its final decode:
/// prosody, then, on voiced turns and when they are installed, the learned classifiers'
/// verdicts (a failure there costs the turn its verdicts, not its prosody).
pub fn analyse_turn(audio: &[f32], words: Option<usize>, classifiers: Option<&voice::VoiceModels>) -> Prosody {
    let mut p = prosody::analyse(audio, words);
    if p.has_voice() {
        p.voice = classifiers.and_then(|v| match v.score(audio) {
            Ok(s) => Some(s),
            Err(e) => {
                tracing::warn!(error = %e, "voice classifiers failed on a turn");
                None
            }
        });
    }
    p
}

/// Everything the analysis keeps for one call.
#[derive(Debug, Default)]
pub struct CallAnalyzer {
    tracker: CallerStateTracker,
    said: HashSet<String>,
    language: LanguageTracker,
    accent: AccentEstimator,
    learned_accent: LearnedAccent,
    accent_label: Option<String>,
    /// The recogniser's language probabilities for the turn in progress.
    pending_probs: Vec<(String, f32)>,
}

/// The analysis of one finished turn.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TurnAnalysis {
    pub verdict: TurnState,
    /// The previous turn's state (None on the first turn).
    pub previous: Option<State>,
    /// Frustration trend over the call (positive = rising).
    pub trend: f32,
    pub cues: lexical::Cues,
    pub prosody: Prosody,
    /// This turn's fused language evidence (None for unvoiced turns).
    pub turn_language: Option<TurnLanguage>,
    /// The call's language after this turn, with its confidence.
    pub call_language: Option<(String, f32)>,
    /// Set when the call's language settled or changed on this turn.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language_event: Option<LanguageEvent>,
    pub accent: Accent,
    /// Whether the accent estimate's label moved on this turn.
    pub accent_changed: bool,
}

impl TurnAnalysis {
    /// Whether the state moved to something worth reporting.
    pub fn changed(&self) -> bool {
        self.previous != Some(self.verdict.state) && self.verdict.state != State::Unknown
    }
}

impl CallAnalyzer {
    /// The recogniser's (language, probability) list for the turn in progress, best first.
    pub fn language_probs(&mut self, probs: Vec<(String, f32)>) {
        self.pending_probs = probs;
    }

    /// Analyse a finished turn: its text, prosody and the language it was transcribed in
    /// (used when no probabilities arrived, as when the language is fixed by configuration).
    pub fn turn(&mut self, text: &str, prosody: Prosody, language: &str, language_prob: f32) -> TurnAnalysis {
        let cues = lexical::cues(text, &self.said);
        self.said.extend(lexical::content_words(text));
        let previous = self.tracker.last();
        let verdict = self.tracker.turn(&prosody, &cues);

        let probs = std::mem::take(&mut self.pending_probs);
        let measured = !probs.is_empty();
        let fixed;
        let whisper: &[(String, f32)] = if measured || language.is_empty() {
            &probs
        } else {
            fixed = [(language.to_string(), language_prob)];
            &fixed
        };
        let turn_language = LanguageTracker::fuse(whisper, text, prosody.has_voice(), prosody.speech_ms);
        let language_event = turn_language.as_ref().and_then(|t| self.language.turn(t));
        let call_language = self.language.current().map(|(l, c)| (l.to_string(), c));

        // Accent: English turns only (the call is English and the words do not say otherwise),
        // and only from a measured probability vector.
        let english_turn = match turn_language.as_ref().and_then(|t| t.text_hint.as_ref()) {
            Some((hint, _)) => hint == "en",
            None => call_language.as_ref().is_some_and(|(l, _)| l == "en"),
        };
        if measured && english_turn && prosody.has_voice() {
            self.accent.add(&probs, prosody.speech_ms);
        }
        if let Some(v) = prosody.voice.as_ref().filter(|_| english_turn && prosody.has_voice()) {
            self.learned_accent.add(v, prosody.speech_ms);
        }
        let accent = self.accent();
        let accent_changed = self.accent_label.as_deref() != Some(accent.label.as_str());
        if accent_changed {
            self.accent_label = Some(accent.label.clone());
        }
        TurnAnalysis {
            verdict,
            previous,
            trend: self.tracker.trend(),
            cues,
            prosody,
            turn_language,
            call_language,
            language_event,
            accent_changed: accent_changed && accent.is_known(),
            accent,
        }
    }

    /// The accent estimate so far.
    pub fn accent(&self) -> Accent {
        self.learned_accent.fuse(self.accent.estimate(), self.accent.min_speech_ms())
    }

    /// The caller's frustration trend so far (positive = rising).
    pub fn trend(&self) -> f32 {
        self.tracker.trend()
    }

    /// The call's language so far.
    pub fn language(&self) -> Option<(String, f32)> {
        self.language.current().map(|(l, c)| (l.to_string(), c))
    }
}
