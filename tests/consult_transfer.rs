//! A consult transfer with two real browsers and a real phone call: a simulated SIP caller
//! (real models) reports fraud and is handed to Priya in headless Chromium; Priya consults
//! James (another Chromium) while the caller is on hold; the caller hears the hold chime and
//! none of the agents' words (the simulator transcribes what it heard); Priya completes the
//! transfer, and the caller and James talk, each side transcribed.

mod common;

use std::time::Duration;

use fantoccini::Locator;
use serde_json::Value;

use common::browser::{accept_offer_as, browser, espeak, log_in_and_go_available, wait_page};
use common::server::{demo_server, have, tempdir, DESK};
use common::{event_ms, heard_in, simulate_in_background, summary_and_heard};

const PRIYA_SAYS: &str =
    "Hello, this is Priya from the fraud team. I have blocked your card, and a new card is on its way.";
const JAMES_SAYS: &str = "Hi, James from card services here. Sure, put the customer through to me.";

/// Whether a transcript (lower case) holds Priya's sentence (any distinctive phrase of it:
/// through Opus, the mixer and G.711, tiny.en has heard it as "below, live in priya from the
/// frog team, and block your card and the new card in my life's way").
fn by_priya(text: &str) -> bool {
    ["priya", "team", "block", "new card", "on its way"].iter().any(|w| text.contains(w))
}

/// Whether a transcript (lower case) holds James's sentence: through Opus, the mixer and
/// G.711, tiny.en hears it as "game from current service. sure, book in the customer food to
/// me", so any of its distinctive words counts (the caller and Priya say none of them).
fn by_james(text: &str) -> bool {
    ["james", "service", "customer", "through to me"].iter().any(|w| text.contains(w))
}

#[test]
fn an_agent_consults_a_colleague_while_the_caller_holds_then_transfers() {
    assert!(have("espeak-ng") && have("chromedriver"), "needs espeak-ng and chromium-driver (scripts/setup)");
    let dir = tempdir("consult-transfer");
    let (_, server) = demo_server("consult-transfer", DESK);
    let base = format!("http://{}", server.http);
    let (priya_voice, james_voice) = (espeak(&dir, "priya", PRIYA_SAYS, 1.0), espeak(&dir, "james", JAMES_SAYS, 1.0));

    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let _guard = rt.enter();
    let (_d1, priya) = rt.block_on(browser(&priya_voice, true));
    let (_d2, james) = rt.block_on(browser(&james_voice, true));
    rt.block_on(log_in_and_go_available(&priya, &base, "priya"));
    rt.block_on(log_in_and_go_available(&james, &base, "james"));

    let mut events = rt.block_on(server.events(None));
    let caller = simulate_in_background(&server, "consult_transfer.toml");
    let routed = rt.block_on(events.next_of("call_routed", Duration::from_secs(90)));
    let call = routed["call_id"].as_str().unwrap().to_string();
    assert_eq!(routed["decision"]["agent_id"], "priya", "fraud + English goes to Priya: {routed}");
    rt.block_on(accept_offer_as(&priya, &call, "priya"));
    let of_call = |v: &Value, kind: &str| v["type"] == kind && v["call_id"] == call.as_str();
    rt.block_on(events.until(Duration::from_secs(10), |v| of_call(v, "agent_joined")));
    // The caller talks to Priya first (and hears her).
    rt.block_on(events.until(Duration::from_secs(60), |v| of_call(v, "transcript_final")));
    std::thread::sleep(Duration::from_secs(6));

    // Priya consults James: the caller goes on hold, James's desktop is asked with the case file.
    rt.block_on(async {
        priya.execute("document.getElementById('transfer-box').open = true;", vec![]).await.unwrap();
        priya.find(Locator::Id("transfer-to")).await.unwrap().select_by_value("agent:james").await.unwrap();
        priya.find(Locator::Id("consult")).await.unwrap().click().await.unwrap();
    });
    let asked = rt.block_on(events.until(Duration::from_secs(10), |v| of_call(v, "consult_requested")));
    assert_eq!((asked["agent_id"].as_str(), asked["colleague"].as_str()), (Some("priya"), Some("james")));
    let s = rt.block_on(wait_page(&james, Duration::from_secs(10), "the consult request", |s| {
        s["consultOffer"]["call_id"] == call.as_str() && s["caseFile"]["caller"]["name"].is_string()
    }));
    assert_eq!(s["caseFile"]["caller"]["name"], "John Carter", "James sees the case file: {}", s["caseFile"]);
    rt.block_on(async { james.find(Locator::Id("consult-join")).await.unwrap().click().await.unwrap() });
    rt.block_on(wait_page(&james, Duration::from_secs(20), "James's audio", |s| s["connected"] == true));
    rt.block_on(events.until(Duration::from_secs(10), |v| of_call(v, "consult_started")));
    rt.block_on(wait_page(&priya, Duration::from_secs(10), "the consult on Priya's desk", |s| {
        s["consult"]["state"] == "talking"
    }));
    // They talk (James hears Priya); their words are transcribed for staff only.
    rt.block_on(james.execute("window.switchboard.inboundLevel = 0;", vec![])).unwrap();
    let s = rt.block_on(wait_page(&james, Duration::from_secs(20), "Priya's voice in James's browser", |s| {
        s["inboundLevel"].as_f64().unwrap_or(0.0) > 0.02
    }));
    println!("James hears Priya during the consult: peak level {}", s["inboundLevel"]);
    let private = rt.block_on(events.until(Duration::from_secs(40), |v| of_call(v, "consult_transcript")));
    println!("consult transcript: {}: {}", private["agent_id"], private["text"]);
    std::thread::sleep(Duration::from_secs(8));

    // Priya completes the transfer: James has the call, Priya's desk is free.
    rt.block_on(async { priya.find(Locator::Id("consult-transfer")).await.unwrap().click().await.unwrap() });
    let ended = rt.block_on(events.until(Duration::from_secs(10), |v| of_call(v, "consult_ended")));
    assert_eq!(ended["outcome"], "transferred", "{ended}");
    let left = rt.block_on(events.until(Duration::from_secs(10), |v| of_call(v, "agent_left")));
    assert_eq!((left["agent_id"].as_str(), left["reason"].as_str()), (Some("priya"), Some("transferred")));
    rt.block_on(wait_page(&priya, Duration::from_secs(10), "Priya's desk free", |s| s["callId"].is_null()));
    let (_, record) = server.get(&format!("/api/calls/{call}"));
    assert_eq!(record["agent"], "james", "{record}");
    // Both directions: the caller's words after the transfer, and James's, reach the call.
    let said = rt.block_on(events.until(Duration::from_secs(60), |v| {
        of_call(v, "transcript_final") && {
            let t = v["text"].as_str().unwrap_or("").to_lowercase();
            t.contains("address") || t.contains("home") || t.contains("send")
        }
    }));
    println!("the caller to James: {}", said["text"]);
    let james_said = rt.block_on(
        events.until(Duration::from_secs(60), |v| of_call(v, "agent_transcript") && v["agent_id"] == "james"),
    );
    println!("James to the caller: {}", james_said["text"]);
    let s = rt.block_on(wait_page(&james, Duration::from_secs(10), "the caller's words on James's desk", |s| {
        s["transcript"].as_array().is_some_and(|t| t.iter().any(|l| l["speaker"] == "caller"))
    }));
    assert!(s["consult"].is_null(), "James has the call, no consult: {}", s["consult"]);
    // Let the caller hear James, then he hangs up.
    std::thread::sleep(Duration::from_secs(10));
    rt.block_on(async { james.find(Locator::Id("hangup")).await.unwrap().click().await.unwrap() });
    let end = rt.block_on(events.until(Duration::from_secs(30), |v| of_call(v, "call_ended")));
    assert_eq!(end["reason"], "agent_hangup");

    // What the caller heard, cut where the audio changed hands: Priya before the consult, only
    // hold audio during it (none of either agent's words), James after it.
    let (summary, all) = summary_and_heard(&caller.join().unwrap());
    println!("the caller heard: {all}");
    let (from, to) = (event_ms(&summary, "consult_requested").unwrap(), event_ms(&summary, "consult_ended").unwrap());
    let text_in = |a: u64, b: u64| heard_in(&summary, a, b).join(" | ");
    // Audio in flight when the consult began may still arrive just after its event: 300 ms grace.
    let (before, during, after) = (text_in(0, from), text_in(from + 300, to), text_in(to, u64::MAX));
    println!("before the consult: {before}\nduring it ({from}..{to} ms): {during}\nafter it: {after}");
    assert!(!heard_in(&summary, from, to).is_empty(), "the hold audio was heard during the consult");
    assert!(!by_priya(&during) && !by_james(&during), "the caller heard the consult: {during}");
    assert!(by_priya(&before), "the caller heard Priya before the consult: {before}");
    assert!(by_james(&after), "the caller heard James after the transfer: {after}");
    let _ = rt.block_on(priya.close());
    let _ = rt.block_on(james.close());
}
