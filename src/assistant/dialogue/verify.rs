//! Checking the caller's verification factor: this call's limit (`max_verification_failures`)
//! and the customer's lock across calls (`crate::assistant::lockout`). While the customer is
//! locked no factor is checked, and the caller hears the same whatever they keyed.

use super::{Assistant, EscalationReason, Pending, Reply};
use crate::assistant::entities;
use crate::assistant::intents::Intent;
use crate::assistant::lockout::Gate;
use crate::assistant::replies::Msg;
use crate::assistant::tools::Factor;
use crate::store::verification::AttemptEnd;

impl Assistant {
    /// The caller's answer to "your date of birth or PIN": returns whether the turn was taken
    /// as that answer (false: a new request instead).
    pub(super) async fn answer_verify(&mut self, r: &mut Reply, intent: Intent, asked: String, text: &str) -> bool {
        // A date first: "April 12th 1985" holds a four-digit run that is not a PIN.
        let factor = entities::date(text, self.today)
            .filter(|d| *d < self.today)
            .map(Factor::DateOfBirth)
            .or_else(|| entities::pin(text).map(Factor::Pin));
        if factor.is_none() && entities::order_number(text).is_some() {
            // An order number instead of a factor: keep it for after verification.
            self.pending = Some(Pending::Verify(intent, format!("{asked} {text}")));
            self.msg(r, Msg::AskVerification);
            return true;
        }
        if factor.is_none() && self.classifier.classify(text).intent != Intent::Unknown {
            // A new request instead of an answer: forget the old one.
            return false;
        }
        if let Some(f) = &factor {
            if self.read_back(r, intent, &asked, f) {
                return true;
            }
        }
        self.pending = Some(Pending::Verify(intent, asked));
        self.verify_with(r, factor).await;
        true
    }

    pub(super) async fn verify_with(&mut self, r: &mut Reply, factor: Option<Factor>) {
        let Some(Pending::Verify(intent, asked)) = self.pending.take() else { return };
        let Some(customer) = self.customer.clone() else { return };
        // Nothing heard that could be checked: this call asks again (and counts it), but it
        // is no guess to count across calls.
        let Some(factor) = factor else { return self.verify_failed(r, intent, asked) };
        // The attempt counts before the factor is checked.
        let lock = self.lock.clone();
        let mut attempt = None;
        if let Some(lock) = &lock {
            match lock.begin(customer.id, &self.call_id).await {
                Ok(Gate::Open { attempt: id, failures_before }) => attempt = Some((id, failures_before)),
                Ok(Gate::Locked { failures }) => {
                    r.refuse("verify", format!("not checked: verification locked {}", lock.describe(failures)));
                    return self.locked(r, intent, lock.note(failures));
                }
                Err(e) => {
                    self.tool_failed(r, "verify", &e);
                    return;
                }
            }
        }
        let outcome = self.back_office.verify(&customer, &factor).await;
        if let (Some(lock), Some((id, _))) = (&lock, attempt) {
            let end = if matches!(outcome, Ok(None)) { AttemptEnd::Failed } else { AttemptEnd::NotCounted };
            lock.end(id, end).await;
        }
        match outcome {
            Ok(Some(v)) => {
                r.act("verify", "verified", true);
                self.verified = Some(v);
                self.msg(r, Msg::Verified { name: customer.name.clone() });
                // Carry on with what the caller asked, order number and all.
                self.dispatch(r, intent, &asked).await;
            }
            Ok(None) => match (&lock, attempt) {
                // This failure reaches the limit: the customer is locked from now on.
                (Some(lock), Some((_, before))) if before + 1 >= lock.max_failures() => {
                    self.verify_failures += 1;
                    r.act("verify", format!("failed; verification locked {}", lock.describe(before + 1)), false);
                    self.locked(r, intent, lock.note(before + 1));
                }
                _ => self.verify_failed(r, intent, asked),
            },
            Err(e) => {
                self.tool_failed(r, "verify", &e);
            }
        }
    }

    /// A factor that did not match: ask again, or hand over at this call's limit.
    fn verify_failed(&mut self, r: &mut Reply, intent: Intent, asked: String) {
        self.verify_failures += 1;
        r.act(
            "verify",
            format!("failed ({} of {})", self.verify_failures, self.policy.max_verification_failures),
            false,
        );
        if self.verify_failures >= self.policy.max_verification_failures {
            self.escalate(r, EscalationReason::VerificationFailed, Some(intent));
        } else {
            self.pending = Some(Pending::Verify(intent, asked));
            self.msg(r, Msg::VerificationRetry);
        }
    }

    /// The customer's verification is locked: say so without a word about the factor, and
    /// pass the call to a person with a note for them.
    fn locked(&mut self, r: &mut Reply, intent: Intent, note: String) {
        tracing::info!(call = %self.call_id, "verification locked: handing over");
        r.note = Some(note);
        self.msg(r, Msg::VerificationLocked);
        self.escalate(r, EscalationReason::VerificationLocked, Some(intent));
    }
}
