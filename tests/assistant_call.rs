//! The AI assistant on a real phone call: sipp rings the real server over SIP/RTP as John
//! Carter (+15550100, a demo customer), asks where order 45678 is, keys the PIN 1234 when asked,
//! and the assistant — real Whisper, the real SQLite back office, espeak-ng speech — verifies
//! him and answers with the order's status, in events on /api/events.

mod common;

use std::time::Duration;

use common::server::{have, sipp, tempdir, Server};
use common::{fixture, ok_stdout};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phone_caller_is_verified_by_pin_and_told_where_the_order_is() {
    assert!(have("sipp"), "sipp is missing: apt-get install sip-tester (scripts/setup installs it)");
    assert!(have("sox"), "sox is missing: apt-get install sox (scripts/setup installs it)");
    let dir = tempdir("assistant");
    let db = dir.join("bo.db");
    ok_stdout(&["demo-data", "--db", db.to_str().unwrap(), "--customers", "12"]);
    // The question, then silence while the assistant asks for verification, then the PIN.
    let wav = dir.join("question.wav");
    let status = std::process::Command::new("sox")
        .args([fixture("order_status_8k.wav").to_str().unwrap(), wav.to_str().unwrap(), "pad", "0", "9"])
        .status()
        .unwrap();
    assert!(status.success());
    let pcap = dir.join("question.pcap");
    ok_stdout(&["pcap", wav.to_str().unwrap(), pcap.to_str().unwrap(), "--dtmf", "1234#"]);

    let server = Server::start(&[("SWITCHBOARD__STORE__PATH", db.to_str().unwrap())]);
    let mut events = server.events(None).await;
    let target = server.sip;
    let caller =
        tokio::task::spawn_blocking(move || sipp("caller.xml", target, &[("pcap", pcap.to_str().unwrap())], 25_000, 1));

    let started = events.next_of("call_started", Duration::from_secs(20)).await;
    let id = started["call_id"].as_str().unwrap().to_string();
    let is = |v: &serde_json::Value, t: &str| v["type"] == t && v["call_id"] == id.as_str();
    let welcome = events.until(Duration::from_secs(20), |v| is(v, "assistant_replied")).await;
    assert!(welcome["text"].as_str().unwrap().starts_with("Thank you for calling"), "{welcome}");
    // The AI notice is on by default (EU AI Act, Article 50).
    assert!(welcome["text"].as_str().unwrap().contains("AI assistant, and your voice is analysed"), "{welcome}");
    assert_eq!(welcome["language"], "en");

    let ask = events.until(Duration::from_secs(40), |v| is(v, "assistant_replied") && v["intent"].is_string()).await;
    assert_eq!(ask["intent"], "order_status", "{ask}");
    let text = ask["text"].as_str().unwrap();
    assert!(text.contains("date of birth") && text.contains("PIN"), "verification first: {text}");
    assert!(!text.contains("4 5 6 7 8"), "nothing about the order before verification: {text}");

    let answer = events
        .until(Duration::from_secs(40), |v| {
            is(v, "assistant_replied") && v["text"].as_str().unwrap_or("").contains("Order")
        })
        .await;
    let text = answer["text"].as_str().unwrap();
    assert!(text.starts_with("Thank you, John."), "{text}");
    assert!(text.contains("Order 4 5 6 7 8 is on its way with"), "{text}");
    let tools: Vec<&str> = answer["actions"].as_array().unwrap().iter().map(|a| a["tool"].as_str().unwrap()).collect();
    assert_eq!(tools, ["verify", "order_status"], "{answer}");

    let ended = events.until(Duration::from_secs(60), |v| is(v, "call_ended")).await;
    assert_eq!(ended["reason"], "caller_hangup");
    let (ok, log) = caller.await.unwrap();
    assert!(ok, "sipp reported a failed call:\n{log}");
    assert!(!events.seen.iter().any(|v| is(v, "escalation_requested")), "resolved without a person");
}

/// A caller who says nothing is asked once whether they are still there, then handed to a
/// person (`escalation_requested` with reason `silence`, call state `waiting_for_agent`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_caller_is_prompted_once_then_handed_over() {
    assert!(have("sipp"), "sipp is missing: apt-get install sip-tester (scripts/setup installs it)");
    let dir = tempdir("assistant-silence");
    let wav = dir.join("silence.wav");
    let ok = std::process::Command::new("sox")
        .args(["-n", "-r", "8000", "-c", "1", "-b", "16", wav.to_str().unwrap(), "trim", "0", "36"])
        .status()
        .unwrap();
    assert!(ok.success());
    let pcap = dir.join("silence.pcap");
    ok_stdout(&["pcap", wav.to_str().unwrap(), pcap.to_str().unwrap()]);
    let server = Server::start(&[]);
    let mut events = server.events(None).await;
    let target = server.sip;
    let caller =
        tokio::task::spawn_blocking(move || sipp("caller.xml", target, &[("pcap", pcap.to_str().unwrap())], 45_000, 1));
    let started = events.next_of("call_started", Duration::from_secs(20)).await;
    let id = started["call_id"].as_str().unwrap().to_string();
    let is = |v: &serde_json::Value, t: &str| v["type"] == t && v["call_id"] == id.as_str();
    let prompt = events
        .until(Duration::from_secs(30), |v| {
            is(v, "assistant_replied") && v["text"].as_str().unwrap_or("").starts_with("Are you still there?")
        })
        .await;
    assert!(prompt["at_ms"].as_u64().unwrap() >= 8_000, "not before the answer timeout: {prompt}");
    let handover = events.until(Duration::from_secs(30), |v| is(v, "escalation_requested")).await;
    assert_eq!(handover["reason"], "silence", "{handover}");
    let state = events.find(Duration::from_secs(5), |v| is(v, "call_state_changed")).await;
    assert_eq!(state["state"], "waiting_for_agent");
    let (ok, log) = caller.await.unwrap();
    assert!(ok, "sipp reported a failed call:\n{log}");
}
