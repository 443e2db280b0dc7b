//! Who may start a call (sans-IO; the time is passed in). The global `max_calls` limit alone
//! lets one client take every slot: 32 browser offers that never finish ICE held all 32 for
//! 15 s and kept phone callers out. So, per client address:
//!
//! * a token bucket of new calls (`burst`, refilled at `per_minute`), separately for
//!   browser offers and for SIP INVITEs / media streams (a PBX trunk sends every call from
//!   one address, so its defaults are far higher);
//! * browser calls that are not connected yet (ICE pending) are "pending": at most
//!   `pending_per_address` per address, and all pending calls together at most
//!   `pending_max` (default: a quarter of `max_calls`), so unfinished offers, even from many
//!   addresses, can never hold the slots that connected callers need.
//!
//! Refusals carry how long to wait (HTTP 429 / 503 with `Retry-After`, SIP 486/503).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Deserialize;

/// `[calls.admission]`
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct AdmissionConfig {
    /// Browser offers one address may make in a burst, and per minute after that.
    pub offer_burst: u32,
    pub offers_per_minute: u32,
    /// SIP INVITEs and media streams one address may start in a burst, and per minute.
    pub invite_burst: u32,
    pub invites_per_minute: u32,
    /// Browser calls not yet connected that one address may hold.
    pub pending_per_address: usize,
    /// Browser calls not yet connected, all addresses together (0 = a quarter of
    /// `calls.max_calls`, at least 4).
    pub pending_max: usize,
    /// Refuse new calls while the oldest final transcription has waited this long for a
    /// worker (the machine is past its capacity; the calls it has keep their latency, and a
    /// PBX can overflow to another server). 0 = never.
    pub overload_wait_ms: u64,
}

impl Default for AdmissionConfig {
    fn default() -> Self {
        Self {
            offer_burst: 10,
            offers_per_minute: 30,
            invite_burst: 60,
            invites_per_minute: 600,
            pending_per_address: 4,
            pending_max: 0,
            overload_wait_ms: 2000,
        }
    }
}

impl AdmissionConfig {
    pub fn validate(&self) -> Result<(), String> {
        if self.offer_burst == 0 || self.invite_burst == 0 || self.pending_per_address == 0 {
            return Err("calls.admission: offer_burst, invite_burst and pending_per_address must be at least 1".into());
        }
        if self.offers_per_minute == 0 || self.invites_per_minute == 0 {
            return Err("calls.admission: offers_per_minute and invites_per_minute must be at least 1".into());
        }
        Ok(())
    }
}

/// What a call gets when every line is taken (`calls.max_calls` transcribed calls are up) or
/// transcription is behind (`overload_wait_ms`).
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum OverflowAction {
    /// Answered with a message and queued for the next free person, without transcription
    /// or the assistant (they are what is full). Nobody free in time: the usual callback offer.
    Queue,
    /// Answered with a message, a callback to the caller's number is booked, then hung up
    /// (a caller without a usable number is asked to call again later).
    Callback,
    /// Not answered: SIP 486 (all lines taken) or 503 (behind), a browser 503, so a PBX can
    /// route the call elsewhere.
    Refuse,
}

impl OverflowAction {
    pub fn name(self) -> &'static str {
        match self {
            Self::Queue => "queue",
            Self::Callback => "callback",
            Self::Refuse => "refuse",
        }
    }
}

/// `[calls.overflow]`: calls beyond capacity get a clear answer instead of degrading every
/// call on the machine.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct OverflowConfig {
    pub action: OverflowAction,
    /// Calls answered that way at once, on top of `calls.max_calls` (they cost no inference:
    /// media and the mixer only). 0 = a quarter of `max_calls`, at least 2. Beyond them,
    /// calls are refused.
    pub max_calls: usize,
}

impl Default for OverflowConfig {
    fn default() -> Self {
        Self { action: OverflowAction::Queue, max_calls: 0 }
    }
}

impl OverflowConfig {
    /// How many overflow calls may be up at once next to `max_calls` transcribed ones.
    pub fn limit(&self, max_calls: usize) -> usize {
        match self.action {
            OverflowAction::Refuse => 0,
            _ if self.max_calls > 0 => self.max_calls,
            _ => (max_calls / 4).max(2),
        }
    }
}

/// Which kind of call start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A browser's WebRTC offer.
    Offer,
    /// A SIP INVITE or a provider media stream.
    Invite,
}

/// Why a call may not start.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Refusal {
    #[error("too many new calls from {0}: try again in {secs} s", secs = .1.as_secs().max(1))]
    RateLimited(IpAddr, Duration),
    #[error("{0} already has {1} calls that are not connected yet")]
    PendingPerAddress(IpAddr, usize),
    #[error("too many calls are being set up ({0}): try again shortly")]
    PendingFull(usize),
}

impl Refusal {
    /// How long the client should wait before trying again.
    pub fn retry_after(&self) -> Duration {
        match self {
            Refusal::RateLimited(_, d) => *d,
            _ => Duration::from_secs(5),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

#[derive(Debug, Default)]
struct State {
    buckets: HashMap<(Kind, IpAddr), Bucket>,
    pending: HashMap<IpAddr, usize>,
    pending_total: usize,
}

/// The admission rules of one server.
#[derive(Debug)]
pub struct Admission {
    cfg: AdmissionConfig,
    pending_max: usize,
    state: Mutex<State>,
}

/// Buckets kept before full (idle) ones are forgotten: bounded memory under address sprays.
const MAX_BUCKETS: usize = 50_000;

impl Admission {
    pub fn new(cfg: AdmissionConfig, max_calls: usize) -> Arc<Self> {
        let pending_max = if cfg.pending_max > 0 { cfg.pending_max } else { (max_calls / 4).max(4) };
        Arc::new(Self { cfg, pending_max, state: Mutex::default() })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn limits(&self, kind: Kind) -> (f64, f64) {
        match kind {
            Kind::Offer => (self.cfg.offer_burst as f64, self.cfg.offers_per_minute as f64 / 60.0),
            Kind::Invite => (self.cfg.invite_burst as f64, self.cfg.invites_per_minute as f64 / 60.0),
        }
    }

    /// Take one token from `ip`'s bucket for `kind`.
    fn take(&self, s: &mut State, now: Instant, kind: Kind, ip: IpAddr) -> Result<(), Refusal> {
        let (burst, rate) = self.limits(kind);
        if s.buckets.len() >= MAX_BUCKETS {
            s.buckets.retain(|&(k, _), b| {
                let (burst, rate) = self.limits(k);
                b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * rate < burst
            });
        }
        let b = s.buckets.entry((kind, ip)).or_insert(Bucket { tokens: burst, at: now });
        b.tokens = (b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * rate).min(burst);
        b.at = now;
        if b.tokens < 1.0 {
            return Err(Refusal::RateLimited(ip, Duration::from_secs_f64((1.0 - b.tokens) / rate)));
        }
        b.tokens -= 1.0;
        Ok(())
    }

    /// A SIP INVITE or media stream from `ip`.
    pub fn admit(&self, now: Instant, kind: Kind, ip: IpAddr) -> Result<(), Refusal> {
        let mut s = self.lock();
        let r = self.take(&mut s, now, kind, ip);
        if r.is_err() {
            crate::metrics::calls().refused.inc("rate_limited");
        }
        r
    }

    /// A browser offer from `ip`: counted as pending until the guard is released (the
    /// connection is up, or the call is over).
    pub fn admit_pending(self: &Arc<Self>, now: Instant, ip: IpAddr) -> Result<Pending, Refusal> {
        let r = self.admit_pending_now(now, ip);
        if r.is_err() {
            crate::metrics::calls().refused.inc("rate_limited");
        }
        r
    }

    fn admit_pending_now(self: &Arc<Self>, now: Instant, ip: IpAddr) -> Result<Pending, Refusal> {
        let mut s = self.lock();
        let mine = s.pending.get(&ip).copied().unwrap_or(0);
        if mine >= self.cfg.pending_per_address {
            return Err(Refusal::PendingPerAddress(ip, mine));
        }
        if s.pending_total >= self.pending_max {
            return Err(Refusal::PendingFull(s.pending_total));
        }
        self.take(&mut s, now, Kind::Offer, ip)?;
        *s.pending.entry(ip).or_default() += 1;
        s.pending_total += 1;
        Ok(Pending { admission: Some(self.clone()), ip })
    }

    /// Whether the transcription backlog says to refuse new calls now.
    pub fn overloaded(&self, oldest_final_wait: Duration) -> bool {
        self.cfg.overload_wait_ms > 0 && oldest_final_wait >= Duration::from_millis(self.cfg.overload_wait_ms)
    }

    /// Calls not connected yet, all addresses.
    pub fn pending(&self) -> usize {
        self.lock().pending_total
    }

    fn release(&self, ip: IpAddr) {
        let mut s = self.lock();
        if let Some(n) = s.pending.get_mut(&ip) {
            *n -= 1;
            if *n == 0 {
                s.pending.remove(&ip);
            }
            s.pending_total -= 1;
        }
    }
}

/// A browser call that is being set up; dropping it (or `connected`) ends that.
#[derive(Debug)]
pub struct Pending {
    admission: Option<Arc<Admission>>,
    ip: IpAddr,
}

impl Pending {
    /// The call's media is connected: it no longer counts as pending.
    pub fn connected(&mut self) {
        if let Some(a) = self.admission.take() {
            a.release(self.ip);
        }
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        self.connected();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn cfg() -> AdmissionConfig {
        AdmissionConfig {
            offer_burst: 3,
            offers_per_minute: 6,
            invite_burst: 5,
            invites_per_minute: 60,
            ..Default::default()
        }
    }

    #[test]
    fn bursts_then_the_rate_per_address() {
        let a = Admission::new(cfg(), 32);
        let t = Instant::now();
        for _ in 0..5 {
            assert_eq!(a.admit(t, Kind::Invite, ip("127.0.0.1")), Ok(()));
        }
        let Err(Refusal::RateLimited(_, wait)) = a.admit(t, Kind::Invite, ip("127.0.0.1")) else { panic!() };
        assert_eq!(wait, Duration::from_secs(1), "60 a minute: one a second");
        assert_eq!(a.admit(t, Kind::Invite, ip("127.0.0.2")), Ok(()), "another address is not affected");
        assert_eq!(a.admit(t, Kind::Offer, ip("127.0.0.1")), Ok(()), "nor another kind");
        assert_eq!(a.admit(t + Duration::from_secs(1), Kind::Invite, ip("127.0.0.1")), Ok(()));
        assert!(a.admit(t + Duration::from_secs(1), Kind::Invite, ip("127.0.0.1")).is_err());
    }

    #[test]
    fn pending_offers_are_capped_per_address_and_overall() {
        let a = Admission::new(AdmissionConfig { offer_burst: 100, pending_per_address: 2, ..cfg() }, 16);
        let t = Instant::now();
        let one = a.admit_pending(t, ip("10.0.0.1")).unwrap();
        let mut two = a.admit_pending(t, ip("10.0.0.1")).unwrap();
        assert_eq!(a.admit_pending(t, ip("10.0.0.1")).unwrap_err(), Refusal::PendingPerAddress(ip("10.0.0.1"), 2));
        two.connected();
        let _three = a.admit_pending(t, ip("10.0.0.1")).unwrap();
        // max_calls 16 -> at most 4 pending overall.
        let _four = a.admit_pending(t, ip("10.0.0.2")).unwrap();
        let _five = a.admit_pending(t, ip("10.0.0.3")).unwrap();
        assert_eq!(a.pending(), 4);
        assert_eq!(a.admit_pending(t, ip("10.0.0.4")).unwrap_err(), Refusal::PendingFull(4));
        drop(one);
        assert_eq!(a.pending(), 3);
        assert!(a.admit_pending(t, ip("10.0.0.4")).is_ok());
        // Connected calls are not pending, and SIP is never held up by pending offers.
        assert_eq!(a.admit(t, Kind::Invite, ip("10.0.0.1")), Ok(()));
    }

    #[test]
    fn a_refused_offer_takes_no_token_and_no_pending_slot() {
        let a = Admission::new(AdmissionConfig { offer_burst: 2, offers_per_minute: 1, ..cfg() }, 32);
        let t = Instant::now();
        let g1 = a.admit_pending(t, ip("127.0.0.1")).unwrap();
        let g2 = a.admit_pending(t, ip("127.0.0.1")).unwrap();
        drop((g1, g2));
        assert!(matches!(a.admit_pending(t, ip("127.0.0.1")), Err(Refusal::RateLimited(..))));
        assert_eq!(a.pending(), 0);
        assert!(a.admit_pending(t + Duration::from_secs(60), ip("127.0.0.1")).is_ok());
    }
}
