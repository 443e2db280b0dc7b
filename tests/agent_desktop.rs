//! The agent desktop with a real browser and a real phone call: Priya logs in at `/agent` in
//! headless Chromium (whose microphone plays a recording of her voice) and goes available; a
//! simulated caller (SIP/RTP, real models) reports fraud and is handed over; the call is offered
//! to Priya (fraud, English), not to James; her desktop shows the case file with the caller's
//! name and the intent; she accepts, her browser receives the caller's audio over WebRTC and the
//! caller hears her (the simulator transcribes her words); her words are transcribed on the
//! call too. Her browser then vanishes mid-call: the call goes back to the front of the queue
//! and the caller is told; she comes back, takes it again, hangs up and saves the wrap-up.
//! Saves a screenshot of the desktop to target/agent-desktop.png.

mod common;

use std::time::{Duration, Instant};

use fantoccini::Locator;
use serde_json::{json, Value};

use common::browser::{accept_offer_as, browser, espeak, log_in_and_go_available, wait_page, with_leading_silence};
use common::server::{have, tempdir, Server};
use common::{ok_stdout, root, simulate_in_background, summary_and_heard};

/// What Priya says into her microphone (espeak-ng, looped by Chromium).
const PRIYA_SAYS: &str =
    "Hello, this is Priya from the fraud team. I have blocked your card, and a new card is on its way.";

/// Whether a transcript (lower case) holds Priya's sentence. Her espeak voice through Opus is
/// hard for Whisper ("this is 3, I have 12 cards and a new card is on its way" on a busy CI
/// machine), so any of its distinctive phrases counts, none of which the caller says.
fn said_by_priya(text: &str) -> bool {
    ["priya", "fraud team", "blocked", "new card", "on its way"].iter().any(|w| text.contains(w))
}

fn text_of(events: &[Value], kind: &str, call: &str) -> String {
    events
        .iter()
        .filter(|v| v["type"] == kind && v["call_id"] == call)
        .map(|v| v["text"].as_str().unwrap_or("").to_lowercase())
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn an_agent_takes_a_routed_call_in_the_browser_talks_survives_a_drop_and_wraps_up() {
    assert!(have("espeak-ng") && have("chromedriver"), "needs espeak-ng and chromium-driver (scripts/setup)");
    let dir = tempdir("agent-desktop");
    let db = dir.join("desk.db");
    let rec = dir.join("recordings");
    ok_stdout(&["demo-data", "--db", db.to_str().unwrap(), "--customers", "12"]);
    let server = Server::start(&[
        ("SWITCHBOARD__STORE__PATH", db.to_str().unwrap()),
        ("SWITCHBOARD__WEBRTC__UDP_ADDRS", r#"["127.0.0.1:0"]"#),
        ("SWITCHBOARD__ROUTING__OFFER_TIMEOUT_S", "30"),
        ("SWITCHBOARD__RECORDING__ENABLED", "true"),
        ("SWITCHBOARD__RECORDING__DIR", rec.to_str().unwrap()),
    ]);
    let base = format!("http://{}", server.http);
    // Priya's voice: one sentence with a pause before it, looped as her microphone.
    let voice = espeak(&dir, "priya", PRIYA_SAYS, 1.0);

    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let _guard = rt.enter();
    let (_driver, c) = rt.block_on(browser(&voice, true));
    rt.block_on(log_in_and_go_available(&c, &base, "priya"));
    // James (English, no fraud skill) is available too; the fraud call must not go to him.
    let james = server.session("james", "james-demo-pass");
    let (status, _, _) =
        server.request("PUT", "/api/agents/me/presence", Some(&james), Some(json!({"presence": "available"})));
    assert_eq!(status, 200);

    let mut events = rt.block_on(server.events(None));
    let caller = simulate_in_background(&server, "fraud_agent.toml");

    let routed = rt.block_on(events.next_of("call_routed", Duration::from_secs(90)));
    let call = routed["call_id"].as_str().unwrap().to_string();
    assert_eq!(routed["decision"]["agent_id"], "priya", "fraud + English goes to Priya: {routed}");
    // Her desktop shows the offer with the case file: who is calling and why.
    let s = rt.block_on(wait_page(&c, Duration::from_secs(20), "the case file", |s| {
        s["offer"]["call_id"] == call.as_str() && s["caseFile"]["caller"]["name"].is_string()
    }));
    assert_eq!(s["caseFile"]["caller"]["name"], "John Carter", "{}", s["caseFile"]);
    let shown = rt.block_on(async { c.find(Locator::Id("case")).await.unwrap().text().await.unwrap() });
    assert!(shown.contains("John Carter") && shown.contains("fraud"), "{shown}");
    let offered = Instant::now();
    rt.block_on(accept_offer_as(&c, &call, "priya"));
    println!("offer -> accepted and audio connected: {} ms", offered.elapsed().as_millis());
    let joined = rt.block_on(events.next_of("agent_joined", Duration::from_secs(10)));
    assert_eq!((joined["call_id"].as_str(), joined["agent_id"].as_str()), (Some(call.as_str()), Some("priya")));

    // Her browser hears the caller (who speaks 1.5 s after she joins) ...
    let s = rt.block_on(wait_page(&c, Duration::from_secs(60), "the caller's audio", |s| {
        s["bytesReceived"].as_u64().unwrap_or(0) > 2000 && s["inboundLevel"].as_f64().unwrap_or(0.0) > 0.02
    }));
    println!("agent browser received {} bytes of caller audio, peak level {}", s["bytesReceived"], s["inboundLevel"]);
    // ... and what she says is transcribed on the call and shown on her desktop.
    rt.block_on(events.until(Duration::from_secs(60), |v| {
        v["type"] == "agent_transcript" && v["call_id"] == call.as_str() && {
            let t = v["text"].as_str().unwrap_or("").to_lowercase();
            t.contains("fraud") || t.contains("blocked") || t.contains("card")
        }
    }));
    let s = rt.block_on(wait_page(&c, Duration::from_secs(10), "her words in the transcript", |s| {
        s["transcript"].as_array().is_some_and(|t| t.iter().any(|l| l["speaker"] == "agent"))
    }));
    assert!(s["transcript"].as_array().unwrap().iter().any(|l| l["speaker"] == "caller"), "both sides: {s}");
    std::thread::sleep(Duration::from_secs(2));
    let shot = rt.block_on(c.screenshot()).unwrap();
    let path = root().join("target/agent-desktop.png");
    std::fs::write(&path, shot).unwrap();
    println!("screenshot: {}", path.display());

    // Her browser goes away mid-call: the call goes back to the front of the queue, keeps its
    // case file, and the caller is told. James steps away so the call waits for her.
    let (status, _, _) =
        server.request("PUT", "/api/agents/me/presence", Some(&james), Some(json!({"presence": "away"})));
    assert_eq!(status, 200);
    rt.block_on(c.goto("about:blank")).unwrap();
    let left = rt.block_on(events.next_of("agent_left", Duration::from_secs(30)));
    assert_eq!((left["call_id"].as_str(), left["reason"].as_str()), (Some(call.as_str()), Some("connection_lost")));
    let (_, queue) = server.get("/api/queue");
    assert_eq!(queue[0]["call_id"], call.as_str(), "back at the front of the queue: {queue}");
    // The caller hears why (about 5 s); she comes back after that (her session cookie is still
    // good), goes available and gets the call again.
    std::thread::sleep(Duration::from_secs(7));
    rt.block_on(log_in_and_go_available(&c, &base, "priya"));
    let again = rt.block_on(events.next_of("call_routed", Duration::from_secs(30)));
    assert_eq!(
        (again["call_id"].as_str(), again["decision"]["agent_id"].as_str()),
        (Some(call.as_str()), Some("priya"))
    );
    let s = rt.block_on(wait_page(&c, Duration::from_secs(20), "the case file again", |s| {
        s["caseFile"]["caller"]["name"] == "John Carter"
    }));
    assert!(s["caseFile"]["handover"].is_object(), "the case file was kept");
    rt.block_on(accept_offer_as(&c, &call, "priya"));
    rt.block_on(
        events.until(Duration::from_secs(20), |v| v["type"] == "agent_joined" && v["call_id"] == call.as_str()),
    );
    // Let the caller hear her again, then she hangs up.
    std::thread::sleep(Duration::from_secs(12));
    rt.block_on(async { c.find(Locator::Id("hangup")).await.unwrap().click().await.unwrap() });
    let ended = rt.block_on(
        events.until(Duration::from_secs(30), |v| v["type"] == "call_ended" && v["call_id"] == call.as_str()),
    );
    assert_eq!(ended["reason"], "agent_hangup");

    // The wrap-up form, saved to the interaction record.
    rt.block_on(wait_page(&c, Duration::from_secs(10), "the wrap-up form", |s| s["ended"] == "agent_hangup"));
    rt.block_on(async {
        c.find(Locator::Id("disposition")).await.unwrap().select_by_value("fraud_case_opened").await.unwrap();
        c.find(Locator::Id("notes"))
            .await
            .unwrap()
            .send_keys("Card 4111 1111 1111 1111 blocked; new card sent.")
            .await
            .unwrap();
        c.find(Locator::Id("save-wrapup")).await.unwrap().click().await.unwrap();
    });
    rt.block_on(wait_page(&c, Duration::from_secs(10), "the saved wrap-up", |s| !s["wrapUp"].is_null()));
    let store = switchboard::store::Store::open(&db).unwrap();
    let (disposition, notes) = store.wrap_up_of(&call).unwrap().expect("wrap-up saved");
    assert_eq!(disposition, "fraud_case_opened");
    assert!(notes.contains("[card number]") && !notes.contains("4111"), "{notes}");

    // The caller heard Priya (through the bridge, transcribed by the simulator) and the message
    // when her connection dropped.
    let (_, heard) = summary_and_heard(&caller.join().unwrap());
    println!("the caller heard: {heard}");
    assert!(said_by_priya(&heard), "{heard}");
    assert!(heard.contains("connection") || heard.contains("queue"), "the message when she dropped: {heard}");
    let said = text_of(&events.seen, "agent_transcript", &call);
    println!("Priya's words on the call: {said}");
    let _ = rt.block_on(c.close());

    // The recording holds both sides: its transcript has Priya's turns beside the caller's,
    // and each channel transcribed on its own finds that side's words.
    let sidecar: Value = serde_json::from_slice(&std::fs::read(rec.join(format!("{call}.json"))).unwrap()).unwrap();
    let lines = sidecar["transcript"].as_array().unwrap();
    let by = |who: &str| {
        lines
            .iter()
            .filter(|l| l["speaker"] == who)
            .map(|l| l["text"].as_str().unwrap().to_lowercase())
            .collect::<String>()
    };
    let (caller_said, agent_said) = (by("caller"), by("agent"));
    assert!(caller_said.contains("card"), "the caller's turns: {sidecar}");
    assert!(said_by_priya(&agent_said), "Priya's turns: {sidecar}");
    let (_, record) = server.get(&format!("/api/calls/{call}"));
    assert!(record["transcript"].as_array().unwrap().iter().any(|l| l["speaker"] == "agent"), "{record}");
    let mut wav = hound::WavReader::open(rec.join(format!("{call}.wav"))).unwrap();
    assert_eq!(wav.spec().channels, 2);
    let samples: Vec<i16> = wav.samples::<i16>().map(Result::unwrap).collect();
    let side = |ch: usize, name: &str| {
        let path = dir.join(format!("{name}.wav"));
        let mut w = hound::WavWriter::create(&path, hound::WavSpec { channels: 1, ..wav.spec() }).unwrap();
        for s in samples.iter().skip(ch).step_by(2) {
            w.write_sample(*s).unwrap();
        }
        w.finalize().unwrap();
        common::words(&ok_stdout(&["transcribe", path.to_str().unwrap()]))
    };
    let (left, right) = (side(0, "left"), side(1, "right"));
    println!("recording, caller's channel: {left}\nrecording, the other channel: {right}");
    assert!(["purchase", "charge", "stolen", "yesterday"].iter().any(|w| left.contains(w)), "{left}");
    assert!(!left.contains("priya") && !left.contains("blocked"), "Priya is not on the caller's channel: {left}");
    assert!(said_by_priya(&right), "{right}");
}

/// The run command's demo: a caller on the `/call` page asks for a person and an agent answers
/// on `/agent` in another browser; each browser receives the other's audio (WebRTC both ways,
/// Opus in and out of the call, no phone leg) and the agent's words are transcribed.
#[test]
fn a_web_caller_is_answered_by_an_agent_in_another_browser() {
    assert!(have("espeak-ng") && have("chromedriver"), "needs espeak-ng and chromium-driver (scripts/setup)");
    let dir = tempdir("web-to-agent");
    let db = dir.join("desk.db");
    ok_stdout(&["demo-data", "--db", db.to_str().unwrap(), "--customers", "12"]);
    let server = Server::start(&[
        ("SWITCHBOARD__STORE__PATH", db.to_str().unwrap()),
        ("SWITCHBOARD__WEBRTC__UDP_ADDRS", r#"["127.0.0.1:0"]"#),
        ("SWITCHBOARD__ROUTING__OFFER_TIMEOUT_S", "30"),
    ]);
    let base = format!("http://{}", server.http);
    let agent_voice = espeak(&dir, "james", "Hi, this is James. I can help you with your order today.", 1.0);
    // The caller lets the welcome play, then asks for a person (once).
    let caller_voice = dir.join("caller.wav");
    with_leading_silence(&common::fixture("agent_please.wav"), &caller_voice, 5.0);

    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let _guard = rt.enter();
    let (_agent_driver, agent) = rt.block_on(browser(&agent_voice, true));
    rt.block_on(log_in_and_go_available(&agent, &base, "james"));
    let mut events = rt.block_on(server.events(None));
    let (_caller_driver, caller) = rt.block_on(browser(&caller_voice, false));
    rt.block_on(async {
        caller.goto(&format!("{base}/call")).await.unwrap();
        caller.find(Locator::Id("call")).await.unwrap().click().await.unwrap();
    });
    let started = rt.block_on(events.next_of("call_started", Duration::from_secs(20)));
    let call = started["call_id"].as_str().unwrap().to_string();
    assert_eq!(started["transport"], "webrtc");
    let escalated = rt.block_on(events.next_of("escalation_requested", Duration::from_secs(60)));
    assert_eq!(escalated["call_id"], call.as_str());
    rt.block_on(accept_offer_as(&agent, &call, "james"));
    rt.block_on(
        events.until(Duration::from_secs(20), |v| v["type"] == "agent_joined" && v["call_id"] == call.as_str()),
    );
    // The caller's page now hears the agent: its level rises again after the assistant went quiet.
    std::thread::sleep(Duration::from_millis(500));
    rt.block_on(caller.execute("window.switchboard.inboundLevel = 0;", vec![])).unwrap();
    let s = rt.block_on(wait_page(&caller, Duration::from_secs(20), "the agent's voice on the caller page", |s| {
        s["inboundLevel"].as_f64().unwrap_or(0.0) > 0.05
    }));
    println!("caller page hears the agent: peak level {}", s["inboundLevel"]);
    // The agent's page received the caller's audio stream (the caller's microphone went quiet
    // after its one sentence, so bytes and a connected stream are what is asserted here).
    let s = rt.block_on(wait_page(&agent, Duration::from_secs(20), "the caller's stream", |s| {
        s["bytesReceived"].as_u64().unwrap_or(0) > 2000
    }));
    println!("agent page received {} bytes from the web caller", s["bytesReceived"]);
    let said = rt.block_on(events.until(Duration::from_secs(60), |v| {
        v["type"] == "agent_transcript"
            && v["call_id"] == call.as_str()
            && v["text"].as_str().unwrap_or("").to_lowercase().contains("james")
    }));
    println!("agent said: {}", said["text"]);
    // The caller hangs up from the page; the agent's desktop offers the wrap-up.
    rt.block_on(async { caller.find(Locator::Id("call")).await.unwrap().click().await.unwrap() });
    let ended = rt.block_on(
        events.until(Duration::from_secs(20), |v| v["type"] == "call_ended" && v["call_id"] == call.as_str()),
    );
    assert_eq!(ended["reason"], "caller_hangup");
    rt.block_on(wait_page(&agent, Duration::from_secs(10), "the wrap-up form", |s| s["ended"] == "caller_hangup"));
    let _ = rt.block_on(caller.close());
    let _ = rt.block_on(agent.close());
}
