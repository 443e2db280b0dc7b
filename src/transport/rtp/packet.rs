//! RTP packets (RFC 3550 section 5.1) and RFC 4733 telephone-event payloads.

/// Why a datagram is not a usable RTP packet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RtpError {
    /// Shorter than the 12-byte fixed header (or its CSRC list / extension).
    #[error("packet too short ({0} bytes)")]
    TooShort(usize),
    /// Version field is not 2.
    #[error("RTP version {0} (expected 2)")]
    BadVersion(u8),
    /// Padding count larger than the payload.
    #[error("bad padding length")]
    BadPadding,
    /// An RTCP packet on the RTP port (rtcp-mux); not an error, just not media.
    #[error("RTCP packet type {0}")]
    Rtcp(u8),
}

/// A parsed RTP packet borrowing its payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpPacket<'a> {
    pub marker: bool,
    pub payload_type: u8,
    pub sequence: u16,
    pub timestamp: u32,
    pub ssrc: u32,
    pub payload: &'a [u8],
}

impl<'a> RtpPacket<'a> {
    /// Parse a datagram.
    pub fn parse(data: &'a [u8]) -> Result<RtpPacket<'a>, RtpError> {
        if data.len() < 12 {
            return Err(RtpError::TooShort(data.len()));
        }
        let version = data[0] >> 6;
        if version != 2 {
            return Err(RtpError::BadVersion(version));
        }
        // RFC 5761: payload types 72-76 (with marker) are RTCP SR/RR/SDES/BYE/APP.
        if (200..=204).contains(&data[1]) {
            return Err(RtpError::Rtcp(data[1]));
        }
        let padding = data[0] & 0x20 != 0;
        let extension = data[0] & 0x10 != 0;
        let csrc = (data[0] & 0x0f) as usize;
        let mut start = 12 + 4 * csrc;
        if data.len() < start {
            return Err(RtpError::TooShort(data.len()));
        }
        if extension {
            if data.len() < start + 4 {
                return Err(RtpError::TooShort(data.len()));
            }
            let words = u16::from_be_bytes([data[start + 2], data[start + 3]]) as usize;
            start += 4 + 4 * words;
            if data.len() < start {
                return Err(RtpError::TooShort(data.len()));
            }
        }
        let mut end = data.len();
        if padding {
            let pad = data[end - 1] as usize;
            if pad == 0 || pad > end - start {
                return Err(RtpError::BadPadding);
            }
            end -= pad;
        }
        Ok(RtpPacket {
            marker: data[1] & 0x80 != 0,
            payload_type: data[1] & 0x7f,
            sequence: u16::from_be_bytes([data[2], data[3]]),
            timestamp: u32::from_be_bytes([data[4], data[5], data[6], data[7]]),
            ssrc: u32::from_be_bytes([data[8], data[9], data[10], data[11]]),
            payload: &data[start..end],
        })
    }

    /// Serialise (no CSRCs, extension or padding).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(12 + self.payload.len());
        out.push(0x80);
        out.push((self.payload_type & 0x7f) | if self.marker { 0x80 } else { 0 });
        out.extend_from_slice(&self.sequence.to_be_bytes());
        out.extend_from_slice(&self.timestamp.to_be_bytes());
        out.extend_from_slice(&self.ssrc.to_be_bytes());
        out.extend_from_slice(self.payload);
        out
    }
}

/// An RFC 4733 telephone-event payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TelephoneEvent {
    pub event: u8,
    pub end: bool,
    pub volume: u8,
    pub duration: u16,
}

impl TelephoneEvent {
    /// Parse the 4-byte payload (extra bytes, from redundant events, are ignored).
    pub fn parse(p: &[u8]) -> Option<TelephoneEvent> {
        if p.len() < 4 {
            return None;
        }
        Some(TelephoneEvent {
            event: p[0],
            end: p[1] & 0x80 != 0,
            volume: p[1] & 0x3f,
            duration: u16::from_be_bytes([p[2], p[3]]),
        })
    }

    /// Serialise.
    pub fn to_bytes(self) -> [u8; 4] {
        let d = self.duration.to_be_bytes();
        [self.event, (self.volume & 0x3f) | if self.end { 0x80 } else { 0 }, d[0], d[1]]
    }

    /// The DTMF digit of this event (0-9, *, #, A-D), if it is one.
    pub fn digit(self) -> Option<char> {
        Some(match self.event {
            0..=9 => (b'0' + self.event) as char,
            10 => '*',
            11 => '#',
            12..=15 => (b'A' + self.event - 12) as char,
            _ => return None,
        })
    }

    /// The event code of a DTMF digit.
    pub fn code_of(digit: char) -> Option<u8> {
        Some(match digit.to_ascii_uppercase() {
            d @ '0'..='9' => d as u8 - b'0',
            '*' => 10,
            '#' => 11,
            d @ 'A'..='D' => d as u8 - b'A' + 12,
            _ => return None,
        })
    }
}

/// Turns a stream of telephone-event packets into digits: one digit per event (events are
/// identified by their RTP timestamp; the 3 redundant end packets and retransmissions of
/// the same event are ignored). Reported on the first packet, so a lost end packet does not
/// lose the digit.
#[derive(Debug, Default)]
pub struct DtmfDetector {
    last: Option<(u32, u8)>,
}

impl DtmfDetector {
    /// Feed one telephone-event packet; returns a digit when a new event starts.
    pub fn push(&mut self, timestamp: u32, ev: TelephoneEvent) -> Option<char> {
        let digit = ev.digit()?;
        if self.last == Some((timestamp, ev.event)) {
            return None;
        }
        self.last = Some((timestamp, ev.event));
        Some(digit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_header_variants() {
        let p =
            RtpPacket { marker: true, payload_type: 0, sequence: 65535, timestamp: 1 << 31, ssrc: 42, payload: b"abc" };
        let bytes = p.to_bytes();
        assert_eq!(RtpPacket::parse(&bytes).unwrap(), p);
        // CSRC list, extension and padding.
        let mut b = vec![0x80 | 0x20 | 0x10 | 1, 8, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3];
        b.extend_from_slice(&[9, 9, 9, 9]); // CSRC
        b.extend_from_slice(&[0xbe, 0xde, 0, 1, 1, 2, 3, 4]); // extension, 1 word
        b.extend_from_slice(b"xy");
        b.extend_from_slice(&[0, 2]); // 2 bytes padding
        let p = RtpPacket::parse(&b).unwrap();
        assert_eq!((p.payload_type, p.payload), (8, &b"xy"[..]));
    }

    #[test]
    fn rejects_garbage() {
        assert_eq!(RtpPacket::parse(&[0x80; 5]), Err(RtpError::TooShort(5)));
        assert_eq!(RtpPacket::parse(&[0x40; 20]), Err(RtpError::BadVersion(1)));
        assert_eq!(RtpPacket::parse(&[0x8f; 20]), Err(RtpError::TooShort(20)));
        let mut b = vec![0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 200];
        assert_eq!(RtpPacket::parse(&b), Err(RtpError::BadPadding));
        b[1] = 201;
        assert_eq!(RtpPacket::parse(&b), Err(RtpError::Rtcp(201)));
    }

    #[test]
    fn dtmf_events_become_one_digit_each() {
        let mut d = DtmfDetector::default();
        let ev = |event, end| TelephoneEvent { event, end, volume: 10, duration: 160 };
        assert_eq!(d.push(1000, ev(5, false)), Some('5'));
        assert_eq!(d.push(1000, ev(5, false)), None);
        assert_eq!(d.push(1000, ev(5, true)), None);
        assert_eq!(d.push(1000, ev(5, true)), None);
        assert_eq!(d.push(2000, ev(5, false)), Some('5'), "same digit again is a new event");
        assert_eq!(d.push(3000, ev(11, true)), Some('#'), "end-only event still counts");
        assert_eq!(d.push(4000, ev(16, false)), None, "flash is not a digit");
        assert_eq!(TelephoneEvent::parse(&ev(10, true).to_bytes()).unwrap().digit(), Some('*'));
        for c in "0123456789*#ABCD".chars() {
            assert_eq!(ev(TelephoneEvent::code_of(c).unwrap(), false).digit(), Some(c));
        }
    }
}
