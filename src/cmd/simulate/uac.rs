//! A minimal SIP user agent client for the caller simulator: INVITE with a G.711 offer, ACK,
//! BYE over UDP, and an RTP leg that sends the caller's audio (silence between turns, so the
//! server's turn detector hears the pauses) and records what the server plays back.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::net::UdpSocket;
use tokio::sync::mpsc;

use crate::media::g711::Law;
use crate::transport::rtp::packet::{RtpPacket, TelephoneEvent};
use crate::transport::sdp::SessionDescription;
use crate::transport::sip::message::{Method, SipMessage};

/// What the caller sends on the RTP leg.
pub enum Outgoing {
    /// 8 kHz mono audio, sent in 20 ms frames in real time.
    Audio(Vec<f32>),
    /// RFC 4733 key presses.
    Dtmf(String),
}

/// What the server played, packet by packet: arrival time and 20 ms of 8 kHz audio.
#[derive(Default)]
pub struct Heard {
    pub frames: Vec<(Instant, Vec<f32>)>,
}

/// A call in progress.
pub struct Call {
    sip: UdpSocket,
    server: SocketAddr,
    call_id: String,
    from_tag: String,
    to_tag: String,
    caller: String,
    pub heard: Arc<Mutex<Heard>>,
    pub send: mpsc::Sender<Outgoing>,
    /// When the last queued caller audio finished sending.
    pub sent_until: Arc<Mutex<Instant>>,
}

fn token() -> String {
    (0..10).map(|_| fastrand::alphanumeric()).collect()
}

impl Call {
    /// Ring `server` as `caller`; returns once the call is answered.
    pub async fn dial(server: SocketAddr, caller: &str) -> anyhow::Result<Call> {
        let sip = UdpSocket::bind("127.0.0.1:0").await?;
        let rtp = UdpSocket::bind("127.0.0.1:0").await?;
        let (lsip, lrtp) = (sip.local_addr()?, rtp.local_addr()?);
        let (call_id, from_tag) = (format!("{}@sim", token()), token());
        let sdp = format!(
            "v=0\r\no=sim 1 1 IN IP4 127.0.0.1\r\ns=switchboard simulate\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
             m=audio {} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n\
             a=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n",
            lrtp.port()
        );
        let mut invite = SipMessage::request(Method::Invite, format!("sip:switchboard@{server}"));
        invite
            .push("Via", format!("SIP/2.0/UDP {lsip};branch=z9hG4bK{};rport", token()))
            .push("Max-Forwards", "70")
            .push("From", format!("<sip:{caller}@127.0.0.1>;tag={from_tag}"))
            .push("To", format!("<sip:switchboard@{server}>"))
            .push("Call-ID", call_id.clone())
            .push("CSeq", "1 INVITE")
            .push("Contact", format!("<sip:{caller}@{lsip}>"))
            .push("User-Agent", "switchboard-simulate")
            .set_body("application/sdp", sdp.into_bytes());
        let bytes = invite.to_bytes();
        let mut buf = vec![0u8; 65_536];
        let deadline = Instant::now() + Duration::from_secs(15);
        let mut resend = Instant::now();
        let ok = loop {
            if Instant::now() > deadline {
                anyhow::bail!("no answer from {server} within 15 s");
            }
            if Instant::now() >= resend {
                sip.send_to(&bytes, server).await?;
                resend = Instant::now() + Duration::from_millis(500);
            }
            let Ok(Ok((n, _))) = tokio::time::timeout(Duration::from_millis(200), sip.recv_from(&mut buf)).await else {
                continue;
            };
            let Ok(m) = SipMessage::parse(&buf[..n]) else { continue };
            match m.status() {
                Some(100..=199) => resend = Instant::now() + Duration::from_secs(60),
                Some(200) => break m,
                Some(code) => anyhow::bail!("call refused: {code}"),
                None => {}
            }
        };
        let to_tag = ok.to().and_then(|t| t.tag().map(str::to_string)).unwrap_or_default();
        let answer = SessionDescription::parse(&ok.body).map_err(|e| anyhow::anyhow!("bad SDP answer: {e}"))?;
        let media = answer.media.first().ok_or_else(|| anyhow::anyhow!("SDP answer without media"))?;
        let ip = media.connection.or(answer.connection).ok_or_else(|| anyhow::anyhow!("SDP answer without address"))?;
        let remote_rtp = SocketAddr::new(ip, media.port);
        let call = Call {
            sip,
            server,
            call_id,
            from_tag,
            to_tag,
            caller: caller.to_string(),
            heard: Arc::default(),
            send: mpsc::channel(64).0,
            sent_until: Arc::new(Mutex::new(Instant::now())),
        };
        call.request(Method::Ack, 1).await?;
        let (tx, rx) = mpsc::channel(64);
        let rtp = Arc::new(rtp);
        tokio::spawn(receive(rtp.clone(), call.heard.clone()));
        tokio::spawn(transmit(rtp, remote_rtp, rx, call.sent_until.clone()));
        Ok(Call { send: tx, ..call })
    }

    async fn request(&self, method: Method, cseq: u32) -> anyhow::Result<()> {
        let lsip = self.sip.local_addr()?;
        let mut m = SipMessage::request(method.clone(), format!("sip:switchboard@{}", self.server));
        m.push("Via", format!("SIP/2.0/UDP {lsip};branch=z9hG4bK{};rport", token()))
            .push("Max-Forwards", "70")
            .push("From", format!("<sip:{}@127.0.0.1>;tag={}", self.caller, self.from_tag))
            .push("To", format!("<sip:switchboard@{}>;tag={}", self.server, self.to_tag))
            .push("Call-ID", self.call_id.clone())
            .push("CSeq", format!("{cseq} {}", method.as_str()))
            .push("Content-Length", "0");
        self.sip.send_to(&m.to_bytes(), self.server).await?;
        Ok(())
    }

    /// Hang up (BYE; the server's 200 is not waited for beyond a second).
    pub async fn hang_up(&self) -> anyhow::Result<()> {
        self.request(Method::Bye, 2).await?;
        let mut buf = vec![0u8; 65_536];
        let _ = tokio::time::timeout(Duration::from_secs(1), self.sip.recv_from(&mut buf)).await;
        Ok(())
    }

    /// Whether the server hung up (a BYE arrived); answers it with 200.
    pub async fn server_hung_up(&self) -> bool {
        let mut buf = vec![0u8; 65_536];
        while let Ok(Ok((n, from))) = tokio::time::timeout(Duration::from_millis(1), self.sip.recv_from(&mut buf)).await
        {
            if let Ok(m) = SipMessage::parse(&buf[..n]) {
                if m.method() == Some(&Method::Bye) {
                    let ok = SipMessage::response_to(&m, 200, "OK", None);
                    let _ = self.sip.send_to(&ok.to_bytes(), from).await;
                    return true;
                }
            }
        }
        false
    }
}

async fn receive(rtp: Arc<UdpSocket>, heard: Arc<Mutex<Heard>>) {
    let mut buf = vec![0u8; 2048];
    while let Ok((n, _)) = rtp.recv_from(&mut buf).await {
        let Ok(p) = RtpPacket::parse(&buf[..n]) else { continue };
        let law = match p.payload_type {
            0 => Law::Ulaw,
            8 => Law::Alaw,
            _ => continue,
        };
        let samples = law.decode(p.payload);
        heard.lock().expect("heard").frames.push((Instant::now(), samples));
    }
}

/// Send 20 ms frames in real time: queued caller audio, else silence.
async fn transmit(
    rtp: Arc<UdpSocket>,
    to: SocketAddr,
    mut rx: mpsc::Receiver<Outgoing>,
    sent_until: Arc<Mutex<Instant>>,
) {
    let (ssrc, mut seq, mut ts) = (fastrand::u32(..), fastrand::u16(..), fastrand::u32(..));
    let mut queue: std::collections::VecDeque<Vec<u8>> = Default::default(); // PCMU frames
    let mut dtmf: std::collections::VecDeque<(TelephoneEvent, bool)> = Default::default();
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    let silence = Law::Ulaw.encode(&[0.0; 160]);
    let mut marker = true;
    let mut event_ts = ts;
    loop {
        tick.tick().await;
        loop {
            match rx.try_recv() {
                Ok(Outgoing::Audio(a)) => {
                    for c in a.chunks(160) {
                        let mut f = c.to_vec();
                        f.resize(160, 0.0);
                        queue.push_back(Law::Ulaw.encode(&f));
                    }
                }
                Ok(Outgoing::Dtmf(digits)) => {
                    for d in digits.chars() {
                        let Some(code) = TelephoneEvent::code_of(d) else { continue };
                        for k in 1..=8u16 {
                            dtmf.push_back((
                                TelephoneEvent { event: code, end: k > 5, volume: 10, duration: 160 * k.min(5) },
                                k == 1,
                            ));
                        }
                        // 100 ms between keys.
                        for _ in 0..5 {
                            dtmf.push_back((TelephoneEvent { event: 255, end: false, volume: 0, duration: 0 }, false));
                        }
                    }
                }
                Err(mpsc::error::TryRecvError::Empty) => break,
                Err(mpsc::error::TryRecvError::Disconnected) => return,
            }
        }
        if let Some((ev, first)) = dtmf.pop_front() {
            // All packets of one event carry its start timestamp (RFC 4733); the media clock
            // still advances 20 ms a tick, so audio after the keys is on time.
            if first {
                event_ts = ts;
            }
            if ev.event != 255 {
                let payload = ev.to_bytes();
                let p = RtpPacket {
                    marker: first,
                    payload_type: 101,
                    sequence: seq,
                    timestamp: event_ts,
                    ssrc,
                    payload: &payload,
                };
                let _ = rtp.send_to(&p.to_bytes(), to).await;
                seq = seq.wrapping_add(1);
            }
            ts = ts.wrapping_add(160);
            *sent_until.lock().expect("sent") = Instant::now();
            continue;
        }
        let (frame, speaking) = match queue.pop_front() {
            Some(f) => (f, true),
            None => (silence.clone(), false),
        };
        let p = RtpPacket { marker, payload_type: 0, sequence: seq, timestamp: ts, ssrc, payload: &frame };
        marker = false;
        let _ = rtp.send_to(&p.to_bytes(), to).await;
        seq = seq.wrapping_add(1);
        ts = ts.wrapping_add(160);
        if speaking {
            *sent_until.lock().expect("sent") = Instant::now();
        }
    }
}
