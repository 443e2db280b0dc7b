//! `models list`, `models fetch` (idempotent, verified) and `models convert-ct2` on bad input.

mod common;
use common::*;

#[test]
fn list_shows_installed_models_with_sizes() {
    require_models();
    let out = ok_stdout(&["models", "list"]);
    for name in ["tiny.en", "base", "silero-vad"] {
        let line = out.lines().find(|l| l.starts_with(name)).unwrap_or_else(|| panic!("{name} not listed:\n{out}"));
        assert!(line.contains(" ok ") && (line.contains("MiB") || line.contains("KiB")), "{line}");
    }
}

#[test]
fn fetch_is_idempotent_and_verifies() {
    require_models();
    let out = switchboard(&["models", "fetch"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    // Whisper tiny.en (8-bit), base and tiny.en-f16, the VAD, the Piper voice and its config,
    // ONNX Runtime, and Smart Turn (the voice encoder).
    assert_eq!(err.matches("installed and verified").count(), 8, "{err}");
}

#[test]
fn convert_rejects_a_folder_without_a_model() {
    let dir = std::env::temp_dir().join(format!("sb-conv-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("model.bin"), b"not a ctranslate2 model").unwrap();
    std::fs::write(dir.join("vocabulary.txt"), "a\n<|endoftext|>\n").unwrap();
    let out_file = dir.join("out.bin");
    let out = switchboard(&["models", "convert-ct2", dir.to_str().unwrap(), out_file.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("model format"), "{err}");
    assert!(!out_file.exists(), "no half-written output");
    assert!(!dir.join("out.bin.partial").exists());
}
