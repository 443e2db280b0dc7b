//! Which address a call's RTP is taken from (sans-IO).
//!
//! Symmetric RTP (RFC 4961 style "latching") is what gets media through NAT: the caller's
//! packets may come from another address than the SDP says, so the first source is learnt.
//! But latching onto whoever sent the *last* packet lets anyone who guesses the port take
//! the call's audio and inject key presses. The rule here:
//!
//! * A packet from the address the SDP signalled is always that call's media: it latches at
//!   once (and takes over from a source learnt earlier).
//! * Otherwise the first source heard within `window` of the media starting (or of a
//!   re-INVITE changing the address) is latched, as a NAT'd caller needs.
//! * Once latched, every other source is ignored; after the window nothing moves it, except
//!   signalling (a re-INVITE or the late-offer ACK) naming a new address, which opens a new
//!   window.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// How long after media starts a source other than the signalled one may still be learnt.
pub const LATCH_WINDOW: Duration = Duration::from_secs(2);

/// What to do with a packet from some address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The call's media: use it (and send to this address).
    Accept,
    /// A first packet from this source: it is the call's media from now on.
    Latched,
    /// Another source: drop the packet.
    Ignore,
}

/// The source-address latch of one RTP session.
#[derive(Debug, Clone)]
pub struct SourceLatch {
    signalled: Option<SocketAddr>,
    latched: Option<SocketAddr>,
    /// Until when a source other than the signalled one may be learnt; `None` = from the
    /// first packet on.
    open_until: Option<Instant>,
    window: Duration,
}

impl SourceLatch {
    pub fn new(signalled: Option<SocketAddr>, window: Duration) -> Self {
        Self { signalled: signalled.filter(usable), latched: None, open_until: None, window }
    }

    /// Where to send the call's audio: the latched source, else the signalled address.
    pub fn remote(&self) -> Option<SocketAddr> {
        self.latched.or(self.signalled)
    }

    /// Signalling named a (possibly new) address: learning is open again for a window.
    pub fn signalled(&mut self, now: Instant, addr: Option<SocketAddr>) {
        let addr = addr.filter(usable);
        if addr.is_some() && addr != self.signalled {
            self.signalled = addr;
            self.latched = None;
            self.open_until = Some(now + self.window);
        }
    }

    /// Judge a valid packet from `from`.
    pub fn packet(&mut self, now: Instant, from: SocketAddr) -> Verdict {
        let open_until = *self.open_until.get_or_insert(now + self.window);
        if self.latched == Some(from) {
            return Verdict::Accept;
        }
        let from_signalled = self.signalled == Some(from);
        // The signalled address is the call's own: it takes over a learnt source at any time;
        // a learnt source is never replaced by a third party.
        let may_latch = from_signalled || (self.latched.is_none() && now < open_until);
        if may_latch {
            self.latched = Some(from);
            Verdict::Latched
        } else {
            Verdict::Ignore
        }
    }
}

/// Addresses that name no one (`0.0.0.0`, port 0: hold, or "not yet") are not a source.
fn usable(a: &SocketAddr) -> bool {
    !a.ip().is_unspecified() && a.port() != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn signalled_source_latches_and_others_are_ignored() {
        let t = Instant::now();
        let mut l = SourceLatch::new(Some(a("127.0.0.1:4000")), LATCH_WINDOW);
        assert_eq!(l.packet(t, a("127.0.0.1:4000")), Verdict::Latched);
        assert_eq!(l.packet(t, a("127.0.0.2:4000")), Verdict::Ignore, "a second sender within the window");
        assert_eq!(l.packet(t + Duration::from_secs(5), a("127.0.0.2:4000")), Verdict::Ignore);
        assert_eq!(l.packet(t + Duration::from_secs(5), a("127.0.0.1:4000")), Verdict::Accept);
        assert_eq!(l.remote(), Some(a("127.0.0.1:4000")));
    }

    #[test]
    fn a_natted_caller_is_learnt_early_then_fixed() {
        let t = Instant::now();
        // The SDP names a private address the packets never come from.
        let mut l = SourceLatch::new(Some(a("10.0.0.5:4000")), LATCH_WINDOW);
        assert_eq!(l.remote(), Some(a("10.0.0.5:4000")), "send to the SDP's address until something is heard");
        assert_eq!(l.packet(t + Duration::from_millis(300), a("198.51.100.7:31000")), Verdict::Latched);
        assert_eq!(l.remote(), Some(a("198.51.100.7:31000")));
        assert_eq!(l.packet(t + Duration::from_millis(400), a("203.0.113.9:5000")), Verdict::Ignore);
        assert_eq!(l.packet(t + Duration::from_secs(10), a("198.51.100.7:31000")), Verdict::Accept);
    }

    #[test]
    fn the_signalled_address_takes_over_a_learnt_one() {
        let t = Instant::now();
        let mut l = SourceLatch::new(Some(a("127.0.0.1:4000")), LATCH_WINDOW);
        // An attacker is first, inside the window...
        assert_eq!(l.packet(t, a("127.0.0.2:9")), Verdict::Latched);
        // ...the real caller's packets still win, even late.
        assert_eq!(l.packet(t + Duration::from_secs(4), a("127.0.0.1:4000")), Verdict::Latched);
        assert_eq!(l.packet(t + Duration::from_millis(200), a("127.0.0.2:9")), Verdict::Ignore);
    }

    #[test]
    fn after_the_window_only_the_signalled_address_latches() {
        let t = Instant::now();
        let mut l = SourceLatch::new(Some(a("127.0.0.1:4000")), LATCH_WINDOW);
        // The window starts with the first packet heard, whoever sent it.
        assert_eq!(l.packet(t, a("127.0.0.1:4000")), Verdict::Latched);
        let mut quiet = SourceLatch::new(Some(a("127.0.0.1:4000")), LATCH_WINDOW);
        quiet.open_until = Some(t);
        assert_eq!(quiet.packet(t + Duration::from_secs(3), a("127.0.0.2:1")), Verdict::Ignore);
        assert_eq!(quiet.packet(t + Duration::from_secs(3), a("127.0.0.1:4000")), Verdict::Latched);
        let mut none = SourceLatch::new(None, LATCH_WINDOW);
        assert_eq!(none.packet(t, a("127.0.0.3:1")), Verdict::Latched, "no SDP address: learn the first");
        assert_eq!(none.packet(t + Duration::from_secs(3), a("127.0.0.2:1")), Verdict::Ignore);
    }

    #[test]
    fn reinvite_with_a_new_address_opens_a_new_window() {
        let t = Instant::now();
        let mut l = SourceLatch::new(Some(a("127.0.0.1:4000")), LATCH_WINDOW);
        assert_eq!(l.packet(t, a("127.0.0.1:4000")), Verdict::Latched);
        let later = t + Duration::from_secs(60);
        l.signalled(later, Some(a("127.0.0.1:4002")));
        assert_eq!(l.remote(), Some(a("127.0.0.1:4002")));
        assert_eq!(l.packet(later, a("127.0.0.1:4002")), Verdict::Latched);
        assert_eq!(l.packet(later, a("127.0.0.1:4000")), Verdict::Ignore, "the old address is gone");
        // Hold (0.0.0.0) names nobody and changes nothing.
        l.signalled(later, Some(a("0.0.0.0:4002")));
        assert_eq!(l.remote(), Some(a("127.0.0.1:4002")));
    }
}
