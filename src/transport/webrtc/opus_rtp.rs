//! Opus over RTP for one call: decoding the caller's packets with loss concealment, and
//! encoding outbound 20 ms frames.

use crate::media::{f32_to_i16, i16_to_f32};

/// Samples in 20 ms at 48 kHz.
pub const FRAME_48K: usize = 960;
/// Most packets a gap is concealed for; longer gaps are a new talk spurt or a restart.
const MAX_CONCEAL: u16 = 5;

/// Decodes a stream of Opus RTP payloads to 48 kHz mono, concealing short losses.
pub struct OpusIn {
    dec: opus::Decoder,
    next_seq: Option<u16>,
    pcm: Vec<i16>,
    pub decode_errors: u64,
    pub concealed: u64,
    pub late: u64,
}

impl OpusIn {
    /// A new decoder.
    pub fn new() -> Result<Self, opus::Error> {
        Ok(Self {
            dec: opus::Decoder::new(48_000, opus::Channels::Mono)?,
            next_seq: None,
            pcm: vec![0; 5760],
            decode_errors: 0,
            concealed: 0,
            late: 0,
        })
    }

    /// Decode one packet (plus concealment for packets lost just before it).
    pub fn push(&mut self, seq: u16, payload: &[u8]) -> Vec<f32> {
        let mut out = Vec::new();
        if let Some(expected) = self.next_seq {
            let gap = seq.wrapping_sub(expected);
            if gap >= 0x8000 {
                // Older than what we already played: late or duplicate.
                self.late += 1;
                return out;
            }
            if gap > 0 && gap <= MAX_CONCEAL {
                for _ in 0..gap {
                    if let Ok(n) = self.dec.decode(&[], &mut self.pcm[..FRAME_48K], false) {
                        out.extend(self.pcm[..n].iter().map(|&s| i16_to_f32(s)));
                        self.concealed += 1;
                    }
                }
            }
        }
        self.next_seq = Some(seq.wrapping_add(1));
        match self.dec.decode(payload, &mut self.pcm, false) {
            Ok(n) => out.extend(self.pcm[..n].iter().map(|&s| i16_to_f32(s))),
            Err(_) => self.decode_errors += 1,
        }
        out
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
}
