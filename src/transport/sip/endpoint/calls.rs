//! What the application does to a call (ring, answer, reject, hang up with BYE), how a dialog
//! ends, and the timers that retransmit responses and BYEs and expire transactions.

use std::net::SocketAddr;
use std::time::Instant;

use super::{
    ClientTx, DialogId, DialogState, Endpoint, InviteState, Method, NameAddr, Output, SipEvent, SipMessage, SipUri,
    Termination, ALLOW,
};

impl Endpoint {
    /// Send 180 Ringing for a new call.
    pub fn ring(&mut self, dialog: DialogId) {
        let Some((branch, tag)) =
            self.dialogs.get(&dialog).and_then(|d| Some((d.invite_branch.clone()?, d.local_tag.clone())))
        else {
            return;
        };
        let Some(tx) = self.invites.get(&branch) else { return };
        if tx.state != InviteState::Proceeding {
            return;
        }
        let (req, source) = (tx.request.clone(), tx.source);
        let mut r = self.response(&req, 180, Some(&tag));
        r.push("Contact", format!("<sip:switchboard@{}>", self.cfg.contact));
        let data = self.send(source, &r);
        if let Some(tx) = self.invites.get_mut(&branch) {
            tx.last_response = Some(data);
        }
    }

    /// Answer the pending INVITE (new call or re-INVITE) with 200 OK and `sdp`.
    pub fn answer(&mut self, now: Instant, dialog: DialogId, sdp: String) {
        self.final_response(now, dialog, 200, Some(sdp));
    }

    /// Reject the pending INVITE with `code` (486 busy, 488 codec, 503 shutting down...).
    /// A rejected re-INVITE leaves the call up.
    pub fn reject(&mut self, now: Instant, dialog: DialogId, code: u16) {
        let early = self.dialogs.get(&dialog).map(|d| d.state == DialogState::Early).unwrap_or(false);
        self.final_response(now, dialog, code, None);
        if early {
            self.event(SipEvent::Terminated { dialog, reason: Termination::Rejected(code) });
            self.mark_terminated(now, dialog);
        }
    }

    pub(super) fn final_response(&mut self, now: Instant, dialog: DialogId, code: u16, sdp: Option<String>) {
        let Some(d) = self.dialogs.get(&dialog) else { return };
        let Some(branch) = d.invite_branch.clone() else { return };
        let tag = d.local_tag.clone();
        let Some(tx) = self.invites.get(&branch) else { return };
        if tx.state != InviteState::Proceeding {
            return;
        }
        let (req, source) = (tx.request.clone(), tx.source);
        let mut r = self.response(&req, code, Some(&tag));
        if code < 300 {
            r.push("Contact", format!("<sip:switchboard@{}>", self.cfg.contact));
            r.push("Allow", ALLOW);
            if let Some(sdp) = sdp {
                r.set_body("application/sdp", sdp.into_bytes());
            }
        }
        let data = self.send(source, &r);
        let t1 = self.cfg.t1;
        let tx = self.invites.get_mut(&branch).expect("present");
        tx.last_response = Some(data);
        tx.retransmit_at = Some(now + t1);
        tx.interval = t1;
        tx.expires_at = Some(now + t1 * 64);
        let d = self.dialogs.get_mut(&dialog).expect("present");
        if code < 300 {
            tx.state = InviteState::Accepted;
            if d.state == DialogState::Early {
                d.state = DialogState::WaitAck;
            }
        } else {
            tx.state = InviteState::Completed;
            d.invite_branch = None;
        }
    }

    /// End a call: BYE for an answered call, 480 for one still ringing. Idempotent.
    pub fn hangup(&mut self, now: Instant, dialog: DialogId) {
        let Some(d) = self.dialogs.get_mut(&dialog) else { return };
        match d.state {
            DialogState::Terminated => {}
            DialogState::Early => {
                self.final_response(now, dialog, 480, None);
                self.event(SipEvent::Terminated { dialog, reason: Termination::Rejected(480) });
                self.mark_terminated(now, dialog);
            }
            // 15: no BYE before the ACK arrives (or its wait times out).
            DialogState::WaitAck => d.hangup_after_ack = true,
            DialogState::Confirmed => {
                self.send_bye(now, dialog);
                self.terminate(now, dialog, Termination::LocalBye);
            }
        }
    }

    pub(super) fn send_bye(&mut self, now: Instant, dialog: DialogId) {
        let Some(d) = self.dialogs.get_mut(&dialog) else { return };
        d.local_cseq += 1;
        let uri = d.remote_target.clone();
        let mut bye = SipMessage::request(Method::Bye, uri.clone());
        let branch = format!("z9hG4bK{}", self.fresh_token());
        let d = self.dialogs.get(&dialog).expect("present");
        bye.push("Via", format!("SIP/2.0/UDP {};branch={branch};rport", self.cfg.contact));
        bye.push("Max-Forwards", "70");
        bye.push("From", d.local_party.clone());
        bye.push("To", d.remote_party.clone());
        bye.push("Call-ID", d.call_id.clone());
        bye.push("CSeq", format!("{} BYE", d.local_cseq));
        for r in &d.route_set {
            bye.push("Route", r.clone());
        }
        bye.push("User-Agent", self.cfg.user_agent.clone());
        // Send to the first route, else the Contact when it is an IP literal, else
        // back where the INVITE came from (works through NAT).
        let target = d
            .route_set
            .first()
            .and_then(|r| NameAddr::parse(r))
            .map(|n| n.uri)
            .or(Some(uri))
            .and_then(|u| SipUri::parse(&u))
            .and_then(|u| Some(SocketAddr::new(u.host.parse().ok()?, u.port.unwrap_or(5060))))
            .unwrap_or(d.remote_addr);
        let data = self.send(target, &bye);
        let t1 = self.cfg.t1;
        self.clients.insert(
            branch,
            ClientTx { data, to: target, retransmit_at: now + t1, interval: t1, expires_at: now + t1 * 64 },
        );
    }

    pub(super) fn terminate(&mut self, now: Instant, id: DialogId, reason: Termination) {
        if self.dialogs.get(&id).map(|d| d.state != DialogState::Terminated).unwrap_or(false) {
            self.event(SipEvent::Terminated { dialog: id, reason });
            self.mark_terminated(now, id);
        }
    }

    pub(super) fn mark_terminated(&mut self, now: Instant, id: DialogId) {
        if let Some(d) = self.dialogs.get_mut(&id) {
            d.state = DialogState::Terminated;
            d.removed_at = Some(now + self.cfg.t1 * 64);
        }
    }

    /// Run due timers.
    pub fn handle_timeout(&mut self, now: Instant) {
        let t2 = self.cfg.t2;
        let mut resend = Vec::new();
        let mut ack_timeouts = Vec::new();
        self.invites.retain(|_, tx| {
            if tx.expires_at.is_some_and(|t| now >= t) {
                if tx.state == InviteState::Accepted {
                    ack_timeouts.push(tx.dialog);
                }
                return false;
            }
            if tx.retransmit_at.is_some_and(|t| now >= t) {
                if let Some(d) = &tx.last_response {
                    resend.push((tx.source, d.clone()));
                }
                tx.interval = (tx.interval * 2).min(t2);
                tx.retransmit_at = Some(now + tx.interval);
            }
            true
        });
        self.non_invites.retain(|_, tx| now < tx.expires_at);
        self.clients.retain(|_, tx| {
            if now >= tx.expires_at {
                return false;
            }
            if now >= tx.retransmit_at {
                resend.push((tx.to, tx.data.clone()));
                tx.interval = (tx.interval * 2).min(t2);
                tx.retransmit_at = now + tx.interval;
            }
            true
        });
        self.dialogs.retain(|_, d| d.removed_at.is_none_or(|t| now < t));
        for (to, data) in resend {
            self.out.push_back(Output::Transmit { to, data });
        }
        for id in ack_timeouts {
            // 13.3.1.4: no ACK for our 2xx; end the dialog with BYE.
            if let Some(d) = self.dialogs.get_mut(&id) {
                if d.state == DialogState::WaitAck || d.invite_branch.is_some() {
                    d.state = DialogState::Confirmed;
                    d.invite_branch = None;
                    d.hangup_after_ack = false;
                    self.send_bye(now, id);
                    self.terminate(now, id, Termination::AckTimeout);
                }
            }
        }
    }
}
