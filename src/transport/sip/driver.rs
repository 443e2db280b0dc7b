//! The I/O shell around the SIP endpoint: one UDP socket, the endpoint's timers, and for each
//! answered INVITE an RTP session and a call. Decides what the endpoint cannot: 486 at
//! capacity, 488 without a common codec, 503 while shutting down.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::net::UdpSocket;
use tokio::sync::mpsc;

use super::endpoint::{DialogId, Endpoint, EndpointConfig, Output, SipEvent, Termination};
use crate::call::admission::Kind;
use crate::call::{redact, start_call, CallError, CallServices, EndReason, MediaIn, NewCall, Transport};
use crate::config::SipConfig;
use crate::transport::rtp::jitter::JitterConfig;
use crate::transport::rtp::{bind_rtp_socket, RtpControl, RtpDriver};
use crate::transport::sdp::{self, Negotiated, SessionDescription};

/// How long shutdown waits for BYE transactions before giving up.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(8);

struct SipCall {
    id: String,
    media: mpsc::Sender<MediaIn>,
    rtp: mpsc::Sender<RtpControl>,
    neg: Option<Negotiated>,
    port: u16,
    session: u64,
    version: u64,
    started: Instant,
    on_hold: bool,
}

/// The SIP side of the server.
pub struct SipDriver {
    socket: UdpSocket,
    endpoint: Endpoint,
    svc: Arc<CallServices>,
    cfg: SipConfig,
    media_ip: IpAddr,
    calls: HashMap<DialogId, SipCall>,
    cmd_tx: mpsc::UnboundedSender<DialogId>,
    cmd_rx: mpsc::UnboundedReceiver<DialogId>,
    malformed: u64,
    /// INVITEs refused by the per-address admission limits.
    refused: u64,
}

/// The address to advertise: configured, else the bound IP, else the default-route interface.
fn media_ip(cfg: &SipConfig, bound: SocketAddr) -> IpAddr {
    if let Ok(ip) = cfg.public_address.parse() {
        return ip;
    }
    if !bound.ip().is_unspecified() {
        return bound.ip();
    }
    // Connecting a UDP socket sends nothing; it only picks the outgoing interface.
    std::net::UdpSocket::bind("0.0.0.0:0")
        .and_then(|s| s.connect("192.0.2.1:9").map(|_| s))
        .and_then(|s| s.local_addr())
        .map(|a| a.ip())
        .unwrap_or(IpAddr::from([127, 0, 0, 1]))
}

impl SipDriver {
    /// Wrap a bound socket.
    pub fn new(socket: UdpSocket, svc: Arc<CallServices>, cfg: SipConfig) -> std::io::Result<Self> {
        let bound = socket.local_addr()?;
        let ip = media_ip(&cfg, bound);
        let mut ecfg = EndpointConfig::new(SocketAddr::new(ip, bound.port()));
        ecfg.user_agent = cfg.user_agent.clone();
        let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
        Ok(Self {
            socket,
            endpoint: Endpoint::new(ecfg, fastrand::u64(..)),
            svc,
            cfg,
            media_ip: ip,
            calls: HashMap::new(),
            cmd_tx,
            cmd_rx,
            malformed: 0,
            refused: 0,
        })
    }

    /// Serve until shutdown, then end every call with BYE and return once the BYEs are
    /// answered (or time out).
    pub async fn run(mut self) {
        let mut buf = vec![0u8; 65_536];
        let mut shutdown_at: Option<tokio::time::Instant> = None;
        loop {
            let timer = self.endpoint.poll_timeout().map(tokio::time::Instant::from_std);
            tokio::select! {
                r = self.socket.recv_from(&mut buf) => match r {
                    Ok((n, from)) => self.endpoint.handle_datagram(Instant::now(), from, &buf[..n]),
                    Err(e) => tracing::debug!("sip recv: {e}"),
                },
                _ = sleep_opt(timer) => self.endpoint.handle_timeout(Instant::now()),
                Some(dialog) = self.cmd_rx.recv() => self.endpoint.hangup(Instant::now(), dialog),
                _ = self.svc.shutdown.cancelled(), if shutdown_at.is_none() => {
                    shutdown_at = Some(tokio::time::Instant::now() + SHUTDOWN_GRACE);
                }
                _ = sleep_opt(shutdown_at), if shutdown_at.is_some() => {
                    tracing::warn!("shutdown: {} SIP dialogs did not finish in time", self.endpoint.active_dialogs());
                    break;
                }
            }
            self.drain().await;
            if shutdown_at.is_some()
                && self.calls.is_empty()
                && self.endpoint.active_dialogs() == 0
                && !self.endpoint.has_pending_transactions()
            {
                break;
            }
        }
    }

    async fn drain(&mut self) {
        while let Some(out) = self.endpoint.poll_output() {
            match out {
                Output::Transmit { to, data } => {
                    if let Err(e) = self.socket.send_to(&data, to).await {
                        tracing::debug!("sip send to {to}: {e}");
                    }
                }
                Output::Event(ev) => self.on_event(ev).await,
            }
        }
    }

    async fn on_event(&mut self, ev: SipEvent) {
        let now = Instant::now();
        match ev {
            SipEvent::Incoming { dialog, caller, source, offer, .. } => {
                if let Err(code) = self.accept(dialog, caller, source, offer).await {
                    self.endpoint.reject(now, dialog, code);
                }
            }
            SipEvent::Confirmed { dialog, answer } => {
                let Some(call) = self.calls.get_mut(&dialog) else { return };
                if let Some(body) = answer {
                    // Late offer: the caller's answer arrives in the ACK.
                    match SessionDescription::parse(&body).and_then(|sd| sdp::negotiate(&sd)) {
                        Ok(neg) => {
                            let _ = call.rtp.try_send(RtpControl::Update(neg.clone()));
                            call.neg = Some(neg);
                        }
                        Err(e) => {
                            tracing::warn!(call = %call.id, "unusable SDP answer in ACK: {e}; hanging up");
                            self.endpoint.hangup(now, dialog);
                        }
                    }
                }
            }
            SipEvent::Reoffer { dialog, offer } => {
                let Some(call) = self.calls.get_mut(&dialog) else { return };
                let neg =
                    match offer.as_deref().map(|b| SessionDescription::parse(b).and_then(|sd| sdp::negotiate(&sd))) {
                        Some(Ok(n)) => Some(n),
                        Some(Err(e)) => {
                            tracing::info!(call = %call.id, "re-INVITE refused: {e}");
                            return self.endpoint.reject(now, dialog, 488);
                        }
                        None => None,
                    };
                call.version += 1;
                let answer = sdp::write_answer(
                    neg.as_ref().or(call.neg.as_ref()),
                    self.media_ip,
                    call.port,
                    call.session,
                    call.version,
                );
                if let Some(n) = neg {
                    let hold = n.on_hold();
                    let _ = call.rtp.try_send(RtpControl::Update(n.clone()));
                    if hold != call.on_hold {
                        call.on_hold = hold;
                        let _ = call.media.try_send(MediaIn::Hold(hold));
                    }
                    call.neg = Some(n);
                }
                self.endpoint.answer(now, dialog, answer);
            }
            SipEvent::InfoDtmf { dialog, digit } => {
                if let Some(call) = self.calls.get(&dialog) {
                    let at_ms = call.started.elapsed().as_millis() as u64;
                    let _ = call.media.try_send(MediaIn::Dtmf { digit, at_ms });
                }
            }
            SipEvent::Terminated { dialog, reason } => {
                let Some(call) = self.calls.remove(&dialog) else { return };
                let why = match reason {
                    Termination::RemoteBye | Termination::Cancelled => EndReason::CallerHangup,
                    Termination::AckTimeout => EndReason::AckTimeout,
                    Termination::LocalBye | Termination::Rejected(_) => EndReason::ServerHangup,
                };
                tracing::debug!(call = %call.id, ?reason, "dialog ended");
                // BYE answered: the slot is free for the next caller at once.
                self.svc.registry.release_slot(&crate::call::CallId(call.id.clone()));
                // The actor may be busy; never block the SIP loop on it.
                tokio::spawn(async move {
                    let _ = call.media.send(MediaIn::Ended(why)).await;
                });
            }
            SipEvent::Malformed { source, error, answered } => {
                self.malformed += 1;
                if self.malformed <= 20 || self.malformed.is_power_of_two() {
                    let what = if answered { "answered 400" } else { "dropped" };
                    tracing::warn!(%source, count = self.malformed, "malformed SIP message {what}: {error}");
                }
            }
        }
    }

    /// Set up a new call; the error is the SIP status to reject with.
    async fn accept(
        &mut self,
        dialog: DialogId,
        caller: String,
        source: SocketAddr,
        offer: Option<Vec<u8>>,
    ) -> Result<(), u16> {
        if self.svc.shutdown.is_cancelled() {
            return Err(503);
        }
        if let Err(r) = self.svc.admission.admit(Instant::now(), Kind::Invite, source.ip()) {
            // RFC 3261 21.5.4: 503 is the overload answer (the caller may retry elsewhere).
            self.refused += 1;
            if self.refused.is_power_of_two() {
                tracing::warn!(%source, count = self.refused, "call refused with 503: {r}");
            }
            return Err(503);
        }
        let neg = match offer.as_deref().map(|b| SessionDescription::parse(b).and_then(|sd| sdp::negotiate(&sd))) {
            Some(Ok(n)) => Some(n),
            Some(Err(e)) => {
                tracing::info!(%source, caller = %redact(&caller), "call refused with 488: {e}");
                return Err(488);
            }
            None => None,
        };
        if self.svc.at_capacity() {
            self.refused += 1;
            if self.refused.is_power_of_two() {
                tracing::info!(%source, count = self.refused, "call refused with 486: at capacity");
            }
            return Err(486);
        }
        let bind_ip = self.socket.local_addr().map(|a| a.ip()).unwrap_or(self.media_ip);
        let socket = bind_rtp_socket(bind_ip, self.cfg.rtp_port_min, self.cfg.rtp_port_max).await.map_err(|e| {
            tracing::error!("no RTP port available: {e}");
            503u16
        })?;
        let port = socket.local_addr().map_err(|_| 500u16)?.port();
        let leg = match start_call(&self.svc, NewCall { caller, transport: Transport::Sip, playout_rate: 8000 }) {
            Ok(leg) => leg,
            Err(e) => {
                self.refused += 1;
                if self.refused.is_power_of_two() {
                    tracing::warn!(%source, count = self.refused, "call refused: {e}");
                }
                return Err(match e {
                    CallError::AtCapacity(_) => 486u16,
                    CallError::ShuttingDown | CallError::Overloaded(_) => 503,
                    CallError::Pipeline(_) => 500,
                });
            }
        };
        let session = fastrand::u64(1..u32::MAX as u64);
        let answer = sdp::write_answer(neg.as_ref(), self.media_ip, port, session, 1);
        self.endpoint.ring(dialog);
        self.endpoint.answer(Instant::now(), dialog, answer);
        let (rtp_tx, rtp_rx) = mpsc::channel(8);
        // Late offer: until the ACK brings the caller's answer, assume our first offered codec.
        let params = neg.clone().unwrap_or(Negotiated {
            law: crate::media::g711::Law::Ulaw,
            payload_type: 0,
            dtmf_payload_type: Some(101),
            remote: None,
            direction: sdp::Direction::SendRecv,
        });
        let on_hold = neg.as_ref().map(Negotiated::on_hold).unwrap_or(false);
        let driver = RtpDriver {
            socket,
            params,
            jitter: JitterConfig { delay: Duration::from_millis(self.cfg.jitter_delay_ms), ..JitterConfig::default() },
            timeout: (self.cfg.rtp_timeout_s > 0).then(|| Duration::from_secs(self.cfg.rtp_timeout_s)),
            media: leg.media.clone(),
            out: leg.out,
            control: rtp_rx,
            stop: leg.hangup.clone(),
            call: leg.id.to_string(),
        };
        self.svc.tracker.spawn(driver.run());
        // When the call ends from our side, send BYE.
        let (hangup, cmd) = (leg.hangup.clone(), self.cmd_tx.clone());
        tokio::spawn(async move {
            hangup.cancelled().await;
            let _ = cmd.send(dialog);
        });
        self.calls.insert(
            dialog,
            SipCall {
                id: leg.id.to_string(),
                media: leg.media,
                rtp: rtp_tx,
                neg,
                port,
                session,
                version: 1,
                started: Instant::now(),
                on_hold,
            },
        );
        Ok(())
    }
}

async fn sleep_opt(at: Option<tokio::time::Instant>) {
    match at {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}
