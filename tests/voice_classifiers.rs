//! The project's own voice classifiers (models/voice/*.json, written by `switchboard train`)
//! with the real Smart Turn encoder through ONNX Runtime:
//! * they judge real recordings of speakers left out of their training: RAVDESS actor 01
//!   (`--hold-out ravdess_01`) for anger, CMU ARCTIC's US and Indian speakers for accent;
//!   without ../shared they run on the project's own espeak clips and say so;
//! * `train` reproduces the committed weights from ../shared;
//! * a phone call whose first sentence is angry (actor 01, over G.711) is judged angry from
//!   the voice, handed to a person as upset, and routed with an angry caller's priority.

mod common;

use std::time::Duration;

use serde_json::Value;

use common::server::{demo_server, have, tempdir};
use common::{datasets, fixture, ok_stdout, require_models, root, simulate_in_background, summary_and_heard};
use switchboard::models::Manifest;
use switchboard::pipeline::analysis::voice::VoiceModels;

fn models() -> std::sync::Arc<VoiceModels> {
    require_models();
    let manifest = Manifest::load_dir(root().join("models")).expect("manifest");
    VoiceModels::shared(&manifest).expect("voice encoder and models/voice weights load")
}

fn audio(path: &std::path::Path) -> Vec<f32> {
    switchboard::media::decode::read_mono_at(path, 16_000).expect("decode")
}

#[test]
fn committed_weights_judge_speakers_they_never_heard() {
    let voice = models();
    let Some(ds) = datasets() else {
        // Only the mechanics can be checked on synthetic speech (espeak is far from any
        // training voice; the classifiers rightly stay near undecided on it).
        for f in ["calm.wav", "angry.wav"] {
            let s = voice.score(&audio(&fixture(f))).unwrap();
            let a = s.anger.expect("anger probe");
            assert!((a.probs.iter().map(|p| p.1).sum::<f32>() - 1.0).abs() < 1e-4);
            eprintln!("no ../shared/datasets: judged the project's own espeak clip {f}: {a:?}");
        }
        return;
    };
    // Anger: RAVDESS actor 01 was held out of the committed weights.
    let dir = ds.join("emotion-speech");
    let mut angry = Vec::new();
    let mut calm = Vec::new();
    for (file, emotion) in [
        ("01-01-05-01-01-01-01", "angry"),
        ("01-01-05-02-01-01-01", "angry"),
        ("01-01-01-01-01-01-01", "neutral"),
        ("01-01-02-01-01-01-01", "calm"),
        ("01-01-02-02-01-01-01", "calm"),
    ] {
        let s = voice.score(&audio(&dir.join(format!("ravdess/{file}.wav")))).unwrap();
        let p = s.p_angry().unwrap();
        eprintln!("actor 01 {emotion:<8} p(angry) {p:.2}  arousal {:?}", s.arousal.as_ref().map(|a| &a.label));
        if emotion == "angry" {
            angry.push(p)
        } else {
            calm.push(p)
        }
    }
    let min_angry = angry.iter().cloned().fold(1.0, f32::min);
    let max_calm = calm.iter().cloned().fold(0.0, f32::max);
    assert!(min_angry > max_calm, "every angry clip above every calm one: {angry:?} vs {calm:?}");
    assert!(min_angry >= 0.5 && max_calm < 0.5, "and on the right side of 0.5: {angry:?} vs {calm:?}");

    // Accent: CMU ARCTIC aew (US) and axb (Indian English) are in no training set. Averaged over
    // each speaker's three sentences, as a call averages its turns.
    let dir = ds.join("accented-english/cmu_arctic");
    for (speaker, files, native) in
        [("aew", ["a0001", "a0002", "a0003"], true), ("axb", ["a0004", "a0005", "a0006"], false)]
    {
        let mut p_native = 0.0;
        for f in files {
            let s = voice.score(&audio(&dir.join(format!("cmu_arctic_us_{speaker}_{f}.wav")))).unwrap();
            p_native += s.native.expect("accent probe").prob("native") / 3.0;
        }
        eprintln!("CMU ARCTIC {speaker}: p(native) {p_native:.2}");
        assert_eq!(p_native >= 0.5, native, "{speaker}: p(native) {p_native:.2}");
    }
}

/// Both weights files are what `switchboard train` makes of ../shared (the commands in
/// their provenance). The same data and seed give the same weights; a different CPU could
/// differ in the last bits of ONNX Runtime's sums, so weights are compared to 1e-3.
#[test]
fn training_reproduces_the_committed_weights() {
    require_models();
    let Some(ds) = datasets() else { return };
    let t = ds.join("training");
    let out = tempdir("train");
    for (kind, sets, hold) in [
        ("emotion", vec!["emotion-ravdess", "emotion-savee"], vec!["ravdess_01"]),
        ("accent", vec!["accent-speech-accent-archive", "accent-speechocean762", "accent-vctk-p239"], vec![]),
    ] {
        let file = out.join(format!("{kind}.json"));
        let mut args: Vec<String> = vec!["train".into(), kind.into(), "--out".into(), file.display().to_string()];
        for s in &sets {
            args.extend(["--dataset".into(), t.join(s).display().to_string()]);
        }
        for h in &hold {
            args.extend(["--hold-out".into(), h.to_string()]);
        }
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let report = ok_stdout(&refs);
        assert!(report.contains("held-out speakers") && report.contains("confusion"), "{report}");
        let made: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        let committed: Value =
            serde_json::from_str(&std::fs::read_to_string(root().join(format!("models/voice/{kind}.json"))).unwrap())
                .unwrap();
        let (made, committed) = (made.as_array().unwrap(), committed.as_array().unwrap());
        assert_eq!(made.len(), committed.len());
        for (m, c) in made.iter().zip(committed) {
            let without_cpu = |v: &Value| {
                let mut p = v["provenance"].clone();
                p.as_object_mut().unwrap().remove("cpu");
                p
            };
            assert_eq!(without_cpu(m), without_cpu(c), "same data, same command");
            // The int8 encoder's kernels differ between CPU kinds (AVX-512 VNNI or not, ...):
            // bit for bit on the kind that trained the weights; elsewhere, print how far.
            let same_cpu = m["provenance"]["cpu"] == c["provenance"]["cpu"];
            assert_eq!(m["classes"], c["classes"]);
            // Every number: means, scales, weights, biases, temperature, floor.
            fn numbers(v: &Value, out: &mut Vec<f64>) {
                match v {
                    Value::Number(n) => out.push(n.as_f64().unwrap()),
                    Value::Array(a) => a.iter().for_each(|x| numbers(x, out)),
                    Value::Object(o) => o.iter().filter(|(k, _)| *k != "provenance").for_each(|(_, x)| numbers(x, out)),
                    _ => {}
                }
            }
            let (mut a, mut b) = (Vec::new(), Vec::new());
            numbers(m, &mut a);
            numbers(c, &mut b);
            assert_eq!(a.len(), b.len());
            let worst = a.iter().zip(&b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max);
            if !same_cpu {
                eprintln!(
                    "{kind} {}: trained on a {} CPU, this is a {} CPU: largest difference {worst:e}; \
                     bit-for-bit retraining is checked on the CPU kind that made the weights",
                    m["task"], c["provenance"]["cpu"], m["provenance"]["cpu"]
                );
                continue;
            }
            assert!(worst < 1e-3, "{kind} {}: numbers differ by up to {worst}", m["task"]);
            eprintln!("{kind} {}: largest difference {worst:e} (0 = bit for bit)", m["task"]);
        }
    }
}

#[test]
fn an_angry_first_sentence_on_the_phone_is_handed_over_with_an_angry_callers_priority() {
    require_models();
    let Some(ds) = datasets() else { return };
    assert!(have("sipp") && have("espeak-ng"), "needs sipp and espeak-ng (scripts/setup installs them)");
    let (db, server) = demo_server("angry-call", &[]);
    // Actor 01 (held out of the weights), angry, strong intensity, as the caller's first words.
    let clip = ds.join("emotion-speech/ravdess/01-01-05-02-01-01-01.wav");
    let scenario = db.with_file_name("angry_voice.toml");
    std::fs::write(
        &scenario,
        format!(
            "description = \"angry from the first word\"\ncaller = \"+15550100\"\n\n[[turns]]\nwav = \"{}\"\n",
            clip.display()
        ),
    )
    .unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let _guard = rt.enter();
    server.available_agent("james", "james-demo-pass");
    let mut events = rt.block_on(server.events(None));
    let caller = simulate_in_background(&server, scenario.to_str().unwrap());
    let state = rt.block_on(events.next_of("caller_state_changed", Duration::from_secs(60)));
    assert_eq!(state["state"], "angry", "{state}");
    let evidence: Vec<&str> = state["evidence"].as_array().unwrap().iter().filter_map(|e| e.as_str()).collect();
    assert!(evidence.iter().any(|e| e.starts_with("voice classifier: angry")), "{evidence:?}");
    let escalation = rt.block_on(events.next_of("escalation_requested", Duration::from_secs(20)));
    assert_eq!(escalation["reason"], "caller_upset", "{escalation}");
    let routed = rt.block_on(events.next_of("call_routed", Duration::from_secs(30)));
    let call = routed["call_id"].as_str().unwrap().to_string();
    let d = &routed["decision"];
    // Priority = frustration x 60 + seconds waited (routing defaults): an angry caller's share.
    let from_mood = d["priority"].as_f64().unwrap() - d["waited_ms"].as_f64().unwrap() / 1000.0;
    assert!(from_mood >= 0.6 * 60.0, "priority {} after {} ms waiting", d["priority"], d["waited_ms"]);
    let sam = server.session("sam", "sam-demo-pass");
    let (_, _, rec) = server.request("GET", &format!("/api/calls/{call}"), Some(&sam), None);
    assert_eq!(rec["caller_state"]["state"], "angry", "{rec}");
    let case = rec["case_file"].to_string();
    assert!(case.contains("voice classifier: angry"), "the case file shows the voice's verdict: {case}");
    let (status, _, body) = server.request("POST", &format!("/api/calls/{call}/hangup"), Some(&sam), None);
    assert_eq!(status, 200, "{body}");
    let (summary, _) = summary_and_heard(&caller.join().unwrap());
    assert_eq!(summary["escalation_reason"], "caller_upset", "{summary}");
    let _ = std::fs::remove_file(&db);
}
