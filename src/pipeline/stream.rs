//! One call's streaming recognition task: frames in, transcript events out.
//!
//! The task owns the call's VAD, turn detector and audio buffer; each decode borrows a
//! recogniser session from the engine's pool. Audio is resampled to 16 kHz, the VAD marks turns, the growing turn is decoded every
//! `partial_interval_ms` on the shared inference pool (partials, committed by LocalAgreement-2),
//! and the end of a turn triggers a high-priority final decode. A failed decode is reported as
//! an event and the stream goes on.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;
use tokio::sync::mpsc;

use super::analysis;
use super::analysis::prosody::Prosody;
use super::asr::commit::LocalAgreement;
use super::asr::{AsrError, DecodeRequest, Hypothesis, LanguageChoice, LanguageGuess, Word};
use super::endpoint::{self, Evidence, ExpectedAnswer, Verdict};
use super::pool::Priority;
use super::turn::{TurnDetector, TurnEvent, TurnMode};
use super::vad::{VoiceActivityDetector, CHUNK_MS};
use super::{Engine, PipelineError};
use crate::media::resample::StreamResampler;
use crate::media::{AudioFrame, ASR_SAMPLE_RATE};

const SAMPLES_PER_MS: u64 = ASR_SAMPLE_RATE as u64 / 1000;

/// Partial decodes skipped because the inference pool had a backlog (the pool's rejected
/// jobs: finals are never skipped), for `/metrics`.
pub static PARTIALS_SHED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
/// Decodes ahead in `silence` mode (`[pipeline.turn] speculate`), for `/metrics` and the bench.
pub static SPECULATIVE: Speculative = Speculative {
    started: std::sync::atomic::AtomicU64::new(0),
    used: std::sync::atomic::AtomicU64::new(0),
    shed: std::sync::atomic::AtomicU64::new(0),
};
/// The workers' recent busy fraction above which no speculative decode starts: it costs a
/// decode per pause that does not end a turn (about half as much CPU again on read speech).
const SPECULATE_BELOW_LOAD: f64 = 0.5;

/// Counts of decodes ahead: started, used as the turn's final, skipped under load.
pub struct Speculative {
    started: std::sync::atomic::AtomicU64,
    used: std::sync::atomic::AtomicU64,
    shed: std::sync::atomic::AtomicU64,
}

impl Speculative {
    /// The counts by outcome, named as `/metrics` labels them.
    pub fn snapshot(&self) -> [(&'static str, u64); 3] {
        let get = |c: &std::sync::atomic::AtomicU64| c.load(std::sync::atomic::Ordering::Relaxed);
        [("started", get(&self.started)), ("used", get(&self.used)), ("shed", get(&self.shed))]
    }
}

fn count(c: &std::sync::atomic::AtomicU64) {
    c.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
}

/// Audio after the detected end of speech included in the final decode.
const FINAL_TAIL_MS: u64 = 300;
/// Minimum turn audio before a partial decode is worth running.
const MIN_PARTIAL_MS: u64 = 1000;
/// Minimum turn audio for spoken-language identification from a partial (shorter turns are
/// identified at their final decode, on all of the turn).
const MIN_DETECT_MS: u64 = 2000;

/// What a stream reports. Serialised with a `type` tag in snake_case.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TranscriptEvent {
    /// The caller started speaking.
    TurnStarted { start_ms: u64 },
    /// Spoken language of a turn identified.
    LanguageDetected { language: String, language_prob: f32, start_ms: u64, top: Vec<(String, f32)> },
    /// The current hypothesis for the turn: committed words then unstable ones.
    Partial { text: String, committed: String, start_ms: u64, end_ms: u64, language: String, language_prob: f32 },
    /// The turn's final text.
    Final {
        text: String,
        start_ms: u64,
        end_ms: u64,
        language: String,
        language_prob: f32,
        /// End of speech (stream time) to emission, in ms.
        latency_ms: u64,
        #[serde(skip_serializing_if = "Option::is_none")]
        translation: Option<String>,
        #[serde(skip)]
        words: Vec<Word>,
        /// Prosodic features of the turn (for the caller-state analysis).
        #[serde(skip)]
        prosody: Option<Prosody>,
        /// Why the turn was taken as over ([`super::endpoint::Why`], or "end_of_audio").
        #[serde(skip_serializing_if = "Option::is_none")]
        ended_by: Option<String>,
    },
    /// A decode failed; the stream continues.
    Error { message: String },
    /// The input ended and everything was flushed.
    Ended { audio_ms: u64 },
}

/// Handle to a running stream: push frames in, read events out. Dropping `input` ends the stream.
pub struct StreamHandle {
    pub input: mpsc::Sender<AudioFrame>,
    pub events: mpsc::Receiver<TranscriptEvent>,
    /// The language the speaker is expected to speak (a customer's language on file), if any.
    pub expected_language: ExpectedLanguage,
    /// What the assistant just asked for, if anything (for the end of the caller's turn).
    pub expected_answer: ExpectedAnswer,
    /// Whether anyone uses the partial transcripts (asked before each partial decode).
    pub partials: PartialsWanted,
}

/// Whether anyone uses a stream's partial transcripts: a person watching the call (its agent,
/// a supervisor, the caller's page) or something else following it. Partial decodes are most
/// of a live turn's cost (a 6 s turn: five growing decodes before its final), so a call nobody
/// watches gets finals only. Unset: wanted (files, benches).
#[derive(Clone, Default)]
pub struct PartialsWanted(Arc<std::sync::RwLock<Option<WantedFn>>>);

type WantedFn = Arc<dyn Fn() -> bool + Send + Sync>;

impl PartialsWanted {
    /// Ask `wanted` from now on.
    pub fn set(&self, wanted: impl Fn() -> bool + Send + Sync + 'static) {
        *self.0.write().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(wanted));
    }

    pub fn get(&self) -> bool {
        let f = self.0.read().unwrap_or_else(|p| p.into_inner()).clone();
        f.is_none_or(|f| f())
    }
}

/// What a stream shares with whoever holds its handle.
struct Links {
    expected: ExpectedLanguage,
    answer: ExpectedAnswer,
    partials: PartialsWanted,
}

impl StreamHandle {
    /// The handle of a call that is not transcribed (answered while the lines were full):
    /// nothing reads its input, no event ever comes.
    pub fn untranscribed() -> Self {
        let (input, _) = mpsc::channel(1);
        let (_, events) = mpsc::channel(1);
        Self {
            input,
            events,
            expected_language: Default::default(),
            expected_answer: Default::default(),
            partials: Default::default(),
        }
    }
}

/// A speaker's expected language, shared with the stream: believed unless the recogniser is
/// sure of another (see [`believe_expected`]).
#[derive(Clone, Default)]
pub struct ExpectedLanguage(Arc<std::sync::Mutex<Option<String>>>);

impl ExpectedLanguage {
    pub fn set(&self, language: Option<String>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = language;
    }
    fn get(&self) -> Option<String> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// The recogniser's probability for another language at which it overrules the expected one.
const OVERRULE_EXPECTED: f32 = 0.9;

/// Apply the expected language to a turn's identification. Whisper's language identification
/// is unreliable on short, narrowband (8 kHz) turns: a Swedish sentence over G.711 can come
/// back as Thai at 0.7. A language on file for the caller is the better bet unless the
/// recogniser is sure of another; then it stays the recogniser's. The expected language's
/// probability is what the recogniser left over for it (at least the mass not on its winner),
/// so a believed-against-the-odds turn stays weak evidence for the call's language.
pub fn believe_expected(guess: LanguageGuess, expected: Option<&str>) -> LanguageGuess {
    let Some(expected) = expected.filter(|e| !e.is_empty()) else {
        return guess;
    };
    if guess.language == expected || guess.prob >= OVERRULE_EXPECTED {
        return guess;
    }
    let own = guess.top.iter().find(|(l, _)| l == expected).map(|(_, p)| *p).unwrap_or(0.0);
    let prob = own.max(1.0 - guess.prob);
    let mut top = vec![(expected.to_string(), prob)];
    top.extend(guess.top.into_iter().filter(|(l, _)| l != expected));
    LanguageGuess { language: expected.to_string(), prob, top }
}

impl Engine {
    /// Start a stream task for one call's caller: transcribed, with prosody and the learned
    /// voice classifiers on each final turn.
    pub fn start_stream(self: &Arc<Self>) -> Result<StreamHandle, PipelineError> {
        self.start_stream_of(true, false)
    }

    /// A caller's stream fed faster than real time (a file): while a pause is being judged the
    /// stream reads no more audio, so the decision sees the silence it would see live instead
    /// of the speech that follows seconds later in the file.
    pub fn start_file_stream(self: &Arc<Self>) -> Result<StreamHandle, PipelineError> {
        self.start_stream_of(true, true)
    }

    /// Start a stream task for a member of staff (an agent on the call): transcribed only.
    /// Nothing about staff voices (mood, accent, prosody) is computed.
    pub fn start_staff_stream(self: &Arc<Self>) -> Result<StreamHandle, PipelineError> {
        self.start_stream_of(false, false)
    }

    fn start_stream_of(self: &Arc<Self>, caller: bool, file: bool) -> Result<StreamHandle, PipelineError> {
        let vad = self.vad.create()?;
        let (in_tx, in_rx) = mpsc::channel(64);
        let (ev_tx, ev_rx) = mpsc::channel(256);
        let engine = self.clone();
        let (expected_language, expected_answer, partials) = Default::default();
        let links = Links {
            expected: ExpectedLanguage::clone(&expected_language),
            answer: ExpectedAnswer::clone(&expected_answer),
            partials: PartialsWanted::clone(&partials),
        };
        tokio::spawn(async move {
            let mut s = Stream::new(engine, vad, ev_tx, links, caller, file);
            s.run(in_rx).await;
        });
        Ok(StreamHandle { input: in_tx, events: ev_rx, expected_language, expected_answer, partials })
    }
}

struct TurnState {
    id: u64,
    start_ms: u64,
    buffer_start_ms: u64,
    la: LocalAgreement,
    language: Option<LanguageGuess>,
    decoded_upto_ms: u64,
    trimmed_prompt: String,
}

struct FinalJob {
    turn: TurnState,
    end_ms: u64,
    detected_ms: u64,
    detected_at: Instant,
    audio: Vec<f32>,
    ended_by: String,
}

/// A pause to judge: the turn, and the end of its last speech (speech since makes it stale).
#[derive(Debug, Clone, Copy, PartialEq)]
struct PauseKey {
    turn_id: u64,
    last_speech_end: u64,
}

enum JobKind {
    Partial {
        turn_id: u64,
        buffer_start_ms: u64,
    },
    Final(Box<FinalJob>),
    /// The final decode of the turn so far and Smart Turn's verdict, run at a pause: if the
    /// pause ends the turn this is its final, ready when the turn is declared over.
    Probe(PauseKey),
}

struct JobOutput {
    language: Option<Result<LanguageGuess, AsrError>>,
    hypothesis: Result<Hypothesis, AsrError>,
    translation: Option<Result<Hypothesis, AsrError>>,
    /// Prosodic features of a final's turn, computed on the same worker.
    prosody: Option<Prosody>,
    /// Smart Turn's probability that the turn is complete (probes only).
    end_of_turn: Option<f32>,
}

/// Where the judgement of the current pause stands.
enum Probe {
    None,
    /// Wanted as soon as the worker slot is free.
    Wanted(PauseKey),
    Running(PauseKey),
    /// Decoded and judged "wait": kept to judge later rechecks of the same pause, and as the
    /// turn's final if the pause ends it.
    Ready(PauseKey, Box<JobOutput>),
}

type Inflight = Pin<Box<dyn Future<Output = (JobKind, Option<JobOutput>)> + Send>>;

struct Stream {
    engine: Arc<Engine>,
    /// Prosody and the voice classifiers on final turns (callers only, never staff).
    analyse_voice: bool,
    vad: Box<dyn VoiceActivityDetector>,
    events: mpsc::Sender<TranscriptEvent>,
    resampler: Option<(u32, StreamResampler)>,
    turns: TurnDetector,
    /// 16 kHz audio kept for the current turn (or pre-roll while idle).
    buf: Vec<f32>,
    buf_start_ms: u64,
    total_samples: u64,
    vad_chunks: u64,
    turn: Option<TurnState>,
    next_turn_id: u64,
    finals: VecDeque<FinalJob>,
    inflight: Option<Inflight>,
    context: String,
    expected: ExpectedLanguage,
    answer: ExpectedAnswer,
    partials: PartialsWanted,
    probe: Probe,
    /// Finals whose decode is already done (a probe's), emitted before anything else.
    decoded: VecDeque<(FinalJob, Box<JobOutput>)>,
    /// A turn that ended while its pause's probe was still decoding: that decode is its final.
    /// Only set while that probe is the job in flight; `complete` always hands it on.
    awaiting: Option<(PauseKey, FinalJob)>,
    /// Read no input while a pause is judged (input faster than real time).
    hold_for_probe: bool,
}

impl Stream {
    fn new(
        engine: Arc<Engine>,
        vad: Box<dyn VoiceActivityDetector>,
        events: mpsc::Sender<TranscriptEvent>,
        links: Links,
        analyse_voice: bool,
        hold_for_probe: bool,
    ) -> Self {
        let Links { expected, answer, partials } = links;
        let mut turn_cfg = engine.config.turn.clone();
        if hold_for_probe {
            turn_cfg.speculate = false; // a file is read faster than real time: no pause to use
        }
        let turns = TurnDetector::new(turn_cfg);
        Self {
            engine,
            vad,
            events,
            resampler: None,
            turns,
            buf: Vec::new(),
            buf_start_ms: 0,
            total_samples: 0,
            vad_chunks: 0,
            turn: None,
            next_turn_id: 0,
            finals: VecDeque::new(),
            inflight: None,
            context: String::new(),
            expected,
            answer,
            partials,
            probe: Probe::None,
            decoded: VecDeque::new(),
            awaiting: None,
            hold_for_probe,
            analyse_voice,
        }
    }

    fn now_ms(&self) -> u64 {
        self.total_samples / SAMPLES_PER_MS
    }

    /// Send an event; the returned future does not borrow the stream (keeps the task `Send`).
    fn emit(&self, ev: TranscriptEvent) -> impl Future<Output = ()> + Send + 'static {
        let ev = mask_cards(ev);
        let tx = self.events.clone();
        async move {
            let _ = tx.send(ev).await;
        }
    }

    async fn run(&mut self, mut input: mpsc::Receiver<AudioFrame>) {
        let mut input_open = true;
        loop {
            while let Some((job, out)) = self.decoded.pop_front() {
                self.complete(JobKind::Final(Box::new(job)), Some(*out)).await;
            }
            self.launch();
            if !input_open && self.inflight.is_none() && self.finals.is_empty() {
                break;
            }
            let judging = matches!(self.probe, Probe::Wanted(_) | Probe::Running(_));
            let read = input_open && !(self.hold_for_probe && judging && self.inflight.is_some());
            tokio::select! {
                biased;
                (kind, out) = async { self.inflight.as_mut().expect("guarded").await }, if self.inflight.is_some() => {
                    self.inflight = None;
                    self.complete(kind, out).await;
                }
                frame = input.recv(), if read => match frame {
                    Some(frame) => self.ingest(frame).await,
                    None => {
                        input_open = false;
                        self.end_of_input().await;
                    }
                },
            }
        }
        let audio_ms = self.now_ms();
        self.emit(TranscriptEvent::Ended { audio_ms }).await;
    }

    async fn ingest(&mut self, frame: AudioFrame) {
        let rate = frame.sample_rate;
        let mono = frame.into_mono();
        if self.resampler.as_ref().map(|(r, _)| *r) != Some(rate) {
            match StreamResampler::new(rate, ASR_SAMPLE_RATE) {
                Ok(r) => self.resampler = Some((rate, r)),
                Err(e) => {
                    self.emit(TranscriptEvent::Error { message: e.to_string() }).await;
                    return;
                }
            }
        }
        let Some((_, resampler)) = self.resampler.as_mut() else {
            return;
        };
        let samples = resampler.push(&mono);
        self.push_16k(samples).await;
    }

    async fn push_16k(&mut self, samples: Vec<f32>) {
        if samples.is_empty() {
            return;
        }
        self.total_samples += samples.len() as u64;
        self.buf.extend_from_slice(&samples);
        let probs = match self.vad.push(&samples) {
            Ok(p) => p,
            Err(e) => {
                self.emit(TranscriptEvent::Error { message: e.to_string() }).await;
                vec![0.0; samples.len() / super::vad::CHUNK]
            }
        };
        for p in probs {
            let start = self.vad_chunks * CHUNK_MS;
            self.vad_chunks += 1;
            if let Some(ev) = self.turns.handle_chunk(start, start + CHUNK_MS, p) {
                self.on_turn_event(ev).await;
            }
        }
        self.trim_buffer();
    }

    async fn on_turn_event(&mut self, ev: TurnEvent) {
        match ev {
            TurnEvent::Started { start_ms } => {
                let cfg = &self.engine.config;
                let buffer_start_ms = start_ms.saturating_sub(cfg.preroll_ms).max(self.buf_start_ms);
                self.turn = Some(TurnState {
                    id: self.next_turn_id,
                    start_ms,
                    buffer_start_ms,
                    la: LocalAgreement::new(),
                    language: None,
                    decoded_upto_ms: buffer_start_ms,
                    trimmed_prompt: String::new(),
                });
                self.next_turn_id += 1;
                self.emit(TranscriptEvent::TurnStarted { start_ms }).await;
            }
            TurnEvent::Ended { end_ms, detected_ms } => {
                let why = match self.engine.config.turn.mode {
                    TurnMode::Smart => endpoint::Why::MaxSilence.to_string(),
                    TurnMode::Silence => endpoint::Why::Silence.to_string(),
                };
                self.end_turn(end_ms, detected_ms, why).await;
            }
            TurnEvent::Pause { last_speech_end, .. } => {
                let Some(turn_id) = self.turn.as_ref().map(|t| t.id) else { return };
                let key = PauseKey { turn_id, last_speech_end };
                match &self.probe {
                    Probe::Ready(k, _) if *k == key => self.judge_pause().await,
                    Probe::Running(k) | Probe::Wanted(k) if *k == key => {}
                    _ => self.probe = Probe::Wanted(key),
                }
            }
        }
    }

    /// The turn is over (speech ended at `end_ms`, known at `detected_ms`): its final is the
    /// ready probe of this pause if there is one, else a decode queued now.
    async fn end_turn(&mut self, end_ms: u64, detected_ms: u64, ended_by: String) {
        let Some(turn) = self.turn.take() else { return };
        let key = PauseKey { turn_id: turn.id, last_speech_end: end_ms };
        let detected_at = Instant::now();
        match std::mem::replace(&mut self.probe, Probe::None) {
            Probe::Ready(k, out) if k == key => {
                self.probe_used();
                let job = FinalJob { turn, end_ms, detected_ms, detected_at, audio: Vec::new(), ended_by };
                self.decoded.push_back((job, out));
            }
            probe => {
                let audio = self.slice(turn.buffer_start_ms, end_ms + FINAL_TAIL_MS);
                let job = FinalJob { turn, end_ms, detected_ms, detected_at, audio, ended_by };
                match probe {
                    // Its decode is under way: it becomes the final (the audio is kept in case
                    // it fails and the turn must be decoded after all).
                    Probe::Running(k) if k == key => self.awaiting = Some((key, job)),
                    _ => self.finals.push_back(job),
                }
            }
        }
    }

    /// Whether pauses are decoded ahead for the silence rule (not judged, as in smart mode).
    fn speculating(&self) -> bool {
        self.engine.config.turn.mode == TurnMode::Silence
    }

    /// A probe's decode became the turn's final.
    fn probe_used(&self) {
        if self.speculating() {
            count(&SPECULATIVE.used);
        }
    }

    /// Judge the current pause with the ready probe; end the turn if the verdict says so.
    async fn judge_pause(&mut self) {
        let (Probe::Ready(key, out), Some(last)) = (&self.probe, self.turns.last_speech_end()) else { return };
        if key.last_speech_end != last || self.turn.as_ref().map(|t| t.id) != Some(key.turn_id) {
            self.probe = Probe::None; // the caller spoke again: a new pause will come
            return;
        }
        if self.speculating() {
            return; // a speculative decode: the silence rule alone ends the turn
        }
        let words = out.hypothesis.as_ref().ok().map(|h| h.text.as_str());
        let expecting = if self.analyse_voice { self.answer.get() } else { None };
        let now = self.now_ms();
        let ev = Evidence {
            silence_ms: now.saturating_sub(last),
            end_of_turn: out.end_of_turn,
            words,
            expecting: expecting.as_ref(),
        };
        let verdict = endpoint::judge(&self.engine.config.turn, &ev);
        tracing::debug!(silence_ms = ev.silence_ms, ?verdict, "pause judged");
        if let Verdict::End(why) = verdict {
            if let Some(TurnEvent::Ended { end_ms, detected_ms }) = self.turns.end_now(now) {
                self.end_turn(end_ms, detected_ms, why.to_string()).await;
            }
        }
    }

    async fn end_of_input(&mut self) {
        if let Some((_, r)) = self.resampler.as_mut() {
            let tail = r.flush();
            self.push_16k(tail).await;
        }
        // Let the VAD see the last partial chunk as silence-padded audio.
        let now = self.now_ms();
        if let Some(TurnEvent::Ended { end_ms, detected_ms }) = self.turns.finish(now) {
            self.end_turn(end_ms, detected_ms, "end_of_audio".into()).await;
        }
    }

    /// Audio between two absolute times (clamped to what is buffered).
    fn slice(&self, from_ms: u64, to_ms: u64) -> Vec<f32> {
        let base = self.buf_start_ms * SAMPLES_PER_MS;
        let a = (from_ms * SAMPLES_PER_MS).saturating_sub(base) as usize;
        let b = ((to_ms * SAMPLES_PER_MS).saturating_sub(base) as usize).min(self.buf.len());
        if a >= b {
            return Vec::new();
        }
        self.buf[a..b].to_vec()
    }

    /// Drop audio nobody needs any more: before the turn's buffer start, or all but pre-roll.
    fn trim_buffer(&mut self) {
        let keep_from_ms = match &self.turn {
            Some(t) => t.buffer_start_ms,
            None => self.now_ms().saturating_sub(self.engine.config.preroll_ms + CHUNK_MS * 8),
        };
        if keep_from_ms > self.buf_start_ms + 1000 {
            let n = ((keep_from_ms - self.buf_start_ms) * SAMPLES_PER_MS) as usize;
            let n = n.min(self.buf.len());
            self.buf.drain(..n);
            self.buf_start_ms += (n as u64) / SAMPLES_PER_MS;
        }
    }

    fn prompt_for(&self, turn: &TurnState) -> String {
        if !self.engine.config.prompt_context {
            return turn.trimmed_prompt.clone();
        }
        tail(format!("{} {}", self.context, turn.trimmed_prompt).trim(), 200).to_string()
    }

    /// The decode of a whole turn (a final, or a probe that may become one), and whether it
    /// identifies the language. Its prompt is the expected answer's when the assistant asked
    /// for one with a prompt, else the usual.
    fn whole_turn_request(&self, turn: &TurnState, audio: Vec<f32>) -> (DecodeRequest, bool) {
        let expected = if self.analyse_voice { self.answer.get() } else { None };
        let prompt = match expected.and_then(|e| e.prompt) {
            Some(p) => p.to_string(),
            None => self.prompt_for(turn),
        };
        let (language, detect) = self.language_choice(turn);
        let fit_window = self.engine.config.fit_window;
        (DecodeRequest { audio, prompt, language, translate: false, fit_window, fallback: true }, detect)
    }

    fn language_choice(&self, turn: &TurnState) -> (LanguageChoice, bool) {
        let cfg = &self.engine.config;
        if cfg.language != "auto" {
            return (LanguageChoice::Fixed(cfg.language.clone()), false);
        }
        if !self.engine.recognizer.multilingual() {
            return (LanguageChoice::Fixed("en".into()), false);
        }
        match &turn.language {
            Some(g) => (LanguageChoice::Fixed(g.language.clone()), false),
            None => (LanguageChoice::Auto, true),
        }
    }

    /// Start the next job unless one is in flight: finals first, then a due partial.
    fn launch(&mut self) {
        if self.inflight.is_some() {
            return;
        }
        let engine = self.engine.clone();
        let cfg = &engine.config;
        let translate = cfg.translate && self.engine.recognizer.multilingual();
        if let Some(mut job) = self.finals.pop_front() {
            let (req, detect) = self.whole_turn_request(&job.turn, std::mem::take(&mut job.audio));
            self.spawn(JobKind::Final(Box::new(job)), req, detect, translate, Priority::High);
            return;
        }
        if let Probe::Wanted(key) = self.probe {
            let current = self.turns.last_speech_end() == Some(key.last_speech_end);
            if current && self.speculating() {
                // A followed call decodes partials every second already, and a decode ahead
                // would queue behind the one in flight and delay its final (measured: 1149 ms
                // to the final instead of 965 at one stream): no speculation there.
                if cfg.partial_interval_ms != 0 && self.partials.get() {
                    self.probe = Probe::None;
                    return;
                }
                // Speculation is optional: it runs only on a worker that is free now and while
                // the workers were less than SPECULATE_BELOW_LOAD busy lately, else it would
                // delay other calls' finals and use CPU a busy machine does not have.
                let pool = self.engine.pool.stats();
                if pool.queued > 0
                    || pool.running >= pool.workers
                    || self.engine.pool.recent_load() >= SPECULATE_BELOW_LOAD
                {
                    count(&SPECULATIVE.shed);
                    self.probe = Probe::None;
                    return;
                }
                count(&SPECULATIVE.started);
            }
            if let Some(turn) = self.turn.as_ref().filter(|t| t.id == key.turn_id && current) {
                let (req, detect) = self.whole_turn_request(turn, self.slice(turn.buffer_start_ms, self.now_ms()));
                self.probe = Probe::Running(key);
                self.spawn(JobKind::Probe(key), req, detect, translate, Priority::High);
                return;
            }
            self.probe = Probe::None;
        }
        if cfg.partial_interval_ms == 0 || !self.partials.get() {
            return;
        }
        let now = self.now_ms();
        let Some(turn) = self.turn.as_mut() else {
            return;
        };
        // Long turns: forget audio whose words are committed, carry their text as prompt.
        if now.saturating_sub(turn.buffer_start_ms) > cfg.max_buffer_ms
            && turn.la.committed_end_ms() > turn.buffer_start_ms + 1000
        {
            turn.buffer_start_ms = turn.la.committed_end_ms();
            turn.trimmed_prompt = turn.la.committed_text();
        }
        let turn = self.turn.as_ref().expect("checked");
        if let Probe::Ready(k, _) = &self.probe {
            if self.turns.last_speech_end() != Some(k.last_speech_end) {
                self.probe = Probe::None; // the caller went on: that pause's decode is stale
            }
        }
        if !matches!(self.probe, Probe::None) {
            return; // a pause is being judged: its decode is the partial
        }
        let have = now.saturating_sub(turn.buffer_start_ms);
        if have < MIN_PARTIAL_MS || now.saturating_sub(turn.decoded_upto_ms) < cfg.partial_interval_ms {
            return;
        }
        let (lang, detect) = self.language_choice(turn);
        if detect && have < MIN_DETECT_MS {
            return;
        }
        // Load shedding: with a backlog on the pool, a partial would only delay other calls'
        // finals (finals run first, but a started partial is not pre-empted). Skip it; the
        // final of the turn is decoded from the whole turn anyway.
        let pool = self.engine.pool.stats();
        if pool.queued >= pool.workers {
            PARTIALS_SHED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            return;
        }
        let req = DecodeRequest {
            audio: self.slice(turn.buffer_start_ms, now),
            prompt: self.prompt_for(turn),
            language: lang,
            translate: false,
            fit_window: cfg.fit_window,
            fallback: false,
        };
        let kind = JobKind::Partial { turn_id: turn.id, buffer_start_ms: turn.buffer_start_ms };
        if let Some(t) = self.turn.as_mut() {
            t.decoded_upto_ms = now;
        }
        self.spawn(kind, req, detect, false, Priority::Low);
    }

    fn spawn(&mut self, kind: JobKind, mut req: DecodeRequest, detect: bool, translate: bool, prio: Priority) {
        let pool = self.engine.pool.clone();
        let engine = self.engine.clone();
        let whole = matches!(kind, JobKind::Final(_) | JobKind::Probe(_));
        let prosody = self.analyse_voice && whole;
        // Smart Turn's verdict is wanted on probes in smart mode only (a speculative decode
        // in silence mode is judged by the silence rule).
        let end_of_turn = matches!(kind, JobKind::Probe(_)) && !self.speculating();
        let expected = if detect { self.expected.get() } else { None };
        self.inflight = Some(Box::pin(async move {
            let out = pool
                .run(prio, move || {
                    // A session from the shared pool for this decode only.
                    let mut session = match engine.sessions.checkout() {
                        Ok(s) => s,
                        Err(e) => {
                            return JobOutput {
                                language: None,
                                hypothesis: Err(e),
                                translation: None,
                                prosody: None,
                                end_of_turn: None,
                            }
                        }
                    };
                    let mut language = None;
                    if detect {
                        let g = session.detect_language(&req.audio).map(|g| believe_expected(g, expected.as_deref()));
                        if let Ok(g) = &g {
                            req.language = LanguageChoice::Fixed(g.language.clone());
                        }
                        language = Some(g);
                    }
                    let hypothesis = session.decode(&req);
                    let translation = match (&req.language, translate) {
                        (LanguageChoice::Fixed(l), true) if l != "en" => Some(session.decode(&DecodeRequest {
                            translate: true,
                            prompt: String::new(),
                            ..req.clone()
                        })),
                        _ => None,
                    };
                    // The Whisper state goes back before the voice analysis, for the next decode.
                    engine.sessions.give_back(session);
                    let prosody = prosody.then(|| analysis::analyse_turn(&req.audio, None, engine.voice.as_deref()));
                    // Smart Turn: from the voice analysis's encoder pass when it ran, else its own.
                    let end_of_turn = match prosody.as_ref().and_then(|p| p.voice.as_ref()) {
                        _ if !end_of_turn => None,
                        Some(v) => Some(v.end_of_turn),
                        None => engine.turn_model.as_ref().and_then(|m| match m.embed(&req.audio) {
                            Ok(e) => Some(e.end_of_turn),
                            Err(e) => {
                                tracing::warn!(error = %e, "end-of-turn model failed on a pause");
                                None
                            }
                        }),
                    };
                    JobOutput { language, hypothesis, translation, prosody, end_of_turn }
                })
                .await
                .ok();
            (kind, out)
        }));
    }

    async fn complete(&mut self, kind: JobKind, out: Option<JobOutput>) {
        // A probe that failed (its worker, or its decode) is no final and judges nothing: the
        // pause is probed again (smart mode) or the turn decoded after the rule (silence mode).
        let failed = out.as_ref().is_none_or(|o| o.hypothesis.is_err());
        if let (JobKind::Probe(key), true) = (&kind, failed) {
            if matches!(self.probe, Probe::Running(k) if k == *key) {
                self.probe = Probe::None;
            }
        }
        // A probe whose turn ended while it ran is that turn's final.
        let kind = match kind {
            JobKind::Probe(key) if self.awaiting.as_ref().is_some_and(|(k, _)| *k == key) => {
                let (_, job) = self.awaiting.take().expect("checked");
                if failed {
                    // Decode the turn after all, ahead of any turn that ended since.
                    self.finals.push_front(job);
                    return;
                }
                self.probe_used();
                JobKind::Final(Box::new(FinalJob { audio: Vec::new(), ..job }))
            }
            kind => kind,
        };
        let Some(out) = out else {
            // The worker died with its session (the pool makes a new one); the call goes on.
            self.emit(TranscriptEvent::Error { message: "inference worker failed".into() }).await;
            return;
        };
        let lang_result = match out.language {
            Some(Ok(g)) => Some(g),
            Some(Err(e)) => {
                self.emit(TranscriptEvent::Error { message: e.to_string() }).await;
                None
            }
            None => None,
        };
        match kind {
            JobKind::Probe(key) => {
                if !matches!(self.probe, Probe::Running(k) if k == key) {
                    return;
                }
                // The language found on the probe's decode is the turn's once it had 2 s of
                // speech (shorter, identification is a guess: 1.3 s of German can come back as
                // Thai); a shorter one is kept for the final, should this pause end the turn.
                let Some(turn) = self.turn.as_mut().filter(|t| t.id == key.turn_id) else { return };
                let (announce, keep) = if key.last_speech_end.saturating_sub(turn.start_ms) >= MIN_DETECT_MS {
                    (adopt_language(turn, lang_result), None)
                } else {
                    (None, lang_result.map(Ok))
                };
                if let Some(ev) = announce {
                    self.emit(ev).await;
                }
                self.probe = Probe::Ready(key, Box::new(JobOutput { language: keep, ..out }));
                self.judge_pause().await;
            }
            JobKind::Partial { turn_id, buffer_start_ms } => {
                // The turn may have ended while this partial ran: its final is queued, update it there.
                let turn = match self.turn.as_mut().filter(|t| t.id == turn_id) {
                    Some(t) => t,
                    None => match self.finals.iter_mut().find(|f| f.turn.id == turn_id) {
                        Some(f) => &mut f.turn,
                        None => return,
                    },
                };
                let announce = adopt_language(turn, lang_result);
                let hyp = match out.hypothesis {
                    Ok(h) => h,
                    Err(e) => {
                        self.emit(TranscriptEvent::Error { message: e.to_string() }).await;
                        return;
                    }
                };
                let words = place(hyp.words, buffer_start_ms);
                let end_ms = words.last().map(|w| w.end_ms).unwrap_or(buffer_start_ms);
                turn.la.insert(words);
                let (language, language_prob) = lang_of(turn, &self.engine);
                let (text, committed, start_ms) = (turn.la.text(), turn.la.committed_text(), turn.start_ms);
                if let Some(ev) = announce {
                    self.emit(ev).await;
                }
                if !text.is_empty() {
                    self.emit(TranscriptEvent::Partial { text, committed, start_ms, end_ms, language, language_prob })
                        .await;
                }
            }
            JobKind::Final(job) => {
                let FinalJob { mut turn, end_ms, detected_ms, detected_at, ended_by, .. } = *job;
                if let Some(ev) = adopt_language(&mut turn, lang_result) {
                    self.emit(ev).await;
                }
                let hyp = match out.hypothesis {
                    Ok(h) => h,
                    Err(e) => {
                        self.emit(TranscriptEvent::Error { message: e.to_string() }).await;
                        return;
                    }
                };
                // Untrimmed, the final decode saw the whole turn and is authoritative.
                let whole_turn = turn.trimmed_prompt.is_empty();
                turn.la.finish(place(hyp.words, turn.buffer_start_ms), whole_turn);
                let text = turn.la.committed_text();
                if text.is_empty() {
                    return; // noise or a cough: nothing was said
                }
                let translation = match out.translation {
                    Some(Ok(h)) if !h.text.is_empty() => Some(h.text),
                    Some(Err(e)) => {
                        self.emit(TranscriptEvent::Error { message: e.to_string() }).await;
                        None
                    }
                    _ => None,
                };
                let (language, language_prob) = lang_of(&turn, &self.engine);
                let latency_ms = detected_ms.saturating_sub(end_ms) + detected_at.elapsed().as_millis() as u64;
                if self.engine.config.prompt_context {
                    self.context = format!("{} {text}", tail(&self.context, 500));
                }
                let words = turn.la.committed().to_vec();
                let prosody = out.prosody.map(|mut p| {
                    p.set_words(words.len());
                    p
                });
                self.emit(TranscriptEvent::Final {
                    text,
                    start_ms: turn.start_ms,
                    end_ms,
                    language,
                    language_prob,
                    latency_ms,
                    translation,
                    words,
                    prosody,
                    ended_by: Some(ended_by),
                })
                .await;
            }
        }
    }
}

/// Card numbers never leave the stream ([`crate::privacy`]): masked in a partial's text (a
/// number on its way: 7+ digits) and in a final's text and translation (13+ digits, or 7+ in
/// a sentence about a card); in a final that held one, every word with a digit in it is
/// masked too (a number can be split across words).
fn mask_cards(mut ev: TranscriptEvent) -> TranscriptEvent {
    use crate::privacy::{mask_cards as mask, mask_cards_in_progress as mask_partial};
    match &mut ev {
        TranscriptEvent::Partial { text, committed, .. } => {
            *text = mask_partial(text);
            *committed = mask_partial(committed);
        }
        TranscriptEvent::Final { text, translation, words, .. } => {
            let mut held = false;
            for t in std::iter::once(text).chain(translation.as_mut()) {
                let masked = mask(t);
                held |= masked != *t;
                *t = masked;
            }
            if held {
                for w in words.iter_mut().filter(|w| w.text.chars().any(|c| c.is_ascii_digit())) {
                    w.text = format!(" {}", crate::privacy::CARD);
                }
            }
        }
        _ => {}
    }
    ev
}

/// The last `max_bytes` (or fewer, at a character boundary) of `s`.
fn tail(s: &str, max_bytes: usize) -> &str {
    let from = s.len().saturating_sub(max_bytes);
    let cut = s.char_indices().map(|(i, _)| i).find(|&i| i >= from).unwrap_or(s.len());
    &s[cut..]
}

/// Shift words decoded from a buffer starting at `offset_ms` to absolute stream time.
fn place(words: Vec<Word>, offset_ms: u64) -> Vec<Word> {
    words.into_iter().map(|w| Word { start_ms: w.start_ms + offset_ms, end_ms: w.end_ms + offset_ms, ..w }).collect()
}

/// Record a newly identified language on a turn that had none; returns the event announcing it.
fn adopt_language(turn: &mut TurnState, guess: Option<LanguageGuess>) -> Option<TranscriptEvent> {
    let g = guess.filter(|_| turn.language.is_none())?;
    let ev = TranscriptEvent::LanguageDetected {
        language: g.language.clone(),
        language_prob: g.prob,
        start_ms: turn.start_ms,
        top: g.top.clone(),
    };
    turn.language = Some(g);
    Some(ev)
}

fn lang_of(turn: &TurnState, engine: &Engine) -> (String, f32) {
    match &turn.language {
        Some(g) => (g.language.clone(), g.prob),
        None if engine.config.language != "auto" => (engine.config.language.clone(), 1.0),
        None => ("en".into(), if engine.recognizer.multilingual() { 0.0 } else { 1.0 }),
    }
}

#[cfg(test)]
mod tests {
    use super::super::asr::{RecognizerSession, SpeechRecognizer, Word};
    use super::super::pool::InferencePool;
    use super::super::vad::FakeVadFactory;
    use super::super::PipelineConfig;
    use super::*;

    #[test]
    fn an_expected_language_is_believed_unless_the_recogniser_is_sure_of_another() {
        let guess = |top: &[(&str, f32)]| LanguageGuess {
            language: top[0].0.into(),
            prob: top[0].1,
            top: top.iter().map(|(l, p)| (l.to_string(), *p)).collect(),
        };
        // Swedish over G.711 heard as Thai: the Swedish customer's language wins, weakly.
        let g = believe_expected(guess(&[("th", 0.72), ("en", 0.18), ("sv", 0.01)]), Some("sv"));
        assert_eq!(g.language, "sv");
        assert!((g.prob - 0.28).abs() < 1e-5, "{g:?}");
        assert_eq!(g.top.iter().map(|(l, _)| l.as_str()).collect::<Vec<_>>(), ["sv", "th", "en"]);
        // Its own probability counts when higher than what the winner left.
        assert!((believe_expected(guess(&[("no", 0.5), ("sv", 0.45)]), Some("sv")).prob - 0.5).abs() < 1e-5);
        // A recogniser sure of English overrules a Swedish profile; no expectation, no change.
        assert_eq!(believe_expected(guess(&[("en", 0.95), ("sv", 0.02)]), Some("sv")).language, "en");
        assert_eq!(believe_expected(guess(&[("th", 0.72)]), None).language, "th");
    }

    /// Recognises "hello" in any audio, "hello world" once it is over two seconds long: partials
    /// of a short prefix differ from the whole-turn final, as with a real model.
    /// Its first `failures` decodes fail.
    #[derive(Default)]
    struct FakeRecognizer {
        failures: Arc<std::sync::atomic::AtomicUsize>,
    }
    struct FakeSession {
        failures: Arc<std::sync::atomic::AtomicUsize>,
    }

    impl SpeechRecognizer for FakeRecognizer {
        fn name(&self) -> &str {
            "fake"
        }
        fn multilingual(&self) -> bool {
            false
        }
        fn session(&self) -> Result<Box<dyn RecognizerSession>, AsrError> {
            Ok(Box::new(FakeSession { failures: self.failures.clone() }))
        }
    }

    impl RecognizerSession for FakeSession {
        fn decode(&mut self, req: &DecodeRequest) -> Result<Hypothesis, AsrError> {
            use std::sync::atomic::Ordering::SeqCst;
            if self.failures.fetch_update(SeqCst, SeqCst, |n| n.checked_sub(1)).is_ok() {
                return Err(AsrError::Decode("fake failure".into()));
            }
            let ms = req.audio.len() as u64 / 16;
            let mut words = vec![Word { text: " hello".into(), start_ms: 300, end_ms: 700, prob: 0.9 }];
            if ms > 2000 {
                words.push(Word { text: " world".into(), start_ms: 1500, end_ms: 2000, prob: 0.9 });
            }
            let text = super::super::asr::commit::join(words.iter());
            Ok(Hypothesis { words, text, decode_ms: 1 })
        }
        fn detect_language(&mut self, _audio: &[f32]) -> Result<LanguageGuess, AsrError> {
            Ok(LanguageGuess { language: "en".into(), prob: 1.0, top: vec![] })
        }
    }

    async fn run(audio: Vec<f32>) -> Vec<TranscriptEvent> {
        run_watched(audio, true).await
    }

    async fn run_watched(audio: Vec<f32>, watched: bool) -> Vec<TranscriptEvent> {
        run_failing(audio, watched, 0, false).await
    }

    /// With the first `failures` decodes failing, and the turn decoded ahead at pauses or not.
    async fn run_failing(audio: Vec<f32>, watched: bool, failures: usize, speculate: bool) -> Vec<TranscriptEvent> {
        let mut cfg = PipelineConfig::default();
        cfg.turn.speculate = speculate;
        let engine = Engine::new(
            Arc::new(FakeRecognizer { failures: Arc::new(failures.into()) }),
            Arc::new(FakeVadFactory),
            InferencePool::new(1),
            cfg,
        )
        .unwrap();
        let mut h = engine.start_stream().unwrap();
        h.partials.set(move || watched);
        for f in crate::media::mono_frames(audio, 16_000, 20) {
            h.input.send(f).await.unwrap();
            tokio::task::yield_now().await;
        }
        drop(h.input);
        let mut events = Vec::new();
        while let Some(ev) = h.events.recv().await {
            events.push(ev);
        }
        events
    }

    fn tone(ms: usize) -> Vec<f32> {
        (0..ms * 16).map(|i| 0.3 * (i as f32 * 0.05).sin()).collect()
    }

    #[tokio::test]
    async fn a_turn_gives_started_then_final_then_ended() {
        let mut audio = vec![0.0; 500 * 16];
        audio.extend(tone(2500));
        audio.extend(vec![0.0; 1000 * 16]);
        let events = run(audio).await;
        let kinds: Vec<&str> = events
            .iter()
            .map(|e| match e {
                TranscriptEvent::TurnStarted { .. } => "started",
                TranscriptEvent::Partial { .. } => "partial",
                TranscriptEvent::Final { .. } => "final",
                TranscriptEvent::Ended { .. } => "ended",
                _ => "other",
            })
            .filter(|k| *k != "partial")
            .collect();
        assert_eq!(kinds, vec!["started", "final", "ended"], "{events:?}");
        let TranscriptEvent::Final { text, start_ms, end_ms, latency_ms, .. } = &events[events.len() - 2] else {
            unreachable!()
        };
        // The final carries every word of the turn, not only what partials had committed.
        assert_eq!(text, "hello world");
        assert!((480..=544).contains(start_ms), "start {start_ms}");
        assert!((2960..=3040).contains(end_ms), "end {end_ms}");
        assert!(*latency_ms >= 600, "latency includes the end-of-turn silence: {latency_ms}");
        assert!(matches!(events.last(), Some(TranscriptEvent::Ended { audio_ms: 4000 })), "{events:?}");
    }

    #[tokio::test]
    async fn a_call_nobody_follows_gets_its_finals_without_partials() {
        let mut audio = vec![0.0; 500 * 16];
        audio.extend(tone(4000));
        audio.extend(vec![0.0; 1000 * 16]);
        let partials =
            |events: &[TranscriptEvent]| events.iter().filter(|e| matches!(e, TranscriptEvent::Partial { .. })).count();
        let watched = run_watched(audio.clone(), true).await;
        assert!(partials(&watched) > 0, "{watched:?}");
        let alone = run_watched(audio, false).await;
        assert_eq!(partials(&alone), 0, "{alone:?}");
        let finals: Vec<_> = alone.iter().filter(|e| matches!(e, TranscriptEvent::Final { .. })).collect();
        assert!(matches!(finals[..], [TranscriptEvent::Final { text, .. }] if text == "hello world"), "{alone:?}");
    }

    #[tokio::test]
    async fn a_decode_ahead_of_a_pause_the_caller_talks_through_is_never_the_final() {
        // Silence mode decoding ahead at each pause of 160 ms: the decode at the mid-turn pause
        // hears only "hello" (under 2 s); the turn's final must be the decode of its real end.
        let mut audio = vec![0.0; 500 * 16];
        audio.extend(tone(1200));
        audio.extend(vec![0.0; 320 * 16]);
        audio.extend(tone(1500));
        audio.extend(vec![0.0; 1000 * 16]);
        for watched in [false, true] {
            let events = run_failing(audio.clone(), watched, 0, true).await;
            let finals: Vec<_> = events.iter().filter(|e| matches!(e, TranscriptEvent::Final { .. })).collect();
            assert!(
                matches!(finals[..], [TranscriptEvent::Final { text, latency_ms, .. }] if text == "hello world" && *latency_ms >= 600),
                "{events:?}"
            );
        }
    }

    #[tokio::test]
    async fn a_failed_decode_ahead_does_not_lose_the_turn() {
        // The first decode is the one ahead at the turn's last pause (nobody follows the call,
        // so there are no partials); it fails, and the turn is decoded after the rule.
        let mut audio = vec![0.0; 500 * 16];
        audio.extend(tone(2500));
        audio.extend(vec![0.0; 1000 * 16]);
        let events = run_failing(audio, false, 1, true).await;
        let finals: Vec<_> = events.iter().filter(|e| matches!(e, TranscriptEvent::Final { .. })).collect();
        assert!(matches!(finals[..], [TranscriptEvent::Final { text, .. }] if text == "hello world"), "{events:?}");
    }

    #[tokio::test]
    async fn silence_gives_no_turn() {
        let events = run(vec![0.0; 3000 * 16]).await;
        assert_eq!(events, vec![TranscriptEvent::Ended { audio_ms: 3000 }]);
    }
}
