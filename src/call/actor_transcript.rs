//! The caller's words: each pipeline event becomes the call's record and events (partials,
//! finals, barge-in), and a finished turn is analysed (the caller's state, the call's language
//! and accent) and kept in the case file.

use super::Actor;
use crate::call::state::CallerWords;
use crate::pipeline::analysis::prosody::Prosody;
use crate::pipeline::analysis::state::TurnState;
use crate::pipeline::TranscriptEvent;

/// A caller's finished turn for the assistant: the words, the caller's state after them and
/// the recogniser's confidence in them.
pub struct HeardTurn {
    pub text: String,
    pub state: Option<TurnState>,
    pub confidence: Option<f32>,
}

impl Actor {
    /// The caller speaks over the assistant (`heard_by` the server's VAD or the caller's
    /// device): stop its audio now and drop the rest of that reply. Nothing when the assistant
    /// is silent or a person has the call.
    pub(super) fn barge_in(&mut self, at_ms: u64, heard_by: &str) {
        if self.playout.pending_ms() > 0 && self.agent.is_none() {
            self.playout.clear();
            tracing::info!(call = %self.id, "caller barged in ({heard_by}): assistant playback stopped");
            self.core.handle_interrupted(self.now(), at_ms);
        }
    }

    /// Analyse a finished turn: the caller's state, the call's language and the caller's
    /// accent; report whatever moved.
    /// Returns the caller's state after the turn.
    pub(super) fn judge_turn(
        &mut self,
        text: &str,
        prosody: Option<Prosody>,
        language: &str,
        language_prob: f32,
        end_ms: u64,
    ) -> Option<TurnState> {
        let p = prosody?;
        let a = self.analyzer.turn(text, p, language, language_prob);
        self.core.handle_analysis(self.now(), &a, end_ms);
        let verdict = a.verdict.clone();
        self.case.on_state(&verdict, a.trend);
        if let Some((l, _)) = &a.call_language {
            self.case.on_language(l);
        }
        if a.accent.is_known() {
            self.case.on_accent(&a.accent);
        }
        Some(verdict)
    }

    /// Handle a pipeline event; returns a finished turn's text and the caller's state after it,
    /// for the assistant.
    pub(super) fn on_transcript(&mut self, ev: TranscriptEvent) -> Option<HeardTurn> {
        match ev {
            // A turn's identification feeds the call-level language and accent, reported
            // (settled, changed) when the turn is final.
            TranscriptEvent::LanguageDetected { top, .. } => self.analyzer.language_probs(top),
            // Barge-in: the caller speaks (120 ms of sustained speech, longer than a click or a
            // cough) over the assistant: stop its audio now and drop the rest of that reply.
            TranscriptEvent::TurnStarted { start_ms } => {
                self.core.handle_turn_started(self.now());
                self.barge_in(start_ms, "the VAD");
            }
            TranscriptEvent::Partial { text, start_ms, end_ms, language, .. } => {
                self.core.handle_partial(self.now(), text, start_ms, end_ms, language);
            }
            TranscriptEvent::Final {
                text,
                start_ms,
                end_ms,
                language,
                language_prob,
                latency_ms,
                translation,
                prosody,
                ended_by,
                words: heard,
                ..
            } => {
                let confidence = crate::pipeline::asr::confidence(&heard);
                let words = CallerWords {
                    text: text.clone(),
                    start_ms,
                    end_ms,
                    language: language.clone(),
                    language_prob,
                    latency_ms,
                    translation: translation.clone(),
                    ended_by,
                };
                if !self.core.handle_caller_words(self.now(), words) {
                    return None;
                }
                // After the final, so a listener sees the words before the verdict on them.
                let state = self.judge_turn(&text, prosody, &language, language_prob, end_ms);
                self.case.on_caller_turn(start_ms, &text, translation.as_deref());
                self.case_changed();
                return Some(HeardTurn { text, state, confidence });
            }
            TranscriptEvent::Error { message } => tracing::warn!(call = %self.id, "transcription error: {message}"),
            TranscriptEvent::Ended { .. } => {}
        }
        None
    }
}
