//! Streaming audio file decoding: WAV via hound, FLAC/MP3/Ogg/other WAV via symphonia, Opus via libopus.
//!
//! A [`FileSource`] yields [`AudioFrame`]s block by block; nothing reads the whole file up front.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::time::Duration;

use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::{Decoder, DecoderOptions, CODEC_TYPE_NULL, CODEC_TYPE_OPUS};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::{FormatOptions, FormatReader};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

use super::{AudioFrame, MediaError};

/// Samples per block handed out by [`FileSource::next_frame`], in milliseconds of audio.
pub const BLOCK_MS: u32 = 20;

/// An audio file opened for streaming decode.
pub struct FileSource {
    path: PathBuf,
    sample_rate: u32,
    channels: u16,
    inner: Inner,
    pending: Vec<f32>,
    emitted_frames: u64,
    finished: bool,
}

enum Inner {
    Hound(hound::WavReader<BufReader<File>>, hound::SampleFormat, u16),
    Sym {
        reader: Box<dyn FormatReader>,
        track: u32,
        decoder: Box<dyn Decoder>,
    },
    Opus {
        reader: Box<dyn FormatReader>,
        track: u32,
        decoder: opus::Decoder,
        skip: usize,
        /// Decode buffer, sized for the longest Opus packet (120 ms at 48 kHz).
        out: Vec<f32>,
    },
}

impl FileSource {
    /// Open a file and read its header. Fails with a clear message when the format is unsupported.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, MediaError> {
        let path = path.as_ref().to_path_buf();
        let p = path.display().to_string();
        let file = File::open(&path).map_err(|source| MediaError::Io { path: p.clone(), source })?;
        // hound handles plain PCM/float WAV; anything it refuses goes to symphonia.
        if let Ok(reader) = hound::WavReader::new(BufReader::new(file)) {
            let spec = reader.spec();
            if spec.channels == 0 || spec.sample_rate == 0 {
                return Err(MediaError::Corrupt { path: p, reason: "zero channels or sample rate".into() });
            }
            return Ok(Self::new(
                path,
                spec.sample_rate,
                spec.channels,
                Inner::Hound(reader, spec.sample_format, spec.bits_per_sample),
            ));
        }
        Self::open_symphonia(path)
    }

    fn new(path: PathBuf, sample_rate: u32, channels: u16, inner: Inner) -> Self {
        Self { path, sample_rate, channels, inner, pending: Vec::new(), emitted_frames: 0, finished: false }
    }

    fn open_symphonia(path: PathBuf) -> Result<Self, MediaError> {
        let p = path.display().to_string();
        let file = File::open(&path).map_err(|source| MediaError::Io { path: p.clone(), source })?;
        let mss = MediaSourceStream::new(Box::new(file), Default::default());
        let mut hint = Hint::new();
        if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
            hint.with_extension(ext);
        }
        let probed = symphonia::default::get_probe()
            .format(&hint, mss, &FormatOptions::default(), &MetadataOptions::default())
            .map_err(|e| MediaError::Unsupported { path: p.clone(), reason: e.to_string() })?;
        let reader = probed.format;
        let track = reader
            .tracks()
            .iter()
            .find(|t| t.codec_params.codec != CODEC_TYPE_NULL)
            .ok_or_else(|| MediaError::Unsupported { path: p.clone(), reason: "no audio track".into() })?;
        let params = track.codec_params.clone();
        let track_id = track.id;
        if params.codec == CODEC_TYPE_OPUS {
            let channels = params.channels.map(|c| c.count() as u16).unwrap_or(1).clamp(1, 2);
            let ch = if channels == 1 { opus::Channels::Mono } else { opus::Channels::Stereo };
            let decoder = opus::Decoder::new(48_000, ch)
                .map_err(|e| MediaError::Unsupported { path: p.clone(), reason: format!("opus: {e}") })?;
            let skip = params.delay.unwrap_or(0) as usize;
            return Ok(Self::new(
                path,
                48_000,
                channels,
                Inner::Opus { reader, track: track_id, decoder, skip, out: vec![0.0; 5760 * channels as usize] },
            ));
        }
        let decoder = symphonia::default::get_codecs()
            .make(&params, &DecoderOptions::default())
            .map_err(|e| MediaError::Unsupported { path: p.clone(), reason: e.to_string() })?;
        let sample_rate = params
            .sample_rate
            .ok_or_else(|| MediaError::Corrupt { path: p.clone(), reason: "no sample rate".into() })?;
        let channels = params.channels.map(|c| c.count() as u16).unwrap_or(1).max(1);
        Ok(Self::new(path, sample_rate, channels, Inner::Sym { reader, track: track_id, decoder }))
    }

    /// Sample rate of the decoded audio.
    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    /// Channel count of the decoded audio.
    pub fn channels(&self) -> u16 {
        self.channels
    }

    /// The next block of about [`BLOCK_MS`] of audio, `None` at the end.
    pub fn next_frame(&mut self) -> Option<Result<AudioFrame, MediaError>> {
        let want = (self.sample_rate * BLOCK_MS / 1000) as usize * self.channels as usize;
        while self.pending.len() < want && !self.finished {
            match self.decode_more() {
                Ok(true) => {}
                Ok(false) => self.finished = true,
                Err(e) => {
                    self.finished = true;
                    // A truncated tail still yields everything decoded before it.
                    if self.pending.is_empty() {
                        return Some(Err(e));
                    }
                    tracing::warn!(path = %self.path.display(), error = %e, "audio ends early");
                }
            }
        }
        if self.pending.is_empty() {
            return None;
        }
        let take = want.min(self.pending.len());
        let take = take - take % self.channels as usize;
        if take == 0 {
            self.pending.clear();
            return None;
        }
        let samples: Vec<f32> = self.pending.drain(..take).collect();
        let pts = Duration::from_secs_f64(self.emitted_frames as f64 / self.sample_rate as f64);
        self.emitted_frames += (take / self.channels as usize) as u64;
        Some(Ok(AudioFrame { samples, sample_rate: self.sample_rate, channels: self.channels, pts }))
    }

    /// Decode another packet into `pending`; Ok(false) at end of stream.
    fn decode_more(&mut self) -> Result<bool, MediaError> {
        let path = self.path.as_path();
        match &mut self.inner {
            Inner::Hound(reader, format, bits) => {
                let n = 4096;
                let before = self.pending.len();
                match (*format, *bits) {
                    (hound::SampleFormat::Float, _) => {
                        for s in reader.samples::<f32>().take(n) {
                            self.pending.push(s.map_err(|e| corrupt(path, e))?);
                        }
                    }
                    (hound::SampleFormat::Int, b) => {
                        let scale = 1.0 / (1u64 << (b.clamp(1, 32) - 1)) as f32;
                        for s in reader.samples::<i32>().take(n) {
                            self.pending.push(s.map_err(|e| corrupt(path, e))? as f32 * scale);
                        }
                    }
                }
                Ok(self.pending.len() > before)
            }
            Inner::Sym { reader, track, decoder } => loop {
                let Some(packet) = next_packet(reader.as_mut(), *track, path)? else { return Ok(false) };
                match decoder.decode(&packet) {
                    Ok(buf) => {
                        let mut sb = SampleBuffer::<f32>::new(buf.capacity() as u64, *buf.spec());
                        sb.copy_interleaved_ref(buf);
                        self.pending.extend_from_slice(sb.samples());
                        return Ok(true);
                    }
                    // A damaged packet is skipped, as players do.
                    Err(SymError::DecodeError(e)) => tracing::debug!(error = e, "skipping undecodable packet"),
                    Err(e) => return Err(corrupt(path, e)),
                }
            },
            Inner::Opus { reader, track, decoder, skip, out } => loop {
                let Some(packet) = next_packet(reader.as_mut(), *track, path)? else { return Ok(false) };
                let ch = self.channels as usize;
                match decoder.decode_float(&packet.data, out, false) {
                    Ok(n) => {
                        let s = (*skip).min(n);
                        *skip -= s;
                        self.pending.extend_from_slice(&out[s * ch..n * ch]);
                        return Ok(true);
                    }
                    Err(e) => tracing::debug!(error = %e, "skipping undecodable opus packet"),
                }
            },
        }
    }

    /// Decode everything that is left (for offline evaluation; live paths use `next_frame`).
    pub fn read_all_mono(self) -> Result<(Vec<f32>, u32), MediaError> {
        self.read_all_with(|f, out| out.extend(f.into_mono()))
    }

    /// Decode everything that is left, each frame's samples taken by `take`.
    fn read_all_with(mut self, take: impl Fn(AudioFrame, &mut Vec<f32>)) -> Result<(Vec<f32>, u32), MediaError> {
        let rate = self.sample_rate;
        let mut out = Vec::new();
        while let Some(f) = self.next_frame() {
            take(f?, &mut out);
        }
        if out.is_empty() {
            return Err(corrupt(&self.path, "no audio samples"));
        }
        Ok((out, rate))
    }
}

fn corrupt(path: &Path, reason: impl std::fmt::Display) -> MediaError {
    MediaError::Corrupt { path: path.display().to_string(), reason: reason.to_string() }
}

/// The next packet of `track`, or `None` at the end of the stream.
fn next_packet(
    reader: &mut dyn FormatReader,
    track: u32,
    path: &Path,
) -> Result<Option<symphonia::core::formats::Packet>, MediaError> {
    loop {
        match reader.next_packet() {
            Ok(p) if p.track_id() == track => return Ok(Some(p)),
            Ok(_) => continue,
            Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(SymError::ResetRequired) => return Ok(None),
            Err(e) => return Err(corrupt(path, e)),
        }
    }
}

/// Read one channel of a file at `rate` Hz (offline helper: one side of a two-channel call
/// recording). Fails with a clear message when the file has no such channel.
pub fn read_channel_at(path: impl AsRef<Path>, channel: u16, rate: u32) -> Result<Vec<f32>, MediaError> {
    let path = path.as_ref();
    let src = FileSource::open(path)?;
    let channels = src.channels();
    if channel >= channels {
        return Err(corrupt(path, format!("no channel {} (the file has {channels})", channel + 1)));
    }
    let (out, in_rate) =
        src.read_all_with(|f, out| out.extend(f.samples.iter().skip(channel as usize).step_by(channels as usize)))?;
    super::resample::resample_all(&out, in_rate, rate)
}

/// Read a whole file as mono samples at `rate` Hz (offline helper for evaluation and tests).
pub fn read_mono_at(path: impl AsRef<Path>, rate: u32) -> Result<Vec<f32>, MediaError> {
    let (samples, in_rate) = FileSource::open(path)?.read_all_mono()?;
    super::resample::resample_all(&samples, in_rate, rate)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_wav(path: &Path, rate: u32, samples: &[i16]) {
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(path, spec).unwrap();
        for s in samples {
            w.write_sample(*s).unwrap();
        }
        w.finalize().unwrap();
    }

    #[test]
    fn wav_streams_in_20ms_blocks_with_pts() {
        let dir = std::env::temp_dir().join(format!("sb-dec-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("a.wav");
        write_wav(&path, 8000, &vec![1000i16; 8000]);
        let mut src = FileSource::open(&path).unwrap();
        let mut n = 0;
        let mut last_pts = Duration::ZERO;
        while let Some(f) = src.next_frame() {
            let f = f.unwrap();
            assert_eq!(f.samples.len(), 160);
            last_pts = f.pts;
            n += 1;
        }
        assert_eq!(n, 50);
        assert_eq!(last_pts, Duration::from_millis(980));
    }

    #[test]
    fn garbage_file_is_a_clear_error() {
        let dir = std::env::temp_dir().join(format!("sb-dec-g-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("junk.wav");
        std::fs::write(&path, b"this is not audio at all, just text pretending").unwrap();
        let err = FileSource::open(&path).err().expect("must fail");
        assert!(err.to_string().contains("unsupported audio"), "{err}");
    }

    #[test]
    fn missing_file_is_a_clear_error() {
        let err = FileSource::open("/nonexistent/x.wav").err().unwrap();
        assert!(err.to_string().contains("cannot read /nonexistent/x.wav"), "{err}");
    }

    #[test]
    fn truncated_wav_yields_what_is_there() {
        let dir = std::env::temp_dir().join(format!("sb-dec-t-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.wav");
        write_wav(&path, 16000, &vec![500i16; 16000]);
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
        let got = FileSource::open(&path).and_then(|s| s.read_all_mono());
        match got {
            Ok((s, _)) => assert!(s.len() > 7000 && s.len() < 8100, "{}", s.len()),
            Err(e) => assert!(e.to_string().contains("corrupt") || e.to_string().contains("unsupported"), "{e}"),
        }
    }
}
