//! Voice activity detection: speech probability per 32 ms chunk of 16 kHz audio.
//!
//! The production detector is Silero VAD v6 run by whisper.cpp (through whisper-rs).
//! whisper.cpp resets the model's LSTM state on every call, so the streaming wrapper runs
//! each new block together with a short window of preceding audio as warm-up context and
//! keeps only the new block's probabilities.

use std::path::Path;

use whisper_rs::{WhisperVadContext, WhisperVadContextParams};

/// Samples per VAD chunk at 16 kHz (32 ms), Silero's window.
pub const CHUNK: usize = 512;
/// Milliseconds per chunk.
pub const CHUNK_MS: u64 = 32;

/// Errors from voice activity detection.
#[derive(Debug, thiserror::Error)]
pub enum VadError {
    /// The VAD model could not be loaded (fix the file; retrying will not help).
    #[error("cannot load VAD model {path}: {reason}")]
    Load { path: String, reason: String },
    /// Inference failed on this block (the next block may succeed).
    #[error("voice activity detection failed: {0}")]
    Detect(String),
}

/// A streaming voice activity detector for one call.
pub trait VoiceActivityDetector: Send {
    /// Feed 16 kHz mono samples; returns one speech probability per completed 32 ms chunk
    /// (possibly none yet, possibly several).
    fn push(&mut self, samples: &[f32]) -> Result<Vec<f32>, VadError>;
}

/// Creates per-call detectors.
pub trait VadFactory: Send + Sync {
    /// A detector for a new call.
    fn create(&self) -> Result<Box<dyn VoiceActivityDetector>, VadError>;
}

/// Silero VAD through whisper.cpp.
pub struct SileroVadFactory {
    path: String,
    /// Chunks per inference block (latency vs cost).
    pub block_chunks: usize,
    /// Chunks of preceding audio re-run as warm-up context.
    pub context_chunks: usize,
}

impl SileroVadFactory {
    /// Check the model loads, then hand out detectors.
    pub fn new(path: &Path) -> Result<Self, VadError> {
        super::asr::whisper::install_log_hook();
        let f = Self { path: path.display().to_string(), block_chunks: 4, context_chunks: 8 };
        if !path.is_file() {
            return Err(VadError::Load {
                path: f.path,
                reason: "file not found (run `switchboard models fetch --only silero-vad`)".into(),
            });
        }
        f.create()?;
        Ok(f)
    }
}

impl VadFactory for SileroVadFactory {
    fn create(&self) -> Result<Box<dyn VoiceActivityDetector>, VadError> {
        let mut params = WhisperVadContextParams::new();
        params.set_n_threads(1);
        let ctx = WhisperVadContext::new(&self.path, params)
            .map_err(|e| VadError::Load { path: self.path.clone(), reason: e.to_string() })?;
        Ok(Box::new(SileroVad {
            ctx,
            history: Vec::new(),
            pending: Vec::new(),
            block: self.block_chunks * CHUNK,
            context: self.context_chunks * CHUNK,
        }))
    }
}

struct SileroVad {
    ctx: WhisperVadContext,
    history: Vec<f32>,
    pending: Vec<f32>,
    block: usize,
    context: usize,
}

impl VoiceActivityDetector for SileroVad {
    fn push(&mut self, samples: &[f32]) -> Result<Vec<f32>, VadError> {
        self.pending.extend_from_slice(samples);
        let mut probs = Vec::new();
        while self.pending.len() >= self.block {
            let block: Vec<f32> = self.pending.drain(..self.block).collect();
            let mut input = std::mem::take(&mut self.history);
            let ctx_chunks = input.len() / CHUNK;
            input.extend_from_slice(&block);
            self.ctx.detect_speech(&input).map_err(|e| VadError::Detect(e.to_string()))?;
            let p = self.ctx.probabilities();
            probs.extend_from_slice(p.get(ctx_chunks..).unwrap_or(&[]));
            let keep = input.len().saturating_sub(self.context);
            self.history = input.split_off(keep);
        }
        Ok(probs)
    }
}

/// An energy-threshold detector for unit tests of the stream logic (no model needed).
#[derive(Default)]
pub struct FakeVad {
    pending: Vec<f32>,
}

impl VoiceActivityDetector for FakeVad {
    fn push(&mut self, samples: &[f32]) -> Result<Vec<f32>, VadError> {
        self.pending.extend_from_slice(samples);
        let mut out = Vec::new();
        while self.pending.len() >= CHUNK {
            let c: Vec<f32> = self.pending.drain(..CHUNK).collect();
            let rms = (c.iter().map(|s| s * s).sum::<f32>() / CHUNK as f32).sqrt();
            out.push(if rms > 0.02 { 0.95 } else { 0.02 });
        }
        Ok(out)
    }
}

/// Factory for [`FakeVad`].
pub struct FakeVadFactory;

impl VadFactory for FakeVadFactory {
    fn create(&self) -> Result<Box<dyn VoiceActivityDetector>, VadError> {
        Ok(Box::new(FakeVad::default()))
    }
}
