//! The login limiter: an attempt is counted (reserved) *before* its password is checked, under
//! the same lock as the check, so any number of parallel attempts can never get more password
//! checks than the limits allow. A reservation stays counted as a failure unless the login
//! succeeds.
//!
//! The rule:
//! - **Per client address (hard):** `addr_max` attempts that failed (or are in flight) within
//!   `addr_window` block further attempts from that address, for any user, until the oldest one
//!   leaves the window (429 with `Retry-After`). A success does not count against the address.
//! - **Per user (slows down, never locks out):** failures for one username from *all*
//!   addresses within `user_window` are counted; from `user_soft` failures on, that user's logins
//!   are spaced out: one attempt per back-off period (`backoff_base`, doubling with each further
//!   failure, at most `backoff_max`); attempts in between get 429 with the time to the next one.
//!   So many addresses guessing one agent's password are slowed to a trickle, while the agent
//!   with the right password, from an address that is not itself blocked, still logs in (at
//!   worst after one back-off period). A success clears the user's count.
//!
//! Time is passed in, so the rule is tested with a simulated clock.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The limits (see the module documentation).
#[derive(Debug, Clone)]
pub struct Rules {
    pub addr_max: usize,
    pub addr_window: Duration,
    pub user_soft: usize,
    pub user_window: Duration,
    pub backoff_base: Duration,
    pub backoff_max: Duration,
}

impl Default for Rules {
    /// 5 failures per address in 5 minutes; per user, from 10 failures in 15 minutes, one
    /// attempt per 1, 2, 4 ... 30 s.
    fn default() -> Self {
        Rules {
            addr_max: 5,
            addr_window: Duration::from_secs(300),
            user_soft: 10,
            user_window: Duration::from_secs(900),
            backoff_base: Duration::from_secs(1),
            backoff_max: Duration::from_secs(30),
        }
    }
}

/// An attempt that was let through and counted; settle it with `succeeded` or `cancel`
/// (a failure needs nothing more: it is already counted).
#[derive(Debug)]
pub struct Reservation {
    user: String,
    addr: String,
    at: Instant,
}

#[derive(Debug, Default)]
struct UserState {
    failures: VecDeque<Instant>,
    /// While slowed down: no attempt before this.
    next_slot: Option<Instant>,
}

#[derive(Debug, Default)]
struct State {
    addrs: HashMap<String, VecDeque<Instant>>,
    users: HashMap<String, UserState>,
}

/// Above this many tracked keys, expired ones are dropped (bounded memory under a spray).
const MAX_KEYS: usize = 50_000;

#[derive(Debug, Default)]
pub struct Limiter {
    rules: Rules,
    state: Mutex<State>,
}

fn prune(q: &mut VecDeque<Instant>, now: Instant, window: Duration) {
    while q.front().is_some_and(|t| now.saturating_duration_since(*t) >= window) {
        q.pop_front();
    }
}

fn remove_one(q: &mut VecDeque<Instant>, at: Instant) {
    if let Some(i) = q.iter().rposition(|t| *t == at) {
        q.remove(i);
    }
}

impl Limiter {
    pub fn new(rules: Rules) -> Self {
        Limiter { rules, state: Mutex::default() }
    }

    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    /// Let an attempt for `user` from `addr` through at `now`, counting it; or how long to wait.
    pub fn reserve(&self, user: &str, addr: &str, now: Instant) -> Result<Reservation, Duration> {
        let r = &self.rules;
        let mut guard = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let st = &mut *guard;
        if st.addrs.len() > MAX_KEYS || st.users.len() > MAX_KEYS {
            st.addrs.retain(|_, q| {
                prune(q, now, r.addr_window);
                !q.is_empty()
            });
            st.users.retain(|_, u| {
                prune(&mut u.failures, now, r.user_window);
                !u.failures.is_empty()
            });
        }
        let addr_q = st.addrs.entry(addr.to_string()).or_default();
        prune(addr_q, now, r.addr_window);
        if addr_q.len() >= r.addr_max {
            let oldest = addr_q.front().copied().unwrap_or(now);
            return Err(r
                .addr_window
                .saturating_sub(now.saturating_duration_since(oldest))
                .max(Duration::from_secs(1)));
        }
        let u = st.users.entry(user.to_string()).or_default();
        prune(&mut u.failures, now, r.user_window);
        if u.failures.len() >= r.user_soft {
            if let Some(next) = u.next_slot.filter(|n| *n > now) {
                return Err(next - now);
            }
            let extra = (u.failures.len() - r.user_soft).min(16) as u32;
            let backoff = r.backoff_base.saturating_mul(1 << extra).min(r.backoff_max);
            u.next_slot = Some(now + backoff);
        } else {
            u.next_slot = None;
        }
        u.failures.push_back(now);
        addr_q.push_back(now);
        Ok(Reservation { user: user.to_string(), addr: addr.to_string(), at: now })
    }

    /// The password was right: the user's count is cleared and the attempt does not count
    /// against the address.
    pub fn succeeded(&self, res: Reservation) {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        st.users.remove(&res.user);
        if let Some(q) = st.addrs.get_mut(&res.addr) {
            remove_one(q, res.at);
        }
    }

    /// The password was never checked (the server was busy): the attempt does not count.
    pub fn cancel(&self, res: Reservation) {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(u) = st.users.get_mut(&res.user) {
            remove_one(&mut u.failures, res.at);
        }
        if let Some(q) = st.addrs.get_mut(&res.addr) {
            remove_one(q, res.at);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn an_address_gets_its_quota_then_waits_for_the_window() {
        let l = Limiter::default();
        let t0 = Instant::now();
        for i in 0..5 {
            l.reserve("maria", "10.0.0.1", t0 + i * S).expect("within the quota");
        }
        let wait = l.reserve("maria", "10.0.0.1", t0 + 10 * S).unwrap_err();
        assert_eq!(wait, 290 * S, "until the first failure leaves the 5-minute window");
        assert!(l.reserve("sam", "10.0.0.1", t0 + 10 * S).is_err(), "any user from that address");
        l.reserve("maria", "10.0.0.2", t0 + 10 * S).expect("another address is not blocked");
        l.reserve("maria", "10.0.0.1", t0 + 300 * S).expect("the first failure has left the window");
        assert!(l.reserve("maria", "10.0.0.1", t0 + 300 * S).is_err(), "but only the one");
    }

    #[test]
    fn a_success_clears_the_user_and_does_not_count_against_the_address() {
        let l = Limiter::default();
        let t0 = Instant::now();
        for i in 0..4 {
            l.reserve("maria", "10.0.0.1", t0 + i * S).unwrap();
        }
        let ok = l.reserve("maria", "10.0.0.1", t0 + 5 * S).unwrap();
        l.succeeded(ok);
        l.reserve("maria", "10.0.0.1", t0 + 6 * S).expect("the success freed its place");
        assert!(l.reserve("maria", "10.0.0.1", t0 + 7 * S).is_err());
        assert!(l.state.lock().unwrap().users["maria"].failures.len() == 1, "counted again from the success");
    }

    #[test]
    fn a_cancelled_attempt_does_not_count() {
        let l = Limiter::default();
        let t0 = Instant::now();
        for _ in 0..20 {
            let r = l.reserve("maria", "10.0.0.1", t0).unwrap();
            l.cancel(r);
        }
        l.reserve("maria", "10.0.0.1", t0).unwrap();
    }

    #[test]
    fn many_addresses_slow_a_user_down_but_never_lock_them_out() {
        let l = Limiter::default();
        let t0 = Instant::now();
        // Ten addresses, one failure each: the user reaches the soft limit.
        for i in 0..10u32 {
            l.reserve("priya", &format!("10.1.0.{i}"), t0 + i * S).unwrap();
        }
        // The next attempt is let through and starts the back-off (1 s) ...
        let t = t0 + 20 * S;
        l.reserve("priya", "10.2.0.1", t).unwrap();
        // ... so one right after, from yet another address, waits.
        assert_eq!(l.reserve("priya", "10.2.0.2", t).unwrap_err(), S);
        // After the back-off, Priya herself (a fresh address) gets through and logs in.
        let mine = l.reserve("priya", "192.168.1.5", t + S).expect("not locked out");
        l.succeeded(mine);
        l.reserve("priya", "10.2.0.3", t + S).expect("cleared: no back-off any more");
        // Other users are not affected.
        l.reserve("james", "10.2.0.4", t).unwrap();
    }

    #[test]
    fn the_user_back_off_doubles_and_is_capped() {
        let l = Limiter::default();
        let t0 = Instant::now();
        let mut t = t0;
        for i in 0..10u32 {
            l.reserve("priya", &format!("10.1.0.{i}"), t).unwrap();
        }
        let mut waits = Vec::new();
        for i in 0..8u32 {
            l.reserve("priya", &format!("10.3.0.{i}"), t).unwrap();
            let wait = l.reserve("priya", "10.9.9.9", t).unwrap_err();
            waits.push(wait.as_secs());
            t += wait;
        }
        assert_eq!(waits, vec![1, 2, 4, 8, 16, 30, 30, 30]);
        // Failures older than the user window no longer count.
        l.reserve("priya", "10.4.0.1", t + 901 * S).unwrap();
        assert!(l.reserve("priya", "10.4.0.2", t + 901 * S).is_ok(), "below the soft limit again");
    }

    #[test]
    fn parallel_attempts_never_exceed_the_quota() {
        let l = Arc::new(Limiter::default());
        let t0 = Instant::now();
        let passed: usize = (0..100)
            .map(|_| {
                let l = l.clone();
                std::thread::spawn(move || l.reserve("maria", "10.0.0.1", t0).is_ok() as usize)
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().unwrap())
            .sum();
        assert_eq!(passed, 5);
    }
}
