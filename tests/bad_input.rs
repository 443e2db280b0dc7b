//! Bad input gets a one-line error, a non-zero exit and no panic.

mod common;
use common::*;

fn fails_with(args: &[&str], needle: &str) {
    let out = switchboard(args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{args:?} should fail");
    assert!(err.contains(needle), "{args:?}: expected {needle:?} in stderr:\n{err}");
    assert!(!err.contains("panicked"), "{args:?} panicked:\n{err}");
}

#[test]
fn corrupt_missing_and_unsupported_audio() {
    require_models();
    let dir = std::env::temp_dir().join(format!("sb-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let junk = dir.join("junk.wav");
    std::fs::write(&junk, b"RIFF\x10\x00\x00\x00WAVEjunkjunkjunk").unwrap();
    fails_with(&["transcribe", junk.to_str().unwrap()], "unsupported audio in");
    fails_with(&["transcribe", "/nonexistent/call.wav"], "cannot read /nonexistent/call.wav");
    let text = dir.join("notes.txt");
    std::fs::write(&text, "just some text").unwrap();
    fails_with(&["transcribe", text.to_str().unwrap()], "unsupported audio");
}

#[test]
fn truncated_wav_still_transcribes_what_is_there() {
    require_models();
    let dir = std::env::temp_dir().join(format!("sb-trunc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bytes = std::fs::read(fixture("refund.wav")).unwrap();
    let cut = dir.join("cut.wav");
    std::fs::write(&cut, &bytes[..bytes.len() * 3 / 4]).unwrap();
    let out = ok_stdout(&["transcribe", cut.to_str().unwrap()]);
    assert!(words(&out).contains("return"), "{out}");
}

#[test]
fn missing_model_and_bad_options() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(["transcribe", fixture("refund.wav").to_str().unwrap()])
        .env("SWITCHBOARD_MODELS", "/nonexistent-models")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("switchboard models fetch --only tiny.en"), "{err}");
    require_models();
    fails_with(
        &["transcribe", fixture("german.wav").to_str().unwrap(), "--model", "tiny.en", "--language", "de"],
        "English-only",
    );
    fails_with(&["transcribe", fixture("german.wav").to_str().unwrap(), "--model", "huge"], "unknown model");
}
