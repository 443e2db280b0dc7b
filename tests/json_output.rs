//! `transcribe --json`: every line parses, finals carry latency, the summary closes the stream.

mod common;
use common::*;

#[test]
fn json_lines_parse_and_finals_have_latency() {
    require_models();
    let out = ok_stdout(&["transcribe", fixture("order_status.wav").to_str().unwrap(), "--json"]);
    let lines: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).expect("JSON line")).collect();
    let finals: Vec<_> = lines.iter().filter(|v| v["type"] == "final").collect();
    assert!(!finals.is_empty(), "{out}");
    for f in &finals {
        for key in ["text", "start_ms", "end_ms", "language", "language_prob", "latency_ms"] {
            assert!(!f[key].is_null(), "final without {key}: {f}");
        }
        assert!(f["end_ms"].as_u64() > f["start_ms"].as_u64());
        assert!(f["latency_ms"].as_u64().is_some());
    }
    let summary = lines.last().unwrap();
    assert_eq!(summary["type"], "summary");
    for key in ["audio_ms", "processing_ms", "rtf", "language"] {
        assert!(!summary[key].is_null(), "summary without {key}: {summary}");
    }
    let audio_ms = summary["audio_ms"].as_u64().unwrap();
    assert!((7000..7700).contains(&audio_ms), "fixture is ~7.3 s, got {audio_ms}");
}

#[test]
fn realtime_mode_paces_the_file() {
    require_models();
    let out = ok_stdout(&["transcribe", fixture("refund.wav").to_str().unwrap(), "--json", "--realtime"]);
    let summary: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    let (audio, proc) = (summary["audio_ms"].as_u64().unwrap(), summary["processing_ms"].as_u64().unwrap());
    // Fed at real time, processing cannot finish before the audio has been played.
    assert!(proc + 100 >= audio, "audio {audio} ms processed in {proc} ms");
    assert!(out.contains("refund"), "{out}");
}
