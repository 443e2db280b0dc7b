//! Writes classic libpcap files of an RTP stream (Ethernet/IPv4/UDP/RTP), so project WAV
//! fixtures can be played into a call by SIP test tools (`sipp ... play_pcap_audio`).

use std::io::Write;
use std::path::Path;

use super::packet::{RtpPacket, TelephoneEvent};
use crate::media::g711::Law;

/// Payload type used for telephone-events in written captures.
pub const DTMF_PT: u8 = 101;

/// One RTP packet with its send time.
pub struct TimedPacket {
    pub at_us: u64,
    pub data: Vec<u8>,
}

/// G.711 RTP packets of 20 ms for 8 kHz mono `samples`, followed by RFC 4733 events for
/// `dtmf` digits (each 100 ms long with 3 end packets, 100 ms apart), paced in real time.
pub fn rtp_stream(samples: &[f32], law: Law, dtmf: &str) -> Vec<TimedPacket> {
    let pt = if law == Law::Ulaw { 0 } else { 8 };
    let ssrc = 0x5357_4254;
    let mut out = Vec::new();
    let (mut seq, mut ts, mut at) = (1u16, 0u32, 0u64);
    for (i, chunk) in samples.chunks(160).enumerate() {
        let mut frame = chunk.to_vec();
        frame.resize(160, 0.0);
        let payload = law.encode(&frame);
        let p = RtpPacket { marker: i == 0, payload_type: pt, sequence: seq, timestamp: ts, ssrc, payload: &payload };
        out.push(TimedPacket { at_us: at, data: p.to_bytes() });
        seq = seq.wrapping_add(1);
        ts = ts.wrapping_add(160);
        at += 20_000;
    }
    for digit in dtmf.chars() {
        let Some(code) = TelephoneEvent::code_of(digit) else { continue };
        // 5 packets of a growing event, then 3 end packets, all with the event's start timestamp.
        for k in 1..=8u16 {
            let end = k > 5;
            let ev = TelephoneEvent { event: code, end, volume: 10, duration: 160 * k.min(5) };
            let payload = ev.to_bytes();
            let p = RtpPacket {
                marker: k == 1,
                payload_type: DTMF_PT,
                sequence: seq,
                timestamp: ts,
                ssrc,
                payload: &payload,
            };
            out.push(TimedPacket { at_us: at, data: p.to_bytes() });
            seq = seq.wrapping_add(1);
            if !end || k == 8 {
                at += 20_000;
            }
        }
        ts = ts.wrapping_add(160 * 10);
        at += 100_000;
    }
    out
}

fn checksum(words: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for c in words.chunks(2) {
        sum += u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]) as u32;
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Write `packets` as UDP from `src` to `dst` (IPv4 only; sipp rewrites the addresses).
pub fn write_pcap(
    path: &Path,
    packets: &[TimedPacket],
    src: std::net::SocketAddrV4,
    dst: std::net::SocketAddrV4,
) -> std::io::Result<()> {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    // Global header: magic, v2.4, UTC offset 0, accuracy 0, snaplen 65535, Ethernet.
    f.write_all(&0xa1b2c3d4u32.to_le_bytes())?;
    f.write_all(&2u16.to_le_bytes())?;
    f.write_all(&4u16.to_le_bytes())?;
    f.write_all(&[0; 8])?;
    f.write_all(&65535u32.to_le_bytes())?;
    f.write_all(&1u32.to_le_bytes())?;
    for (i, p) in packets.iter().enumerate() {
        let udp_len = 8 + p.data.len();
        let ip_len = 20 + udp_len;
        let mut frame = Vec::with_capacity(14 + ip_len);
        frame.extend_from_slice(&[0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00]);
        let mut ip = vec![0x45, 0];
        ip.extend_from_slice(&(ip_len as u16).to_be_bytes());
        ip.extend_from_slice(&(i as u16).to_be_bytes());
        ip.extend_from_slice(&[0x40, 0, 64, 17, 0, 0]);
        ip.extend_from_slice(&src.ip().octets());
        ip.extend_from_slice(&dst.ip().octets());
        let c = checksum(&ip);
        ip[10..12].copy_from_slice(&c.to_be_bytes());
        frame.extend_from_slice(&ip);
        frame.extend_from_slice(&src.port().to_be_bytes());
        frame.extend_from_slice(&dst.port().to_be_bytes());
        frame.extend_from_slice(&(udp_len as u16).to_be_bytes());
        frame.extend_from_slice(&[0, 0]); // UDP checksum optional over IPv4
        frame.extend_from_slice(&p.data);
        let secs = (p.at_us / 1_000_000) as u32 + 1_700_000_000;
        f.write_all(&secs.to_le_bytes())?;
        f.write_all(&((p.at_us % 1_000_000) as u32).to_le_bytes())?;
        f.write_all(&(frame.len() as u32).to_le_bytes())?;
        f.write_all(&(frame.len() as u32).to_le_bytes())?;
        f.write_all(&frame)?;
    }
    f.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_has_audio_then_dtmf_events() {
        let pkts = rtp_stream(&vec![0.1; 800], Law::Ulaw, "1#");
        assert_eq!(pkts.len(), 5 + 16);
        let last_audio = RtpPacket::parse(&pkts[4].data).unwrap();
        assert_eq!((last_audio.payload_type, last_audio.timestamp, last_audio.payload.len()), (0, 640, 160));
        let ev: Vec<_> = pkts[5..].iter().map(|p| RtpPacket::parse(&p.data).unwrap()).collect();
        assert!(ev.iter().all(|p| p.payload_type == DTMF_PT));
        let mut d = super::super::packet::DtmfDetector::default();
        let digits: String =
            ev.iter().filter_map(|p| d.push(p.timestamp, TelephoneEvent::parse(p.payload).unwrap())).collect();
        assert_eq!(digits, "1#");
        assert!(pkts.windows(2).all(|w| w[0].at_us <= w[1].at_us));
    }

    #[test]
    fn ip_checksum_verifies() {
        let hdr = [0x45, 0, 0, 0x54, 0, 0, 0x40, 0, 64, 17, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1];
        let c = checksum(&hdr);
        let mut with = hdr;
        with[10..12].copy_from_slice(&c.to_be_bytes());
        assert_eq!(checksum(&with), 0);
    }
}
