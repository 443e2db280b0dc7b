//! Hand-over to humans: which agent gets a waiting caller.
//!
//! `Router` (router.rs, dispatch.rs) is sans-IO: it holds agents, their presence and the
//! queue, and is told the time by its owner, so it runs the same on a simulated clock in tests
//! as in the server. Scoring (score.rs) is a pure function of an agent's profile and a call;
//! every decision carries the top candidates' score breakdowns. Defaults and the meaning of
//! each knob are in config.rs.

mod bits;
pub mod board;
pub mod case_file;
pub mod config;
mod consult;
mod dispatch;
pub mod model;
pub mod router;
mod score;
pub mod service;
pub mod staff;

pub use config::{PriorityConfig, RouterConfig, Weights};
pub use model::{
    Agent, AgentId, AgentState, CallId, Candidate, Decision, Millis, Presence, Proficiency, RouteError, Skill,
    WaitingCall,
};
pub use router::Router;
pub use score::COMPONENTS;
