//! The sans-IO SIP user agent server: server and client transactions with their RFC 3261
//! timers, and dialogs. Datagrams and the current time go in (`handle_datagram`,
//! `handle_timeout`); datagrams to send and call events come out (`poll_output`). The
//! application answers, rejects and hangs up calls through `ring`/`answer`/`reject`/`hangup`.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::message::{Method, NameAddr, ParseError, SipMessage, SipUri, StartLine};

mod calls;
mod invite;

/// Handle to one dialog (one call leg).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DialogId(pub u64);

/// Timer values (RFC 3261 17.1.1.1 and table 4).
#[derive(Debug, Clone)]
pub struct EndpointConfig {
    /// Address put in our Contact header (where the far end sends in-dialog requests).
    pub contact: SocketAddr,
    /// Our User-Agent / Server header.
    pub user_agent: String,
    /// RTT estimate.
    pub t1: Duration,
    /// Longest retransmit interval.
    pub t2: Duration,
    /// How long a message may linger in the network.
    pub t4: Duration,
}

impl EndpointConfig {
    /// RFC default timers.
    pub fn new(contact: SocketAddr) -> Self {
        Self {
            contact,
            user_agent: "Switchboard".into(),
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
            t4: Duration::from_secs(5),
        }
    }
}

/// Why a dialog ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Termination {
    /// The caller sent BYE.
    RemoteBye,
    /// The caller cancelled before we answered.
    Cancelled,
    /// We hung up (BYE sent).
    LocalBye,
    /// We rejected the call.
    Rejected(u16),
    /// Our 2xx was never acknowledged (64*T1).
    AckTimeout,
}

/// What the endpoint reports to the application.
#[derive(Debug, Clone, PartialEq)]
pub enum SipEvent {
    /// A new INVITE (100 Trying already sent). The application must `ring`/`answer` or `reject`.
    Incoming {
        dialog: DialogId,
        call_id: String,
        /// Caller number: P-Asserted-Identity user, else From user, else From URI.
        caller: String,
        display: Option<String>,
        source: SocketAddr,
        /// The SDP offer, if the INVITE carried one.
        offer: Option<Vec<u8>>,
    },
    /// A re-INVITE in a confirmed dialog (e.g. hold/resume); answer with `answer` or `reject`.
    Reoffer { dialog: DialogId, offer: Option<Vec<u8>> },
    /// Our 2xx was acknowledged; `answer` carries the SDP answer of a late-offer call.
    Confirmed { dialog: DialogId, answer: Option<Vec<u8>> },
    /// A DTMF digit sent with SIP INFO (application/dtmf-relay).
    InfoDtmf { dialog: DialogId, digit: char },
    /// The dialog is over.
    Terminated { dialog: DialogId, reason: Termination },
    /// A message could not be used; logged by the driver once.
    Malformed { source: SocketAddr, error: String, answered: bool },
}

/// One thing to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Send a datagram.
    Transmit { to: SocketAddr, data: Vec<u8> },
    /// Tell the application.
    Event(SipEvent),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum InviteState {
    /// No final response yet.
    Proceeding,
    /// Non-2xx final sent; retransmitting until ACK (timer G/H).
    Completed,
    /// 2xx sent; retransmitting until ACK (13.3.1.4).
    Accepted,
    /// ACK received for a non-2xx; absorbing retransmitted ACKs for T4 (timer I).
    Confirmed,
}

struct InviteTx {
    dialog: DialogId,
    request: SipMessage,
    source: SocketAddr,
    state: InviteState,
    last_response: Option<Vec<u8>>,
    retransmit_at: Option<Instant>,
    interval: Duration,
    expires_at: Option<Instant>,
}

struct NonInviteTx {
    response: Vec<u8>,
    source: SocketAddr,
    expires_at: Instant,
}

struct ClientTx {
    data: Vec<u8>,
    to: SocketAddr,
    retransmit_at: Instant,
    interval: Duration,
    expires_at: Instant,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DialogState {
    /// INVITE received, no final response.
    Early,
    /// 2xx sent, waiting for ACK.
    WaitAck,
    Confirmed,
    /// Over; kept briefly for late retransmissions.
    Terminated,
}

struct Dialog {
    call_id: String,
    local_tag: String,
    remote_tag: String,
    /// The From header of the INVITE (our To in requests we send).
    remote_party: String,
    /// The To header of the INVITE plus our tag (our From in requests we send).
    local_party: String,
    remote_target: String,
    route_set: Vec<String>,
    remote_addr: SocketAddr,
    local_cseq: u32,
    remote_cseq: u32,
    state: DialogState,
    /// Branch of the INVITE transaction in progress (initial or re-INVITE).
    invite_branch: Option<String>,
    hangup_after_ack: bool,
    removed_at: Option<Instant>,
}

/// The user agent server core.
pub struct Endpoint {
    cfg: EndpointConfig,
    next_dialog: u64,
    dialogs: HashMap<DialogId, Dialog>,
    invites: HashMap<String, InviteTx>,
    non_invites: HashMap<(String, String), NonInviteTx>,
    clients: HashMap<String, ClientTx>,
    out: VecDeque<Output>,
    tag_seed: u64,
}

const ALLOW: &str = "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO";

fn reason_phrase(code: u16) -> &'static str {
    match code {
        100 => "Trying",
        180 => "Ringing",
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        415 => "Unsupported Media Type",
        420 => "Bad Extension",
        480 => "Temporarily Unavailable",
        481 => "Call/Transaction Does Not Exist",
        483 => "Too Many Hops",
        486 => "Busy Here",
        487 => "Request Terminated",
        488 => "Not Acceptable Here",
        491 => "Request Pending",
        500 => "Server Internal Error",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

impl Endpoint {
    /// A new endpoint; `seed` varies tags and branches between processes.
    pub fn new(cfg: EndpointConfig, seed: u64) -> Self {
        Self {
            cfg,
            next_dialog: 1,
            dialogs: HashMap::new(),
            invites: HashMap::new(),
            non_invites: HashMap::new(),
            clients: HashMap::new(),
            out: VecDeque::new(),
            tag_seed: seed,
        }
    }

    /// Number of dialogs that are not over.
    pub fn active_dialogs(&self) -> usize {
        self.dialogs.values().filter(|d| d.state != DialogState::Terminated).count()
    }

    /// Whether any transaction still needs the network (retransmissions pending).
    pub fn has_pending_transactions(&self) -> bool {
        !self.clients.is_empty() || self.invites.values().any(|t| t.state == InviteState::Accepted)
    }

    fn fresh_token(&mut self) -> String {
        self.tag_seed = self.tag_seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        format!("{:x}", self.tag_seed >> 16)
    }

    /// Next thing to do, if any.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// When `handle_timeout` next needs calling.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let inv = self.invites.values().flat_map(|t| [t.retransmit_at, t.expires_at]).flatten();
        let non = self.non_invites.values().map(|t| t.expires_at);
        let cli = self.clients.values().flat_map(|t| [t.retransmit_at, t.expires_at]);
        let dlg = self.dialogs.values().filter_map(|d| d.removed_at);
        inv.chain(non).chain(cli).chain(dlg).min()
    }

    fn send(&mut self, to: SocketAddr, msg: &SipMessage) -> Vec<u8> {
        let data = msg.to_bytes();
        self.out.push_back(Output::Transmit { to, data: data.clone() });
        data
    }

    fn event(&mut self, e: SipEvent) {
        self.out.push_back(Output::Event(e));
    }

    /// A response to `req` with our standard headers.
    fn response(&self, req: &SipMessage, code: u16, to_tag: Option<&str>) -> SipMessage {
        let mut r = SipMessage::response_to(req, code, reason_phrase(code), to_tag);
        r.push("Server", self.cfg.user_agent.clone());
        r
    }

    /// Fix up the top Via of a request with `received`/`rport` (RFC 3581) so responses
    /// carry where the request really came from.
    fn stamp_via(req: &mut SipMessage, source: SocketAddr) {
        if let Some(h) = req.headers.iter_mut().find(|h| h.name == "Via") {
            let first = super::message::split_list(&h.value);
            let Some(top) = first.first() else { return };
            let mut top = top.clone();
            let rest =
                h.value[h.value.find(top.as_str()).map(|i| i + top.len()).unwrap_or(h.value.len())..].to_string();
            if top.contains(";rport") && !top.contains(";rport=") {
                top = top.replacen(";rport", &format!(";rport={}", source.port()), 1);
            }
            if !top.contains(";received=") {
                top.push_str(&format!(";received={}", source.ip()));
            }
            h.value = format!("{top}{rest}");
        }
    }

    /// Process one datagram from `source`.
    pub fn handle_datagram(&mut self, now: Instant, source: SocketAddr, data: &[u8]) {
        let msg = match SipMessage::parse(data) {
            Ok(m) => m,
            Err(ParseError::Empty) => return,
            Err(e) => {
                let answered = self.answer_unparseable(source, data, &e);
                self.event(SipEvent::Malformed { source, error: e.to_string(), answered });
                return;
            }
        };
        match msg.start {
            StartLine::Request { .. } => self.handle_request(now, source, msg),
            StartLine::Response { .. } => self.handle_response(now, msg),
        }
    }

    /// Answer a message we could not parse with 400 (513 when too large) when enough of it is
    /// readable to address a response: a request line and a top Via (`salvage`).
    fn answer_unparseable(&mut self, source: SocketAddr, data: &[u8], err: &ParseError) -> bool {
        let Some(req) = super::salvage::salvage(data) else { return false };
        let (code, reason) = match err {
            ParseError::TooLarge(_) => (513, "Message Too Large".to_string()),
            e => (400, format!("Bad Request ({e})")),
        };
        self.answer_invalid(source, req, code, &reason)
    }

    /// Answer a request that cannot be served with `code`, if it can be addressed (never an
    /// ACK, which gets no response). Returns whether it was answered.
    fn answer_invalid(&mut self, source: SocketAddr, mut req: SipMessage, code: u16, reason: &str) -> bool {
        if req.method().is_none_or(|m| *m == Method::Ack) || req.top_via().is_none() {
            return false;
        }
        Self::stamp_via(&mut req, source);
        let mut r = SipMessage::response_to(&req, code, reason, None);
        r.push("Server", self.cfg.user_agent.clone());
        self.send(source, &r);
        true
    }

    fn handle_request(&mut self, now: Instant, source: SocketAddr, mut req: SipMessage) {
        let method = req.method().cloned().expect("request");
        if let Err(why) = req.validate_request() {
            // Addressed by the top Via alone; whatever of From/To/Call-ID/CSeq exists is copied.
            let answered = self.answer_invalid(source, req, 400, &format!("Bad Request ({why})"));
            self.event(SipEvent::Malformed { source, error: why, answered });
            return;
        }
        Self::stamp_via(&mut req, source);
        let branch = req.top_via().and_then(|v| v.branch().map(str::to_string)).unwrap_or_default();

        // Retransmissions of requests we already answered.
        if method == Method::Invite {
            if let Some(tx) = self.invites.get(&branch) {
                if let Some(last) = tx.last_response.clone() {
                    self.out.push_back(Output::Transmit { to: source, data: last });
                }
                return;
            }
        } else if method != Method::Ack {
            if let Some(tx) = self.non_invites.get(&(branch.clone(), method.to_string())) {
                let data = tx.response.clone();
                let to = tx.source;
                self.out.push_back(Output::Transmit { to, data });
                return;
            }
        }

        if let Some(mf) = req.header("Max-Forwards") {
            if mf.trim() == "0" && method != Method::Ack {
                return self.reply_non_invite(now, source, &req, &branch, 483, None);
            }
        }
        match method {
            Method::Invite => self.on_invite(now, source, req, branch),
            Method::Ack => self.on_ack(now, req, &branch),
            Method::Cancel => self.on_cancel(now, source, req, &branch),
            Method::Bye => {
                let Some(id) = self.find_dialog(&req) else {
                    return self.reply_non_invite(now, source, &req, &branch, 481, None);
                };
                self.reply_non_invite(now, source, &req, &branch, 200, None);
                self.terminate(now, id, Termination::RemoteBye);
            }
            Method::Options => {
                let mut r = self.response(&req, 200, None);
                r.push("Allow", ALLOW).push("Accept", "application/sdp").push("Supported", "");
                r.headers.retain(|h| !(h.name == "Supported" && h.value.is_empty()));
                self.finish_non_invite(now, source, &branch, &method, r);
            }
            Method::Info => {
                let Some(id) = self.find_dialog(&req) else {
                    return self.reply_non_invite(now, source, &req, &branch, 481, None);
                };
                self.reply_non_invite(now, source, &req, &branch, 200, None);
                if let Some(d) = parse_dtmf_relay(&req) {
                    self.event(SipEvent::InfoDtmf { dialog: id, digit: d });
                }
            }
            _ => {
                let mut r = self.response(&req, 405, None);
                r.push("Allow", ALLOW);
                self.finish_non_invite(now, source, &branch, &method, r);
            }
        }
    }

    fn reply_non_invite(
        &mut self,
        now: Instant,
        source: SocketAddr,
        req: &SipMessage,
        branch: &str,
        code: u16,
        to_tag: Option<&str>,
    ) {
        let r = self.response(req, code, to_tag);
        let method = req.method().cloned().expect("request");
        self.finish_non_invite(now, source, branch, &method, r);
    }

    fn finish_non_invite(&mut self, now: Instant, source: SocketAddr, branch: &str, method: &Method, r: SipMessage) {
        let data = self.send(source, &r);
        // Timer J: absorb retransmissions for 64*T1 on unreliable transports.
        let expires_at = now + self.cfg.t1 * 64;
        self.non_invites
            .insert((branch.to_string(), method.to_string()), NonInviteTx { response: data, source, expires_at });
    }

    /// Dialog matching an in-dialog request: Call-ID, our tag in To, their tag in From.
    fn find_dialog(&self, req: &SipMessage) -> Option<DialogId> {
        let call_id = req.call_id()?;
        let to = req.to()?;
        let local = to.tag()?;
        let remote = req.from()?.tag().map(str::to_string).unwrap_or_default();
        self.dialogs
            .iter()
            .find(|(_, d)| {
                d.call_id == call_id
                    && d.local_tag == local
                    && d.remote_tag == remote
                    && d.state != DialogState::Terminated
            })
            .map(|(id, _)| *id)
    }

    fn handle_response(&mut self, now: Instant, resp: SipMessage) {
        let Some(branch) = resp.top_via().and_then(|v| v.branch().map(str::to_string)) else { return };
        let Some(code) = resp.status() else { return };
        if code < 200 {
            if let Some(tx) = self.clients.get_mut(&branch) {
                tx.interval = self.cfg.t2;
                tx.retransmit_at = now + self.cfg.t2;
            }
            return;
        }
        let _ = self.clients.remove(&branch);
    }
}

impl InviteTx {
    fn new(dialog: DialogId, request: SipMessage, source: SocketAddr) -> Self {
        Self {
            dialog,
            request,
            source,
            state: InviteState::Proceeding,
            last_response: None,
            retransmit_at: None,
            interval: Duration::ZERO,
            expires_at: None,
        }
    }
}

/// `Signal=5` from an application/dtmf-relay INFO body.
fn parse_dtmf_relay(req: &SipMessage) -> Option<char> {
    let ct = req.header("Content-Type")?.to_ascii_lowercase();
    if !ct.starts_with("application/dtmf-relay") && !ct.starts_with("application/dtmf") {
        return None;
    }
    let body = std::str::from_utf8(&req.body).ok()?;
    let value = body
        .lines()
        .find_map(|l| l.trim().strip_prefix("Signal=").or_else(|| l.trim().strip_prefix("Signal =")))
        .unwrap_or(body.trim())
        .trim();
    let c = value.chars().next()?;
    (value.len() == 1 && "0123456789*#ABCDabcd".contains(c)).then(|| c.to_ascii_uppercase())
}

#[cfg(test)]
mod tests;
