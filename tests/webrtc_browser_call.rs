//! A real browser calls: Debian's Chromium, headless, driven through chromedriver, opens
//! `/call`, presses Call with a fixture WAV as its microphone, and the fixture's words come
//! back as `transcript_final` events and on the page; the page receives audio from the server
//! (the greeting); Hang up ends the call. A second call whose browser vanishes is ended by
//! the server with `connection_lost`. Saves a screenshot of the page to target/call-page.png.

mod common;

use std::time::{Duration, Instant};

use fantoccini::Locator;
use serde_json::Value;

use common::browser::{browser, wait_page, with_leading_silence};
use common::server::{tempdir, Server};
use common::{fixture, words};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_calls_is_understood_hears_audio_and_hangs_up() {
    let server = Server::start(&[("SWITCHBOARD__WEBRTC__UDP_ADDRS", r#"["127.0.0.1:0"]"#)]);
    let mut events = server.events(None).await;
    // The caller listens to the 4 s greeting, then speaks (talking over it would have the
    // browser's echo canceller duck the microphone, as it does for a real caller).
    let wav = tempdir("caller").join("caller.wav");
    with_leading_silence(&fixture("order_status.wav"), &wav, 5.0);
    let (_driver, c) = browser(&wav, false).await;
    c.goto(&format!("http://{}/call", server.http)).await.unwrap();
    let button = c.find(Locator::Id("call")).await.unwrap();
    assert_eq!(button.text().await.unwrap(), "Call");
    assert_eq!(button.attr("aria-pressed").await.unwrap().as_deref(), Some("false"));
    // The caller gives a number on the page (it identifies, verification still follows).
    c.find(Locator::Id("caller")).await.unwrap().send_keys("+15550100").await.unwrap();
    let clicked = Instant::now();
    button.click().await.unwrap();

    let started = events.next_of("call_started", Duration::from_secs(20)).await;
    assert_eq!(started["transport"], "webrtc");
    assert_eq!(started["caller"], "+15550100");
    let id = started["call_id"].as_str().unwrap().to_string();
    let s = wait_page(&c, Duration::from_secs(20), "a connection", |s| s["connectMs"].is_number()).await;
    println!(
        "click -> connected: {} ms (page), call_started after {} ms",
        s["connectMs"],
        clicked.elapsed().as_millis()
    );

    // The fixture says one sentence; collect the call's finals until its last words arrive.
    let deadline = Instant::now() + Duration::from_secs(40);
    let mut finals: Vec<Value> = Vec::new();
    while !words(&events.finals(&id)).contains("number") {
        let left = deadline.saturating_duration_since(Instant::now());
        finals.push(events.until(left, |v| v["type"] == "transcript_final" && v["call_id"] == id.as_str()).await);
    }
    let text = words(&events.finals(&id));
    // The words of both sentences that tiny.en hears through Opus every time; not "calling"
    // ("jollying" 1 run in 4) nor the digits ("456 and ornate").
    for w in ["order", "number"] {
        assert!(text.split_whitespace().any(|t| t == w), "{w:?} missing from {text:?}");
    }
    for f in &finals {
        println!("webrtc final: latency {} ms, {:?}", f["latency_ms"], f["text"]);
    }
    // The voice analytics run live on web calls too: the call's language and the caller's state.
    let state = events
        .find(Duration::from_secs(5), |v| v["type"] == "caller_state_changed" && v["call_id"] == id.as_str())
        .await;
    assert_eq!(state["state"], "calm", "{state}");
    let lang =
        events.find(Duration::from_secs(5), |v| v["type"] == "language_detected" && v["call_id"] == id.as_str()).await;
    assert_eq!(lang["language"], "en", "{lang}");
    // The page shows what was understood and has received the server's audio.
    let n = finals.len();
    let s = wait_page(&c, Duration::from_secs(10), "the transcript", |s| {
        s["finals"].as_array().is_some_and(|f| f.len() >= n)
    })
    .await;
    assert_eq!(s["finals"][n - 1], finals[n - 1]["text"]);
    let shown: Vec<String> = {
        let mut v = Vec::new();
        for e in c.find_all(Locator::Css("#transcript .final")).await.unwrap() {
            v.push(e.text().await.unwrap());
        }
        v
    };
    assert_eq!(shown.last().map(String::as_str), finals[n - 1]["text"].as_str());
    // ... and what the assistant answered (the demo database is empty here, so it cannot find
    // the account and says it will connect a colleague).
    let s = wait_page(&c, Duration::from_secs(10), "the assistant's reply", |s| {
        s["assistant"].as_array().is_some_and(|a| !a.is_empty())
    })
    .await;
    assert!(s["assistant"][0].as_str().unwrap().len() > 10, "{s}");
    let s = wait_page(&c, Duration::from_secs(10), "inbound audio", |s| {
        s["bytesReceived"].as_u64().unwrap_or(0) > 1000 && s["inboundLevel"].as_f64().unwrap_or(0.0) > 0.01
    })
    .await;
    println!("browser received {} bytes of audio, peak level {}", s["bytesReceived"], s["inboundLevel"]);
    // CPU of the server while the call is up and the caller is silent: media (SRTP, Opus both
    // ways, jitter handling), VAD and the outbound greeting/silence. Printed, not asserted.
    let ticks = |pid: u32| -> u64 {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let f: Vec<&str> = stat.rsplit(')').next().unwrap_or("").split_whitespace().collect();
        f.get(11).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
            + f.get(12).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
    };
    let (t0, w0) = (ticks(server.child.id()), Instant::now());
    tokio::time::sleep(Duration::from_secs(4)).await;
    let cpu = (ticks(server.child.id()) - t0) as f64 * 10.0 / w0.elapsed().as_millis() as f64 * 100.0;
    println!("server CPU during a connected, silent WebRTC call: {cpu:.1}% of one core");
    let shot = c.screenshot().await.unwrap();
    let path = common::root().join("target/call-page.png");
    std::fs::write(&path, shot).unwrap();
    println!("screenshot: {}", path.display());

    // The page's keypad: each key reaches the call as a key press (on its record and as a
    // `dtmf` event).
    for key in ["1", "2", "#"] {
        c.find(Locator::Css(&format!("#keypad button[data-key='{key}']"))).await.unwrap().click().await.unwrap();
        let ev = events.next_of("dtmf", Duration::from_secs(5)).await;
        assert_eq!((ev["call_id"].as_str(), ev["digit"].as_str()), (Some(id.as_str()), Some(key)));
    }
    let (_, record) = server.get(&format!("/api/calls/{id}"));
    assert_eq!(record["dtmf"], "12#", "{record}");
    let (status, _, _) = server.request(
        "POST",
        &format!("/api/webrtc/{id}/keys"),
        None,
        Some(serde_json::json!({"token": "wrong", "keys": "1"})),
    );
    assert_eq!(status, 403, "keys need the call's token");

    // Hang up from the page.
    let button = c.find(Locator::Id("call")).await.unwrap();
    assert_eq!(button.text().await.unwrap(), "Hang up");
    button.click().await.unwrap();
    let ended = events.next_of("call_ended", Duration::from_secs(20)).await;
    assert_eq!((ended["call_id"].as_str(), ended["reason"].as_str()), (Some(id.as_str()), Some("caller_hangup")));
    wait_page(&c, Duration::from_secs(5), "the end of the call", |s| s["ended"] == "caller_hangup").await;

    // A second call whose browser disappears mid-call: the server ends it by itself.
    c.find(Locator::Id("call")).await.unwrap().click().await.unwrap();
    let started = events.next_of("call_started", Duration::from_secs(20)).await;
    let id2 = started["call_id"].as_str().unwrap().to_string();
    wait_page(&c, Duration::from_secs(20), "a second connection", |s| {
        s["callId"] == id2.as_str() && s["state"].as_str().is_some_and(|t| t.starts_with("connected"))
    })
    .await;
    c.close().await.unwrap();
    let ended =
        events.until(Duration::from_secs(60), |v| v["type"] == "call_ended" && v["call_id"] == id2.as_str()).await;
    assert_eq!(ended["reason"], "connection_lost");
    let (_, calls) = server.get("/api/calls");
    assert!(calls.as_array().unwrap().iter().all(|c| c["state"] == "ended"), "no live calls left: {calls}");
}
