//! Opt-in call recording: the caller's audio as a 16-bit WAV (at the transport's rate) and
//! the call record with its transcript as JSON next to it (`<dir>/<call id>.wav|.json`).
//! A recording that cannot be written is logged and dropped; it never ends the call.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use super::{CallId, CallRecord};
use crate::media::{f32_to_i16, AudioFrame};

/// A recording in progress.
pub struct Recorder {
    dir: PathBuf,
    id: CallId,
    wav: Option<(u32, hound::WavWriter<BufWriter<File>>)>,
    failed: bool,
}

impl Recorder {
    /// Record call `id` into `dir` (created if needed).
    pub fn new(dir: &Path, id: &CallId) -> Self {
        Self { dir: dir.to_path_buf(), id: id.clone(), wav: None, failed: false }
    }

    fn path(&self, ext: &str) -> PathBuf {
        self.dir.join(format!("{}.{ext}", self.id))
    }

    /// Append caller audio. The first frame fixes the file's rate; frames at other rates
    /// (which no transport produces) are skipped.
    pub fn push(&mut self, frame: &AudioFrame) {
        if self.failed {
            return;
        }
        if self.wav.is_none() {
            let spec = hound::WavSpec {
                channels: 1,
                sample_rate: frame.sample_rate,
                bits_per_sample: 16,
                sample_format: hound::SampleFormat::Int,
            };
            let opened = std::fs::create_dir_all(&self.dir)
                .map_err(hound::Error::IoError)
                .and_then(|_| hound::WavWriter::create(self.path("wav"), spec));
            match opened {
                Ok(w) => self.wav = Some((frame.sample_rate, w)),
                Err(e) => {
                    tracing::warn!(call = %self.id, "recording disabled for this call: {e}");
                    self.failed = true;
                    return;
                }
            }
        }
        let Some((rate, w)) = self.wav.as_mut() else { return };
        if *rate != frame.sample_rate {
            return;
        }
        let mono = frame.clone().into_mono();
        for s in mono {
            if let Err(e) = w.write_sample(f32_to_i16(s)) {
                tracing::warn!(call = %self.id, "recording stopped: {e}");
                self.failed = true;
                return;
            }
        }
    }

    /// Close the WAV and write the JSON record. Returns the WAV path if one was written.
    pub fn finish(mut self, record: &CallRecord) -> Option<PathBuf> {
        let wav = self.wav.take().and_then(|(_, w)| match w.finalize() {
            Ok(()) => Some(self.path("wav")),
            Err(e) => {
                tracing::warn!(call = %self.id, "recording not finalised: {e}");
                None
            }
        });
        let json = serde_json::to_vec_pretty(record).expect("record serialises");
        if let Err(e) = std::fs::create_dir_all(&self.dir).and_then(|_| std::fs::write(self.path("json"), json)) {
            tracing::warn!(call = %self.id, "transcript not written: {e}");
        }
        wav
    }
}
