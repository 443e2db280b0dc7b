//! INVITE server transactions (RFC 3261 17.2.1): a new call or a re-INVITE, its ACK, CANCEL,
//! and an INVITE refused before it has a dialog.

use std::net::SocketAddr;
use std::time::Instant;

use super::{
    Dialog, DialogId, DialogState, Endpoint, InviteState, InviteTx, NameAddr, SipEvent, SipMessage, Termination,
};

impl Endpoint {
    pub(super) fn on_invite(&mut self, now: Instant, source: SocketAddr, req: SipMessage, branch: String) {
        let unsupported: Vec<String> = req.header_values("Require").into_iter().filter(|r| !r.is_empty()).collect();
        if !unsupported.is_empty() {
            let mut r = self.response(&req, 420, None);
            r.push("Unsupported", unsupported.join(", "));
            return self.reject_invite_without_dialog(now, source, req, branch, r);
        }
        let offer = (!req.body.is_empty()).then(|| req.body.clone());
        if offer.is_some() {
            let ct = req.header("Content-Type").unwrap_or("").to_ascii_lowercase();
            if !ct.starts_with("application/sdp") {
                let mut r = self.response(&req, 415, None);
                r.push("Accept", "application/sdp");
                return self.reject_invite_without_dialog(now, source, req, branch, r);
            }
        }
        let (cseq, _) = req.cseq().expect("validated");
        if req.to().and_then(|t| t.tag().map(str::to_string)).is_some() {
            // re-INVITE
            let Some(id) = self.find_dialog(&req) else {
                let r = self.response(&req, 481, None);
                return self.reject_invite_without_dialog(now, source, req, branch, r);
            };
            let d = self.dialogs.get_mut(&id).expect("found");
            if d.invite_branch.is_some() || d.state != DialogState::Confirmed {
                let mut r = self.response(&req, 500, None);
                r.push("Retry-After", "1");
                return self.reject_invite_without_dialog(now, source, req, branch, r);
            }
            d.remote_cseq = cseq;
            d.invite_branch = Some(branch.clone());
            if let Some(c) = req.header("Contact").and_then(NameAddr::parse) {
                d.remote_target = c.uri;
            }
            self.invites.insert(branch, InviteTx::new(id, req, source));
            self.event(SipEvent::Reoffer { dialog: id, offer });
            return;
        }
        let from = req.from().expect("validated");
        let id = DialogId(self.next_dialog);
        self.next_dialog += 1;
        let local_tag = self.fresh_token();
        let remote_target = req.header("Contact").and_then(NameAddr::parse).map(|c| c.uri).unwrap_or(from.uri.clone());
        let caller = req
            .header("P-Asserted-Identity")
            .and_then(NameAddr::parse)
            .and_then(|n| n.user())
            .or_else(|| from.user())
            .unwrap_or_else(|| from.uri.clone());
        let dialog = Dialog {
            call_id: req.call_id().expect("validated").to_string(),
            local_tag: local_tag.clone(),
            remote_tag: from.tag().unwrap_or_default().to_string(),
            remote_party: req.header("From").expect("validated").to_string(),
            local_party: format!("{};tag={local_tag}", req.header("To").expect("validated")),
            remote_target,
            route_set: req.header_values("Record-Route"),
            remote_addr: source,
            local_cseq: 1,
            remote_cseq: cseq,
            state: DialogState::Early,
            invite_branch: Some(branch.clone()),
            hangup_after_ack: false,
            removed_at: None,
        };
        self.dialogs.insert(id, dialog);
        let trying = self.response(&req, 100, None);
        let data = self.send(source, &trying);
        let mut tx = InviteTx::new(id, req, source);
        tx.last_response = Some(data);
        self.invites.insert(branch, tx);
        self.event(SipEvent::Incoming {
            dialog: id,
            call_id: self.dialogs[&id].call_id.clone(),
            caller,
            display: from.display,
            source,
            offer,
        });
    }

    /// Final non-2xx to an INVITE that never got a dialog of its own.
    pub(super) fn reject_invite_without_dialog(
        &mut self,
        now: Instant,
        source: SocketAddr,
        req: SipMessage,
        branch: String,
        r: SipMessage,
    ) {
        let mut r = r;
        let tag = self.fresh_token();
        if let Some(to) = r.headers.iter_mut().find(|h| h.name == "To") {
            if NameAddr::parse(&to.value).map(|n| n.tag().is_none()).unwrap_or(false) {
                to.value.push_str(";tag=");
                to.value.push_str(&tag);
            }
        }
        let data = self.send(source, &r);
        let mut tx = InviteTx::new(DialogId(0), req, source);
        tx.state = InviteState::Completed;
        tx.last_response = Some(data);
        tx.retransmit_at = Some(now + self.cfg.t1);
        tx.interval = self.cfg.t1;
        tx.expires_at = Some(now + self.cfg.t1 * 64);
        self.invites.insert(branch, tx);
    }

    pub(super) fn on_ack(&mut self, now: Instant, req: SipMessage, branch: &str) {
        // ACK for a non-2xx final: same branch as the INVITE (17.2.1).
        if let Some(tx) = self.invites.get_mut(branch) {
            if tx.state == InviteState::Completed {
                tx.state = InviteState::Confirmed;
                tx.retransmit_at = None;
                tx.expires_at = Some(now + self.cfg.t4);
                return;
            }
        }
        // ACK for a 2xx: its own transaction, matched to the dialog.
        let Some(id) = self.find_dialog(&req) else { return };
        let Some(d) = self.dialogs.get_mut(&id) else { return };
        let Some(b) = d.invite_branch.clone() else { return };
        let accepted = self.invites.get(&b).map(|t| t.state == InviteState::Accepted).unwrap_or(false);
        if !accepted {
            return;
        }
        d.invite_branch = None;
        d.state = DialogState::Confirmed;
        let hangup = d.hangup_after_ack;
        if let Some(tx) = self.invites.get_mut(&b) {
            // Keep absorbing INVITE retransmissions a little longer.
            tx.state = InviteState::Confirmed;
            tx.retransmit_at = None;
            tx.expires_at = Some(now + self.cfg.t1 * 64);
        }
        let answer = (!req.body.is_empty()).then(|| req.body.clone());
        self.event(SipEvent::Confirmed { dialog: id, answer });
        if hangup {
            self.hangup(now, id);
        }
    }

    pub(super) fn on_cancel(&mut self, now: Instant, source: SocketAddr, req: SipMessage, branch: &str) {
        let Some(tx) = self.invites.get(branch) else {
            return self.reply_non_invite(now, source, &req, branch, 481, None);
        };
        let (id, state) = (tx.dialog, tx.state);
        let local_tag = self.dialogs.get(&id).map(|d| d.local_tag.clone());
        let early = self.dialogs.get(&id).is_some_and(|d| d.state == DialogState::Early);
        self.reply_non_invite(now, source, &req, branch, 200, local_tag.as_deref());
        if state == InviteState::Proceeding && !early {
            // A cancelled re-INVITE: the call itself goes on.
            self.final_response(now, id, 487, None);
        } else if state == InviteState::Proceeding {
            self.final_response(now, id, 487, None);
            self.event(SipEvent::Terminated { dialog: id, reason: Termination::Cancelled });
            self.mark_terminated(now, id);
        }
    }
}
