//! SDP (RFC 4566) parsing and the offer/answer negotiation (RFC 3264) for G.711 phone calls:
//! pick PCMU or PCMA, telephone-events (RFC 4733) if offered, mirror the media direction.

use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};

use crate::media::g711::Law;

/// Why an SDP body is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SdpError {
    /// Not text, or a line is not `x=value`.
    #[error("malformed SDP: {0}")]
    Malformed(String),
    /// No `m=audio` line with a non-zero port.
    #[error("no audio stream offered")]
    NoAudio,
    /// Audio offered, but none of PCMU/PCMA.
    #[error("no common codec (offered: {0}; supported: PCMU, PCMA)")]
    NoCommonCodec(String),
}

/// Media direction attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    SendRecv,
    SendOnly,
    RecvOnly,
    Inactive,
}

impl Direction {
    fn as_str(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }

    /// The direction to answer with (RFC 3264 6.1).
    pub fn mirror(self) -> Direction {
        match self {
            Direction::SendOnly => Direction::RecvOnly,
            Direction::RecvOnly => Direction::SendOnly,
            d => d,
        }
    }
}

/// One `m=` section.
#[derive(Debug, Clone, PartialEq)]
pub struct MediaDescription {
    pub kind: String,
    pub port: u16,
    pub proto: String,
    pub formats: Vec<String>,
    pub connection: Option<IpAddr>,
    pub attributes: Vec<(String, Option<String>)>,
}

/// A parsed session description (the parts a voice endpoint uses).
#[derive(Debug, Clone, PartialEq)]
pub struct SessionDescription {
    pub connection: Option<IpAddr>,
    pub attributes: Vec<(String, Option<String>)>,
    pub media: Vec<MediaDescription>,
}

fn parse_connection(v: &str) -> Result<Option<IpAddr>, SdpError> {
    let mut it = v.split_whitespace();
    let (Some("IN"), Some(_), Some(addr)) = (it.next(), it.next(), it.next()) else {
        return Err(SdpError::Malformed(format!("bad c= line {v:?}")));
    };
    // Multicast TTL suffix ("/127") is ignored.
    let addr = addr.split('/').next().unwrap_or(addr);
    Ok(addr.parse().ok())
}

impl SessionDescription {
    /// Parse SDP text.
    pub fn parse(body: &[u8]) -> Result<SessionDescription, SdpError> {
        let text = std::str::from_utf8(body).map_err(|_| SdpError::Malformed("not UTF-8".into()))?;
        let mut sd = SessionDescription { connection: None, attributes: Vec::new(), media: Vec::new() };
        let mut saw_version = false;
        for line in text.lines().map(str::trim_end).filter(|l| !l.is_empty()) {
            let (k, v) = line
                .split_once('=')
                .filter(|(k, _)| k.len() == 1)
                .ok_or_else(|| SdpError::Malformed(format!("line {:?}", line.chars().take(60).collect::<String>())))?;
            match k {
                "v" => {
                    if v != "0" {
                        return Err(SdpError::Malformed(format!("version {v}")));
                    }
                    saw_version = true;
                }
                "c" => {
                    let c = parse_connection(v)?;
                    match sd.media.last_mut() {
                        Some(m) => m.connection = c,
                        None => sd.connection = c,
                    }
                }
                "m" => {
                    let mut it = v.split_whitespace();
                    let kind = it.next().unwrap_or_default().to_string();
                    let port = it
                        .next()
                        .and_then(|p| p.split('/').next())
                        .and_then(|p| p.parse().ok())
                        .ok_or_else(|| SdpError::Malformed(format!("bad m= line {v:?}")))?;
                    let proto = it.next().unwrap_or_default().to_string();
                    let formats = it.map(str::to_string).collect();
                    sd.media.push(MediaDescription {
                        kind,
                        port,
                        proto,
                        formats,
                        connection: None,
                        attributes: vec![],
                    });
                }
                "a" => {
                    let attr = match v.split_once(':') {
                        Some((n, val)) => (n.to_string(), Some(val.to_string())),
                        None => (v.to_string(), None),
                    };
                    match sd.media.last_mut() {
                        Some(m) => m.attributes.push(attr),
                        None => sd.attributes.push(attr),
                    }
                }
                _ => {}
            }
        }
        if !saw_version {
            return Err(SdpError::Malformed("missing v=0".into()));
        }
        Ok(sd)
    }
}

impl MediaDescription {
    /// `a=rtpmap` encoding name and clock rate for a payload type (static types filled in).
    pub fn rtpmap(&self, pt: &str) -> Option<(String, u32)> {
        for (n, v) in &self.attributes {
            if n == "rtpmap" {
                let v = v.as_deref().unwrap_or("");
                let (p, enc) = v.split_once(' ')?;
                if p == pt {
                    let mut parts = enc.trim().split('/');
                    let name = parts.next()?.to_ascii_uppercase();
                    let rate = parts.next().and_then(|r| r.parse().ok()).unwrap_or(8000);
                    return Some((name, rate));
                }
            }
        }
        match pt {
            "0" => Some(("PCMU".into(), 8000)),
            "8" => Some(("PCMA".into(), 8000)),
            _ => None,
        }
    }

    /// The media direction (media level, then session level is handled by the caller).
    fn direction(&self) -> Option<Direction> {
        self.attributes.iter().find_map(|(n, _)| match n.as_str() {
            "sendrecv" => Some(Direction::SendRecv),
            "sendonly" => Some(Direction::SendOnly),
            "recvonly" => Some(Direction::RecvOnly),
            "inactive" => Some(Direction::Inactive),
            _ => None,
        })
    }
}

/// What an offer and our capabilities agree on.
#[derive(Debug, Clone, PartialEq)]
pub struct Negotiated {
    pub law: Law,
    pub payload_type: u8,
    pub dtmf_payload_type: Option<u8>,
    /// Where the caller wants RTP; `None` when unknown (or `0.0.0.0`, which is hold).
    pub remote: Option<SocketAddr>,
    /// The caller's direction.
    pub direction: Direction,
}

impl Negotiated {
    /// Whether the caller put us on hold (it will not send, or wants nothing).
    pub fn on_hold(&self) -> bool {
        matches!(self.direction, Direction::SendOnly | Direction::Inactive)
    }
}

/// Choose a codec from an offer: the first of the offerer's formats that is PCMU or PCMA.
pub fn negotiate(offer: &SessionDescription) -> Result<Negotiated, SdpError> {
    let audio = offer.media.iter().find(|m| m.kind == "audio" && m.port != 0).ok_or(SdpError::NoAudio)?;
    let mut chosen = None;
    let mut dtmf = None;
    let mut offered = Vec::new();
    for f in &audio.formats {
        let Some((name, rate)) = audio.rtpmap(f) else {
            offered.push(format!("pt {f}"));
            continue;
        };
        offered.push(name.clone());
        let Ok(pt) = f.parse::<u8>() else { continue };
        if pt > 127 {
            continue;
        }
        match (name.as_str(), rate) {
            ("PCMU", 8000) if chosen.is_none() => chosen = Some((Law::Ulaw, pt)),
            ("PCMA", 8000) if chosen.is_none() => chosen = Some((Law::Alaw, pt)),
            ("TELEPHONE-EVENT", 8000) if dtmf.is_none() => dtmf = Some(pt),
            _ => {}
        }
    }
    let (law, payload_type) = chosen.ok_or_else(|| SdpError::NoCommonCodec(offered.join(", ")))?;
    let direction = audio
        .direction()
        .or_else(|| {
            offer.attributes.iter().find_map(|(n, _)| match n.as_str() {
                "sendonly" => Some(Direction::SendOnly),
                "inactive" => Some(Direction::Inactive),
                "recvonly" => Some(Direction::RecvOnly),
                _ => None,
            })
        })
        .unwrap_or(Direction::SendRecv);
    let ip = audio.connection.or(offer.connection);
    let remote = ip.filter(|ip| !ip.is_unspecified()).map(|ip| SocketAddr::new(ip, audio.port));
    // RFC 2543-style hold: connection address 0.0.0.0 means "send nothing", i.e. inactive.
    let direction = if ip.is_some_and(|ip| ip.is_unspecified()) { Direction::Inactive } else { direction };
    Ok(Negotiated { law, payload_type, dtmf_payload_type: dtmf, remote, direction })
}

/// Our answer (or, for a late-offer INVITE, our offer when `neg` is `None`).
pub fn write_answer(neg: Option<&Negotiated>, ip: IpAddr, port: u16, session_id: u64, version: u64) -> String {
    let family = if ip.is_ipv4() { "IP4" } else { "IP6" };
    let mut s = String::new();
    let _ = write!(s, "v=0\r\no=switchboard {session_id} {version} IN {family} {ip}\r\ns=Switchboard\r\n");
    let _ = write!(s, "c=IN {family} {ip}\r\nt=0 0\r\n");
    match neg {
        Some(n) => {
            let name = if n.law == Law::Ulaw { "PCMU" } else { "PCMA" };
            match n.dtmf_payload_type {
                Some(te) => {
                    let _ = write!(s, "m=audio {port} RTP/AVP {} {te}\r\n", n.payload_type);
                    let _ = write!(s, "a=rtpmap:{} {name}/8000\r\n", n.payload_type);
                    let _ = write!(s, "a=rtpmap:{te} telephone-event/8000\r\na=fmtp:{te} 0-16\r\n");
                }
                None => {
                    let _ = write!(s, "m=audio {port} RTP/AVP {}\r\n", n.payload_type);
                    let _ = write!(s, "a=rtpmap:{} {name}/8000\r\n", n.payload_type);
                }
            }
            let _ = write!(s, "a=ptime:20\r\na={}\r\n", n.direction.mirror().as_str());
        }
        None => {
            let _ = write!(s, "m=audio {port} RTP/AVP 0 8 101\r\n");
            s.push_str("a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n");
            s.push_str("a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n");
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const OFFER: &str = "v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\n\
c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 9 8 0 101\r\na=rtpmap:9 G722/8000\r\n\
a=rtpmap:8 PCMA/8000\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n\
a=fmtp:101 0-15\r\n";

    #[test]
    fn picks_the_offerers_first_supported_codec_and_dtmf() {
        let sd = SessionDescription::parse(OFFER.as_bytes()).unwrap();
        let n = negotiate(&sd).unwrap();
        assert_eq!((n.law, n.payload_type, n.dtmf_payload_type), (Law::Alaw, 8, Some(101)));
        assert_eq!(n.remote, Some("127.0.0.1:6000".parse().unwrap()));
        assert!(!n.on_hold());
        let ans = write_answer(Some(&n), "127.0.0.1".parse().unwrap(), 10000, 1, 1);
        let a = SessionDescription::parse(ans.as_bytes()).unwrap();
        assert_eq!(a.media[0].formats, vec!["8", "101"]);
        assert_eq!(a.media[0].port, 10000);
        assert_eq!(negotiate(&a).unwrap().law, Law::Alaw);
    }

    #[test]
    fn hold_and_rejections() {
        let hold = OFFER.replace("c=IN IP4 127.0.0.1", "c=IN IP4 0.0.0.0");
        assert!(negotiate(&SessionDescription::parse(hold.as_bytes()).unwrap()).unwrap().on_hold());
        let sendonly = format!("{OFFER}a=sendonly\r\n");
        let n = negotiate(&SessionDescription::parse(sendonly.as_bytes()).unwrap()).unwrap();
        assert_eq!((n.direction, n.direction.mirror()), (Direction::SendOnly, Direction::RecvOnly));
        let g722 = OFFER.replace("RTP/AVP 9 8 0 101", "RTP/AVP 9");
        assert!(matches!(
            negotiate(&SessionDescription::parse(g722.as_bytes()).unwrap()),
            Err(SdpError::NoCommonCodec(s)) if s.contains("G722")
        ));
        let video = "v=0\r\nc=IN IP4 1.2.3.4\r\nm=video 5000 RTP/AVP 96\r\n";
        assert_eq!(negotiate(&SessionDescription::parse(video.as_bytes()).unwrap()), Err(SdpError::NoAudio));
        assert!(SessionDescription::parse(b"garbage").is_err());
        assert!(SessionDescription::parse(b"v=1\r\n").is_err());
        assert!(SessionDescription::parse(b"v=0\r\nm=audio x RTP/AVP 0\r\n").is_err());
    }
}
