//! The router's vocabulary: agents and their presence, waiting calls, and the explainable
//! decisions it hands out. Everything here is plain data (serde both ways).

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::assistant::intents::Intent;
pub use crate::call::CallId;

/// Milliseconds since an epoch the owner of the router chooses (the server's start, say).
/// The router never reads a clock: every method that needs the time takes it.
pub type Millis = u64;

/// An agent's id (login name or number).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AgentId(pub String);

impl From<&str> for AgentId {
    fn from(s: &str) -> Self {
        AgentId(s.to_string())
    }
}

impl std::fmt::Display for AgentId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// How well an agent speaks a language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Proficiency {
    Basic,
    Fluent,
    Native,
}

impl Proficiency {
    /// Multiplier on the language weight: native 1.0, fluent 0.85, basic 0.5.
    pub fn factor(self) -> f32 {
        match self {
            Self::Native => 1.0,
            Self::Fluent => 0.85,
            Self::Basic => 0.5,
        }
    }
}

/// What an agent is trained for: the assistant's intent families. `General` agents take any
/// call (scored below a specialist); a `General` call (no clear intent) suits anyone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Skill {
    Orders,
    Refunds,
    Payments,
    Account,
    Fraud,
    Complaints,
    General,
}

impl Skill {
    pub const ALL: [Skill; 7] =
        [Self::Orders, Self::Refunds, Self::Payments, Self::Account, Self::Fraud, Self::Complaints, Self::General];

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Orders => "orders",
            Self::Refunds => "refunds",
            Self::Payments => "payments",
            Self::Account => "account",
            Self::Fraud => "fraud",
            Self::Complaints => "complaints",
            Self::General => "general",
        }
    }

    /// The family of an intent: orders; refunds; payments (including disputes); account
    /// changes and bereavement (account closure); fraud; complaints (including legal threats);
    /// everything else (asking for a person, unknown) is general.
    pub fn from_intent(intent: Intent) -> Skill {
        use Intent::*;
        match intent {
            OrderStatus => Self::Orders,
            Refund | RefundStatus => Self::Refunds,
            PaymentDue | PayNow | PostponePayment | Dispute => Self::Payments,
            ChangeEmail | ChangePhone | ChangeAddress | Bereavement => Self::Account,
            Fraud => Self::Fraud,
            Complaint | Legal => Self::Complaints,
            Agent | Greeting | Thanks | Repeat | Goodbye | Unknown => Self::General,
        }
    }
}

/// An agent's profile (from config or the admin API).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Agent {
    pub id: AgentId,
    pub name: String,
    /// ISO 639-1 codes ("sv"; "sv-SE" is read as "sv") with proficiency; the first 6 count.
    pub languages: Vec<(String, Proficiency)>,
    pub skills: Vec<Skill>,
    /// Accent/region familiarity, ISO 3166 country codes ("IN", "SE"); the first 6 count.
    #[serde(default)]
    pub regions: Vec<String>,
    /// 1 (junior) ..= 3 (senior); values outside are clamped.
    pub seniority: u8,
    /// Simultaneous calls (1 for voice).
    pub max_calls: u32,
}

/// An agent's presence. `Available` means "can take another call now" (it stays `Available`
/// on a call while below `max_calls`); `OnCall` means at capacity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Presence {
    Offline,
    Available,
    OnCall,
    WrapUp,
    Away,
}

impl Presence {
    /// Logged in and working (counts as staffing for wait estimates).
    pub fn staffed(self) -> bool {
        matches!(self, Self::Available | Self::OnCall | Self::WrapUp)
    }
}

/// An agent and its live state, as the router keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentState {
    pub agent: Agent,
    pub presence: Presence,
    pub active_calls: u32,
    /// When the agent last became free (entered `Available` with no call).
    pub idle_since: Millis,
    /// End of the current wrap-up (meaningful in `WrapUp`).
    pub wrap_up_until: Millis,
    /// Calls this agent declined or let time out: never offered to it again.
    pub last_offer_declined_for: HashSet<CallId>,
    /// The call currently offered to this agent, awaiting accept/decline.
    pub offered: Option<CallId>,
}

/// A caller waiting for a person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WaitingCall {
    pub call_id: CallId,
    /// Caller's number.
    pub caller: String,
    pub customer_id: Option<i64>,
    /// Languages the caller speaks, preferred first (ISO 639-1). Empty: unknown (no language
    /// requirement).
    pub languages: Vec<String>,
    pub skill: Skill,
    /// Accent region (ISO 3166), from the accent analysis.
    pub region: Option<String>,
    /// 0 (calm) ..= 1 (furious), from the caller-state analysis.
    pub frustration: f32,
    pub high_value: bool,
    /// The agent who handled this customer last.
    pub previous_agent: Option<AgentId>,
    /// A transfer to a named colleague: only this agent is offered the call, whatever its
    /// languages and skills (a person chose them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub only_agent: Option<AgentId>,
    /// Set by `Router::enqueue` to the time it was queued (kept by `requeue`).
    #[serde(default)]
    pub enqueued_at: Millis,
}

/// One agent's score for a call, component by component (weighted values; they sum to
/// `total`). Components: language, skill, region, affinity, seniority, idle, load.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    pub agent_id: AgentId,
    pub total: f32,
    pub breakdown: Vec<(String, f32)>,
}

/// A call offered to an agent (`accept` or `decline` it; it times out after the offer timeout).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    pub call_id: CallId,
    pub agent_id: AgentId,
    pub score: f32,
    /// The agent speaks none of the caller's languages (after `language_wait_s`): the
    /// translation path.
    pub translation: bool,
    /// Overflow rules in effect for this call: "any_skill", "no_preferences", "any_language".
    pub overflow: Vec<String>,
    /// How long the call had waited, and its queue priority, when it was offered.
    pub waited_ms: Millis,
    pub priority: f64,
    /// The best candidates (up to 3), the chosen one first.
    pub candidates: Vec<Candidate>,
}

/// What went wrong; the router's state is unchanged by an `Err`, except for an expired offer
/// found by `accept`, which is rolled over as a timeout.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    #[error("unknown agent {0}")]
    UnknownAgent(AgentId),
    #[error("call {0} is not known to the router")]
    UnknownCall(CallId),
    #[error("call {call} was already taken by {by}")]
    AlreadyTaken { call: CallId, by: AgentId },
    #[error("call {call} is not offered to {agent}")]
    NotOffered { call: CallId, agent: AgentId },
    #[error("the offer of {call} to {agent} expired")]
    OfferExpired { call: CallId, agent: AgentId },
    #[error("call {call} is not on {agent}'s desk")]
    NotOnCall { call: CallId, agent: AgentId },
    #[error("agent {0} still has calls")]
    AgentBusy(AgentId),
    /// A consult asked of a colleague who cannot take it now.
    #[error("{agent} is {presence}: choose an available colleague")]
    NotAvailable { agent: AgentId, presence: String },
    #[error("call {0} has no consult under way")]
    NoConsult(CallId),
}
