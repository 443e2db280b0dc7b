//! A caller reads out a card number on a real SIP/RTP call (the project's simulator with the
//! Piper voice, real Whisper): the number appears in no transcript event, partial, the call's
//! REST record, the recording's sidecar or the server's log, in whatever shape the recogniser
//! wrote it.

mod common;

use std::time::Duration;

use common::server::{tempdir, Server};
use common::simulate_in_background;

/// Whether `text` holds the card's (4539 1488 0343 6467) first or last eight digits, however
/// they were separated.
fn leaks(text: &str) -> bool {
    let joined: String = text.chars().filter(|c| !matches!(c, ' ' | ',' | '.' | '-')).collect();
    joined.contains("45391488") || joined.contains("03436467")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spoken_card_number_is_masked_everywhere() {
    let dir = tempdir("card");
    let rec = dir.join("recordings");
    let server = Server::start(&[
        ("SWITCHBOARD__RECORDING__ENABLED", "true"),
        ("SWITCHBOARD__RECORDING__DIR", rec.to_str().unwrap()),
        ("SWITCHBOARD_LOG", "debug"),
    ]);
    let mut events = server.events(None).await;
    let caller = simulate_in_background(&server, "card_spoken.toml");
    let started = events.next_of("call_started", Duration::from_secs(30)).await;
    let id = started["call_id"].as_str().unwrap().to_string();
    events.until(Duration::from_secs(120), |v| v["type"] == "call_ended" && v["call_id"] == id.as_str()).await;
    let out = caller.join().expect("simulator");
    assert!(!leaks(&out), "the simulator's report is the caller's own view, yet it holds no card digits either");

    let finals = events.finals(&id);
    eprintln!("transcript: {finals}");
    assert!(finals.contains("[card number]"), "the card number was heard and masked: {finals}");
    for ev in events.seen.iter().filter(|v| v["call_id"] == id.as_str()) {
        assert!(!leaks(&ev.to_string()), "card digits in an event: {ev}");
    }
    let (status, call) = server.get(&format!("/api/calls/{id}"));
    assert_eq!(status, 200);
    assert!(!leaks(&call.to_string()), "card digits in the call's record: {call}");
    let sidecar = std::fs::read_to_string(rec.join(format!("{id}.json"))).expect("recording sidecar");
    assert!(sidecar.contains("[card number]"), "{sidecar}");
    assert!(!leaks(&sidecar), "card digits in the recording sidecar: {sidecar}");
    let log = server.log();
    assert!(!log.lines().any(leaks), "card digits in the log");
}
