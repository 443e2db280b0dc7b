//! Switchboard: a voice contact-center pipeline (live transcription, voice analytics, AI
//! assistant and hand-over to human agents), built to run on one ordinary CPU.

pub mod cmd;
pub mod eval;
pub mod media;
pub mod models;
pub mod pipeline;
