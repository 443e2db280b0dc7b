//! G.711 mu-law (PCMU) and A-law (PCMA) codecs, table-driven, built at compile time.

const fn ulaw_decode_calc(u: u8) -> i16 {
    let u = !u;
    let sign = u & 0x80;
    let exponent = ((u >> 4) & 0x07) as i32;
    let mantissa = (u & 0x0F) as i32;
    let magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84;
    if sign != 0 {
        -magnitude as i16
    } else {
        magnitude as i16
    }
}

const fn alaw_decode_calc(a: u8) -> i16 {
    let a = a ^ 0x55;
    let sign = a & 0x80;
    let exponent = ((a >> 4) & 0x07) as i32;
    let mantissa = (a & 0x0F) as i32;
    let magnitude = if exponent == 0 { (mantissa << 4) + 8 } else { ((mantissa << 4) + 0x108) << (exponent - 1) };
    if sign != 0 {
        magnitude as i16
    } else {
        -magnitude as i16
    }
}

const fn ulaw_encode_calc(pcm: i16) -> u8 {
    const BIAS: i32 = 0x84;
    const CLIP: i32 = 32635;
    let mut s = pcm as i32;
    let sign = if s < 0 { 0x80 } else { 0 };
    if s < 0 {
        // One's complement, as the ITU-T G.191 reference encoder: keeps the 14-bit table exact.
        s = -s - 1;
    }
    if s > CLIP {
        s = CLIP;
    }
    s += BIAS;
    let mut exponent = 7;
    let mut mask = 0x4000;
    while exponent > 0 && (s & mask) == 0 {
        exponent -= 1;
        mask >>= 1;
    }
    let mantissa = (s >> (exponent + 3)) & 0x0F;
    !((sign | (exponent << 4) | mantissa) as u8)
}

const fn alaw_encode_calc(pcm: i16) -> u8 {
    let mut s = pcm as i32;
    let sign = if s >= 0 { 0x80 } else { 0 };
    if s < 0 {
        s = -s - 1;
    }
    if s > 32767 {
        s = 32767;
    }
    let code = if s < 256 {
        (s >> 4) & 0x0F
    } else {
        let mut exponent = 7;
        let mut mask = 0x4000;
        while (s & mask) == 0 {
            exponent -= 1;
            mask >>= 1;
        }
        (exponent << 4) | ((s >> (exponent + 3)) & 0x0F)
    };
    ((sign | code) as u8) ^ 0x55
}

const fn build_ulaw_decode() -> [i16; 256] {
    let mut t = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = ulaw_decode_calc(i as u8);
        i += 1;
    }
    t
}

const fn build_alaw_decode() -> [i16; 256] {
    let mut t = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = alaw_decode_calc(i as u8);
        i += 1;
    }
    t
}

// Encoding tables are indexed by the sample's top 14 bits (mu-law) / 13 bits (A-law):
// the low bits never change the code, so the table is exact.
const fn build_ulaw_encode() -> [u8; 16384] {
    let mut t = [0u8; 16384];
    let mut i = 0;
    while i < 16384 {
        let pcm = ((i as i32) << 2) as i16; // sign-extended via wrap below
        t[i] = ulaw_encode_calc(pcm);
        i += 1;
    }
    t
}

const fn build_alaw_encode() -> [u8; 8192] {
    let mut t = [0u8; 8192];
    let mut i = 0;
    while i < 8192 {
        let pcm = ((i as i32) << 3) as i16;
        t[i] = alaw_encode_calc(pcm);
        i += 1;
    }
    t
}

static ULAW_DECODE: [i16; 256] = build_ulaw_decode();
static ALAW_DECODE: [i16; 256] = build_alaw_decode();
static ULAW_ENCODE: [u8; 16384] = build_ulaw_encode();
static ALAW_ENCODE: [u8; 8192] = build_alaw_encode();

/// Decode one mu-law byte to 16-bit linear PCM.
#[inline]
pub fn ulaw_to_linear(u: u8) -> i16 {
    ULAW_DECODE[u as usize]
}

/// Decode one A-law byte to 16-bit linear PCM.
#[inline]
pub fn alaw_to_linear(a: u8) -> i16 {
    ALAW_DECODE[a as usize]
}

/// Encode 16-bit linear PCM to mu-law.
#[inline]
pub fn linear_to_ulaw(pcm: i16) -> u8 {
    ULAW_ENCODE[((pcm as u16) >> 2) as usize]
}

/// Encode 16-bit linear PCM to A-law.
#[inline]
pub fn linear_to_alaw(pcm: i16) -> u8 {
    ALAW_ENCODE[((pcm as u16) >> 3) as usize]
}

/// The two G.711 laws.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Law {
    /// PCMU, RTP payload type 0.
    Ulaw,
    /// PCMA, RTP payload type 8.
    Alaw,
}

impl Law {
    /// Decode a payload to f32 samples.
    pub fn decode(self, payload: &[u8]) -> Vec<f32> {
        let table = match self {
            Law::Ulaw => &ULAW_DECODE,
            Law::Alaw => &ALAW_DECODE,
        };
        payload.iter().map(|&b| table[b as usize] as f32 / 32768.0).collect()
    }

    /// Encode f32 samples to a payload.
    pub fn encode(self, samples: &[f32]) -> Vec<u8> {
        samples
            .iter()
            .map(|&s| {
                let pcm = super::f32_to_i16(s);
                match self {
                    Law::Ulaw => linear_to_ulaw(pcm),
                    Law::Alaw => linear_to_alaw(pcm),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips() {
        for b in 0..=255u8 {
            let u = linear_to_ulaw(ulaw_to_linear(b));
            // 0x7F and 0xFF both decode to zero; every other code is its own inverse.
            assert_eq!(ulaw_to_linear(u), ulaw_to_linear(b), "ulaw {b:#x}");
            assert_eq!(linear_to_alaw(alaw_to_linear(b)), b, "alaw {b:#x}");
        }
    }

    #[test]
    fn table_encoder_matches_reference_for_all_samples() {
        for pcm in i16::MIN..=i16::MAX {
            assert_eq!(linear_to_ulaw(pcm), ulaw_encode_calc(pcm), "ulaw {pcm}");
            assert_eq!(linear_to_alaw(pcm), alaw_encode_calc(pcm), "alaw {pcm}");
        }
    }

    #[test]
    fn known_values() {
        // ITU-T G.711: silence codes and full-scale values.
        assert_eq!(linear_to_ulaw(0), 0xFF);
        assert_eq!(linear_to_alaw(0), 0xD5);
        assert_eq!(ulaw_to_linear(0x00), -32124);
        assert_eq!(ulaw_to_linear(0x80), 32124);
        assert_eq!(alaw_to_linear(0xAA), 32256);
        assert_eq!(alaw_to_linear(0x2A), -32256);
    }

    #[test]
    fn quantisation_error_is_bounded() {
        for pcm in (-32000i32..32000).step_by(7) {
            let pcm = pcm as i16;
            let u = ulaw_to_linear(linear_to_ulaw(pcm)) as i32;
            let a = alaw_to_linear(linear_to_alaw(pcm)) as i32;
            let bound = (pcm as i32).abs() / 16 + 16;
            assert!((u - pcm as i32).abs() <= bound, "ulaw {pcm} -> {u}");
            assert!((a - pcm as i32).abs() <= bound, "alaw {pcm} -> {a}");
        }
    }

    #[test]
    fn payload_round_trip_keeps_a_tone() {
        let tone: Vec<f32> = (0..160).map(|i| 0.5 * (i as f32 * 0.3).sin()).collect();
        for law in [Law::Ulaw, Law::Alaw] {
            let back = law.decode(&law.encode(&tone));
            let err: f32 = tone.iter().zip(&back).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
            assert!(err < 0.02, "{law:?} max error {err}");
        }
    }
}
