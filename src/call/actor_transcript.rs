//! The caller's words: each pipeline event becomes the call's record and events (partials,
//! finals, barge-in), and a finished turn is analysed (the caller's state, the call's language
//! and accent) and kept in the case file.

use super::Actor;
use crate::call::{Segment, Speaker};
use crate::events::Event;
use crate::pipeline::analysis::language::LanguageEvent;
use crate::pipeline::analysis::prosody::Prosody;
use crate::pipeline::analysis::state::TurnState;
use crate::pipeline::TranscriptEvent;

impl Actor {
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
        let call_id = self.id.clone();
        self.svc.registry.update(&self.id, |r| {
            r.caller_state = Some(a.verdict.clone());
            if let Some((l, _)) = &a.call_language {
                r.language = Some(l.clone());
            }
            if a.accent.is_known() {
                r.accent = Some(a.accent.clone());
            }
        });
        match a.language_event.clone() {
            Some(LanguageEvent::Detected { language, confidence }) => self
                .svc
                .events
                .publish(Event::LanguageDetected { call_id: call_id.clone(), language, confidence, at_ms: end_ms }),
            Some(LanguageEvent::Changed { from, to, confidence }) => self.svc.events.publish(Event::LanguageChanged {
                call_id: call_id.clone(),
                from,
                to,
                confidence,
                at_ms: end_ms,
            }),
            None => {}
        }
        if a.accent_changed {
            self.svc.events.publish(Event::AccentDetected {
                call_id: call_id.clone(),
                accent: a.accent.clone(),
                at_ms: end_ms,
            });
        }
        let verdict = a.verdict.clone();
        self.case.on_state(&verdict, a.trend);
        if let Some((l, _)) = &a.call_language {
            self.case.on_language(l);
        }
        if a.accent.is_known() {
            self.case.on_accent(&a.accent);
        }
        if a.changed() {
            self.svc.events.publish(Event::CallerStateChanged {
                call_id,
                state: a.verdict.state,
                previous: a.previous,
                frustration: a.verdict.frustration,
                confidence: a.verdict.confidence,
                trend: a.trend,
                evidence: a.verdict.evidence,
                at_ms: end_ms,
            });
        }
        Some(verdict)
    }

    /// Handle a pipeline event; returns a finished turn's text and the caller's state after it,
    /// for the assistant.
    pub(super) fn on_transcript(&mut self, ev: TranscriptEvent) -> Option<(String, Option<TurnState>)> {
        let call_id = self.id.clone();
        match ev {
            // A turn's identification feeds the call-level language and accent, reported
            // (settled, changed) when the turn is final.
            TranscriptEvent::LanguageDetected { top, .. } => self.analyzer.language_probs(top),
            // Barge-in: the caller speaks (120 ms of sustained speech, longer than a click or a
            // cough) over the assistant: stop its audio now and drop the rest of that reply.
            TranscriptEvent::TurnStarted { start_ms } => {
                self.core.handle_turn_started(self.now());
                if self.playout.pending_ms() > 0 && self.agent.is_none() {
                    self.playout.clear();
                    tracing::info!(call = %self.id, "caller barged in: assistant playback stopped");
                    self.svc.events.publish(Event::AssistantInterrupted { call_id, at_ms: start_ms });
                }
            }
            TranscriptEvent::Partial { text, start_ms, end_ms, language, .. } => {
                self.svc.events.publish(Event::TranscriptPartial { call_id, text, start_ms, end_ms, language });
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
                ..
            } => {
                if text.trim().is_empty() {
                    return None;
                }
                let seg = Segment {
                    text: text.clone(),
                    start_ms,
                    end_ms,
                    language: language.clone(),
                    speaker: Speaker::Caller,
                };
                self.svc.registry.update(&self.id, |r| r.transcript.push(seg));
                self.svc.events.publish(Event::TranscriptFinal {
                    call_id,
                    text: text.clone(),
                    start_ms,
                    end_ms,
                    language: language.clone(),
                    language_prob,
                    latency_ms,
                    translation: translation.clone(),
                });
                // After the final, so a listener sees the words before the verdict on them.
                let state = self.judge_turn(&text, prosody, &language, language_prob, end_ms);
                self.case.on_caller_turn(start_ms, &text, translation.as_deref());
                self.case_changed();
                return Some((text, state));
            }
            TranscriptEvent::Error { message } => tracing::warn!(call = %self.id, "transcription error: {message}"),
            TranscriptEvent::Ended { .. } => {}
        }
        None
    }
}
