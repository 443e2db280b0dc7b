//! Fast barge-in: a caller who starts talking over the assistant should hear it stop at once,
//! well before the turn detector has 120 ms of sustained speech. This watches the caller's
//! level while the assistant is speaking and says "pause" after two loud 20 ms frames above the
//! line's own noise floor; the actor then pauses playback (nothing is dropped) and either the
//! turn detector confirms a turn (the reply is dropped) or, after `RESUME_AFTER` without one
//! (a cough, a click, "mm-hm"), playback resumes where it paused. Sans-IO: levels in, verdicts out.

use std::time::Duration;

/// How long a pause waits for the turn detector before playback resumes.
pub const RESUME_AFTER: Duration = Duration::from_millis(500);

/// Loud frames in a row that pause playback (20 ms frames: 40 ms).
const LOUD_FRAMES: u32 = 2;
/// A frame is loud this far above the noise floor ...
const ABOVE_FLOOR_DB: f32 = 15.0;
/// ... and never quieter than this (dBFS): line noise and faint echo stay below it.
const MIN_LEVEL_DB: f32 = -38.0;

/// The caller's noise floor and the run of loud frames.
#[derive(Debug, Clone)]
pub struct OnsetDetector {
    floor_db: f32,
    loud_run: u32,
}

impl Default for OnsetDetector {
    fn default() -> Self {
        Self { floor_db: -60.0, loud_run: 0 }
    }
}

/// A frame's level in dBFS.
pub fn level_db(samples: &[f32]) -> f32 {
    let ms = samples.iter().map(|x| x * x).sum::<f32>() / samples.len().max(1) as f32;
    10.0 * ms.max(1e-10).log10()
}

impl OnsetDetector {
    /// Feed one frame's level; returns true when the caller has started speaking.
    pub fn push(&mut self, db: f32) -> bool {
        // The floor follows quiet frames quickly down and loud ones slowly up (noise, not speech).
        self.floor_db =
            if db < self.floor_db { 0.7 * self.floor_db + 0.3 * db } else { 0.995 * self.floor_db + 0.005 * db };
        if db >= (self.floor_db + ABOVE_FLOOR_DB).max(MIN_LEVEL_DB) {
            self.loud_run += 1;
        } else {
            self.loud_run = 0;
        }
        self.loud_run >= LOUD_FRAMES
    }

    /// Start over (after a pause, so one onset pauses once).
    pub fn reset(&mut self) {
        self.loud_run = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speech_over_silence_or_noise_pauses_a_click_does_not() {
        let mut d = OnsetDetector::default();
        for _ in 0..50 {
            assert!(!d.push(-70.0), "silence");
        }
        assert!(!d.push(-20.0), "one loud frame is a click");
        assert!(!d.push(-70.0));
        assert!(!d.push(-22.0));
        assert!(d.push(-21.0), "two loud frames in a row: speech");

        // A steady noisy line (-40 dBFS) never pauses; speech 15 dB over it does.
        let mut d = OnsetDetector::default();
        for _ in 0..500 {
            assert!(!d.push(-40.0 + fastrand::f32()));
        }
        assert!(!d.push(-30.0) || !d.push(-30.0), "10 dB over the noise is not enough");
        let mut d2 = d.clone();
        d2.reset();
        assert!(!d2.push(-20.0));
        assert!(d2.push(-20.0));
    }

    #[test]
    fn levels() {
        assert!((level_db(&[1.0; 160]) - 0.0).abs() < 0.01);
        assert!((level_db(&[0.1; 160]) + 20.0).abs() < 0.01);
        assert!(level_db(&[0.0; 160]) <= -99.0);
    }
}
