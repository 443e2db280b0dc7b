//! The multilingual model names the language of non-English callers and transcribes them.

mod common;
use common::*;

#[test]
fn base_model_names_the_language_of_fixtures() {
    require_models();
    for (file, lang, word) in
        [("german.wav", "de", "bestellung"), ("spanish.wav", "es", "pedido"), ("french.wav", "fr", "bonjour")]
    {
        let out = ok_stdout(&["transcribe", fixture(file).to_str().unwrap(), "--model", "base", "--json"]);
        let finals: Vec<serde_json::Value> = out
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .filter(|v| v["type"] == "final")
            .collect();
        assert!(!finals.is_empty(), "{file}: {out}");
        assert_eq!(finals[0]["language"], lang, "{file}: {out}");
        assert!(finals[0]["language_prob"].as_f64().unwrap() > 0.5, "{file}: {out}");
        assert!(words(&out).contains(word), "{file}: expected {word:?} in {out}");
        let summary: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
        assert_eq!(summary["language"], lang);
    }
}

#[test]
fn english_on_base_is_english_and_translation_is_offered() {
    require_models();
    let out = ok_stdout(&["transcribe", fixture("refund.wav").to_str().unwrap(), "--model", "base", "--json"]);
    assert!(out.contains("\"language\":\"en\""), "{out}");
    let out =
        ok_stdout(&["transcribe", fixture("german.wav").to_str().unwrap(), "--model", "base", "--translate", "--json"]);
    let fin: serde_json::Value = out
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|v| v["type"] == "final")
        .unwrap();
    let tr = words(fin["translation"].as_str().expect("translation present"));
    assert!(tr.contains("order"), "English translation should mention the order: {fin}");
}
