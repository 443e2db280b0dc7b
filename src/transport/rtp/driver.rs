//! The I/O shell of one call's RTP session: receives and validates packets, decodes G.711
//! into the jitter buffer, turns telephone-events into digits, and on each frame of the
//! call's mixer (its one 20 ms clock) sends that frame (symmetric RTP: to where the caller's
//! packets come from) and pulls the next frame of caller audio for the call.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::jitter::{JitterBuffer, JitterConfig};
use super::latch::{SourceLatch, Verdict, LATCH_WINDOW};
use super::packet::{DtmfDetector, RtpError, RtpPacket, TelephoneEvent};
use crate::call::mixer::Outbound;
use crate::call::{EndReason, MediaIn};
use crate::media::AudioFrame;
use crate::transport::sdp::Negotiated;

const RATE: u32 = 8000;
const FRAME: usize = 160;

/// Changes from signalling (re-INVITE, late-offer ACK).
#[derive(Debug, Clone)]
pub enum RtpControl {
    Update(Negotiated),
}

/// Bind an even UDP port in `[min, max]` on `ip`, starting at a random place.
pub async fn bind_rtp_socket(ip: IpAddr, min: u16, max: u16) -> std::io::Result<UdpSocket> {
    let slots = ((max - min) / 2).max(1) as u32;
    let first = fastrand::u32(..slots);
    let mut last_err = None;
    for i in 0..slots.min(200) {
        let port = min + (((first + i) % slots) * 2) as u16;
        match UdpSocket::bind(SocketAddr::new(ip, port)).await {
            Ok(s) => return Ok(s),
            Err(e) => last_err = Some(e),
        }
    }
    Err(last_err.unwrap_or_else(|| std::io::Error::other("no RTP port free")))
}

/// One call's RTP session.
pub struct RtpDriver {
    pub socket: UdpSocket,
    /// What the offer/answer settled (codec, DTMF payload type, remote address, direction).
    pub params: Negotiated,
    pub jitter: JitterConfig,
    /// End the call when no packet arrives for this long (None = never).
    pub timeout: Option<Duration>,
    pub media: mpsc::Sender<MediaIn>,
    /// What the caller hears, a frame every 20 ms.
    pub out: Outbound,
    pub control: mpsc::Receiver<RtpControl>,
    /// Cancelled when the call is over.
    pub stop: CancellationToken,
    /// Used in log lines.
    pub call: String,
}

#[derive(Default)]
struct Counters {
    bad: u64,
    foreign_pt: u64,
    ssrc_changes: u64,
    dropped_frames: u64,
    /// Packets from an address that is not the call's media source.
    foreign_source: u64,
}

/// Log the first occurrence of something per-packet, then only at powers of two (a flood of
/// bad packets costs a handful of log lines, not one each).
fn worth_logging(count: u64) -> bool {
    count.is_power_of_two()
}

impl RtpDriver {
    /// Run until `stop` is cancelled.
    pub async fn run(mut self) {
        let mut jb = JitterBuffer::new(self.jitter, RATE, 20);
        let mut dtmf = DtmfDetector::default();
        // The call's prompts start now that they can be sent.
        self.out.ready();
        let mut buf = vec![0u8; 2048];
        let mut source = SourceLatch::new(self.params.remote, LATCH_WINDOW);
        let mut ssrc: Option<u32> = None;
        let (mut seq, mut ts) = (fastrand::u16(..), fastrand::u32(..));
        let out_ssrc = fastrand::u32(..);
        let mut pulled: u64 = 0; // caller samples delivered
        let mut last_packet = Instant::now();
        let mut timed_out = false;
        let mut talking = false;
        let mut n = Counters::default();
        loop {
            tokio::select! {
                biased;
                _ = self.stop.cancelled() => break,
                Some(RtpControl::Update(p)) = self.control.recv() => {
                    source.signalled(Instant::now().into_std(), p.remote);
                    self.params = p;
                    last_packet = Instant::now();
                }
                r = self.socket.recv_from(&mut buf) => {
                    let (len, from) = match r {
                        Ok(x) => x,
                        Err(e) => {
                            // ICMP errors from earlier sends surface here on some systems.
                            tracing::debug!(call = %self.call, "rtp recv: {e}");
                            continue;
                        }
                    };
                    let pkt = match RtpPacket::parse(&buf[..len]) {
                        Ok(p) => p,
                        Err(RtpError::Rtcp(_)) => continue,
                        Err(e) => {
                            n.bad += 1;
                            if worth_logging(n.bad) {
                                tracing::warn!(call = %self.call, %from, count = n.bad, "ignoring invalid RTP: {e}");
                            }
                            continue;
                        }
                    };
                    let is_dtmf = Some(pkt.payload_type) == self.params.dtmf_payload_type;
                    if pkt.payload_type != self.params.payload_type && !is_dtmf {
                        n.foreign_pt += 1;
                        if worth_logging(n.foreign_pt) {
                            tracing::warn!(call = %self.call, pt = pkt.payload_type, count = n.foreign_pt, "ignoring RTP with a payload type not negotiated");
                        }
                        continue;
                    }
                    // Only the call's own source (signalled, or latched early on) is heard;
                    // symmetric RTP: the call's audio goes back to it.
                    match source.packet(Instant::now().into_std(), from) {
                        Verdict::Accept => {}
                        Verdict::Latched => tracing::debug!(call = %self.call, %from, "RTP source latched"),
                        Verdict::Ignore => {
                            n.foreign_source += 1;
                            if worth_logging(n.foreign_source) {
                                tracing::warn!(call = %self.call, %from, count = n.foreign_source, "ignoring RTP from an address that is not the call's media source");
                            }
                            continue;
                        }
                    }
                    if ssrc != Some(pkt.ssrc) {
                        if ssrc.is_some() {
                            n.ssrc_changes += 1;
                            if worth_logging(n.ssrc_changes) {
                                tracing::info!(call = %self.call, count = n.ssrc_changes, "RTP stream changed (new SSRC); resynchronising");
                            }
                            jb.reset();
                        }
                        ssrc = Some(pkt.ssrc);
                    }
                    last_packet = Instant::now();
                    timed_out = false;
                    if is_dtmf {
                        if let Some(digit) = TelephoneEvent::parse(pkt.payload).and_then(|ev| dtmf.push(pkt.timestamp, ev)) {
                            let at_ms = pulled * 1000 / RATE as u64;
                            let _ = self.media.try_send(MediaIn::Dtmf { digit, at_ms });
                        }
                        continue;
                    }
                    jb.push(last_packet.into_std(), pkt.timestamp, self.params.law.decode(pkt.payload));
                }
                Some(frame) = self.out.recv() => {
                    let now = Instant::now();
                    if let Some(frame) = jb.pull(now.into_std()) {
                        let pts = Duration::from_micros(pulled * 1_000_000 / RATE as u64);
                        pulled += frame.len() as u64;
                        if self.media.try_send(MediaIn::Audio(AudioFrame::mono(frame, RATE, pts))).is_err() {
                            n.dropped_frames += 1;
                            crate::metrics::calls().dropped_frames.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                    }
                    if let Some(limit) = self.timeout {
                        if !timed_out && !self.params.on_hold() && now.duration_since(last_packet) > limit {
                            timed_out = true;
                            tracing::warn!(call = %self.call, "no RTP for {limit:?}; ending the call");
                            let _ = self.media.try_send(MediaIn::Ended(EndReason::MediaTimeout));
                        }
                    }
                    let out = frame.samples;
                    let (Some(to), true) = (source.remote(), !self.params.on_hold()) else { continue };
                    let marker = out.is_some() && !talking;
                    talking = out.is_some();
                    let samples = out.unwrap_or_else(|| vec![0.0; FRAME]);
                    let payload = self.params.law.encode(&samples);
                    let pkt = RtpPacket { marker, payload_type: self.params.payload_type, sequence: seq, timestamp: ts, ssrc: out_ssrc, payload: &payload };
                    seq = seq.wrapping_add(1);
                    ts = ts.wrapping_add(FRAME as u32);
                    if let Err(e) = self.socket.send_to(&pkt.to_bytes(), to).await {
                        tracing::debug!(call = %self.call, "rtp send to {to}: {e}");
                    }
                }
            }
        }
        let s = jb.stats();
        tracing::info!(
            call = %self.call, packets = s.packets, late = s.late, concealed_ms = s.concealed_samples / 8,
            resyncs = s.resyncs, invalid = n.bad, foreign_pt = n.foreign_pt, foreign_source = n.foreign_source, ssrc_changes = n.ssrc_changes,
            dropped_frames = n.dropped_frames, "rtp session ended"
        );
    }
}
