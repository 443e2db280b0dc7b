//! File mode through the live pipeline with the real Whisper models: the words come out.

mod common;
use common::*;

#[test]
fn english_fixtures_come_out_with_their_words_tiny_en() {
    require_models();
    let cases = [
        ("order_status.wav", &["calling about my order", "order number"][..]),
        ("refund.wav", &["return", "refund"][..]),
        ("payment_due.wav", &["next payment", "how much"][..]),
        ("agent_please.wav", &["speak to a person"][..]),
        // Telephone band (8 kHz) goes through the same pipeline.
        ("refund_8k.wav", &["refund"][..]),
        ("change_address_8k.wav", &["change the delivery address"][..]),
    ];
    for (file, expected) in cases {
        let out = ok_stdout(&["transcribe", fixture(file).to_str().unwrap(), "--model", "tiny.en"]);
        let got = words(&out);
        for phrase in expected {
            assert!(got.contains(phrase), "{file}: expected {phrase:?} in:\n{out}");
        }
    }
}

#[test]
fn order_number_digits_are_recognised() {
    require_models();
    let out = ok_stdout(&["transcribe", fixture("order_status.wav").to_str().unwrap()]);
    let norm = switchboard::eval::normalize::normalize(&out).join(" ");
    assert!(norm.contains("four five six seven eight"), "order number missing in:\n{out}");
}

#[test]
fn a_two_turn_call_gives_two_finals_in_order() {
    require_models();
    let out = ok_stdout(&["transcribe", fixture("two_turns.wav").to_str().unwrap(), "--json"]);
    let finals: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("every line is JSON"))
        .filter(|v| v["type"] == "final")
        .collect();
    assert_eq!(finals.len(), 2, "{out}");
    assert!(words(finals[0]["text"].as_str().unwrap()).contains("order"), "{out}");
    assert!(words(finals[1]["text"].as_str().unwrap()).contains("number"), "{out}");
    assert!(finals[0]["end_ms"].as_u64() < finals[1]["start_ms"].as_u64(), "{out}");
}

#[test]
fn noise_produces_no_words() {
    require_models();
    let out = ok_stdout(&["transcribe", fixture("noise.wav").to_str().unwrap(), "--json"]);
    assert!(!out.contains("\"final\""), "noise was transcribed:\n{out}");
    assert!(out.lines().last().unwrap().contains("\"summary\""));
}
