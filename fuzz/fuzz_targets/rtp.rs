//! RTP and telephone-event parsing, and the jitter buffer fed with whatever parses, never
//! panic; frames always have the configured length.
#![no_main]
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use switchboard::transport::rtp::jitter::{JitterBuffer, JitterConfig};
use switchboard::transport::rtp::packet::{DtmfDetector, RtpPacket, TelephoneEvent};

fuzz_target!(|data: &[u8]| {
    let t0 = Instant::now();
    let mut jb = JitterBuffer::new(JitterConfig::default(), 8000, 20);
    let mut dtmf = DtmfDetector::default();
    for (i, chunk) in data.split(|&b| b == 0xfe).enumerate() {
        let now = t0 + Duration::from_millis(i as u64 * 20);
        if let Ok(p) = RtpPacket::parse(chunk) {
            if let Some(ev) = TelephoneEvent::parse(p.payload) {
                let _ = dtmf.push(p.timestamp, ev);
            }
            let samples = p.payload.iter().map(|&b| b as f32 / 255.0).collect();
            jb.push(now, p.timestamp, samples);
        }
        if let Some(f) = jb.pull(now + Duration::from_millis(100)) {
            assert_eq!(f.len(), 160);
        }
    }
});
