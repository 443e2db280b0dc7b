//! Speech recognition: the backend trait, decode requests and hypotheses, the commit policy.

pub mod commit;
pub mod form;
pub mod whisper;

use std::sync::Arc;

/// A recognised word; times in milliseconds (relative to the decoded audio, or absolute once
/// the stream has placed it).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Word {
    /// The word as written by the recogniser, with its leading space.
    pub text: String,
    pub start_ms: u64,
    pub end_ms: u64,
    /// Mean token probability.
    pub prob: f32,
}

/// Which language to decode in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LanguageChoice {
    /// A fixed ISO 639-1 code such as "en".
    Fixed(String),
    /// Let the model decide (multilingual models only).
    Auto,
}

/// One decode of a piece of 16 kHz mono audio.
#[derive(Debug, Clone)]
pub struct DecodeRequest {
    pub audio: Vec<f32>,
    /// Text said before this audio (improves continuity), may be empty.
    pub prompt: String,
    pub language: LanguageChoice,
    /// Produce English instead of a transcript (multilingual models only).
    pub translate: bool,
    /// Shrink the encoder window to the audio's length instead of Whisper's 30 s.
    pub fit_window: bool,
    /// Retry at higher temperatures when the decode looks degenerate (costly; finals only).
    pub fallback: bool,
    /// The form of the answer the assistant asked for: when the free decode looks like an
    /// attempt at it, a second decode is held to the form ([`form`]).
    pub answer: Option<Arc<form::AnswerForm>>,
    /// Threads for this decode; 0: the recogniser's own (one, so that parallelism comes from
    /// running calls side by side). A whole turn decoded while the machine has nothing else to
    /// do uses every core ([`crate::pipeline::Engine::idle_threads`]).
    pub threads: usize,
}

/// The result of one decode.
#[derive(Debug, Clone, Default)]
pub struct Hypothesis {
    pub words: Vec<Word>,
    /// Full text (segments joined).
    pub text: String,
    /// Milliseconds spent decoding.
    pub decode_ms: u64,
    /// Set when a decode held to the expected answer's form gave these words.
    pub held: Option<form::HeldReading>,
}

impl Hypothesis {
    /// How sure the recogniser is of the words: see [`confidence`].
    pub fn confidence(&self) -> Option<f32> {
        confidence(&self.words)
    }
}

/// The recogniser's probability for its least certain word (the mean of the word's token
/// probabilities); `None` without words. A short answer is as good as its weakest word: "April
/// 12th, 1975" is wrong in one word, and that word is where the recogniser hesitated.
pub fn confidence(words: &[Word]) -> Option<f32> {
    words.iter().filter(|w| w.text.chars().any(char::is_alphanumeric)).map(|w| w.prob).reduce(f32::min)
}

/// Errors from a speech recogniser.
#[derive(Debug, thiserror::Error)]
pub enum AsrError {
    /// The model file could not be loaded (fix the file; retrying will not help).
    #[error("cannot load speech model {path}: {reason}")]
    Load { path: String, reason: String },
    /// Decoding failed for this request (a retry with other audio may work).
    #[error("speech recognition failed: {0}")]
    Decode(String),
    /// The request asked for something this model cannot do.
    #[error("unsupported request: {0}")]
    Unsupported(String),
}

/// A loaded speech model, shared by all calls.
pub trait SpeechRecognizer: Send + Sync {
    /// Short model name ("tiny.en").
    fn name(&self) -> &str;
    /// Whether the model knows languages other than English.
    fn multilingual(&self) -> bool;
    /// Per-call decoding state.
    fn session(&self) -> Result<Box<dyn RecognizerSession>, AsrError>;
}

/// Per-call decoding state: one per stream, used by one worker at a time.
pub trait RecognizerSession: Send {
    /// Transcribe (or translate) a piece of audio.
    fn decode(&mut self, req: &DecodeRequest) -> Result<Hypothesis, AsrError>;
    /// Spoken-language identification: the best language with its probability, and the top
    /// candidates.
    fn detect_language(&mut self, audio: &[f32]) -> Result<LanguageGuess, AsrError>;
}

/// A language identification result.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LanguageGuess {
    pub language: String,
    pub prob: f32,
    /// Up to five (language, probability) pairs, best first.
    pub top: Vec<(String, f32)>,
}

/// A shared recogniser handle.
pub type SharedRecognizer = Arc<dyn SpeechRecognizer>;
