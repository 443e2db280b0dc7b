//! Calls independent of their transport: identity, state, the registry of live and recent
//! calls, the pure call core (`state`: the only writer of a call's state, agent and keys), the
//! per-call actor that is its I/O shell and runs the pipeline, the call's legs and who hears
//! whom (`mix`), the mixer that paces every leg's audio (`mixer`), and the assistant's voice
//! queue (`playout`).

pub mod actor;
pub mod admission;
pub mod alerts;
pub mod barge_in;
pub mod journal;
pub mod mix;
pub mod mixer;
pub mod playout;
pub mod recording;
pub mod registry;
pub mod retention;
pub mod state;

use serde::{Deserialize, Serialize};

pub use actor::{redact, start_call, CallError, CallLeg, CallServices, CallSettings, NewCall};
pub use playout::Playout;
pub use registry::{CallInfo, CallRecord, Registry, Segment, Speaker};

/// A call's id (`c-` and 12 hex digits).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CallId(pub String);

impl CallId {
    /// A fresh random id.
    pub fn new() -> Self {
        CallId(format!("c-{:012x}", fastrand::u64(..) & 0xffff_ffff_ffff))
    }
}

impl Default for CallId {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Display for CallId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// How the caller is connected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transport {
    /// SIP signalling with G.711 RTP.
    Sip,
    /// Browser WebRTC.
    Webrtc,
    /// A provider's WebSocket media stream (Twilio format).
    MediaStream,
}

impl Transport {
    /// The name in the API and the database ("sip", "webrtc", "media_stream").
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Sip => "sip",
            Transport::Webrtc => "webrtc",
            Transport::MediaStream => "media_stream",
        }
    }
}

/// Where a call is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallState {
    Active,
    OnHold,
    /// The assistant handed over; the caller hears a hold message until an agent takes it.
    WaitingForAgent,
    /// An agent took the call.
    WithAgent,
    Ending,
    Ended,
}

/// Why a call ended (the `reason` of `call_ended`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndReason {
    /// The caller hung up.
    CallerHangup,
    /// The call reached the configured maximum duration.
    MaxDuration,
    /// The server is shutting down.
    Shutdown,
    /// No media arrived for too long.
    MediaTimeout,
    /// Our answer was never acknowledged.
    AckTimeout,
    /// Ended by an operator or the application.
    ServerHangup,
    /// A browser's connection never came up.
    IceTimeout,
    /// A browser's connection failed or stayed interrupted.
    ConnectionLost,
    /// The agent hung up from the desktop.
    AgentHangup,
    /// The transport failed.
    TransportError(String),
}

impl std::fmt::Display for EndReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EndReason::CallerHangup => f.write_str("caller_hangup"),
            EndReason::MaxDuration => f.write_str("max_duration"),
            EndReason::Shutdown => f.write_str("shutdown"),
            EndReason::MediaTimeout => f.write_str("media_timeout"),
            EndReason::AckTimeout => f.write_str("ack_timeout"),
            EndReason::ServerHangup => f.write_str("server_hangup"),
            EndReason::IceTimeout => f.write_str("ice_timeout"),
            EndReason::ConnectionLost => f.write_str("connection_lost"),
            EndReason::AgentHangup => f.write_str("agent_hangup"),
            EndReason::TransportError(e) => write!(f, "transport_error: {e}"),
        }
    }
}

/// What a transport delivers to its call.
#[derive(Debug)]
pub enum MediaIn {
    /// Caller audio (any rate; the pipeline resamples).
    Audio(crate::media::AudioFrame),
    /// A key press, at `at_ms` into the call.
    Dtmf { digit: char, at_ms: u64 },
    /// Hold or resume.
    Hold(bool),
    /// The caller side is gone.
    Ended(EndReason),
    /// An agent's voice (any rate): the call's agent or a colleague consulted on it.
    AgentAudio { agent: std::sync::Arc<str>, frame: crate::media::AudioFrame },
    /// The caller's device heard them start speaking (the web page's own detector, ahead of
    /// the server's VAD): stop the assistant's audio now.
    CallerSpeaking,
}

/// What the rest of the server tells a call, on its own channel (audio cannot crowd it out).
#[derive(Debug)]
pub enum Control {
    /// An agent's media connected: from now on the caller talks to a person.
    AgentJoined(AgentLeg),
    /// The agent's media went away without hanging up (browser closed, network gone).
    /// `requeued`: the router already put the call back in the queue.
    AgentLost { agent: String, requeued: bool },
    /// Routing gave the call to `agent` (their accept won): the call records it and answers
    /// (their browser connects its audio next; if it never does, the call treats them as lost).
    Accepted { agent: String, reply: Reply },
    /// Nobody took the call in time: offer a callback or a voice message.
    NoAgent,
    /// The agent passes the call on, to a named colleague or to a skill's queue, with a note
    /// for the next person (added to the case file).
    Transfer { from: String, to_agent: Option<String>, skill: Option<crate::routing::Skill>, note: String },
    /// End the call (an agent or supervisor hung up).
    Hangup(EndReason),
    /// The call's agent `from` consults colleague `to`: the caller goes on hold; `reply` says
    /// whether the consult could start (and why not).
    Consult { from: String, to: String, reply: Reply },
    /// End the consult `how`, asked by `by` (the call's agent, or the colleague to leave).
    EndConsult { by: String, how: ConsultEnd, reply: Reply },
    /// Take a card number keyed on the caller's phone pad (PCI DSS secure capture), asked by
    /// `by` (an agent, a supervisor, the assistant).
    SecureCapture { by: String },
    /// A supervisor's audio (`leg.agent` is the supervisor) joins the call in `mode`;
    /// `reply` says whether it could (and why not: coaching a call with no agent).
    Supervise { leg: AgentLeg, mode: state::StaffMode, reply: Reply },
    /// A supervisor on the call listens, coaches or barges in from now.
    SuperviseMode { supervisor: String, mode: state::StaffMode, reply: Reply },
    /// A supervisor on the call takes it over from the assistant or the agent.
    TakeOver { supervisor: String, reply: Reply },
    /// A supervisor leaves the call.
    SupervisorLeave { supervisor: String },
    /// A supervisor (`by`) hands the call to an agent they picked.
    Assign { by: String, agent: String, reply: Reply },
    /// A supervisor acknowledges one of the call's alerts.
    AcknowledgeAlert { alert: String, by: String, reply: Reply },
}

/// A call's answer to a request from outside: done, or why not (shown to the person asking).
pub type Reply = tokio::sync::oneshot::Sender<Result<(), String>>;

/// How a consult ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsultEnd {
    /// The colleague takes the call; the agent leaves (from a consult or a three-way call).
    Transfer,
    /// The caller, the agent and the colleague all talk.
    ThreeWay,
    /// The agent calls it off, or the colleague declines or leaves: the caller is back with
    /// the agent.
    Cancel,
}

/// The server's side of an agent's audio on a call.
pub struct AgentLeg {
    pub agent: String,
    /// Where the call's mixer sends what the agent hears (the other end is the agent's
    /// transport's [`mixer::Outbound`]).
    pub sink: mixer::Sink,
    /// The agent transport's sample rate.
    pub rate: u32,
    /// Ends the agent's media session when dropped (call over, agent lost or transferred, or
    /// the message never reached the call).
    pub done: tokio_util::sync::DropGuard,
}

impl std::fmt::Debug for AgentLeg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentLeg").field("agent", &self.agent).finish_non_exhaustive()
    }
}

/// The live calls' channels, held weakly so a call still ends when its transport goes: how
/// the router, the staff API and the agent desktop reach a call.
#[derive(Default)]
pub struct Controls(std::sync::Mutex<std::collections::HashMap<CallId, CallChannels>>);

struct CallChannels {
    media: tokio::sync::mpsc::WeakSender<MediaIn>,
    control: tokio::sync::mpsc::WeakSender<Control>,
}

impl Controls {
    pub fn insert(
        &self,
        id: &CallId,
        media: &tokio::sync::mpsc::Sender<MediaIn>,
        control: &tokio::sync::mpsc::Sender<Control>,
    ) {
        let c = CallChannels { media: media.downgrade(), control: control.downgrade() };
        self.0.lock().unwrap_or_else(|e| e.into_inner()).insert(id.clone(), c);
    }

    pub fn remove(&self, id: &CallId) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).remove(id);
    }

    /// The call's media channel while it runs (held weakly by whoever keeps it).
    pub fn media(&self, id: &CallId) -> Option<tokio::sync::mpsc::WeakSender<MediaIn>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).get(id).map(|c| c.media.clone())
    }

    /// Tell a running call something; false if it is gone.
    pub fn send(&self, id: &CallId, m: Control) -> bool {
        let tx = self.0.lock().unwrap_or_else(|e| e.into_inner()).get(id).and_then(|c| c.control.upgrade());
        match tx.map(|tx| tx.try_send(m)) {
            Some(Ok(())) => true,
            Some(Err(e)) => {
                tracing::error!(call = %id, "call control queue full; dropped {:?}", e.into_inner());
                false
            }
            None => false,
        }
    }
}
