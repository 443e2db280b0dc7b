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
//! captured: its brand and last four digits go to the case file and the events, and the
//! full number is wiped from memory (this build hands it to no payment processor).

use std::time::Duration;

use super::Actor;
use crate::assistant::replies::{say, Msg};
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
}

impl Drop for Capture {
    fn drop(&mut self) {
        wipe(&mut self.digits);
    }
}

fn wipe(digits: &mut [u8]) {
    digits.fill(0);
    // Keep the wipe from being optimised away as a dead store.
    std::hint::black_box(&*digits);
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

/// The Luhn check over ASCII digits.
pub(crate) fn luhn(digits: &[u8]) -> bool {
    let mut sum = 0u32;
    for (i, d) in digits.iter().rev().enumerate() {
        let mut v = (d - b'0') as u32;
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    sum % 10 == 0
}

/// The card scheme by its leading digits (the common ones; "card" otherwise).
pub(crate) fn brand(digits: &[u8]) -> &'static str {
    let prefix =
        |n: usize| std::str::from_utf8(&digits[..n.min(digits.len())]).ok().and_then(|s| s.parse::<u32>().ok());
    match (digits.first(), prefix(2), prefix(4)) {
        (Some(b'4'), _, _) => "visa",
        (_, Some(51..=55), _) | (_, _, Some(2221..=2720)) => "mastercard",
        (_, Some(34 | 37), _) => "amex",
        (_, _, Some(6011)) | (_, Some(65), _) => "discover",
        _ => "card",
    }
}

/// Judge a keyed number: captured (13-19 digits, Luhn) or invalid.
pub(crate) fn judge(digits: &[u8]) -> Outcome {
    if (13..=19).contains(&digits.len()) && digits.iter().all(u8::is_ascii_digit) && luhn(digits) {
        let last4 = String::from_utf8_lossy(&digits[digits.len() - 4..]).into_owned();
        Outcome::Captured { brand: brand(digits), last4 }
    } else {
        Outcome::Invalid
    }
}

impl Actor {
    /// Whether a card is being keyed now.
    pub(super) fn capturing(&self) -> bool {
        self.capture.is_some()
    }

    /// Begin a capture asked by `by`.
    pub(super) fn start_capture(&mut self, by: &str) {
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
        self.capture = Some(Capture { digits: Vec::new(), caller_mode });
        // Nothing the caller says or keys meanwhile is for the assistant; the core keeps the
        // capture's timers.
        self.assistant.cancel();
        self.core.handle_capture_started(self.now(), by, KEY_PAUSE, MAX_CAPTURE);
        tracing::info!(call = %self.id, %by, "secure card capture started");
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
    /// caller, resume the recording and transcription, tell everyone.
    pub(super) fn finish_capture(&mut self, outcome: Option<Outcome>) {
        let Some(c) = self.capture.take() else { return };
        let outcome = outcome.unwrap_or_else(|| judge(&c.digits));
        let caller_mode = c.caller_mode;
        drop(c);
        if let Err(e) = self.mix().set_mode(self.caller_leg, caller_mode) {
            tracing::error!(call = %self.id, "secure capture: cannot unmute the caller: {e}");
        }
        let card = match &outcome {
            Outcome::Captured { brand, last4 } => Some((brand.to_string(), last4.clone())),
            _ => None,
        };
        tracing::info!(call = %self.id, outcome = outcome.name(), "secure card capture ended");
        if let Some((b, l)) = &card {
            self.case.on_note(&format!("Card captured securely: {b} ending in {l}."));
            self.case_changed();
        }
        self.core.handle_capture_ended(self.now(), outcome.name(), card);
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
    fn luhn_and_brands() {
        assert!(luhn(b"4111111111111111"));
        assert!(!luhn(b"4111111111111112"));
        assert_eq!(judge(b"4111111111111111"), Outcome::Captured { brand: "visa", last4: "1111".into() });
        assert_eq!(judge(b"5555555555554444"), Outcome::Captured { brand: "mastercard", last4: "4444".into() });
        assert_eq!(judge(b"378282246310005"), Outcome::Captured { brand: "amex", last4: "0005".into() });
        assert_eq!(judge(b"6011111111111117"), Outcome::Captured { brand: "discover", last4: "1117".into() });
        assert_eq!(judge(b"4111111111111112"), Outcome::Invalid, "fails Luhn");
        assert_eq!(judge(b"1234"), Outcome::Invalid, "too short");
        assert_eq!(judge(b""), Outcome::Invalid);
    }

    #[test]
    fn a_wiped_number_is_zeros() {
        let mut d = b"4111111111111111".to_vec();
        wipe(&mut d);
        assert!(d.iter().all(|b| *b == 0));
    }
}
