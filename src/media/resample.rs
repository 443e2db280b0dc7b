//! Streaming sample-rate conversion (rubato), fed with arbitrary-sized blocks.

use audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Indexing, Resampler};

use super::MediaError;

/// Converts a mono stream from one rate to another, block by block, without gaps or clicks.
///
/// Input of any length is buffered to the resampler's fixed chunk size; the resampler's own
/// start-up delay is trimmed so output sample `n` lines up with input time `n / out_rate`.
pub struct StreamResampler {
    inner: Option<Fft<f32>>,
    pending: Vec<f32>,
    chunk_in: usize,
    to_trim: usize,
    in_rate: u32,
    out_rate: u32,
    consumed_in: u64,
    produced_out: u64,
}

impl StreamResampler {
    /// A resampler from `in_rate` to `out_rate` Hz (mono). Equal rates pass samples through.
    pub fn new(in_rate: u32, out_rate: u32) -> Result<Self, MediaError> {
        if in_rate == 0 || out_rate == 0 {
            return Err(MediaError::Resample(format!("invalid rates {in_rate} -> {out_rate}")));
        }
        let chunk_in = (in_rate as usize / 50).max(1); // 20 ms
        let inner = if in_rate == out_rate {
            None
        } else {
            Some(
                Fft::<f32>::new(in_rate as usize, out_rate as usize, chunk_in, 1, FixedSync::Input)
                    .map_err(|e| MediaError::Resample(e.to_string()))?,
            )
        };
        let to_trim = inner.as_ref().map(|r| r.output_delay()).unwrap_or(0);
        Ok(Self { inner, pending: Vec::new(), chunk_in, to_trim, in_rate, out_rate, consumed_in: 0, produced_out: 0 })
    }

    /// Output rate in Hz.
    pub fn out_rate(&self) -> u32 {
        self.out_rate
    }

    /// Feed samples; returns whatever output is ready.
    pub fn push(&mut self, samples: &[f32]) -> Vec<f32> {
        self.consumed_in += samples.len() as u64;
        let Some(r) = self.inner.as_mut() else {
            self.produced_out += samples.len() as u64;
            return samples.to_vec();
        };
        self.pending.extend_from_slice(samples);
        let mut out = Vec::new();
        let mut offset = 0;
        while self.pending.len() - offset >= self.chunk_in {
            let chunk = &self.pending[offset..offset + self.chunk_in];
            Self::run(r, chunk, None, &mut out);
            offset += self.chunk_in;
        }
        self.pending.drain(..offset);
        self.emit(out)
    }

    /// Drain the buffered tail (call once at end of stream).
    pub fn flush(&mut self) -> Vec<f32> {
        let Some(r) = self.inner.as_mut() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        if !self.pending.is_empty() {
            let mut chunk = std::mem::take(&mut self.pending);
            let len = chunk.len();
            chunk.resize(self.chunk_in, 0.0);
            Self::run(r, &chunk, Some(len), &mut out);
        }
        // Push silence through until every real input sample has come out.
        let expected = (self.consumed_in as f64 * self.out_rate as f64 / self.in_rate as f64).round() as u64;
        let zeros = vec![0.0; self.chunk_in];
        let mut guard = 0;
        while self.produced_out + (out.len() as u64).saturating_sub(self.to_trim as u64) < expected && guard < 64 {
            Self::run(r, &zeros, None, &mut out);
            guard += 1;
        }
        let mut out = self.emit(out);
        let over = (self.produced_out).saturating_sub(expected) as usize;
        out.truncate(out.len().saturating_sub(over));
        self.produced_out -= over as u64;
        out
    }

    fn run(r: &mut Fft<f32>, chunk: &[f32], partial: Option<usize>, out: &mut Vec<f32>) {
        let frames = chunk.len();
        let Ok(input) = InterleavedSlice::new(chunk, 1, frames) else {
            return;
        };
        let indexing = partial.map(|len| Indexing {
            input_offset: 0,
            output_offset: 0,
            partial_len: Some(len),
            active_channels_mask: None,
        });
        if let Ok(res) = r.process(&input, indexing.as_ref()) {
            out.extend_from_slice(&res.take_data());
        }
    }

    fn emit(&mut self, mut out: Vec<f32>) -> Vec<f32> {
        if self.to_trim > 0 {
            let n = self.to_trim.min(out.len());
            out.drain(..n);
            self.to_trim -= n;
        }
        self.produced_out += out.len() as u64;
        out
    }
}

/// Resample a whole buffer in one go (for offline evaluation and tests).
pub fn resample_all(samples: &[f32], in_rate: u32, out_rate: u32) -> Result<Vec<f32>, MediaError> {
    let mut r = StreamResampler::new(in_rate, out_rate)?;
    let mut out = r.push(samples);
    out.extend(r.flush());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(rate: u32, hz: f32, secs: f32) -> Vec<f32> {
        (0..(rate as f32 * secs) as usize)
            .map(|i| (2.0 * std::f32::consts::PI * hz * i as f32 / rate as f32).sin() * 0.5)
            .collect()
    }

    #[test]
    fn length_is_preserved_in_time() {
        for (a, b) in [(8000, 16000), (22050, 16000), (44100, 16000), (48000, 16000), (16000, 16000)] {
            let input = tone(a, 440.0, 1.0);
            // Feed in odd block sizes, as a network would.
            let mut r = StreamResampler::new(a, b).unwrap();
            let mut out = Vec::new();
            for block in input.chunks(333) {
                out.extend(r.push(block));
            }
            out.extend(r.flush());
            assert_eq!(out.len(), b as usize, "{a}->{b}");
        }
    }

    #[test]
    fn tone_survives_and_stays_aligned() {
        let input = tone(8000, 300.0, 1.0);
        let out = resample_all(&input, 8000, 16000).unwrap();
        let expected = tone(16000, 300.0, 1.0);
        // Compare the middle (edges have filter transients).
        let err: f32 =
            out[2000..14000].iter().zip(&expected[2000..14000]).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
        assert!(err < 0.05, "max error {err}");
    }

    #[test]
    fn zero_rate_is_an_error() {
        assert!(StreamResampler::new(0, 16000).is_err());
    }
}
