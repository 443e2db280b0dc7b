//! One browser call: the peer connection, its media tasks, and the hand-over to the call.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ::webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use ::webrtc::media_stream::track_local::TrackLocal;
use ::webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use ::webrtc::peer_connection::{
    PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler, RTCIceGatheringState, RTCPeerConnectionState,
    SettingEngineBuilder,
};
use rtc::ice::mdns::MulticastDnsMode;
use rtc::ice::network_type::NetworkType;
use rtc::interceptor::Registry;
use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::configuration::interceptor_registry::register_default_interceptors;
use rtc::peer_connection::configuration::media_engine::{MediaEngine, MIME_TYPE_OPUS};
use rtc::peer_connection::configuration::RTCConfigurationBuilder;
use rtc::peer_connection::sdp::RTCSessionDescription;
use rtc::peer_connection::transport::RTCIceServer;
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodec, RTCRtpCodecParameters, RTCRtpCodingParameters, RTCRtpEncodingParameters, RtpCodecKind,
};
use tokio::sync::{mpsc, watch};
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

use super::opus_rtp::{OpusIn, OpusOut, FRAME_48K};
use super::WebRtcConfig;
use crate::call::mixer::Outbound;
use crate::call::{
    start_call, AgentLeg, CallError, CallId, CallLeg, CallServices, Control, Controls, EndReason, MediaIn, NewCall,
    Transport,
};
use crate::media::AudioFrame;
use crate::transport::sdp::SessionDescription;

/// Why an offer was refused.
#[derive(Debug, thiserror::Error)]
pub enum WebRtcError {
    /// The SDP offer is unusable (client mistake, 400).
    #[error("{0}")]
    BadOffer(String),
    /// The server cannot take the call now (503).
    #[error("{0}")]
    Unavailable(String),
    /// Not possible for this call now (not the caller's agent, call over; 409).
    #[error("{0}")]
    Conflict(String),
    /// This client is over its limits (429 with Retry-After).
    #[error("{0}")]
    Refused(crate::call::admission::Refusal),
    /// WebRTC machinery failed (500, details logged).
    #[error("WebRTC setup failed")]
    Internal(String),
}

impl From<CallError> for WebRtcError {
    fn from(e: CallError) -> Self {
        match e {
            CallError::AtCapacity(_) | CallError::ShuttingDown | CallError::Overloaded(_) => {
                WebRtcError::Unavailable(e.to_string())
            }
            CallError::Pipeline(p) => WebRtcError::Internal(p.to_string()),
        }
    }
}

/// The answer to a browser's offer.
#[derive(Debug, serde::Serialize)]
pub struct Answer {
    pub call_id: CallId,
    pub sdp: String,
    /// Proof the hang-up request comes from this caller.
    pub hangup_token: String,
}

struct Handler {
    gathered: watch::Sender<bool>,
    state: watch::Sender<RTCPeerConnectionState>,
    tracks: mpsc::UnboundedSender<Arc<dyn TrackRemote>>,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Handler {
    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        if state == RTCIceGatheringState::Complete {
            let _ = self.gathered.send(true);
        }
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        let _ = self.state.send(state);
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        let _ = self.tracks.send(track);
    }
}

/// A browser caller's live call: its token (the page's capability), its media channel (keys,
/// hang-up) and when it started.
#[derive(Clone)]
struct LiveCall {
    token: String,
    media: mpsc::Sender<MediaIn>,
    started: std::time::Instant,
}

/// Browser calls: signalling plus the live sessions' hang-up handles.
pub struct WebRtcService {
    svc: Arc<CallServices>,
    pub cfg: WebRtcConfig,
    /// Live calls: hang-up token and the call's media sender.
    live: Mutex<HashMap<CallId, LiveCall>>,
}

/// The payload type the offer uses for Opus at 48 kHz.
fn opus_payload_type(offer: &str) -> Result<u8, WebRtcError> {
    let sd = SessionDescription::parse(offer.as_bytes()).map_err(|e| WebRtcError::BadOffer(e.to_string()))?;
    let audio = sd
        .media
        .iter()
        .find(|m| m.kind == "audio" && m.port != 0)
        .ok_or_else(|| WebRtcError::BadOffer("the offer has no audio stream".into()))?;
    audio
        .formats
        .iter()
        .find(|f| audio.rtpmap(f).is_some_and(|(name, rate)| name == "OPUS" && rate == 48_000))
        .and_then(|f| f.parse().ok())
        .ok_or_else(|| WebRtcError::BadOffer("the offer's audio has no Opus/48000".into()))
}

impl WebRtcService {
    /// The calls this service answers for (the agent desktop checks who may see one).
    pub(crate) fn calls(&self) -> &Arc<CallServices> {
        &self.svc
    }

    /// A service for `svc`'s calls.
    pub fn new(svc: Arc<CallServices>, cfg: WebRtcConfig) -> Arc<Self> {
        Arc::new(Self { svc, cfg, live: Mutex::new(HashMap::new()) })
    }

    /// Number of browser calls whose session is running.
    pub fn live_sessions(&self) -> usize {
        self.live.lock().map(|m| m.len()).unwrap_or(0)
    }

    /// The live call `id` if `token` is its token (the page's capability for its own call).
    fn live_call(&self, id: &CallId, token: &str) -> Option<LiveCall> {
        self.live.lock().ok().and_then(|m| m.get(id).cloned()).filter(|c| c.token == token)
    }

    /// The caller hung up from the page.
    pub fn hangup(&self, id: &CallId, token: &str) -> bool {
        let Some(call) = self.live_call(id, token) else { return false };
        let _ = call.media.try_send(MediaIn::Ended(EndReason::CallerHangup));
        true
    }

    /// The caller pressed keys on the page's keypad: to the call as key presses, like a
    /// phone's RFC 4733 events (secure capture takes them the same way). False if there is
    /// no such call with that token.
    pub fn keys(&self, id: &CallId, token: &str, keys: &str) -> bool {
        let Some(call) = self.live_call(id, token) else { return false };
        let at_ms = call.started.elapsed().as_millis() as u64;
        for digit in keys.chars() {
            let _ = call.media.try_send(MediaIn::Dtmf { digit, at_ms });
        }
        true
    }

    /// The page heard its caller start speaking (its own detector, while the call's audio
    /// plays). If the assistant has the call, it stops its audio: `Some(true)`. With a person
    /// on the call (an agent, a supervisor) nothing stops, people talk over each other:
    /// `Some(false)`. `None`: no such call with that token.
    pub fn speaking(&self, id: &CallId, token: &str) -> Option<bool> {
        let call = self.live_call(id, token)?;
        let staffed = self.svc.registry.read(id, |r| r.info.agent.is_some() || !r.info.supervisors.is_empty());
        if staffed.unwrap_or(false) {
            return Some(false);
        }
        let _ = call.media.try_send(MediaIn::CallerSpeaking);
        Some(true)
    }

    /// Answer a browser's SDP offer (complete, non-trickle): returns our complete answer.
    /// `caller` is the number the caller gave on the page (E.164), if any: like a phone's
    /// caller ID it identifies but does not verify.
    /// `client` is the browser's address, for the per-address admission limits.
    pub async fn answer(
        self: &Arc<Self>,
        offer: String,
        caller: Option<String>,
        client: std::net::IpAddr,
    ) -> Result<Answer, WebRtcError> {
        let caller = match caller {
            Some(c) => Some(crate::call::actor::e164(&c).ok_or_else(|| {
                WebRtcError::BadOffer(format!("caller {c:?} is not an international number like +15550100"))
            })?),
            None => None,
        };
        if self.svc.at_capacity() {
            return Err(WebRtcError::Unavailable(format!("at capacity ({} live calls)", self.svc.settings.max_calls)));
        }
        // Counted as being set up until ICE connects (or the call ends).
        let pending =
            self.svc.admission.admit_pending(std::time::Instant::now(), client).map_err(WebRtcError::Refused)?;
        let (peer, sdp) = open_peer(&self.cfg, offer).await?;
        let leg = match start_call(
            &self.svc,
            NewCall {
                caller: caller.unwrap_or_else(|| "web".into()),
                transport: Transport::Webrtc,
                playout_rate: 48_000,
            },
        ) {
            Ok(l) => l,
            Err(e) => {
                let _ = peer.pc.close().await;
                return Err(e.into());
            }
        };
        // The caller's capability for this call only: hang up, and follow its events.
        let token = crate::auth::random_token(16)
            .unwrap_or_else(|_| format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..)));
        self.svc.registry.set_caller_token(&leg.id, &token);
        if let Ok(mut m) = self.live.lock() {
            let live = LiveCall { token: token.clone(), media: leg.media.clone(), started: std::time::Instant::now() };
            m.insert(leg.id.clone(), live);
        }
        let id = leg.id.clone();
        let CallLeg { id: call, media, out, hangup } = leg;
        let session = Session {
            service: self.clone(),
            peer,
            id: call,
            side: Side::Caller(media),
            out,
            stop: hangup,
            pending: Some(pending),
        };
        self.svc.tracker.spawn(session.run());
        Ok(Answer { call_id: id, sdp, hangup_token: token })
    }

    /// Answer an agent's offer for a call the agent has accepted: the agent's browser then
    /// hears the caller and the caller the agent (the call bridges and transcodes).
    pub async fn answer_agent(
        self: &Arc<Self>,
        call: &CallId,
        agent: &str,
        offer: String,
    ) -> Result<String, WebRtcError> {
        let record = self.svc.registry.get(call).ok_or_else(|| WebRtcError::Conflict(format!("no call {call}")))?;
        if record.info.agent.as_deref() != Some(agent) && record.info.consultant.as_deref() != Some(agent) {
            return Err(WebRtcError::Conflict(format!(
                "call {call} is not with {agent}: accept it first (or be asked to consult)"
            )));
        }
        let controls = self.svc.controls.clone();
        let id = call.clone();
        self.bridge_staff(call, agent, offer, |leg| async move {
            match controls.send(&id, Control::AgentJoined(leg)) {
                true => Ok(()),
                false => Err(WebRtcError::Unavailable(format!("call {id} is not taking the agent now"))),
            }
        })
        .await
    }

    /// Answer a supervisor's browser offering its audio to join `call` in `mode` (listen,
    /// coach, barge). The call decides: a refusal (coaching a call with no agent, already on
    /// it) closes the peer and is a conflict with the call's reason.
    pub async fn answer_supervisor(
        self: &Arc<Self>,
        call: &CallId,
        supervisor: &str,
        mode: crate::call::state::StaffMode,
        offer: String,
    ) -> Result<String, WebRtcError> {
        let controls = self.svc.controls.clone();
        let id = call.clone();
        self.bridge_staff(call, supervisor, offer, |leg| async move {
            let (tx, rx) = tokio::sync::oneshot::channel();
            if !controls.send(&id, Control::Supervise { leg, mode, reply: tx }) {
                return Err(WebRtcError::Conflict(format!("call {id} is over")));
            }
            match tokio::time::timeout(Duration::from_secs(3), rx).await {
                Ok(Ok(Ok(()))) => Ok(()),
                Ok(Ok(Err(why))) => Err(WebRtcError::Conflict(why)),
                Ok(Err(_)) => Err(WebRtcError::Conflict(format!("call {id} ended"))),
                Err(_) => Err(WebRtcError::Unavailable(format!("call {id} is not answering; try again"))),
            }
        })
        .await
    }

    /// A staff member's browser audio on `call`: answer the offer, hand the call their leg
    /// (`join`: the call takes it, or why not; a refusal closes the peer), then run the session
    /// (their audio in, what they hear out; a dropped connection is reported to the call).
    async fn bridge_staff<F, Fut>(
        self: &Arc<Self>,
        call: &CallId,
        who: &str,
        offer: String,
        join: F,
    ) -> Result<String, WebRtcError>
    where
        F: FnOnce(AgentLeg) -> Fut,
        Fut: std::future::Future<Output = Result<(), WebRtcError>>,
    {
        let media =
            self.svc.controls.media(call).ok_or_else(|| WebRtcError::Conflict(format!("call {call} is over")))?;
        let (peer, sdp) = open_peer(&self.cfg, offer).await?;
        let (sink, out) = crate::call::mixer::outbound();
        let done = CancellationToken::new();
        let leg = AgentLeg { agent: who.to_string(), sink, rate: 48_000, done: done.clone().drop_guard() };
        if let Err(e) = join(leg).await {
            let _ = peer.pc.close().await;
            return Err(e);
        }
        let side = Side::Agent { agent: who.into(), media, controls: self.svc.controls.clone() };
        let session = Session { service: self.clone(), peer, id: call.clone(), side, out, stop: done, pending: None };
        self.svc.tracker.spawn(session.run());
        Ok(sdp)
    }
}

/// A peer connection answering a browser's offer, with our audio track.
struct Peer {
    pc: Arc<dyn PeerConnection>,
    track: Arc<TrackLocalStaticRTP>,
    ssrc: u32,
    pt: u8,
    state: watch::Receiver<RTCPeerConnectionState>,
    tracks: mpsc::UnboundedReceiver<Arc<dyn TrackRemote>>,
}

/// Answer a complete (non-trickle) offer: the peer and our complete answer SDP.
async fn open_peer(cfg: &WebRtcConfig, offer: String) -> Result<(Peer, String), WebRtcError> {
    let pt = opus_payload_type(&offer)?;
    let desc = RTCSessionDescription::offer(offer).map_err(|e| WebRtcError::BadOffer(format!("invalid offer: {e}")))?;
    let (gathered_tx, mut gathered) = watch::channel(false);
    let (state_tx, state) = watch::channel(RTCPeerConnectionState::New);
    let (track_tx, tracks) = mpsc::unbounded_channel();
    let codec = RTCRtpCodec {
        mime_type: MIME_TYPE_OPUS.to_owned(),
        clock_rate: 48_000,
        channels: 2,
        sdp_fmtp_line: "minptime=10;useinbandfec=1".to_owned(),
        rtcp_feedback: vec![],
    };
    let internal = |e: ::webrtc::error::Error| WebRtcError::Internal(e.to_string());
    let mut media_engine = MediaEngine::default();
    media_engine
        .register_codec(RTCRtpCodecParameters { rtp_codec: codec.clone(), payload_type: pt }, RtpCodecKind::Audio)
        .map_err(internal)?;
    let registry = register_default_interceptors(Registry::new(), &mut media_engine).map_err(internal)?;
    let ice_servers = cfg
        .ice_servers
        .iter()
        .map(|s| RTCIceServer { urls: s.urls.clone(), username: s.username.clone(), credential: s.credential.clone() })
        .collect();
    let config = RTCConfigurationBuilder::new().with_ice_servers(ice_servers).build();
    // No mDNS: by default every connection would bind 0.0.0.0:5353 and join a multicast
    // group (which fails in some containers). Browsers that were given the microphone
    // expose real host addresses, so nothing is lost. UDP over IPv4 only.
    let settings = SettingEngineBuilder::new()
        .with_network_types(vec![NetworkType::Udp4])
        .with_multicast_dns_mode(MulticastDnsMode::Disabled)
        .build();
    let handler = Arc::new(Handler { gathered: gathered_tx, state: state_tx, tracks: track_tx });
    let pc = PeerConnectionBuilder::new()
        .with_configuration(config)
        .with_media_engine(media_engine)
        .with_setting_engine(settings)
        .with_interceptor_registry(registry)
        .with_handler(handler)
        .with_udp_addrs(cfg.udp_addrs.clone())
        .build()
        .await
        .map_err(internal)?;
    let pc: Arc<dyn PeerConnection> = Arc::new(pc);
    let ssrc = fastrand::u32(..);
    let track = Arc::new(TrackLocalStaticRTP::new(MediaStreamTrack::new(
        "switchboard".to_owned(),
        "switchboard-audio".to_owned(),
        "Switchboard".to_owned(),
        RtpCodecKind::Audio,
        vec![RTCRtpEncodingParameters {
            rtp_coding_parameters: RTCRtpCodingParameters { ssrc: Some(ssrc), ..Default::default() },
            codec,
            ..Default::default()
        }],
    )));
    let setup = async {
        pc.add_track(track.clone() as Arc<dyn TrackLocal>).await?;
        pc.set_remote_description(desc).await?;
        let answer = pc.create_answer(None).await?;
        pc.set_local_description(answer).await?;
        Ok::<_, ::webrtc::error::Error>(())
    };
    if let Err(e) = setup.await {
        let _ = pc.close().await;
        return Err(WebRtcError::BadOffer(format!("cannot answer the offer: {e}")));
    }
    // Non-trickle: the answer carries every host (and, with STUN/TURN, reflexive/relay) candidate.
    let _ = tokio::time::timeout(Duration::from_secs(5), gathered.wait_for(|g| *g)).await;
    let Some(local) = pc.local_description().await else {
        let _ = pc.close().await;
        return Err(WebRtcError::Internal("no local description after answering".into()));
    };
    Ok((Peer { pc, track, ssrc, pt, state, tracks }, local.sdp))
}

/// Whose browser a session carries, and where its audio and its end go.
#[derive(Clone)]
enum Side {
    /// The caller: the call's transport (its media channel).
    Caller(mpsc::Sender<MediaIn>),
    /// An agent answering the call: audio into the call's media channel, held weakly (the call
    /// ends without waiting for the agent), and a lost connection reported on its control channel.
    Agent { agent: Arc<str>, media: mpsc::WeakSender<MediaIn>, controls: Arc<Controls> },
}

impl Side {
    /// Deliver a decoded frame; false if the call is gone or busy.
    fn audio(&self, frame: AudioFrame) -> bool {
        match self {
            Side::Caller(tx) => tx.try_send(MediaIn::Audio(frame)).is_ok(),
            Side::Agent { agent, media, .. } => {
                let agent = agent.clone();
                media.upgrade().is_some_and(|tx| tx.try_send(MediaIn::AgentAudio { agent, frame }).is_ok())
            }
        }
    }

    /// The browser's connection is over for `r`.
    fn end(&self, call: &CallId, r: EndReason) {
        match self {
            Side::Caller(tx) => {
                let _ = tx.try_send(MediaIn::Ended(r));
            }
            Side::Agent { agent, controls, .. } => {
                tracing::warn!(%call, %agent, "agent media ended: {r}");
                controls.send(call, Control::AgentLost { agent: agent.to_string(), requeued: false });
            }
        }
    }
}

struct Session {
    service: Arc<WebRtcService>,
    peer: Peer,
    id: CallId,
    side: Side,
    /// What this browser hears: a frame every 20 ms from the call's mixer.
    out: Outbound,
    /// Cancelled when the call no longer wants this browser.
    stop: CancellationToken,
    /// A caller's call still being set up (admission); released once connected.
    pending: Option<crate::call::admission::Pending>,
}

impl Session {
    async fn run(mut self) {
        let id = self.id.clone();
        let cfg = self.service.cfg.clone();
        let ice_deadline = tokio::time::Instant::now() + Duration::from_secs(cfg.ice_timeout_s);
        let mut connected = false;
        let mut disconnected_since: Option<tokio::time::Instant> = None;
        let mut out = match OpusOut::new() {
            Ok(o) => Some(o),
            Err(e) => {
                tracing::error!(call = %id, "opus encoder: {e}; the caller will hear nothing");
                None
            }
        };
        // Connection checks (the audio's clock is the call's mixer).
        let mut check = tokio::time::interval(Duration::from_millis(100));
        check.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let (mut seq, mut ts) = (fastrand::u16(..), fastrand::u32(..));
        let mut readers = Vec::new();
        let end = |r: EndReason| self.side.end(&id, r);
        loop {
            tokio::select! {
                biased;
                _ = self.stop.cancelled() => break,
                changed = self.peer.state.changed() => {
                    if changed.is_err() {
                        end(EndReason::TransportError("peer connection gone".into()));
                        break;
                    }
                    let s = *self.peer.state.borrow();
                    tracing::debug!(call = %id, "webrtc state {s}");
                    match s {
                        RTCPeerConnectionState::Connected => {
                            connected = true;
                            // A caller's prompts start once they can hear them.
                            self.out.ready();
                            if let Some(mut p) = self.pending.take() {
                                p.connected();
                            }
                            disconnected_since = None;
                        }
                        RTCPeerConnectionState::Disconnected => {
                            disconnected_since.get_or_insert_with(tokio::time::Instant::now);
                        }
                        RTCPeerConnectionState::Failed | RTCPeerConnectionState::Closed => {
                            end(EndReason::ConnectionLost);
                            break;
                        }
                        _ => {}
                    }
                }
                Some(track) = self.peer.tracks.recv() => {
                    readers.push(tokio::spawn(read_track(track, id.clone(), self.side.clone())));
                }
                _ = check.tick() => {
                    let now = tokio::time::Instant::now();
                    if !connected && now >= ice_deadline {
                        tracing::warn!(call = %id, "connection not established within {} s", cfg.ice_timeout_s);
                        end(EndReason::IceTimeout);
                        break;
                    }
                    if disconnected_since.is_some_and(|t| now - t >= Duration::from_secs(cfg.disconnect_timeout_s)) {
                        end(EndReason::ConnectionLost);
                        break;
                    }
                }
                frame = self.out.recv() => {
                    // The call took this browser off (an agent's leg removed): its session ends.
                    let Some(frame) = frame else { break };
                    if !connected {
                        continue;
                    }
                    // Keep sending (silence too) so the browser's jitter buffer stays primed.
                    let frame = frame.samples.unwrap_or_else(|| vec![0.0; FRAME_48K]);
                    let Some(enc) = out.as_mut() else { continue };
                    let Ok(payload) = enc.encode(&frame) else { continue };
                    let mut pkt = rtc::rtp::Packet::default();
                    pkt.header.version = 2;
                    pkt.header.payload_type = self.peer.pt;
                    pkt.header.sequence_number = seq;
                    pkt.header.timestamp = ts;
                    pkt.header.ssrc = self.peer.ssrc;
                    pkt.payload = payload.into();
                    seq = seq.wrapping_add(1);
                    ts = ts.wrapping_add(FRAME_48K as u32);
                    if let Err(e) = self.peer.track.write_rtp(pkt).await {
                        tracing::debug!(call = %id, "webrtc send: {e}");
                    }
                }
            }
        }
        if let (Side::Caller(_), Ok(mut m)) = (&self.side, self.service.live.lock()) {
            m.remove(&id);
        }
        for r in readers {
            r.abort();
        }
        if let Err(e) = self.peer.pc.close().await {
            tracing::debug!(call = %id, "closing peer connection: {e}");
        }
        tracing::info!(call = %id, connected, "webrtc session ended");
    }
}

/// Decode the caller's Opus packets into the call.
async fn read_track(track: Arc<dyn TrackRemote>, call: CallId, side: Side) {
    if track.kind().await != RtpCodecKind::Audio {
        return;
    }
    let mut dec = match OpusIn::new() {
        Ok(d) => d,
        Err(e) => {
            tracing::error!(%call, "opus decoder: {e}");
            return;
        }
    };
    let mut samples: u64 = 0;
    let mut dropped = 0u64;
    while let Some(ev) = track.poll().await {
        let TrackRemoteEvent::OnRtpPacket(pkt) = ev else { continue };
        let pcm = dec.push(pkt.header.sequence_number, &pkt.payload);
        if pcm.is_empty() {
            continue;
        }
        let pts = Duration::from_micros(samples * 1_000_000 / 48_000);
        samples += pcm.len() as u64;
        if !side.audio(AudioFrame::mono(pcm, 48_000, pts)) {
            dropped += 1;
            crate::metrics::calls().dropped_frames.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }
    tracing::debug!(%call, concealed = dec.concealed, late = dec.late, decode_errors = dec.decode_errors, dropped, "caller track ended");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offers_without_audio_or_opus_are_refused_with_reasons() {
        let video = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 VP8/90000\r\n";
        assert!(opus_payload_type(video).unwrap_err().to_string().contains("no audio"));
        let pcmu = "v=0\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\n";
        assert!(opus_payload_type(pcmu).unwrap_err().to_string().contains("Opus"));
        assert!(opus_payload_type("garbage").is_err());
        let chrome = "v=0\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8\r\na=rtpmap:111 opus/48000/2\r\n";
        assert_eq!(opus_payload_type(chrome).unwrap(), 111);
    }
}
