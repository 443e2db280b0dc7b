//! A fixed-delay playout buffer for one RTP stream (sans-IO: arrival time passed in).
//! Packets are placed by RTP timestamp, so any packet size works (sipp's captures use 30 ms);
//! the reader pulls exactly one frame per 20 ms tick. Reordered packets are put back in
//! order, missing audio is played as silence, late packets are dropped, and a sender that
//! jumps far ahead or back (a restart, a new SSRC) resynchronises the buffer.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Buffer tuning.
#[derive(Debug, Clone, Copy)]
pub struct JitterConfig {
    /// Playout delay: how long the first packet waits before it is played.
    pub delay: Duration,
    /// Timestamp jumps larger than this resynchronise the buffer.
    pub max_jump: Duration,
    /// If more than this much audio is queued (a sender clock running fast), skip ahead.
    pub max_queued: Duration,
}

impl Default for JitterConfig {
    fn default() -> Self {
        Self {
            delay: Duration::from_millis(60),
            max_jump: Duration::from_secs(3),
            max_queued: Duration::from_millis(300),
        }
    }
}

/// Counters for the call's media statistics.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct JitterStats {
    pub packets: u64,
    pub late: u64,
    pub duplicates: u64,
    pub resyncs: u64,
    /// Samples played as silence because their packet never arrived (loss or pause).
    pub concealed_samples: u64,
    pub skipped_samples: u64,
}

/// What happened to a pushed packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Push {
    Accepted,
    Late,
    Duplicate,
    Resynced,
}

/// The buffer. Timestamps are unwrapped to 64 bits.
pub struct JitterBuffer {
    cfg: JitterConfig,
    rate: u32,
    frame: usize,
    chunks: BTreeMap<i64, Vec<f32>>,
    last_ts: Option<(u32, i64)>,
    play: Option<i64>,
    start_at: Option<Instant>,
    stats: JitterStats,
}

impl JitterBuffer {
    /// A buffer for `rate` Hz audio, pulled `frame_ms` at a time.
    pub fn new(cfg: JitterConfig, rate: u32, frame_ms: u32) -> Self {
        Self {
            cfg,
            rate,
            frame: (rate * frame_ms / 1000) as usize,
            chunks: BTreeMap::new(),
            last_ts: None,
            play: None,
            start_at: None,
            stats: JitterStats::default(),
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> JitterStats {
        self.stats
    }

    fn samples(&self, d: Duration) -> i64 {
        (d.as_secs_f64() * self.rate as f64) as i64
    }

    fn unwrap_ts(&mut self, ts: u32) -> i64 {
        let ext = match self.last_ts {
            None => ts as i64,
            Some((last, last_ext)) => last_ext + ts.wrapping_sub(last) as i32 as i64,
        };
        self.last_ts = Some((ts, ext));
        ext
    }

    /// Forget everything (a new SSRC); the next packet starts a new playout.
    pub fn reset(&mut self) {
        self.chunks.clear();
        self.last_ts = None;
        self.play = None;
        self.start_at = None;
    }

    /// Add a decoded packet.
    pub fn push(&mut self, now: Instant, timestamp: u32, samples: Vec<f32>) -> Push {
        self.stats.packets += 1;
        let ext = self.unwrap_ts(timestamp);
        let mut result = Push::Accepted;
        if let Some(play) = self.play {
            let jump = self.samples(self.cfg.max_jump);
            if ext > play + jump || ext + (samples.len() as i64) + jump < play {
                self.stats.resyncs += 1;
                self.chunks.clear();
                self.play = Some(ext);
                result = Push::Resynced;
            } else if ext + samples.len() as i64 <= play {
                self.stats.late += 1;
                return Push::Late;
            }
        } else if self.start_at.is_none() {
            self.start_at = Some(now + self.cfg.delay);
        }
        if self.chunks.contains_key(&ext) {
            self.stats.duplicates += 1;
            return Push::Duplicate;
        }
        self.chunks.insert(ext, samples);
        result
    }

    /// One frame of audio, or `None` while nothing has started playing yet.
    pub fn pull(&mut self, now: Instant) -> Option<Vec<f32>> {
        let play = match self.play {
            Some(p) => p,
            None => {
                if self.start_at.is_none_or(|t| now < t) {
                    return None;
                }
                let first = *self.chunks.keys().next()?;
                self.play = Some(first);
                first
            }
        };
        let end = play + self.frame as i64;
        let mut out = vec![0.0f32; self.frame];
        let mut filled = 0usize;
        let mut consumed = Vec::new();
        for (&ts, chunk) in self.chunks.range(..end) {
            let cend = ts + chunk.len() as i64;
            if cend <= play {
                consumed.push(ts);
                continue;
            }
            let from = play.max(ts);
            let to = end.min(cend);
            for t in from..to {
                out[(t - play) as usize] = chunk[(t - ts) as usize];
            }
            filled += (to - from) as usize;
            if cend <= end {
                consumed.push(ts);
            }
        }
        for ts in consumed {
            self.chunks.remove(&ts);
        }
        self.stats.concealed_samples += (self.frame - filled) as u64;
        let mut next = end;
        // A sender whose clock runs fast fills the buffer: drop the oldest audio.
        if let Some((&last, chunk)) = self.chunks.iter().next_back() {
            let queued = last + chunk.len() as i64 - next;
            let limit = self.samples(self.cfg.max_queued);
            if queued > limit {
                let skip = queued - self.samples(self.cfg.delay);
                next += skip;
                self.stats.skipped_samples += skip as u64;
                self.chunks.retain(|&ts, c| ts + c.len() as i64 > next);
            }
        }
        self.play = Some(next);
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkt(v: f32, n: usize) -> Vec<f32> {
        vec![v; n]
    }

    #[test]
    fn waits_for_the_delay_then_plays_in_order() {
        let t0 = Instant::now();
        let mut jb = JitterBuffer::new(JitterConfig::default(), 8000, 20);
        // Arrive out of order: 2, 1, 3 (timestamps step 160).
        jb.push(t0, 320, pkt(2.0, 160));
        jb.push(t0, 160, pkt(1.0, 160));
        jb.push(t0, 480, pkt(3.0, 160));
        assert_eq!(jb.pull(t0 + Duration::from_millis(20)), None, "within the playout delay");
        let t = t0 + Duration::from_millis(60);
        assert_eq!(jb.pull(t).unwrap()[0], 1.0);
        assert_eq!(jb.pull(t).unwrap()[0], 2.0);
        assert_eq!(jb.pull(t).unwrap()[0], 3.0);
        // Nothing left: silence, counted as concealed.
        assert_eq!(jb.pull(t).unwrap(), vec![0.0; 160]);
        assert_eq!(jb.stats().concealed_samples, 160);
    }

    #[test]
    fn loss_is_silence_and_late_packets_are_dropped() {
        let t0 = Instant::now();
        let mut jb = JitterBuffer::new(JitterConfig::default(), 8000, 20);
        jb.push(t0, 0, pkt(1.0, 160));
        jb.push(t0, 320, pkt(3.0, 160));
        let t = t0 + Duration::from_secs(1);
        assert_eq!(jb.pull(t).unwrap()[0], 1.0);
        assert_eq!(jb.pull(t).unwrap()[0], 0.0, "packet 2 lost");
        assert_eq!(jb.push(t, 160, pkt(2.0, 160)), Push::Late);
        assert_eq!(jb.pull(t).unwrap()[0], 3.0);
        assert_eq!(jb.push(t, 480, pkt(4.0, 160)), Push::Accepted);
        assert_eq!(jb.push(t, 480, pkt(4.0, 160)), Push::Duplicate);
    }

    #[test]
    fn thirty_ms_packets_and_timestamp_wrap() {
        let t0 = Instant::now();
        let mut jb = JitterBuffer::new(JitterConfig::default(), 8000, 20);
        let start = u32::MAX - 239;
        for i in 0..4u32 {
            jb.push(t0, start.wrapping_add(i * 240), pkt(i as f32 + 1.0, 240));
        }
        let t = t0 + Duration::from_millis(60);
        let mut all = vec![];
        for _ in 0..6 {
            all.extend(jb.pull(t).unwrap());
        }
        assert_eq!(all.len(), 960);
        assert!(all[..240].iter().all(|&s| s == 1.0) && all[240..480].iter().all(|&s| s == 2.0));
        assert!(all[720..].iter().all(|&s| s == 4.0));
        assert_eq!(jb.stats().concealed_samples, 0);
    }

    #[test]
    fn huge_jumps_resync_and_fast_senders_are_trimmed() {
        let t0 = Instant::now();
        let mut jb = JitterBuffer::new(JitterConfig::default(), 8000, 20);
        jb.push(t0, 0, pkt(1.0, 160));
        let t = t0 + Duration::from_millis(60);
        jb.pull(t);
        assert_eq!(jb.push(t, 8000 * 100, pkt(9.0, 160)), Push::Resynced);
        assert_eq!(jb.pull(t).unwrap()[0], 9.0);
        // 1 s queued at once: skip down to the playout delay.
        for i in 1..=50u32 {
            jb.push(t, 8000 * 100 + i * 160, pkt(5.0, 160));
        }
        jb.pull(t);
        assert!(jb.stats().skipped_samples > 0);
        assert_eq!(jb.stats().resyncs, 1);
    }
}
