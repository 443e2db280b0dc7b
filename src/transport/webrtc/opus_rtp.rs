//! Opus over RTP for one call: decoding the caller's packets with loss concealment, and
//! encoding outbound 20 ms frames.

use crate::media::{f32_to_i16, i16_to_f32};

/// Samples in 20 ms at 48 kHz.
pub const FRAME_48K: usize = 960;
/// Most packets a gap is concealed for; longer gaps are a new talk spurt or a restart.
const MAX_CONCEAL: u16 = 5;

/// Decodes a stream of Opus RTP payloads to 48 kHz mono. Packets pass through a small
/// reordering window (`REORDER` packets, 60 ms): out-of-order packets are put back in
/// sequence, a packet still missing when the window is full is concealed by the decoder,
/// and packets arriving after their slot was played are dropped.
pub struct OpusIn {
    dec: opus::Decoder,
    next_seq: Option<u16>,
    pending: std::collections::BTreeMap<u16, Vec<u8>>,
    pcm: Vec<i16>,
    pub decode_errors: u64,
    pub concealed: u64,
    pub late: u64,
}

/// Packets held to wait for a missing one.
const REORDER: usize = 3;

impl OpusIn {
    /// A new decoder.
    pub fn new() -> Result<Self, opus::Error> {
        Ok(Self {
            dec: opus::Decoder::new(48_000, opus::Channels::Mono)?,
            next_seq: None,
            pending: Default::default(),
            pcm: vec![0; 5760],
            decode_errors: 0,
            concealed: 0,
            late: 0,
        })
    }

    /// Offset of `seq` after the next expected packet (wrapping).
    fn ahead(&self, seq: u16) -> u16 {
        seq.wrapping_sub(self.next_seq.unwrap_or(seq))
    }

    /// Add one packet; returns the audio that is now ready, in order.
    pub fn push(&mut self, seq: u16, payload: &[u8]) -> Vec<f32> {
        let mut out = Vec::new();
        if self.next_seq.is_none() {
            self.next_seq = Some(seq);
        }
        let ahead = self.ahead(seq);
        if ahead >= 0x8000 {
            self.late += 1;
            return out;
        }
        if ahead as usize > 50 * REORDER {
            // A jump (sender restart): play what is held, then start over at this packet.
            self.drain_all(&mut out);
            self.next_seq = Some(seq);
        }
        self.pending.insert(seq, payload.to_vec());
        loop {
            let next = self.next_seq.expect("set above");
            if let Some(p) = self.pending.remove(&next) {
                self.decode(&p, &mut out);
                self.next_seq = Some(next.wrapping_add(1));
            } else if self.pending.len() > REORDER {
                // Waited long enough for `next`: conceal it (at most a few in a row).
                let first = self.first_pending();
                let gap = first.wrapping_sub(next);
                for _ in 0..gap.min(MAX_CONCEAL) {
                    self.conceal(&mut out);
                }
                self.next_seq = Some(first);
            } else {
                break;
            }
        }
        out
    }

    fn first_pending(&self) -> u16 {
        let next = self.next_seq.expect("set");
        *self.pending.keys().min_by_key(|&&s| s.wrapping_sub(next)).expect("non-empty")
    }

    fn drain_all(&mut self, out: &mut Vec<f32>) {
        while !self.pending.is_empty() {
            let s = self.first_pending();
            let p = self.pending.remove(&s).expect("present");
            self.decode(&p, out);
        }
    }

    fn decode(&mut self, payload: &[u8], out: &mut Vec<f32>) {
        match self.dec.decode(payload, &mut self.pcm, false) {
            Ok(n) => out.extend(self.pcm[..n].iter().map(|&s| i16_to_f32(s))),
            Err(_) => self.decode_errors += 1,
        }
    }

    fn conceal(&mut self, out: &mut Vec<f32>) {
        if let Ok(n) = self.dec.decode(&[], &mut self.pcm[..FRAME_48K], false) {
            out.extend(self.pcm[..n].iter().map(|&s| i16_to_f32(s)));
            self.concealed += 1;
        }
    }
}

/// Encodes 20 ms frames of 48 kHz mono.
pub struct OpusOut {
    enc: opus::Encoder,
    buf: Vec<u8>,
}

impl OpusOut {
    /// A VoIP-tuned encoder.
    pub fn new() -> Result<Self, opus::Error> {
        let mut enc = opus::Encoder::new(48_000, opus::Channels::Mono, opus::Application::Voip)?;
        enc.set_bitrate(opus::Bitrate::Bits(32_000))?;
        Ok(Self { enc, buf: vec![0; 1500] })
    }

    /// Encode exactly one 20 ms frame.
    pub fn encode(&mut self, frame: &[f32]) -> Result<Vec<u8>, opus::Error> {
        let pcm: Vec<i16> = frame.iter().map(|&s| f32_to_i16(s)).collect();
        let n = self.enc.encode(&pcm, &mut self.buf)?;
        Ok(self.buf[..n].to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_with_loss_concealment_and_late_packets() {
        let mut enc = OpusOut::new().unwrap();
        let mut dec = OpusIn::new().unwrap();
        let tone: Vec<f32> =
            (0..FRAME_48K * 10).map(|i| (i as f32 * 440.0 * std::f32::consts::TAU / 48_000.0).sin() * 0.3).collect();
        let packets: Vec<Vec<u8>> = tone.chunks(FRAME_48K).map(|f| enc.encode(f).unwrap()).collect();
        let mut out = Vec::new();
        for (i, p) in packets.iter().enumerate() {
            if i == 4 || i == 5 {
                continue; // lost
            }
            out.extend(dec.push(100 + i as u16, p));
        }
        assert_eq!(out.len(), FRAME_48K * 10, "two lost frames concealed in place");
        assert_eq!(dec.concealed, 2);
        assert!(dec.push(101, &packets[1]).is_empty(), "late packet dropped");
        assert_eq!(dec.late, 1);
        let energy: f32 = out[FRAME_48K * 7..].iter().map(|s| s * s).sum::<f32>() / (FRAME_48K * 3) as f32;
        assert!(energy > 0.002, "the tone survives the codec: {energy}");
        assert!(dec.push(50_000, b"\xff\xff\xff").is_empty() || dec.decode_errors <= 1);
    }

    #[test]
    fn reordered_packets_are_put_back_in_sequence() {
        let mut enc = OpusOut::new().unwrap();
        let frames: Vec<Vec<f32>> = (0..6).map(|k| vec![0.05 * k as f32; FRAME_48K]).collect();
        let packets: Vec<Vec<u8>> = frames.iter().map(|f| enc.encode(f).unwrap()).collect();
        let mut dec = OpusIn::new().unwrap();
        let mut out = Vec::new();
        for i in [0usize, 2, 1, 3, 5, 4] {
            out.extend(dec.push(65_534u16.wrapping_add(i as u16), &packets[i]));
        }
        assert_eq!(out.len(), FRAME_48K * 6, "every packet decoded once (sequence wraps at 65535)");
        assert_eq!((dec.concealed, dec.late), (0, 0));
    }
}
