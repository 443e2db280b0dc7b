//! The queue of audio going to the caller (greeting, later TTS and agent voice). The actor
//! writes whole clips; the transport takes one frame per 20 ms tick. `clear` drops what is
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
    /// Paused: the transport gets silence and the queue waits (a possible barge-in).
    paused: AtomicBool,
    /// What the caller heard, tick by tick (silence included), for the recording's second
    /// channel; `None` unless the call is recorded.
    heard: Option<Mutex<VecDeque<f32>>>,
}

/// The most heard audio kept for the recording (it drains it every caller frame): 2 s.
const HEARD_MAX_S: usize = 2;

impl Playout {
    /// An empty queue for audio at `rate` Hz.
    pub fn new(rate: u32) -> Self {
        Self {
            rate,
            queue: Mutex::new(VecDeque::new()),
            generation: AtomicU64::new(0),
            paused: AtomicBool::new(false),
            heard: None,
        }
    }

    /// Also keep what the transport takes (what the caller hears), for
    /// [`Playout::take_heard`]; for recorded calls only, so the others pay nothing per tick.
    pub fn record_heard(mut self) -> Self {
        self.heard = Some(Mutex::new(VecDeque::new()));
        self
    }

    /// What the caller heard since the last call (empty unless [`Playout::record_heard`]).
    pub fn take_heard(&self) -> Vec<f32> {
        self.heard.as_ref().map(|h| h.lock().expect("playout lock").drain(..).collect()).unwrap_or_default()
    }

    fn hear(&self, samples: Option<&[f32]>, n: usize) {
        let Some(heard) = &self.heard else { return };
        let mut h = heard.lock().expect("playout lock");
        match samples {
            Some(s) => h.extend(s.iter().copied()),
            None => h.extend(std::iter::repeat_n(0.0, n)),
        }
        let max = HEARD_MAX_S * self.rate as usize;
        if h.len() > max {
            let extra = h.len() - max;
            h.drain(..extra);
        }
    }

    /// The transport's rate.
    pub fn rate(&self) -> u32 {
        self.rate
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

    /// Queue live audio already at this queue's rate, keeping at most `max_ms` queued (the
    /// oldest goes): a conversation must not drift into a growing delay.
    pub fn play_live(&self, samples: &[f32], max_ms: u64) {
        let mut q = self.queue.lock().expect("playout lock");
        q.extend(samples.iter().copied());
        let max = (max_ms * self.rate as u64 / 1000) as usize;
        if q.len() > max {
            let extra = q.len() - max;
            q.drain(..extra);
        }
    }

    /// Take the next `n` samples, padded with silence; `None` when nothing is queued. The
    /// transport calls it once a tick whether or not anything plays, so what it takes (or
    /// silence) is also the caller's side of the clock for the recording.
    pub fn take(&self, n: usize) -> Option<Vec<f32>> {
        let out = self.next(n);
        self.hear(out.as_deref(), n);
        out
    }

    fn next(&self, n: usize) -> Option<Vec<f32>> {
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

    #[test]
    fn what_the_caller_heard_is_kept_only_when_recorded() {
        let p = Playout::new(8000);
        p.play(&[0.5; 160], 8000);
        p.take(160);
        assert!(p.take_heard().is_empty(), "not recorded");
        let p = Playout::new(8000).record_heard();
        p.play(&[0.5; 100], 8000);
        p.take(160);
        p.take(160);
        let heard = p.take_heard();
        assert_eq!(heard.len(), 320, "a frame per tick, silence included");
        assert_eq!((&heard[..100], heard[100], heard[319]), (&[0.5; 100][..], 0.0, 0.0));
        assert!(p.take_heard().is_empty(), "drained");
        for _ in 0..200 {
            p.take(160);
        }
        assert_eq!(p.take_heard().len(), 16_000, "at most 2 s kept");
    }

    #[test]
    fn live_audio_never_queues_more_than_its_limit() {
        let p = Playout::new(8000);
        for i in 0..20 {
            p.play_live(&[i as f32; 160], 100);
        }
        assert_eq!(p.pending_ms(), 100);
        assert_eq!(p.take(160).unwrap(), vec![15.0; 160], "the oldest went");
    }
}
