//! The verification lock: failed verifications are counted per customer across calls and
//! transports, and after `verification_lock_failures` of them within
//! `verification_lock_window_minutes` ([assistant.policy]) the assistant checks no factor for
//! that customer — not even the right one — and hands every caller to a person. Caller ID (SIP
//! `From`, a web caller's number) is whatever the caller says it is, so a per-call limit alone
//! lets anyone guess a customer's PIN over as many calls as they like.
//!
//! The counts live in Switchboard's own store (migration 0005), not the back office: the lock
//! must hold whatever back office is plugged in (a company's HTTP API need not count anything),
//! and while a customer is locked the back office is not even asked.
//!
//! An attempt counts before its factor is checked (written as pending, in the same transaction
//! as the count), so parallel calls cannot outrun the limit. A success does not clear earlier
//! failures: they expire only with the window, so a guesser who also knows one right answer
//! (or a customer's own later call) cannot reset the count.

use std::sync::Arc;
use std::time::Duration;

use super::policy::Policy;
use super::tools::ToolError;
use crate::store::verification::{AttemptEnd, AttemptSlot};
use crate::store::Store;

/// How long the count may take before the attempt is treated as a back-office failure (the
/// caller goes to a person rather than waiting on a busy database).
const STORE_TIMEOUT: Duration = Duration::from_secs(3);

/// Whether an attempt may go ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// Check the factor; then `end` the attempt. `failures_before` attempts already count.
    Open { attempt: i64, failures_before: u32 },
    /// Locked: this many failures within the window. Check nothing.
    Locked { failures: u32 },
}

/// The lock over Switchboard's store, with its clock (Unix milliseconds).
#[derive(Clone)]
pub struct VerificationLock {
    store: Store,
    max_failures: u32,
    window_minutes: u32,
    clock: Arc<dyn Fn() -> i64 + Send + Sync>,
}

impl VerificationLock {
    /// The lock per the policy, or `None` when it is off (`verification_lock_failures = 0`).
    pub fn new(store: Store, policy: &Policy) -> Option<Self> {
        (policy.verification_lock_failures > 0).then(|| Self {
            store,
            max_failures: policy.verification_lock_failures,
            window_minutes: policy.verification_lock_window_minutes.max(1),
            clock: Arc::new(|| chrono::Utc::now().timestamp_millis()),
        })
    }

    /// With another clock (tests: a simulated one).
    pub fn with_clock(mut self, clock: Arc<dyn Fn() -> i64 + Send + Sync>) -> Self {
        self.clock = clock;
        self
    }

    /// Failures that lock a customer.
    pub fn max_failures(&self) -> u32 {
        self.max_failures
    }

    /// Count an attempt for `customer_id` before its factor is checked, or refuse it.
    pub async fn begin(&self, customer_id: i64, call_id: &str) -> Result<Gate, ToolError> {
        let now = (self.clock)();
        let since = now - i64::from(self.window_minutes) * 60_000;
        let (store, call, max) = (self.store.clone(), call_id.to_string(), self.max_failures);
        let task = tokio::task::spawn_blocking(move || store.begin_verification(customer_id, &call, now, since, max));
        match tokio::time::timeout(STORE_TIMEOUT, task).await {
            Ok(Ok(Ok(AttemptSlot::Granted { id, failures }))) => {
                Ok(Gate::Open { attempt: id, failures_before: failures })
            }
            Ok(Ok(Ok(AttemptSlot::Locked { failures }))) => Ok(Gate::Locked { failures }),
            Ok(Ok(Err(e))) => Err(ToolError::Unavailable(format!("verification count: {e}"))),
            Ok(Err(e)) => Err(ToolError::Unavailable(format!("verification count: {e}"))),
            Err(_) => Err(ToolError::Unavailable("verification count: the database is busy".into())),
        }
    }

    /// Settle an attempt. A write that fails leaves it pending, which counts as a failure (the
    /// safe side); the call goes on either way.
    pub async fn end(&self, attempt: i64, end: AttemptEnd) {
        let store = self.store.clone();
        let task = tokio::task::spawn_blocking(move || store.end_verification(attempt, end));
        match tokio::time::timeout(STORE_TIMEOUT, task).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => tracing::warn!(attempt, "verification attempt not settled (it counts): {e}"),
            Ok(Err(e)) => tracing::warn!(attempt, "verification attempt not settled (it counts): {e}"),
            Err(_) => tracing::warn!(attempt, "verification attempt not settled in time (it counts)"),
        }
    }

    /// "after 3 failed attempts in the last hour"
    pub fn describe(&self, failures: u32) -> String {
        let window = match self.window_minutes {
            60 => "hour".to_string(),
            m if m % 1440 == 0 && m > 1440 => format!("{} days", m / 1440),
            1440 => "day".to_string(),
            m if m % 60 == 0 => format!("{} hours", m / 60),
            1 => "minute".to_string(),
            m => format!("{m} minutes"),
        };
        let attempts = if failures == 1 { "attempt" } else { "attempts" };
        format!("after {failures} failed {attempts} in the last {window}")
    }

    /// The note for the agent who takes a locked caller.
    pub fn note(&self, failures: u32) -> String {
        format!("Verification locked {}; verify by other means.", self.describe(failures))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_in_words() {
        let store = Store::open_in_memory().unwrap();
        let lock = |minutes| {
            let p = Policy { verification_lock_window_minutes: minutes, ..Policy::default() };
            VerificationLock::new(store.clone(), &p).unwrap()
        };
        assert_eq!(
            lock(60).note(3),
            "Verification locked after 3 failed attempts in the last hour; verify by other means."
        );
        assert_eq!(lock(90).describe(1), "after 1 failed attempt in the last 90 minutes");
        assert_eq!(lock(120).describe(4), "after 4 failed attempts in the last 2 hours");
        assert_eq!(lock(2880).describe(4), "after 4 failed attempts in the last 2 days");
        let off = Policy { verification_lock_failures: 0, ..Policy::default() };
        assert!(VerificationLock::new(store, &off).is_none());
    }
}
