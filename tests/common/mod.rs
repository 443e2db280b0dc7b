//! Helpers shared by the integration tests: the real binary, the real models, the fixtures.
#![allow(dead_code)]

pub mod browser;
pub mod server;
pub mod uac;
pub mod webrtc;

use std::path::PathBuf;
use std::process::{Command, Output};

/// Repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fixture file.
pub fn fixture(name: &str) -> PathBuf {
    root().join("audio-fixtures").join(name)
}

/// Run the real `switchboard` binary with the repository's models folder.
pub fn switchboard(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(args)
        .current_dir(root())
        .env("SWITCHBOARD_MODELS", root().join("models"))
        .output()
        .expect("run switchboard")
}

/// Stdout as text, failing the test with stderr when the command failed.
pub fn ok_stdout(args: &[&str]) -> String {
    let out = switchboard(args);
    assert!(out.status.success(), "switchboard {args:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// The models the tests need must be installed (`scripts/setup` fetches them). Missing models
/// fail the test with the command to run: the integration tests never silently skip the real path.
pub fn require_models() {
    for f in [
        "ggml-tiny.en-q8_0.bin",
        "ggml-base-q8_0.bin",
        "ggml-silero-v6.2.0.bin",
        "smart-turn-v3.2-cpu.onnx",
        "libonnxruntime.so.1.31.1",
    ] {
        let p = root().join("models").join(f);
        assert!(p.is_file(), "{} is missing: run `scripts/setup` (or `switchboard models fetch`)", p.display());
    }
}

/// Shared datasets folder, when present.
pub fn datasets() -> Option<PathBuf> {
    let d = root().join("../shared/datasets");
    if d.is_dir() {
        Some(d)
    } else {
        eprintln!("skipping: ../shared/datasets is not present on this machine");
        None
    }
}

/// Lower-case words of a text, punctuation removed.
pub fn words(text: &str) -> String {
    text.to_lowercase().chars().map(|c| if c.is_alphanumeric() || c.is_whitespace() { c } else { ' ' }).collect()
}

/// Run a caller scenario (tests/scenarios/NAME) against `server` in the background with the
/// tiny.en model; join for the simulator's JSON output.
pub fn simulate_in_background(server: &server::Server, scenario: &str) -> std::thread::JoinHandle<String> {
    simulate_file_in_background(server, root().join("tests/scenarios").join(scenario))
}

/// Run the caller scenario at `scenario` (a file a test wrote) as [`simulate_in_background`].
pub fn simulate_file_in_background(server: &server::Server, scenario: PathBuf) -> std::thread::JoinHandle<String> {
    let (http, sip) = (format!("http://{}", server.http), server.sip.to_string());
    std::thread::spawn(move || {
        ok_stdout(&[
            "simulate",
            scenario.to_str().unwrap(),
            "--server",
            &http,
            "--sip",
            &sip,
            "--model",
            "tiny.en",
            "--json",
        ])
    })
}

/// The simulator's summary (its last line) and everything it heard, lower-case, " | " between utterances.
pub fn summary_and_heard(out: &str) -> (serde_json::Value, String) {
    let summary: serde_json::Value = serde_json::from_str(out.lines().last().unwrap_or("")).expect("summary line");
    let heard = summary["assistant_heard"]
        .as_array()
        .map(|a| a.iter().map(|h| h["text"].as_str().unwrap_or("").to_lowercase()).collect::<Vec<_>>().join(" | "))
        .unwrap_or_default();
    (summary, heard)
}

/// When the simulator stamped the first event of `kind` (ms into the call), from its summary.
pub fn event_ms(summary: &serde_json::Value, kind: &str) -> Option<u64> {
    summary["events"].as_array()?.iter().find(|e| e["type"] == kind).and_then(|e| e["at_ms"].as_u64())
}

/// What the simulated caller heard, an utterance each (lower case), in those that began in
/// `from..to` ms into the call.
pub fn heard_in(summary: &serde_json::Value, from: u64, to: u64) -> Vec<String> {
    summary["assistant_heard"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|h| h["at_ms"].as_u64().is_some_and(|t| (from..to).contains(&t)))
        .map(|h| h["text"].as_str().unwrap_or("").to_lowercase())
        .collect()
}
