//! The assistant's voice queue (greeting, replies, the call's messages). The actor writes
//! whole clips; the call's mixer takes one frame per 20 ms tick. `clear` drops what is
//! queued (barge-in) and bumps a generation counter so a transport can tell its peer
//! (a media-stream `clear`).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

use crate::media::resample::resample_all;

/// Outbound audio at the transport's sample rate.
pub struct Playout {
    rate: u32,
    queue: Mutex<VecDeque<f32>>,
    generation: AtomicU64,
    /// Paused: the mixer gets silence and the queue waits (a possible barge-in).
    paused: AtomicBool,
}

impl Playout {
    /// An empty queue for audio at `rate` Hz.
    pub fn new(rate: u32) -> Self {
        Self { rate, queue: Mutex::new(VecDeque::new()), generation: AtomicU64::new(0), paused: AtomicBool::new(false) }
    }

    /// Queue mono audio recorded at `rate` Hz (resampled if needed).
    pub fn play(&self, samples: &[f32], rate: u32) {
        let converted;
        let samples = if rate == self.rate {
            samples
        } else {
            match resample_all(samples, rate, self.rate) {
                Ok(s) => {
                    converted = s;
                    &converted
                }
                Err(e) => {
                    tracing::warn!("playout: cannot resample {rate} -> {}: {e}", self.rate);
                    return;
                }
            }
        };
        self.queue.lock().expect("playout lock").extend(samples.iter().copied());
    }

    /// Take the next `n` samples, padded with silence; `None` when nothing is queued (the
    /// call's mixer calls it once a tick).
    pub fn take(&self, n: usize) -> Option<Vec<f32>> {
        let mut q = self.queue.lock().expect("playout lock");
        if q.is_empty() {
            return None;
        }
        if self.paused.load(Ordering::SeqCst) {
            return Some(vec![0.0; n]);
        }
        let k = n.min(q.len());
        let mut out: Vec<f32> = q.drain(..k).collect();
        out.resize(n, 0.0);
        Some(out)
    }

    /// Hold the queue and send silence until `resume` (or `clear`).
    pub fn pause(&self) {
        self.paused.store(true, Ordering::SeqCst);
    }

    pub fn resume(&self) {
        self.paused.store(false, Ordering::SeqCst);
    }

    pub fn is_paused(&self) -> bool {
        self.paused.load(Ordering::SeqCst)
    }

    /// Drop everything queued (and end a pause).
    pub fn clear(&self) {
        self.queue.lock().expect("playout lock").clear();
        self.paused.store(false, Ordering::SeqCst);
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// Increments on every `clear`.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Queued audio in ms.
    pub fn pending_ms(&self) -> u64 {
        self.queue.lock().expect("playout lock").len() as u64 * 1000 / self.rate as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_pad_and_clear() {
        let p = Playout::new(8000);
        assert!(p.take(160).is_none());
        p.play(&[0.5; 200], 8000);
        assert_eq!(p.pending_ms(), 25);
        assert_eq!(p.take(160).unwrap(), vec![0.5; 160]);
        let last = p.take(160).unwrap();
        assert_eq!((&last[..40], last[40]), (&[0.5; 40][..], 0.0));
        p.play(&[0.5; 16000], 16000);
        assert!((p.pending_ms() as i64 - 1000).abs() <= 5, "{}", p.pending_ms());
        p.pause();
        assert_eq!(p.take(160).unwrap(), vec![0.0; 160], "paused: silence, nothing consumed");
        assert!((p.pending_ms() as i64 - 1000).abs() <= 5);
        p.resume();
        assert_eq!(p.take(160).unwrap().len(), 160);
        p.pause();
        p.clear();
        assert!(p.take(160).is_none());
        assert!(!p.is_paused(), "clear ends the pause");
        assert_eq!(p.generation(), 1);
    }
}
