//! The supervisor's desk with a real browser and a real phone call: a simulated SIP caller
//! (real models) talks to the assistant while Sam, a supervisor in headless Chromium, watches
//! the wall, listens in (he hears the call; the caller does not hear him: the simulator
//! transcribes what it heard), then takes the call over from the assistant (the caller hears
//! him, the assistant says nothing more). An agent login gets 403 for the page and the APIs.
//! Saves a screenshot of the desk to target/supervisor-desk.png.

mod common;

use std::time::Duration;

use fantoccini::Locator;
use serde_json::Value;

use common::browser::{browser, click_now, espeak, log_in_supervisor, select_on_wall, wait_page};
use common::server::{demo_server, have, tempdir, DESK};
use common::{event_ms, heard_in, simulate_in_background, summary_and_heard};

const SAM_SAYS: &str = "Hello, this is Sam, the supervisor. I am taking over your call now.";

/// Whether a transcript (lower case) holds Sam's sentence (any distinctive word of it).
fn by_sam(text: &str) -> bool {
    // Through Opus, the mixer and G.711, tiny.en has heard it as "hello, this is him, a super
    // miner. i am taking over your call now" and "my name is i'm thinking over here".
    ["sam", "super", "taking over", "take over", "thinking over", "over your call"].iter().any(|w| text.contains(w))
}

#[test]
fn a_supervisor_listens_in_unheard_then_takes_the_call_over_from_the_assistant() {
    assert!(have("espeak-ng") && have("chromedriver"), "needs espeak-ng and chromium-driver (scripts/setup)");
    let dir = tempdir("supervisor-desk");
    let (_, server) = demo_server("supervisor-desk", DESK);
    let base = format!("http://{}", server.http);
    let voice = espeak(&dir, "sam", SAM_SAYS, 1.0);

    // An agent may not open the desk or step in.
    let priya = server.session("priya", "priya-demo-pass");
    let (status, _, _) = server.request("GET", "/supervisor", Some(&priya), None);
    assert_eq!(status, 403, "an agent opens /supervisor");
    let (status, _, _) = server.request("GET", "/api/desk", Some(&priya), None);
    assert_eq!(status, 403, "an agent reads the boards");

    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let _guard = rt.enter();
    let (_d, sam) = rt.block_on(browser(&voice, true));
    rt.block_on(log_in_supervisor(&sam, &base, "sam"));

    let mut events = rt.block_on(server.events(None));
    let caller = simulate_in_background(&server, "supervisor_desk.toml");
    let started = rt.block_on(events.next_of("call_started", Duration::from_secs(60)));
    let call = started["call_id"].as_str().unwrap().to_string();
    let of_call = |v: &Value, kind: &str| v["type"] == kind && v["call_id"] == call.as_str();

    // The call is on the wall, with the assistant.
    rt.block_on(wait_page(&sam, Duration::from_secs(10), "the call on the wall", |s| s["calls"][&call].is_object()));
    rt.block_on(wait_page(&sam, Duration::from_secs(60), "the call's language on the wall", |s| {
        s["calls"][&call]["language"] == "en"
    }));
    let (status, _, body) = server.request("POST", &format!("/api/calls/{call}/supervise/listen"), Some(&priya), None);
    assert_eq!(status, 403, "an agent steps in: {body}");
    let assign = Some(serde_json::json!({"agent": "priya"}));
    let (status, _, body) = server.request("POST", &format!("/api/calls/{call}/assign"), Some(&priya), assign);
    assert_eq!(status, 403, "an agent hands calls out: {body}");
    // The boards: the agents with their presence, the service level's threshold.
    let sam_session = server.session("sam", "sam-demo-pass");
    let (status, _, desk) = server.request("GET", "/api/desk", Some(&sam_session), None);
    assert_eq!(status, 200, "{desk}");
    assert_eq!(desk["service_level_s"], 20, "{desk}");
    assert!(
        desk["agents"].as_array().unwrap().iter().any(|a| a["agent_id"] == "priya" && a["presence"] == "offline"),
        "{desk}"
    );

    // Sam listens: he hears the call (level and bytes); nobody hears him.
    rt.block_on(async {
        select_on_wall(&sam, &call).await;
        sam.find(Locator::Id("listen")).await.unwrap().click().await.unwrap();
    });
    let joined = rt.block_on(events.until(Duration::from_secs(20), |v| of_call(v, "supervisor_joined")));
    assert_eq!((joined["supervisor"].as_str(), joined["mode"].as_str()), (Some("sam"), Some("listen")));
    let s = rt.block_on(wait_page(&sam, Duration::from_secs(30), "the call's audio in Sam's browser", |s| {
        s["connected"] == true
            && s["inboundLevel"].as_f64().unwrap_or(0.0) > 0.02
            && s["bytesReceived"].as_u64() > Some(0)
    }));
    println!("Sam hears the call while listening: peak level {}, {} bytes", s["inboundLevel"], s["bytesReceived"]);
    let (_, record) = server.get(&format!("/api/calls/{call}"));
    assert_eq!(record["supervisors"][0]["id"], "sam", "{record}");
    // The caller speaks while Sam listens (and talks into his microphone, unheard).
    let said = rt.block_on(events.until(Duration::from_secs(60), |v| {
        of_call(v, "transcript_final") && v["text"].as_str().unwrap_or("").to_lowercase().contains("waiting")
    }));
    println!("the caller while Sam listens: {}", said["text"]);
    // The caller's words (or mood) raised an alert: on Sam's page; he acknowledges it.
    let alert = rt.block_on(events.until(Duration::from_secs(30), |v| of_call(v, "alert_raised")));
    println!("alert: {} ({})", alert["rule"], alert["detail"]);
    let key = format!("{call}/{}", alert["alert_id"].as_str().unwrap());
    rt.block_on(wait_page(&sam, Duration::from_secs(5), "the alert on the page", |s| s["alerts"][&key].is_object()));
    // The desk as Sam sees it (for the README: docs/supervisor-desk.png is a copy).
    let shot = rt.block_on(sam.screenshot()).unwrap();
    let path = common::root().join("target/supervisor-desk.png");
    std::fs::write(&path, shot).unwrap();
    println!("screenshot: {}", path.display());
    rt.block_on(click_now(&sam, &format!("button[data-ack='{key}']")));
    let acked = rt.block_on(events.until(Duration::from_secs(10), |v| of_call(v, "alert_acknowledged")));
    assert_eq!(
        (acked["by"].as_str(), acked["alert_id"].clone(), acked["rule"].clone()),
        (Some("sam"), alert["alert_id"].clone(), alert["rule"].clone())
    );
    rt.block_on(wait_page(&sam, Duration::from_secs(5), "the acknowledgement on the page", |s| {
        s["alerts"][&key]["acked_by"] == "sam"
    }));
    let (_, record) = server.get(&format!("/api/calls/{call}"));
    assert_eq!(record["alerts"][0]["acknowledged_by"], "sam", "stored with the call: {record}");
    // The call's timeline has the steps with who and when; the assistant's decisions are there.
    let (status, _, timeline) = server.request(
        "GET",
        &format!("/api/calls/{call}/timeline"),
        Some(&server.session("sam", "sam-demo-pass")),
        None,
    );
    assert_eq!(status, 200);
    let kinds: Vec<&str> = timeline.as_array().unwrap().iter().filter_map(|e| e["type"].as_str()).collect();
    for k in ["call_started", "assistant_replied", "supervisor_joined", "alert_raised", "alert_acknowledged"] {
        assert!(kinds.contains(&k), "{k} not on the timeline: {kinds:?}");
    }
    let (status, _, _) = server.request("GET", &format!("/api/calls/{call}/timeline"), Some(&priya), None);
    assert_eq!(status, 404, "an agent does not see another's call's timeline");
    rt.block_on(wait_page(&sam, Duration::from_secs(5), "the decisions on the call page", |s| {
        s["decisions"].as_array().is_some_and(|d| !d.is_empty())
    }));
    std::thread::sleep(Duration::from_secs(2));

    // Sam takes the call over from the assistant.
    rt.block_on(async { sam.find(Locator::Id("take-over")).await.unwrap().click().await.unwrap() });
    let took = rt.block_on(events.until(Duration::from_secs(10), |v| of_call(v, "taken_over")));
    assert_eq!((took["by"].as_str(), took["from"].as_str()), (Some("sam"), Some("assistant")), "{took}");
    rt.block_on(wait_page(&sam, Duration::from_secs(10), "the take-over on the page", |s| s["mode"] == "take_over"));
    let (_, record) = server.get(&format!("/api/calls/{call}"));
    assert_eq!((record["agent"].as_str(), record["state"].as_str()), (Some("sam"), Some("with_agent")), "{record}");
    // The caller answers Sam; then Sam hangs up.
    let after = rt.block_on(events.until(Duration::from_secs(60), |v| {
        // "Thank you. Yes, please check my payment for me." (tiny.en has heard "care my payment").
        let t = v["text"].as_str().unwrap_or("").to_lowercase();
        of_call(v, "transcript_final") && (t.contains("check") || t.contains("for me"))
    }));
    println!("the caller to Sam: {}", after["text"]);
    std::thread::sleep(Duration::from_secs(3));
    rt.block_on(async { sam.find(Locator::Id("leave")).await.unwrap().click().await.unwrap() });
    rt.block_on(events.until(Duration::from_secs(30), |v| of_call(v, "call_ended")));

    let (summary, all) = summary_and_heard(&caller.join().unwrap());
    println!("the caller heard: {all}");
    let (joined_ms, took_ms) =
        (event_ms(&summary, "supervisor_joined").unwrap(), event_ms(&summary, "taken_over").unwrap());
    let text_in = |a: u64, b: u64| heard_in(&summary, a, b).join(" | ");
    // The simulator stamps events as they arrive over the WebSocket, which can be a little
    // after the audio changed (RTP is faster): Sam's first words may start just before the
    // stamp. A 1 s margin keeps them out of the listening window.
    let edge = took_ms.saturating_sub(1000);
    let (listening, after) = (text_in(joined_ms, edge), text_in(edge, u64::MAX));
    println!("while Sam listened ({joined_ms}..{took_ms} ms): {listening}\nafter the take-over: {after}");
    assert!(!by_sam(&listening), "the caller heard Sam while he only listened: {listening}");
    assert!(by_sam(&after), "the caller heard Sam after the take-over: {after}");
    // The assistant said nothing after the take-over.
    let replied_after = summary["events"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["type"] == "assistant_replied" && e["at_ms"].as_u64() > Some(took_ms));
    assert!(!replied_after, "the assistant spoke after the take-over: {}", summary["events"]);
    let _ = rt.block_on(sam.close());
}
