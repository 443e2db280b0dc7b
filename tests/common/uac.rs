//! A hand-written SIP user agent client over UDP, for tests that need exact control of what
//! is sent (bad input, hijack attempts) where sipp and baresip would not.

use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use switchboard::transport::sip::message::SipMessage;

pub struct Uac {
    pub sock: UdpSocket,
    pub server: SocketAddr,
}

impl Uac {
    pub fn new(server: SocketAddr) -> Self {
        Self::bind(server, "127.0.0.1")
    }

    /// A client on another loopback address (127.0.0.2, ...).
    pub fn bind(server: SocketAddr, ip: &str) -> Self {
        let sock = UdpSocket::bind((ip, 0)).unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        Self { sock, server }
    }

    pub fn addr(&self) -> SocketAddr {
        self.sock.local_addr().unwrap()
    }

    pub fn send(&self, data: &[u8]) {
        self.sock.send_to(data, self.server).unwrap();
    }

    /// Next SIP message, or None after the timeout.
    pub fn recv(&self) -> Option<SipMessage> {
        let mut buf = vec![0u8; 65536];
        let (n, _) = self.sock.recv_from(&mut buf).ok()?;
        Some(SipMessage::parse(&buf[..n]).expect("server sends valid SIP"))
    }

    /// Next final response for `call_id` (skipping 1xx, and retransmitted finals of earlier
    /// requests that this test client never acknowledges).
    pub fn final_for(&self, call_id: &str) -> SipMessage {
        loop {
            let m = self.recv().expect("a response");
            if m.status().is_some_and(|c| c >= 200) && m.call_id() == Some(call_id) {
                return m;
            }
        }
    }

    pub fn request(
        &self,
        method: &str,
        call_id: &str,
        cseq: u32,
        to_tag: Option<&str>,
        extra: &str,
        body: &str,
    ) -> String {
        let to_tag = to_tag.map(|t| format!(";tag={t}")).unwrap_or_default();
        format!(
            "{method} sip:switchboard@{srv} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bK{}{cseq}{method};rport\r\n\
             From: <sip:+15550199@{me}>;tag=uac1\r\nTo: <sip:switchboard@{srv}>{to_tag}\r\nCall-ID: {call_id}\r\n\
             CSeq: {cseq} {method}\r\nContact: <sip:uac@{me}>\r\nMax-Forwards: 70\r\n{extra}Content-Length: {}\r\n\r\n{body}",
            fastrand::u32(..),
            body.len(),
            srv = self.server,
            me = self.addr(),
        )
    }
}

pub fn sdp(port: u16, formats: &str, maps: &str) -> String {
    format!("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {port} RTP/AVP {formats}\r\n{maps}")
}

pub const SDP_CT: &str = "Content-Type: application/sdp\r\n";
