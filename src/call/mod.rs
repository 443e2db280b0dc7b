//! Calls independent of their transport: identity, state, the registry of live and recent
//! calls, the per-call actor that runs the pipeline, and the outbound playout queue.

pub mod actor;
pub mod barge_in;
pub mod playout;
pub mod recording;
pub mod registry;

use serde::{Deserialize, Serialize};

pub use actor::{redact, start_call, CallError, CallLeg, CallServices, CallSettings, NewCall};
pub use playout::Playout;
pub use registry::{CallInfo, CallRecord, Registry, Segment};

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
    /// An agent's media connected: from now on the caller talks to a person.
    AgentJoined(AgentLeg),
    /// The agent's voice (any rate).
    AgentAudio(crate::media::AudioFrame),
    /// The agent's media went away without hanging up (browser closed, network gone).
    AgentLost { agent: String },
    /// Nobody took the call in time: offer a callback or a voice message.
    NoAgent,
    /// The agent passes the call on, to a named colleague or to a skill's queue, with a note
    /// for the next person (added to the case file).
    Transfer { from: String, to_agent: Option<String>, skill: Option<crate::routing::Skill>, note: String },
    /// The agent accepted a while ago: if their audio never connected, treat them as lost.
    AgentCheck { agent: String },
}

/// The server's side of an agent's audio on a call.
pub struct AgentLeg {
    pub agent: String,
    /// Audio for the agent to hear (the caller), at the agent transport's rate.
    pub to_agent: std::sync::Arc<Playout>,
    /// Cancelled when the call no longer needs this agent's media (call over, agent lost).
    pub done: tokio_util::sync::CancellationToken,
}

impl std::fmt::Debug for AgentLeg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentLeg").field("agent", &self.agent).finish_non_exhaustive()
    }
}

/// The live calls' control channels (the transport's media channel, held weakly so the call
/// still ends when its transport goes away): how the router and the agent desktop reach a call.
#[derive(Default)]
pub struct Controls(std::sync::Mutex<std::collections::HashMap<CallId, tokio::sync::mpsc::WeakSender<MediaIn>>>);

impl Controls {
    pub fn insert(&self, id: &CallId, media: &tokio::sync::mpsc::Sender<MediaIn>) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).insert(id.clone(), media.downgrade());
    }

    pub fn remove(&self, id: &CallId) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).remove(id);
    }

    /// The call's channel while it runs.
    pub fn get(&self, id: &CallId) -> Option<tokio::sync::mpsc::Sender<MediaIn>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).get(id).and_then(|w| w.upgrade())
    }

    /// Send to a running call; false if it is gone or its queue is full.
    pub fn send(&self, id: &CallId, m: MediaIn) -> bool {
        self.get(id).is_some_and(|tx| tx.try_send(m).is_ok())
    }
}
