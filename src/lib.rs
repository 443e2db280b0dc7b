//! Switchboard: a voice contact-center pipeline (live transcription, voice analytics, AI
//! assistant and hand-over to human agents), built to run on one ordinary CPU.

pub mod assistant;
pub mod auth;
pub mod call;
pub mod cmd;
pub mod config;
pub mod eval;
pub mod events;
pub mod media;
pub mod metrics;
pub mod models;
pub mod onnx;
pub mod pipeline;
pub mod privacy;
pub mod review;
pub mod routing;
pub mod server;
pub mod store;
pub mod transport;
pub mod web;
