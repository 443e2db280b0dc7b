//! Writing WAV files (hound): recordings, fixtures and test output.

use std::path::Path;

use super::{f32_to_i16, MediaError};

/// Write mono f32 samples as 16-bit PCM WAV. Writes to a temporary name and renames, so a
/// crash never leaves a half-written file under the final name.
pub fn write_mono_i16(path: &Path, rate: u32, samples: &[f32]) -> Result<(), MediaError> {
    let tmp = path.with_extension("wav.partial");
    let io = |e: hound::Error| MediaError::Io {
        path: path.display().to_string(),
        source: std::io::Error::other(e.to_string()),
    };
    let spec =
        hound::WavSpec { channels: 1, sample_rate: rate, bits_per_sample: 16, sample_format: hound::SampleFormat::Int };
    let mut w = hound::WavWriter::create(&tmp, spec).map_err(io)?;
    for &s in samples {
        w.write_sample(f32_to_i16(s)).map_err(io)?;
    }
    w.finalize().map_err(io)?;
    std::fs::rename(&tmp, path).map_err(|source| MediaError::Io { path: path.display().to_string(), source })
}
