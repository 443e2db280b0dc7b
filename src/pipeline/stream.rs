//! One call's streaming recognition task: frames in, transcript events out.
//!
//! The task owns the call's VAD, turn detector and audio buffer; each decode borrows a
//! recogniser session from the engine's pool. Audio is resampled to 16 kHz, the VAD marks turns, the growing turn is decoded every
//! `partial_interval_ms` on the shared inference pool (partials, committed by LocalAgreement-2),
//! and the end of a turn triggers a high-priority final decode. A failed decode is reported as
//! an event and the stream goes on.
//! The decode jobs (which runs next, its request, what its result becomes) are in `stream/jobs.rs`.

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

mod jobs;

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
/// The same for the second, late offer of a pause
/// ([`super::turn::TurnConfig::late_speculate_ms`]): fewer pauses last that long without ending
/// the turn, so a busier machine can still afford it.
const LATE_SPECULATE_BELOW_LOAD: f64 = 0.85;

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
// A final carries its words and prosody inline; events are moved once, a few per turn, so
// boxing it would buy nothing.
#[allow(clippy::large_enum_variant)]
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

#[cfg(test)]
mod tests;
