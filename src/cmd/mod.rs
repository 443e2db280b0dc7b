//! Command implementations behind the CLI (kept in the library so tests and benches share them).

pub mod analyze;
pub mod bench;
pub mod bench_analytics;
pub mod bench_desk;
pub mod bench_load;
pub mod bench_mixer;
pub mod bench_peers;
pub mod bench_reply;
pub mod bench_routing;
pub mod bench_sip;
pub mod bench_stats;
pub mod bench_tts;
pub mod demo_data;
pub mod eval;
pub mod eval_answers;
pub mod eval_intent;
pub mod eval_turns;
pub mod eval_voice;
pub mod headless;
pub mod report;
pub mod review;
pub mod serve;
pub mod simulate;
pub mod transcribe;
pub mod voice_data;
pub mod voice_train;
