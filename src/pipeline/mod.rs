//! The live per-call pipeline: VAD and turn detection, streaming recognition with committed
//! and partial text, per-turn language identification, optional English translation.

pub mod analysis;
pub mod asr;
pub mod endpoint;
pub mod pool;
pub mod stream;
pub mod turn;
pub mod vad;

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::models::{Manifest, ModelError};
use asr::whisper::{WhisperOptions, WhisperRecognizer};
use asr::{AsrError, SharedRecognizer};
use pool::InferencePool;
use vad::{SileroVadFactory, VadError, VadFactory};

pub use stream::{PartialsWanted, StreamHandle, TranscriptEvent};

/// Tuning of the live pipeline (the `[pipeline]` section of the server config).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct PipelineConfig {
    /// Turn detection thresholds.
    pub turn: turn::TurnConfig,
    /// Decode the growing turn this often (ms of new audio) to produce partials; 0 disables partials.
    pub partial_interval_ms: u64,
    /// Audio kept before detected speech onset, so the first syllable is not clipped.
    pub preroll_ms: u64,
    /// Longest audio buffer decoded at once; older committed audio is trimmed away.
    pub max_buffer_ms: u64,
    /// "auto" (detect per turn; multilingual models) or a fixed ISO 639-1 code.
    pub language: String,
    /// Also produce an English translation of non-English finals (multilingual models).
    pub translate: bool,
    /// Fit Whisper's encoder window to the audio instead of always encoding 30 s.
    pub fit_window: bool,
    /// Feed the call's earlier text to the recogniser as context. Off by default: measured on
    /// english-read-asr it made Whisper repeat earlier sentences (streaming WER 25.5% vs 3.6%).
    pub prompt_context: bool,
    /// Run the learned voice classifiers (anger, arousal, accent; about 0.1 s of one core per
    /// turn) on every final turn, when their encoder and weights are installed.
    pub voice_classifiers: bool,
    /// Re-read an answer the assistant asked for (a date of birth, a PIN, an order number) held
    /// to its form when the free decode reads as one: one more decode of that turn
    /// ([`asr::form`]; `switchboard eval answers` measures it).
    pub answer_forms: bool,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        Self {
            turn: turn::TurnConfig::default(),
            partial_interval_ms: 1000,
            preroll_ms: 300,
            max_buffer_ms: 15_000,
            language: "auto".into(),
            translate: false,
            fit_window: true,
            prompt_context: false,
            voice_classifiers: true,
            answer_forms: true,
        }
    }
}

/// Errors setting up the pipeline.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// A model is missing or broken.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// The speech model failed.
    #[error(transparent)]
    Asr(#[from] AsrError),
    /// The VAD failed.
    #[error(transparent)]
    Vad(#[from] VadError),
    /// The configuration is invalid.
    #[error("invalid pipeline config: {0}")]
    Config(String),
}

/// Everything shared by all calls: the loaded models, the inference pool and the config.
pub struct Engine {
    pub recognizer: SharedRecognizer,
    pub vad: Arc<dyn VadFactory>,
    pub pool: InferencePool,
    pub config: PipelineConfig,
    /// Recogniser sessions (Whisper states) shared by every call's stream.
    pub sessions: SessionPool,
    /// The learned voice classifiers (anger, arousal, accent), run on each final turn; None
    /// when their encoder or weights are missing.
    pub voice: Option<Arc<analysis::voice::VoiceModels>>,
    /// Smart Turn v3.2 for the end of turns (`[pipeline.turn] mode = "smart"`); without it,
    /// turns end on silence alone.
    pub turn_model: Option<Arc<analysis::encoder::VoiceEncoder>>,
}

/// Recogniser sessions, lent to one decode at a time. A Whisper state holds tens of MB of
/// buffers, and nothing in it carries over from one decode to the next (every decode is of
/// the whole turn; earlier-text prompting is part of the request), so a state per call was
/// memory spent for nothing: 30 calls held 2 GB. Only as many decodes run at once as the
/// inference pool has workers, so that many sessions (kept warm here) serve every call.
pub struct SessionPool {
    recognizer: SharedRecognizer,
    idle: std::sync::Mutex<Vec<Box<dyn asr::RecognizerSession>>>,
    keep: usize,
}

impl SessionPool {
    pub fn new(recognizer: SharedRecognizer, keep: usize) -> Self {
        Self { recognizer, idle: std::sync::Mutex::new(Vec::new()), keep }
    }

    /// An idle session, or a new one.
    pub fn checkout(&self) -> Result<Box<dyn asr::RecognizerSession>, asr::AsrError> {
        let idle = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        match idle {
            Some(s) => Ok(s),
            None => self.recognizer.session(),
        }
    }

    /// Return a session after its decode (kept up to the pool's size, else freed).
    pub fn give_back(&self, s: Box<dyn asr::RecognizerSession>) {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < self.keep {
            idle.push(s);
        }
    }
}

impl Engine {
    /// Assemble an engine from parts (tests use fakes here).
    pub fn new(
        recognizer: SharedRecognizer,
        vad: Arc<dyn VadFactory>,
        pool: InferencePool,
        config: PipelineConfig,
    ) -> Result<Arc<Self>, PipelineError> {
        if config.language != "auto" && config.language.len() != 2 {
            return Err(PipelineError::Config(format!(
                "language {:?} must be \"auto\" or a two-letter code",
                config.language
            )));
        }
        if config.language != "auto" && config.language != "en" && !recognizer.multilingual() {
            return Err(PipelineError::Config(format!(
                "model {} is English-only; language {:?} needs the multilingual model (base)",
                recognizer.name(),
                config.language
            )));
        }
        config.turn.validate().map_err(PipelineError::Config)?;
        let sessions = SessionPool::new(recognizer.clone(), pool.stats().workers);
        Ok(Arc::new(Self { recognizer, vad, pool, config, sessions, voice: None, turn_model: None }))
    }

    /// Load the named Whisper model and the Silero VAD from the models folder.
    pub fn load(
        manifest: &Manifest,
        model: &str,
        config: PipelineConfig,
        workers: usize,
    ) -> Result<Arc<Self>, PipelineError> {
        let model_path = manifest.require(model)?;
        let vad_path = manifest.require("silero-vad")?;
        let recognizer = WhisperRecognizer::load(&model_path, model, WhisperOptions::default())?;
        let vad = SileroVadFactory::new(&vad_path)?;
        let mut engine = Self::new(Arc::new(recognizer), Arc::new(vad), InferencePool::new(workers), config)?;
        if let Some(e) = Arc::get_mut(&mut engine) {
            if e.config.voice_classifiers {
                e.voice = analysis::voice::VoiceModels::shared(manifest);
            }
            if e.config.turn.mode == turn::TurnMode::Smart {
                e.turn_model = analysis::encoder::shared(manifest);
            }
        }
        Ok(engine)
    }

    /// Decode `audio` (16 kHz) whole, on the calling thread, as a turn's final decode would:
    /// English, the encoder window fitted to it, temperature fallback on. For evaluations and
    /// tests; calls decode on the inference pool through their streams.
    pub fn decode_whole(&self, audio: Vec<f32>, prompt: &str) -> Result<asr::Hypothesis, AsrError> {
        self.decode_answer(audio, prompt, None, 0)
    }

    /// [`Self::decode_whole`] with the threads a live call's end-of-turn decode would get now
    /// ([`Self::idle_threads`]): for evaluations that time decisions as a call would see them.
    pub fn decode_whole_as_live(&self, audio: Vec<f32>) -> Result<asr::Hypothesis, AsrError> {
        self.decode_answer(audio, "", None, self.idle_threads())
    }

    /// [`Self::decode_whole`] of an answer the assistant asked for, held to its form when the
    /// free decode is an attempt at it ([`asr::form`]).
    pub fn decode_answer(
        &self,
        audio: Vec<f32>,
        prompt: &str,
        answer: Option<Arc<asr::form::AnswerForm>>,
        threads: usize,
    ) -> Result<asr::Hypothesis, AsrError> {
        let req = asr::DecodeRequest {
            audio,
            prompt: prompt.to_string(),
            language: asr::LanguageChoice::Fixed("en".into()),
            translate: false,
            fit_window: self.config.fit_window,
            fallback: true,
            answer,
            threads,
        };
        let mut session = self.sessions.checkout()?;
        let hyp = session.decode(&req);
        self.sessions.give_back(session);
        hyp
    }

    /// Threads for a whole turn's decode started now: every worker's core when the machine is
    /// quiet (nothing runs or waits on the inference pool, and the workers were less than
    /// [`IDLE_BELOW_LOAD`] busy over the last 2 s: a call alone on the machine, whose
    /// end-of-turn decode is what the caller waits for), else 0 (one thread, so busy machines
    /// keep their calls side by side). At most 4: beyond that whisper.cpp's small models gain
    /// little. whisper.cpp's threads spin while they wait for each other, so a decode with
    /// more threads than free cores costs every call: measured without the load condition,
    /// `bench asr --unwatched` at 8 streams went from finals p95 1386-1612 ms (one thread,
    /// same hour) to 1969 ms and 16 streams no longer kept up. Limits: the pool cannot see
    /// work outside it (speech synthesis, the VAD), and a job another call starts during a
    /// decode with more threads shares the cores for that decode; the load condition keeps
    /// both rare.
    pub fn idle_threads(&self) -> usize {
        let s = self.pool.stats();
        if s.running == 0 && s.queued == 0 && s.workers > 1 && self.pool.recent_load() < IDLE_BELOW_LOAD {
            s.workers.min(4)
        } else {
            0
        }
    }
}

/// Below this share of the workers' time busy (over the last 2 s) a quiet machine lends its
/// cores to one decode ([`Engine::idle_threads`]).
pub const IDLE_BELOW_LOAD: f64 = 0.2;

/// Default number of inference workers: one per core.
pub fn default_workers() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2)
}
