//! The per-call task: the I/O shell around the call's pure core ([`super::state::CallCore`]).
//! It owns the call's pipeline stream, feeds it the transport's audio, the mixer and the
//! recording; it feeds the core what happens (keys, turns, control messages, job results,
//! timeouts) and carries out what the core asks (record changes, events, assistant inputs,
//! playback, end). It plays the greeting and, when the call ends for any reason, tells the
//! transport to hang up, flushes the last turn, writes the recording and reports `call_ended`.
//! A failure here ends only this call. It never awaits the assistant: a turn's assistant work
//! runs as a job ([`assist`]) whose reply comes back into the loop below.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use self::admit::{start_call, Load};
use self::assist::AssistInput;
use super::mix::LegId;
use super::mixer::{Mixer, Outbound, SharedMixer};
use super::recording::Recorder;
use super::state::{At, CallCore, Change, Output};
use super::{CallId, CallRecord, EndReason, MediaIn, Playout, Registry, Transport};
use crate::events::EventBus;
use crate::pipeline::analysis::CallAnalyzer;
use crate::pipeline::{Engine, TranscriptEvent};
use crate::routing::case_file::CaseFile;

/// Longest wait for the last turn's transcript after a call ends.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(20);

/// Call handling settings (from the `[calls]` and `[recording]` config sections).
#[derive(Debug, Clone)]
pub struct CallSettings {
    /// Transcribed calls at once.
    pub max_calls: usize,
    /// What calls beyond them get (`[calls.overflow]`).
    pub overflow: super::admission::OverflowConfig,
    pub max_duration: Duration,
    /// Recording folder when recording is on.
    pub recording_dir: Option<PathBuf>,
    /// Greeting played when a call starts: mono samples and their rate.
    pub greeting: Option<crate::server::Greeting>,
    /// The alert rules every call is watched with (None: no alerts).
    pub alerts: Option<Arc<super::alerts::AlertConfig>>,
}

/// What every call needs from the process, shared by all transports.
pub struct CallServices {
    pub engine: Arc<Engine>,
    pub events: EventBus,
    pub registry: Registry,
    pub settings: CallSettings,
    /// Cancelled when the server begins shutting down.
    pub shutdown: CancellationToken,
    /// Every call task, so shutdown can wait for them.
    pub tracker: TaskTracker,
    /// Event WebSocket connections, so shutdown can let them flush the last events.
    pub connections: TaskTracker,
    /// The router, which queues escalated calls for agents.
    pub routing: Option<Arc<crate::routing::service::RoutingService>>,
    /// The AI assistant, when enabled: it answers instead of the greeting.
    pub assistant: Option<Arc<crate::assistant::AssistantServices>>,
    /// Each live call's control channel (router notices, the agent's media).
    pub controls: Arc<super::Controls>,
    /// Per-address limits on starting calls (every transport asks before `start_call`).
    pub admission: Arc<super::admission::Admission>,
}

/// A call a transport wants to start.
pub struct NewCall {
    pub caller: String,
    pub transport: Transport,
    /// Sample rate of the transport's audio (the call's mixer runs at it).
    pub playout_rate: u32,
}

/// Why a call could not start.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// `max_calls` calls are live (SIP answers 486).
    #[error("at capacity ({0} live calls)")]
    AtCapacity(usize),
    /// The server is shutting down (SIP answers 503).
    #[error("shutting down")]
    ShuttingDown,
    /// Transcription is not keeping up with the calls already up (SIP answers 503).
    #[error("overloaded: transcription is {0} ms behind")]
    Overloaded(u64),
    /// The pipeline could not start (SIP answers 500).
    #[error("pipeline: {0}")]
    Pipeline(#[from] crate::pipeline::PipelineError),
}

/// The transport's side of a running call.
pub struct CallLeg {
    pub id: CallId,
    /// Caller audio, keys, hold and hang-up go here. Send with `try_send` from real-time loops.
    pub media: mpsc::Sender<MediaIn>,
    /// What the caller hears: one frame every 20 ms from the call's mixer, to send as it
    /// comes (call [`Outbound::ready`] once the caller can hear).
    pub out: Outbound,
    /// Cancelled when the call is over from the server's side: the transport then ends its
    /// leg (SIP BYE, socket close) and stops.
    pub hangup: CancellationToken,
}

/// A phone number in E.164 form ("+15550100"), from what a person typed or said: spaces and
/// dashes between the digits are allowed; `None` unless it is + and 8 to 15 digits.
pub fn e164(number: &str) -> Option<String> {
    let compact: String = number.chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
    let digits = compact.strip_prefix('+')?;
    (digits.chars().all(|c| c.is_ascii_digit()) && (8..=15).contains(&digits.len())).then_some(compact)
}

/// Mask all but the last two digits of a phone number for logs.
pub fn redact(number: &str) -> String {
    let n = number.chars().count();
    number.chars().enumerate().map(|(i, c)| if c.is_ascii_digit() && i + 2 < n { '*' } else { c }).collect()
}

/// Start a registered call's actor: transcribed through `stream`, or (None) an overflow call
/// that gets `[calls.overflow]`'s answer.
fn spawn_call(
    svc: &Arc<CallServices>,
    new: NewCall,
    info: super::CallInfo,
    stream: Option<crate::pipeline::StreamHandle>,
) -> CallLeg {
    let (id, started_at) = (info.id.clone(), info.started_at.clone());
    let overflow = stream.is_none();
    if let Some(j) = svc.registry.journal() {
        j.started(&info, svc.assistant.is_some() && !overflow);
    }
    tracing::info!(call = %id, caller = %redact(&new.caller), transport = ?new.transport, "call started");
    let assistant = svc.assistant.as_ref().filter(|_| !overflow).map(|a| a.for_call(&id.0, &new.caller));
    let caller = new.caller.clone();
    let (media_tx, media_rx) = mpsc::channel(256);
    let (control_tx, control_rx) = mpsc::channel(64);
    svc.controls.insert(&id, &media_tx, &control_tx);
    // The call's legs: the caller and the assistant's voice (prompts, replies, messages).
    let playout = Arc::new(Playout::new(new.playout_rate));
    let mut mixer = Mixer::new(new.playout_rate);
    if svc.settings.recording_dir.is_some() {
        mixer.record_heard();
    }
    let (caller_leg, out) = mixer.add_caller(new.playout_rate);
    mixer.add_assistant(playout.clone());
    let mixer = Arc::new(std::sync::Mutex::new(mixer));
    let hangup = CancellationToken::new();
    svc.tracker.spawn(super::mixer::pace(mixer.clone(), hangup.clone()));
    let connect_timeout = svc.routing.as_ref().map(|r| r.agent_connect_timeout()).unwrap_or(Duration::from_secs(15));
    let mut core = CallCore::new(id.clone(), svc.settings.max_duration, connect_timeout);
    if let Some(alerts) = &svc.settings.alerts {
        let wait_s = match &svc.routing {
            Some(r) => r.stats_config().service_level_s,
            None => crate::routing::RouterConfig::default().service_level_s,
        };
        let wait = Duration::from_secs(wait_s);
        core = core.with_alerts(super::alerts::Watch::new(alerts.clone(), wait));
    }
    core.handle_started(new.caller, new.transport, started_at);
    let mut actor = Actor {
        core,
        t0: tokio::time::Instant::now(),
        ending: None,
        svc: svc.clone(),
        id: id.clone(),
        playout,
        mixer,
        caller_leg,
        supervisors: Vec::new(),
        hangup: hangup.clone(),
        recorder: svc.settings.recording_dir.as_ref().map(|d| Recorder::new(d, &id)),
        dropped_frames: 0,
        analyzer: Default::default(),
        assistant: assist::AssistantSlot::new(assistant),
        onset: Default::default(),
        case: CaseFile::new(&id.0, &caller),
        agent: None,
        callback: None,
        capture: None,
        consult: None,
        overflow,
        staffed: Default::default(),
    };
    // `call_started` goes out before the transport can say anything else about the call.
    actor.apply();
    let stream = stream.unwrap_or_else(crate::pipeline::StreamHandle::untranscribed);
    svc.tracker.spawn(actor.run(media_rx, control_rx, control_tx, stream));
    CallLeg { id, media: media_tx, out, hangup }
}

struct Actor {
    svc: Arc<CallServices>,
    id: CallId,
    /// The call's control state (`state.rs`): the only writer of its state, agent and keys.
    core: CallCore,
    /// When the call started, for the core's clock.
    t0: tokio::time::Instant,
    /// Why the call ends, once the core said so.
    ending: Option<EndReason>,
    /// The assistant's voice: what it queues here the mixer plays to whoever hears it.
    playout: Arc<Playout>,
    /// Who hears whom, and everyone's audio out every 20 ms.
    mixer: SharedMixer,
    caller_leg: LegId,
    /// Supervisors on the call (listening, coaching, barging), each with their audio leg.
    supervisors: Vec<agent::AgentBridge>,
    hangup: CancellationToken,
    recorder: Option<Recorder>,
    dropped_frames: u64,
    /// The caller's state across turns.
    analyzer: CallAnalyzer,
    /// The AI assistant for this call, if enabled: with the call or away in a job.
    assistant: assist::AssistantSlot,
    /// The caller's speech onset while the assistant talks (fast barge-in).
    onset: super::barge_in::OnsetDetector,
    /// What an agent will see (kept current; `case_file_updated`).
    case: CaseFile,
    /// The agent talking to the caller, once their audio is connected.
    agent: Option<agent::AgentBridge>,
    /// Nobody took the call: the callback / message offer.
    callback: Option<agent::CallbackOffer>,
    /// A card number being keyed (secure capture).
    capture: Option<capture::Capture>,
    /// A colleague consulted on the call, or in a three-way call.
    consult: Option<consult::Consult>,
    /// Answered while the lines were full: not transcribed, no assistant (`[calls.overflow]`).
    overflow: bool,
    /// An agent, a colleague or a supervisor is on the call (they see its words as spoken).
    staffed: Arc<std::sync::atomic::AtomicBool>,
}

async fn sleep_until_opt(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

impl Actor {
    async fn run(
        mut self,
        mut media: mpsc::Receiver<MediaIn>,
        mut control: mpsc::Receiver<super::Control>,
        // Keeps `control` open while the call runs (others hold it weakly, through `Controls`).
        _control_tx: mpsc::Sender<super::Control>,
        stream: crate::pipeline::StreamHandle,
    ) {
        let started = Instant::now();
        let crate::pipeline::StreamHandle { input, mut events, expected_language, expected_answer, partials } = stream;
        // Partial transcripts only while someone follows the call live: staff or the caller
        // on an event stream, or an agent or supervisor on the call.
        let (watchers, id, staffed) = (self.svc.events.watchers(), self.id.clone(), self.staffed.clone());
        partials.set(move || staffed.load(std::sync::atomic::Ordering::Relaxed) || watchers.watched(&id));
        if self.overflow {
            self.lines_full().await;
            self.apply();
        } else if self.assistant.on() {
            self.assist(AssistInput::Start);
        } else if let Some(g) = &self.svc.settings.greeting {
            self.playout.play(&g.0, g.1);
        }
        let mut pipeline_done = self.overflow;
        let reason = loop {
            let next = self.core.poll_timeout().map(|t| self.t0 + t);
            tokio::select! {
                biased;
                _ = self.svc.shutdown.cancelled() => self.core.handle_hangup(self.now(), EndReason::Shutdown),
                _ = self.hangup.cancelled() => self.core.handle_hangup(self.now(), EndReason::ServerHangup),
                _ = sleep_until_opt(next), if next.is_some() => self.core.handle_timeout(self.now()),
                done = self.assistant.finished(), if self.assistant.busy() => {
                    let answered = self.job_done(done);
                    // What the assistant just asked for shapes the end of the caller's next turn.
                    expected_answer.set(self.assistant.idle.as_ref().and_then(|a| a.expecting()));
                    if let Some(AssistInput::Start) = answered {
                        // A customer's language on file is what we expect to hear.
                        let customer = self.assistant.idle.as_ref().and_then(|a| a.customer());
                        expected_language.set(customer.map(|c| c.language.clone()));
                    }
                }
                Some(c) = control.recv() => self.on_control(c),
                ev = agent::next_agent_event(self.agent.as_mut()) => self.on_agent_transcript(false, ev),
                ev = agent::next_agent_event(self.consult.as_mut().and_then(|c| c.colleague.as_mut())) => {
                    self.on_agent_transcript(true, ev)
                }
                (who, ev) = supervise::next_supervisor_event(&mut self.supervisors), if !self.supervisors.is_empty() => {
                    self.on_supervisor_transcript(&who, ev)
                }
                m = media.recv() => match m {
                    None => self.core.handle_hangup(self.now(), EndReason::TransportError("transport stopped".into())),
                    Some(MediaIn::Ended(r)) => self.core.handle_hangup(self.now(), r),
                    Some(MediaIn::AgentAudio { agent, frame }) => self.agent_audio(&agent, frame),
                    Some(MediaIn::Audio(frame)) => self.caller_audio(frame, &input),
                    Some(MediaIn::Dtmf { digit, .. }) if self.capturing() => self.capture_key(digit),
                    Some(MediaIn::Dtmf { digit, at_ms }) => {
                        // On the record and out as an event first; then the agent, a callback
                        // offer or the assistant's keyed entry takes it.
                        self.core.handle_key(self.core_at(at_ms), digit);
                        self.apply();
                        if self.agent.is_none() && !self.callback_key(digit).await {
                            self.core.handle_entry(self.now(), digit, self.assistant.on());
                        }
                    }
                    Some(MediaIn::Hold(on)) => self.core.handle_hold(self.now(), on),
                    Some(MediaIn::CallerSpeaking) => {
                        let at_ms = self.now().as_millis() as u64;
                        self.barge_in(at_ms, "the caller's page");
                    }
                },
                ev = events.recv(), if !pipeline_done => match ev {
                    Some(ev) => {
                        let turn = self.on_transcript(ev);
                        // The words go out before the assistant's work on them starts.
                        self.apply();
                        if let Some(turn) = turn {
                            self.assist_turn(turn).await;
                        }
                    }
                    None => {
                        tracing::error!(call = %self.id, "transcription stopped; the call continues without it");
                        pipeline_done = true;
                    }
                },
            }
            self.apply();
            if let Some(r) = self.ending.take() {
                break r;
            }
        };
        // Tell the transport to end its leg (a no-op when the caller already hung up).
        self.svc.controls.remove(&self.id);
        // A job in flight stops now; the assistant comes back for the call's record.
        self.assistant.recover().await;
        self.release_agent();
        self.hangup.cancel();
        if self.capturing() {
            self.finish_capture(Some(capture::Outcome::Cancelled));
        }
        // What that changed (a consult called off) goes on the record before it is final.
        self.apply();
        drop(media);
        // Closing the input flushes the last turn; wait for its final.
        drop(input);
        let flushed = pipeline_done || {
            let flush = async {
                while let Some(ev) = events.recv().await {
                    let ended = matches!(ev, TranscriptEvent::Ended { .. });
                    self.on_transcript(ev);
                    self.apply();
                    if ended {
                        break;
                    }
                }
            };
            tokio::time::timeout(FLUSH_TIMEOUT, flush).await.is_ok()
        };
        if !flushed {
            tracing::warn!(call = %self.id, "last turn not transcribed within {FLUSH_TIMEOUT:?}");
        }
        let reason = reason.to_string();
        let record = self.svc.registry.finish(&self.id, &reason);
        if let (Some(rec), Some(j)) = (record.as_ref(), self.svc.registry.journal()) {
            j.ended(rec).await;
        }
        if let (Some(rec), Some(recorder)) = (record.as_ref(), self.recorder.take()) {
            let rec = rec.clone();
            let _ = tokio::task::spawn_blocking(move || recorder.finish(&rec)).await;
        }
        if let Some(rec) = record.as_ref() {
            self.save_interaction(rec).await;
        }
        if let Some(r) = &self.svc.routing {
            r.call_gone(&self.id);
        }
        let duration_ms = started.elapsed().as_millis() as u64;
        tracing::info!(call = %self.id, %reason, duration_ms, dropped_frames = self.dropped_frames, "call ended");
        self.core.handle_finished(reason, duration_ms);
        self.apply();
    }

    /// Time since the call started, on the core's clock.
    fn now(&self) -> At {
        tokio::time::Instant::now().saturating_duration_since(self.t0)
    }

    /// A transport's "ms into the call" on the core's clock.
    fn core_at(&self, at_ms: u64) -> At {
        Duration::from_millis(at_ms)
    }

    /// Carry out what the core asked for, until it asks for nothing more (what that does may
    /// feed it again: an agent who never connected leaves).
    fn apply(&mut self) {
        let staffed = self.agent.is_some() || self.consult.is_some() || !self.supervisors.is_empty();
        self.staffed.store(staffed, std::sync::atomic::Ordering::Relaxed);
        while let Some(o) = self.core.poll_output() {
            match o {
                Output::Record(c) => self.svc.registry.update(&self.id, |r| write(r, c)),
                Output::Publish(e) => {
                    if let Some(j) = self.svc.registry.journal() {
                        j.event(&e);
                    }
                    self.svc.events.publish(e)
                }
                Output::Mix(m) => self.mix_change(m),
                Output::Digits(keys) => self.assist(AssistInput::Digits(keys)),
                Output::Silence => {
                    // Silence while the assistant still works on an answer, or while the caller
                    // keys a card, is not the caller's.
                    if !self.callback_unanswered() && !self.assistant.busy() && !self.capturing() {
                        self.assist(AssistInput::Silence);
                    }
                }
                Output::ResumePlayout => self.playout.resume(),
                Output::StopAssistant => {
                    self.playout.clear();
                    self.assistant.cancel();
                    self.callback = None;
                }
                Output::CaptureTimedOut => self.capture_timed_out(),
                Output::ConsultUnanswered => {
                    tracing::info!(call = %self.id, "the consulted colleague did not join: back to the caller");
                    self.consult_unanswered();
                }
                Output::AgentNeverConnected(agent) => {
                    tracing::warn!(call = %self.id, %agent, "the agent's audio never connected");
                    self.agent_lost(&agent, false);
                }
                Output::End(r) => self.ending = self.ending.take().or(Some(r)),
            }
        }
    }

    /// The caller's audio: to whoever hears them, the recording and the transcription.
    fn caller_audio(&mut self, mut frame: crate::media::AudioFrame, input: &mpsc::Sender<crate::media::AudioFrame>) {
        if self.capturing() {
            // Key tones reach nobody: not the recording, not the transcript (which hears
            // silence, keeping its clock), not another leg.
            frame.samples.fill(0.0);
        }
        // To whoever hears the caller (nobody while only the assistant does: it hears them
        // through the pipeline).
        let mut heard = {
            let mut mixer = self.mix();
            mixer.push(self.caller_leg, &frame.samples, frame.sample_rate);
            mixer.take_heard()
        };
        if self.capturing() {
            heard.fill(0.0); // the recording is paused: both channels
        }
        if let Some(r) = self.recorder.as_mut() {
            r.push(&frame, heard);
        }
        if self.agent.is_none() && !self.capturing() {
            self.watch_onset(&frame);
        }
        if !self.overflow && input.try_send(frame).is_err() {
            self.dropped_frames += 1;
            if self.dropped_frames == 1 {
                tracing::warn!(call = %self.id, "pipeline busy: dropping caller audio");
            }
        }
    }

    /// The call's mixer, locked (briefly: its pacer ticks it every 20 ms).
    fn mix(&self) -> std::sync::MutexGuard<'_, Mixer> {
        self.mixer.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// While the assistant speaks, pause it as soon as the caller's level says they started
    /// talking; the turn detector then confirms (the reply is dropped) or it resumes.
    fn watch_onset(&mut self, frame: &crate::media::AudioFrame) {
        let speaking = self.playout.pending_ms() > 0 && !self.playout.is_paused();
        let started = self.onset.push(super::barge_in::level_db(&frame.samples));
        if speaking && started && self.assistant.on() {
            self.onset.reset();
            self.playout.pause();
            self.core.handle_paused_for_barge_in(self.now(), super::barge_in::RESUME_AFTER);
        }
    }
}

/// Write one of the core's changes on the call's record.
fn write(r: &mut CallRecord, c: Change) {
    match c {
        Change::State(s) => r.info.state = s,
        Change::Agent(a) => r.info.agent = a,
        Change::Consultant(a) => r.info.consultant = a,
        Change::Supervisors(s) => r.info.supervisors = s,
        Change::Alerts(a) => r.alerts = a,
        Change::Dtmf(d) => r.dtmf.push(d),
        Change::Segment(seg) => r.transcript.push(seg),
        Change::Analysis { caller_state, language, accent } => {
            r.caller_state = Some(caller_state);
            if language.is_some() {
                r.language = language;
            }
            if accent.is_some() {
                r.accent = accent;
            }
        }
        Change::CaseFile(c) => r.case_file = Some(*c),
        Change::RecordingPaused { from_ms, reason } => {
            r.recording_paused.push(super::registry::PausedSpan { from_ms, to_ms: None, reason })
        }
        Change::RecordingResumed { at_ms } => {
            if let Some(span) = r.recording_paused.iter_mut().rev().find(|s| s.to_ms.is_none()) {
                span.to_ms = Some(at_ms);
            }
        }
    }
}

#[path = "actor_admit.rs"]
mod admit;
#[path = "actor_agent.rs"]
mod agent;
#[path = "actor_assist.rs"]
mod assist;
#[path = "actor_capture.rs"]
mod capture;
#[path = "actor_case.rs"]
mod case;
#[path = "actor_consult.rs"]
mod consult;
#[path = "actor_overflow.rs"]
mod overflow;
#[path = "actor_supervise.rs"]
mod supervise;
#[path = "actor_transcript.rs"]
mod transcript;

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn e164_numbers() {
        assert_eq!(super::e164("+1 555 010 0999").as_deref(), Some("+15550100999"));
        assert_eq!(super::e164("+46-70-123 45 67").as_deref(), Some("+46701234567"));
        for bad in ["15550100", "+1234", "+1555abc0100", "call me maybe", ""] {
            assert_eq!(super::e164(bad), None, "{bad}");
        }
    }

    #[test]
    fn redacts_all_but_two_digits() {
        assert_eq!(redact("+46701234567"), "+*********67");
        assert_eq!(redact("anonymous"), "anonymous");
    }
}
