//! Checking a verification factor the recogniser was unsure of before it counts.
//!
//! A misheard date of birth ("April 12th, 1975" for "April twelfth, 1985", 8 kHz, tiny.en) is a
//! failed verification: the caller is asked again, then handed over, and failures count
//! towards the customer's lock across calls. So when the recogniser's least certain word is
//! below `[assistant.policy] read_back_below`, the assistant says what it heard and checks it
//! only after a yes. A spoken PIN is not read back (the assistant's words are transcribed
//! and recorded like the caller's); the caller is asked to key it instead. Typed input and a
//! confident recogniser go straight to the check.

use chrono::NaiveDate;

use super::{Assistant, Pending, Reply};
use crate::assistant::entities;
use crate::assistant::intents::Intent;
use crate::assistant::replies::Msg;
use crate::assistant::tools::Factor;

impl Assistant {
    /// Whether `factor`, heard in this turn, is checked with the caller first; if so, asks.
    pub(super) fn read_back(&mut self, r: &mut Reply, intent: Intent, asked: &str, factor: &Factor) -> bool {
        let Some(confidence) = self.heard.filter(|c| *c < self.policy.read_back_below) else { return false };
        match factor {
            Factor::DateOfBirth(date) => {
                tracing::info!(call = %self.call_id, "date of birth heard with confidence {confidence:.2}: read back");
                self.pending = Some(Pending::CheckBirthDate(intent, asked.to_string(), *date));
                self.msg(r, Msg::CheckDateOfBirth { date: *date });
            }
            Factor::Pin(_) => {
                tracing::info!(call = %self.call_id, "PIN heard with confidence {confidence:.2}: asked to key it");
                self.pending = Some(Pending::Verify(intent, asked.to_string()));
                self.msg(r, Msg::KeyPin);
            }
            Factor::Postcode(_) => return false,
        }
        true
    }

    /// The caller's answer to a date read back. Yes checks the date; no asks for it again (no
    /// failure counted); another date or a PIN instead comes back (the intent and text asked
    /// about) to be weighed as the answer to the verification question; anything else asks
    /// the same question again.
    pub(super) async fn check_answer(
        &mut self,
        r: &mut Reply,
        intent: Intent,
        asked: String,
        date: NaiveDate,
        text: &str,
    ) -> Option<(Intent, String)> {
        let fresh = entities::date(text, self.today).is_some_and(|d| d != date) || entities::pin(text).is_some();
        if fresh {
            return Some((intent, asked));
        }
        match entities::yes_no(text) {
            Some(true) => {
                self.pending = Some(Pending::Verify(intent, asked));
                self.verify_with(r, Some(Factor::DateOfBirth(date))).await;
            }
            Some(false) => {
                self.pending = Some(Pending::Verify(intent, asked));
                self.msg(r, Msg::SayDateOfBirthAgain);
            }
            None => {
                self.pending = Some(Pending::CheckBirthDate(intent, asked, date));
                self.msg(r, Msg::CheckDateOfBirth { date });
            }
        }
        None
    }
}
