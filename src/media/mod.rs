//! Audio types and conversions: frames, G.711, resampling, file decoding, live capture.

pub mod decode;
pub mod device;
pub mod g711;
pub mod resample;

use std::time::Duration;

/// The sample rate the speech recogniser works at.
pub const ASR_SAMPLE_RATE: u32 = 16_000;

/// A block of interleaved f32 samples in [-1, 1], stamped with its position from call start.
#[derive(Debug, Clone, PartialEq)]
pub struct AudioFrame {
    /// Interleaved samples (`channels` values per sample instant).
    pub samples: Vec<f32>,
    /// Samples per second per channel.
    pub sample_rate: u32,
    /// Number of interleaved channels.
    pub channels: u16,
    /// Presentation time of the first sample, measured from call (or file) start.
    pub pts: Duration,
}

impl AudioFrame {
    /// A mono frame.
    pub fn mono(samples: Vec<f32>, sample_rate: u32, pts: Duration) -> Self {
        Self { samples, sample_rate, channels: 1, pts }
    }

    /// Number of sample instants (samples per channel).
    pub fn frames(&self) -> usize {
        self.samples.len() / self.channels.max(1) as usize
    }

    /// How long the frame lasts.
    pub fn duration(&self) -> Duration {
        Duration::from_secs_f64(self.frames() as f64 / self.sample_rate.max(1) as f64)
    }

    /// Presentation time of the sample just after this frame.
    pub fn end_pts(&self) -> Duration {
        self.pts + self.duration()
    }

    /// Down-mix to mono, taking the samples without a copy when already mono.
    pub fn into_mono(self) -> Vec<f32> {
        if self.channels <= 1 {
            self.samples
        } else {
            downmix(&self.samples, self.channels)
        }
    }
}

/// Cut mono samples into consecutive frames of `frame_ms` with their presentation times.
pub fn mono_frames(samples: Vec<f32>, sample_rate: u32, frame_ms: u32) -> impl Iterator<Item = AudioFrame> + Send {
    let per = (sample_rate * frame_ms / 1000).max(1) as usize;
    let mut at = 0usize;
    std::iter::from_fn(move || {
        if at >= samples.len() {
            return None;
        }
        let end = (at + per).min(samples.len());
        let pts = Duration::from_secs_f64(at as f64 / sample_rate as f64);
        let frame = AudioFrame::mono(samples[at..end].to_vec(), sample_rate, pts);
        at = end;
        Some(frame)
    })
}

/// Average interleaved channels into one.
pub fn downmix(samples: &[f32], channels: u16) -> Vec<f32> {
    let ch = channels.max(1) as usize;
    if ch == 1 {
        return samples.to_vec();
    }
    samples.chunks_exact(ch).map(|c| c.iter().sum::<f32>() / ch as f32).collect()
}

/// Convert i16 PCM to f32 in [-1, 1).
pub fn i16_to_f32(s: i16) -> f32 {
    s as f32 / 32768.0
}

/// Convert f32 in [-1, 1] to i16 PCM with clipping.
pub fn f32_to_i16(s: f32) -> i16 {
    (s * 32768.0).round().clamp(-32768.0, 32767.0) as i16
}

/// Errors from reading, decoding or converting audio.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// The file could not be opened or read (retry will not help unless the file changes).
    #[error("cannot read {path}: {source}")]
    Io { path: String, source: std::io::Error },
    /// The container or codec is not one we decode.
    #[error("unsupported audio in {path}: {reason}. Supported: WAV (PCM, float, mu-law, A-law), FLAC, MP3, Ogg Vorbis, Ogg Opus")]
    Unsupported { path: String, reason: String },
    /// The data is damaged or truncated.
    #[error("corrupt audio in {path}: {reason}")]
    Corrupt { path: String, reason: String },
    /// The resampler rejected its configuration.
    #[error("resampler: {0}")]
    Resample(String),
    /// The audio device could not be opened or streamed.
    #[error("audio device: {0}")]
    Device(String),
}
