//! What the call learns and says, written by the core: the transcript (the caller's and the
//! agent's words), the analysis of each turn (the caller's state, the call's language and
//! accent), the case file, the assistant's replies, secure card capture, the callback offer,
//! and the call's start and end. Each handler writes the record first and then publishes, so
//! a listener who reads the record on an event finds what the event reports.
//!
//! The actor computes (the pipeline transcribes, the analyser judges, the assistant's job
//! decides); the core is the one place that turns those results into the record and events.

use super::{ms, At, CallCore, Change, Output};
use crate::call::{Segment, Speaker, Transport};
use crate::events::Event;
use crate::pipeline::analysis::language::LanguageEvent;
use crate::pipeline::analysis::TurnAnalysis;
use crate::routing::case_file::CaseFile;
use crate::routing::AgentId;

/// A finished turn of the caller, as the pipeline reported it.
#[derive(Debug, Clone, PartialEq)]
pub struct CallerWords {
    pub text: String,
    pub start_ms: u64,
    pub end_ms: u64,
    pub language: String,
    pub language_prob: f32,
    /// End of speech to the final, in ms.
    pub latency_ms: u64,
    pub translation: Option<String>,
    /// Why the turn was taken as over.
    pub ended_by: Option<String>,
}

/// What the assistant said and did on a turn.
#[derive(Debug, Clone, PartialEq)]
pub struct AssistantSaid {
    pub text: String,
    pub language: String,
    pub intent: Option<crate::assistant::intents::Intent>,
    pub actions: Vec<crate::assistant::dialogue::ActionRecord>,
}

impl CallCore {
    fn record(&mut self, c: Change) {
        self.out.push_back(Output::Record(c));
    }

    /// The call was answered and its pipeline started.
    pub fn handle_started(&mut self, caller: String, transport: Transport, started_at: String) {
        self.publish(Event::CallStarted { call_id: self.id.clone(), caller, transport, started_at });
    }

    /// The caller's words so far in the current turn.
    pub fn handle_partial(&mut self, _now: At, text: String, start_ms: u64, end_ms: u64, language: String) {
        self.publish(Event::TranscriptPartial { call_id: self.id.clone(), text, start_ms, end_ms, language });
    }

    /// A finished turn of the caller: on the transcript, then out. Empty turns are dropped.
    pub fn handle_caller_words(&mut self, now: At, w: CallerWords) -> bool {
        if w.text.trim().is_empty() {
            return false;
        }
        let fired = self.watch.as_mut().map(|watch| watch.on_words(&w.text, w.translation.as_deref()));
        self.record(Change::Segment(Segment {
            text: w.text.clone(),
            start_ms: w.start_ms,
            end_ms: w.end_ms,
            language: w.language.clone(),
            speaker: Speaker::Caller,
        }));
        self.publish(Event::TranscriptFinal {
            call_id: self.id.clone(),
            text: w.text,
            start_ms: w.start_ms,
            end_ms: w.end_ms,
            language: w.language,
            language_prob: w.language_prob,
            latency_ms: w.latency_ms,
            translation: w.translation,
            ended_by: w.ended_by,
        });
        if let Some(fired) = fired {
            self.raise(now, fired);
        }
        true
    }

    /// The analysis of the caller's turn that ended at `end_ms`: the caller's state and the
    /// call's language and accent go on the record; what moved goes out.
    pub fn handle_analysis(&mut self, now: At, a: &TurnAnalysis, end_ms: u64) {
        self.record(Change::Analysis {
            caller_state: a.verdict.clone(),
            language: a.call_language.as_ref().map(|(l, _)| l.clone()),
            accent: a.accent.is_known().then(|| a.accent.clone()),
        });
        let call_id = self.id.clone();
        match a.language_event.clone() {
            Some(LanguageEvent::Detected { language, confidence }) => {
                self.publish(Event::LanguageDetected { call_id: call_id.clone(), language, confidence, at_ms: end_ms })
            }
            Some(LanguageEvent::Changed { from, to, confidence }) => {
                self.publish(Event::LanguageChanged { call_id: call_id.clone(), from, to, confidence, at_ms: end_ms })
            }
            None => {}
        }
        if a.accent_changed {
            self.publish(Event::AccentDetected { call_id: call_id.clone(), accent: a.accent.clone(), at_ms: end_ms });
        }
        if a.changed() {
            self.publish(Event::CallerStateChanged {
                call_id,
                state: a.verdict.state,
                previous: a.previous,
                frustration: a.verdict.frustration,
                confidence: a.verdict.confidence,
                trend: a.trend,
                evidence: a.verdict.evidence.clone(),
                at_ms: end_ms,
            });
        }
        if let Some(fired) = self.watch.as_mut().map(|w| w.on_turn(now, a.verdict.state, a.verdict.frustration)) {
            self.raise(now, fired);
        }
    }

    /// A staff member's finished turn. In a private consult it is for the two agents only (a
    /// `consult_transcript`, not the call's transcript); otherwise it joins the transcript.
    /// False if there was nothing to keep.
    #[allow(clippy::too_many_arguments)]
    pub fn handle_staff_words(
        &mut self,
        _now: At,
        agent: &str,
        private: bool,
        text: String,
        start_ms: u64,
        end_ms: u64,
        language: String,
    ) -> bool {
        if text.trim().is_empty() {
            return false;
        }
        let (call_id, agent_id) = (self.id.clone(), AgentId(agent.to_string()));
        if private {
            self.publish(Event::ConsultTranscript { call_id, agent_id, text, start_ms, end_ms });
            return false;
        }
        let speaker = Speaker::Agent;
        self.record(Change::Segment(Segment { text: text.clone(), start_ms, end_ms, language, speaker }));
        self.publish(Event::AgentTranscript { call_id, agent_id, text, start_ms, end_ms });
        true
    }

    /// The caller spoke over the assistant (at `at_ms`): its reply was dropped.
    pub fn handle_interrupted(&mut self, _now: At, at_ms: u64) {
        self.publish(Event::AssistantInterrupted { call_id: self.id.clone(), at_ms });
    }

    /// The case file changed: on the record, and out whole.
    pub fn handle_case_file(&mut self, _now: At, case: &CaseFile) {
        self.record(Change::CaseFile(Box::new(case.clone())));
        self.publish(Event::CaseFileUpdated { call_id: self.id.clone(), case_file: Box::new(case.clone()) });
    }

    /// The assistant answered (a reply that says or does nothing is not reported).
    pub fn handle_assistant_said(&mut self, now: At, said: AssistantSaid) {
        if said.text.is_empty() && said.actions.is_empty() {
            return;
        }
        let AssistantSaid { text, language, intent, actions } = said;
        let fired = self.watch.as_mut().map(|w| w.on_reply(intent, &actions));
        self.publish(Event::AssistantReplied {
            call_id: self.id.clone(),
            text,
            language,
            intent,
            actions,
            at_ms: ms(now),
        });
        if let Some(fired) = fired {
            self.raise(now, fired);
        }
    }

    /// Nobody took the call in time: the caller is offered a callback or a message.
    pub fn handle_callback_offered(&mut self, now: At) {
        self.publish(Event::CallbackOffered { call_id: self.id.clone(), at_ms: ms(now) });
    }

    /// The caller asked for a callback (`kind` "callback") or left a message ("voicemail").
    pub fn handle_callback_requested(&mut self, _now: At, kind: &str, number: &str, message: &str) {
        self.publish(Event::CallbackRequested {
            call_id: self.id.clone(),
            kind: kind.into(),
            number: number.into(),
            message: message.into(),
        });
    }

    /// The secure capture's record and events (the timers are in `handle_capture_started`):
    /// the recording pauses from now, staff learn who asked.
    pub(super) fn capture_opened(&mut self, now: At, by: &str) {
        self.record(Change::RecordingPaused { from_ms: ms(now), reason: super::CAPTURE_REASON.into() });
        self.publish(Event::SecureCaptureStarted { call_id: self.id.clone(), by: by.into(), at_ms: ms(now) });
    }

    /// How many digits the caller has keyed (never which).
    pub fn handle_capture_progress(&mut self, _now: At, digits: usize) {
        if self.capture.is_some() {
            self.publish(Event::SecureCaptureProgress { call_id: self.id.clone(), digits });
        }
    }

    /// The capture's end on the record and out: `outcome` with, when a card was captured,
    /// its brand and last four digits (never more).
    pub(super) fn capture_closed(&mut self, now: At, outcome: &str, card: Option<(String, String)>) {
        self.record(Change::RecordingResumed { at_ms: ms(now) });
        let (brand, last4) = card.unzip();
        self.publish(Event::SecureCaptureEnded {
            call_id: self.id.clone(),
            outcome: outcome.into(),
            brand,
            last4,
            at_ms: ms(now),
        });
    }

    /// The call is over and its record final: the last event.
    pub fn handle_finished(&mut self, reason: String, duration_ms: u64) {
        self.publish(Event::CallEnded { call_id: self.id.clone(), reason, duration_ms });
    }
}
