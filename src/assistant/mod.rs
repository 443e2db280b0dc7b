//! The AI assistant: back-office tools behind a trait, the self-service policy, and (next)
//! intents, dialogue, speech output and hand-over.

pub mod dialogue;
pub mod entities;
pub mod intents;
pub mod policy;
pub mod replies;
pub mod tools;
pub mod tts;
