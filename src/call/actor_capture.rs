//! Secure card capture (PCI DSS). An agent, a supervisor or the assistant asks for a card;
//! the caller keys it on the phone pad (RFC 4733 events, SIP INFO, a media stream's `dtmf`).
//! While the capture runs:
//!
//! - the caller's leg is heard by nobody (the mix matrix puts it in `Listen`): in-band key
//!   tones never reach an agent's or a supervisor's ear;
//! - the caller's audio is not transcribed and the recording holds silence on both channels,
//!   with a marker on the call record (`recording_paused`);
//! - keys go to the capture only: no `dtmf` event, nothing on the call's `dtmf` field, the
//!   case file, the journal or a log line. Staff see how many digits were keyed, never which.
//!
//! `#` ends the entry, `*` starts it again; a pause of [`KEY_PAUSE`] after the last key or
//! [`MAX_CAPTURE`] overall stops it. A 13-19 digit number that passes the Luhn check is
//! captured: its brand and last four digits go to the case file and the events. A card the
//! assistant asked for goes, as a [`CardNumber`], to its `pay_by_card` tool and nowhere else;
//! a card a person asked for is not passed on. Either way the digits are wiped from memory.

use std::time::Duration;

use super::assist::AssistInput;
use super::Actor;
use crate::assistant::dialogue::CardEnded;
use crate::assistant::replies::{say, Msg};
use crate::assistant::tools::card::{wipe, CardNumber};
use crate::call::mix::Mode;

/// Longest pause after a key before the entry stops.
pub(super) const KEY_PAUSE: Duration = Duration::from_secs(15);
/// Longest capture.
pub(super) const MAX_CAPTURE: Duration = Duration::from_secs(90);

/// A capture in progress. The digits are wiped when it is dropped.
pub(super) struct Capture {
    digits: Vec<u8>,
    /// How the caller took part before (they go back to it).
    caller_mode: Mode,
    /// The instalment the assistant takes this card for (the card goes to the assistant's
    /// `pay_by_card`); `None` when a person asked for it.
    for_payment: Option<i64>,
}

impl Drop for Capture {
    fn drop(&mut self) {
        wipe(&mut self.digits);
    }
}

/// How a capture ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    Captured { brand: &'static str, last4: String },
    Invalid,
    Cancelled,
    Timeout,
}

impl Outcome {
    fn name(&self) -> &'static str {
        match self {
            Outcome::Captured { .. } => "captured",
            Outcome::Invalid => "invalid",
            Outcome::Cancelled => "cancelled",
            Outcome::Timeout => "timeout",
        }
    }
}

/// Judge keyed digits: captured with the card (13-19 digits, Luhn), or invalid (the digits
/// are wiped either way).
pub(crate) fn judge(digits: Vec<u8>) -> (Outcome, Option<CardNumber>) {
    match CardNumber::from_keys(digits) {
        Some(card) => (Outcome::Captured { brand: card.brand(), last4: card.last4() }, Some(card)),
        None => (Outcome::Invalid, None),
    }
}

impl Actor {
    /// Whether a card is being keyed now.
    pub(super) fn capturing(&self) -> bool {
        self.capture.is_some()
    }

    /// Begin a capture asked by `by`: a person, or the assistant taking a card for an
    /// instalment (`for_payment`; its reply already asked for the keys).
    pub(super) fn start_capture(&mut self, by: &str, for_payment: Option<i64>) {
        if self.capture.is_some() || self.callback.is_some() || self.consulting_privately() {
            tracing::info!(call = %self.id, "secure capture not started: one is under way or the call is ending");
            return;
        }
        // Muted on every other leg.
        let caller_mode = {
            let mut mix = self.mix();
            let before = mix.matrix().mode(self.caller_leg).unwrap_or(Mode::Talk);
            if let Err(e) = mix.set_mode(self.caller_leg, Mode::Listen) {
                tracing::error!(call = %self.id, "secure capture: cannot mute the caller: {e}");
            }
            before
        };
        self.capture = Some(Capture { digits: Vec::new(), caller_mode, for_payment });
        // Nothing the caller says or keys meanwhile is for the assistant; the core keeps the
        // capture's timers.
        self.assistant.cancel();
        self.core.handle_capture_started(self.now(), by, KEY_PAUSE, MAX_CAPTURE);
        tracing::info!(call = %self.id, %by, "secure card capture started");
        if for_payment.is_some() {
            return;
        }
        self.playout.clear();
        let lang = self.caller_language();
        self.speak(vec![say(&lang, &Msg::CardCapturePrompt)], lang, false);
    }

    /// A key during the capture.
    pub(super) fn capture_key(&mut self, digit: char) {
        let Some(c) = self.capture.as_mut() else { return };
        match digit {
            '#' => return self.finish_capture(None),
            '*' => wipe(&mut std::mem::take(&mut c.digits)),
            d if d.is_ascii_digit() && c.digits.len() < 19 => c.digits.push(d as u8),
            _ => {}
        }
        let digits = c.digits.len();
        self.core.handle_capture_key(self.now(), KEY_PAUSE);
        self.core.handle_capture_progress(self.now(), digits);
    }

    /// The pause or the time limit ran out.
    pub(super) fn capture_timed_out(&mut self) {
        let keyed = self.capture.as_ref().is_some_and(|c| !c.digits.is_empty());
        // A complete number keyed without # counts; otherwise the entry stops.
        self.finish_capture(if keyed { None } else { Some(Outcome::Timeout) });
    }

    /// End the capture: judge what was keyed (unless `outcome` says how it ended), unmute the
    /// caller, resume the recording and transcription, tell everyone. A card the assistant
    /// asked for goes to it (it says how the payment went); otherwise the caller hears here
    /// how the entry ended.
    pub(super) fn finish_capture(&mut self, outcome: Option<Outcome>) {
        let Some(mut c) = self.capture.take() else { return };
        let (outcome, card) = match outcome {
            Some(o) => (o, None),
            None => judge(std::mem::take(&mut c.digits)),
        };
        let (caller_mode, for_payment) = (c.caller_mode, c.for_payment);
        drop(c);
        if let Err(e) = self.mix().set_mode(self.caller_leg, caller_mode) {
            tracing::error!(call = %self.id, "secure capture: cannot unmute the caller: {e}");
        }
        let shown = match &outcome {
            Outcome::Captured { brand, last4 } => Some((brand.to_string(), last4.clone())),
            _ => None,
        };
        tracing::info!(call = %self.id, outcome = outcome.name(), "secure card capture ended");
        if let Some((b, l)) = &shown {
            self.case.on_note(&format!("Card captured securely: {b} ending in {l}."));
            self.case_changed();
        }
        self.core.handle_capture_ended(self.now(), outcome.name(), shown);
        // A card a person asked for is wiped here (dropped); one the assistant asked for goes to it.
        if let Some(payment_id) = for_payment {
            let ended = match (card, &outcome) {
                (Some(card), _) => CardEnded::Captured(std::sync::Arc::new(card)),
                (None, Outcome::Invalid) => CardEnded::Invalid,
                (None, _) => CardEnded::Stopped,
            };
            return self.assist(AssistInput::Card { payment_id, ended });
        }
        let lang = self.caller_language();
        let msg = match outcome {
            Outcome::Captured { last4, .. } => Msg::CardCaptured { last4 },
            Outcome::Invalid => Msg::CardInvalid,
            Outcome::Cancelled | Outcome::Timeout => Msg::CardCaptureStopped,
        };
        self.speak(vec![say(&lang, &msg)], lang, false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyed_numbers_are_judged() {
        assert_eq!(judge(b"4111111111111111".to_vec()).0, Outcome::Captured { brand: "visa", last4: "1111".into() });
        assert_eq!(
            judge(b"5555555555554444".to_vec()).0,
            Outcome::Captured { brand: "mastercard", last4: "4444".into() }
        );
        assert_eq!(judge(b"378282246310005".to_vec()).0, Outcome::Captured { brand: "amex", last4: "0005".into() });
        assert_eq!(judge(b"4111111111111112".to_vec()).0, Outcome::Invalid, "fails Luhn");
        assert_eq!(judge(b"1234".to_vec()).0, Outcome::Invalid, "too short");
        assert_eq!(judge(b"".to_vec()).0, Outcome::Invalid);
    }
}
