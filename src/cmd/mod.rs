//! Command implementations behind the CLI (kept in the library so tests and benches share them).

pub mod bench;
pub mod bench_sip;
pub mod eval;
pub mod serve;
pub mod transcribe;
