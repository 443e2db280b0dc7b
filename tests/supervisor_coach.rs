//! Coaching and barging in with three real parties: a simulated SIP caller (real models) is
//! handed to Priya at her agent desktop (headless Chromium, a silent microphone); Sam, a
//! supervisor in another Chromium whose microphone speaks a sentence, listens (Priya hears
//! nothing from him), coaches (Priya's browser receives his voice; the caller hears none of it:
//! the simulator transcribes what it heard), then barges in (the caller hears him).

mod common;

use std::time::Duration;

use fantoccini::{Client, Locator};
use serde_json::Value;

use common::browser::{
    accept_offer_as, browser, espeak, log_in_and_go_available, log_in_supervisor, page_state, select_on_wall,
    silence_wav, wait_page,
};
use common::server::{demo_server, have, tempdir, DESK};
use common::{event_ms, heard_in, simulate_in_background, summary_and_heard};

const SAM_SAYS: &str = "This is Sam, your supervisor. Offer the customer a new card and a refund.";

/// Whether a transcript (lower case) holds any distinctive part of Sam's sentence. Nothing else
/// the caller can hear after the hand-over says "customer" or "card": on CI's loaded two cores
/// the simulator's whisper heard Sam as "i'm eric, author of the customer review card", so
/// those two words count as well as the ones heard here.
fn by_sam(text: &str) -> bool {
    ["sam", "supervisor", "super", "customer", "card", "refund", "offer the"].iter().any(|w| text.contains(w))
}

/// The loudest level Priya's browser received over `secs` from now.
async fn priya_hears(priya: &Client, secs: u64) -> f64 {
    priya.execute("window.switchboard.inboundLevel = 0;", vec![]).await.unwrap();
    tokio::time::sleep(Duration::from_secs(secs)).await;
    page_state(priya).await["inboundLevel"].as_f64().unwrap_or(0.0)
}

#[test]
fn a_supervisor_coaches_the_agent_unheard_by_the_caller_then_barges_in() {
    assert!(have("espeak-ng") && have("chromedriver"), "needs espeak-ng and chromium-driver (scripts/setup)");
    let dir = tempdir("supervisor-coach");
    let (_, server) = demo_server("supervisor-coach", DESK);
    let base = format!("http://{}", server.http);
    let sam_voice = espeak(&dir, "sam", SAM_SAYS, 0.5);
    // Priya's microphone: silence (what reaches her browser is then the call, not an echo).
    let quiet = silence_wav(&dir, 10);

    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let _guard = rt.enter();
    let (_d1, priya) = rt.block_on(browser(&quiet, true));
    let (_d2, sam) = rt.block_on(browser(&sam_voice, true));
    rt.block_on(log_in_and_go_available(&priya, &base, "priya"));
    rt.block_on(log_in_supervisor(&sam, &base, "sam"));

    let mut events = rt.block_on(server.events(None));
    let caller = simulate_in_background(&server, "supervisor_coach.toml");
    let routed = rt.block_on(events.next_of("call_routed", Duration::from_secs(90)));
    let call = routed["call_id"].as_str().unwrap().to_string();
    assert_eq!(routed["decision"]["agent_id"], "priya", "{routed}");
    rt.block_on(accept_offer_as(&priya, &call, "priya"));
    let of_call = |v: &Value, kind: &str| v["type"] == kind && v["call_id"] == call.as_str();
    rt.block_on(events.until(Duration::from_secs(10), |v| of_call(v, "agent_joined")));
    // The caller's words to Priya, then quiet.
    rt.block_on(events.until(Duration::from_secs(60), |v| of_call(v, "transcript_final")));
    std::thread::sleep(Duration::from_secs(2));

    // The wall shows the call with Priya; Sam listens: Priya hears nothing from him.
    rt.block_on(wait_page(&sam, Duration::from_secs(10), "the call with Priya", |s| {
        s["calls"][&call]["agent"] == "priya"
    }));
    rt.block_on(async {
        select_on_wall(&sam, &call).await;
        sam.find(Locator::Id("listen")).await.unwrap().click().await.unwrap();
    });
    rt.block_on(events.until(Duration::from_secs(20), |v| of_call(v, "supervisor_joined")));
    rt.block_on(wait_page(&sam, Duration::from_secs(20), "Sam connected", |s| s["connected"] == true));
    std::thread::sleep(Duration::from_secs(1));
    let listening = rt.block_on(priya_hears(&priya, 5));

    // Sam coaches: Priya's browser receives his voice.
    rt.block_on(async { sam.find(Locator::Id("coach")).await.unwrap().click().await.unwrap() });
    let coached = rt.block_on(events.until(Duration::from_secs(10), |v| of_call(v, "supervisor_mode_changed")));
    assert_eq!(coached["mode"], "coach", "{coached}");
    let coaching = rt.block_on(priya_hears(&priya, 6));
    println!("Priya's inbound peak: {listening:.3} while Sam listened, {coaching:.3} while he coached");
    assert!(
        coaching > 0.05 && coaching > 3.0 * listening,
        "Priya hears Sam only when coached: {listening} vs {coaching}"
    );

    // Sam barges in: everyone hears him.
    rt.block_on(async { sam.find(Locator::Id("barge")).await.unwrap().click().await.unwrap() });
    let barged = rt.block_on(events.until(Duration::from_secs(10), |v| of_call(v, "supervisor_mode_changed")));
    assert_eq!(barged["mode"], "barge", "{barged}");
    std::thread::sleep(Duration::from_secs(10));
    rt.block_on(async { sam.find(Locator::Id("leave")).await.unwrap().click().await.unwrap() });
    rt.block_on(events.until(Duration::from_secs(10), |v| of_call(v, "supervisor_left")));
    let (status, _, _) = server.request(
        "POST",
        &format!("/api/calls/{call}/hangup"),
        Some(&server.session("priya", "priya-demo-pass")),
        None,
    );
    assert_eq!(status, 200);
    rt.block_on(events.until(Duration::from_secs(30), |v| of_call(v, "call_ended")));

    let (summary, all) = summary_and_heard(&caller.join().unwrap());
    println!("the caller heard: {all}");
    let mix: Vec<u64> = summary["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "supervisor_mode_changed")
        .filter_map(|e| e["at_ms"].as_u64())
        .collect();
    assert_eq!(mix.len(), 2, "coach then barge: {}", summary["events"]);
    let joined = event_ms(&summary, "supervisor_joined").unwrap();
    let (coach_ms, barge_ms) = (mix[0], mix[1]);
    // The simulator stamps events as they arrive over the WebSocket, a little after the audio
    // changed: a 1 s margin keeps the barge-in's first words out of the coaching window.
    let before = heard_in(&summary, joined, barge_ms.saturating_sub(1000)).join(" | ");
    let after = heard_in(&summary, barge_ms.saturating_sub(1000), u64::MAX).join(" | ");
    println!("listen + coach ({joined}..{barge_ms} ms, coach from {coach_ms}): {before}\nafter the barge-in: {after}");
    assert!(!by_sam(&before), "the caller heard Sam while he listened or coached: {before}");
    assert!(by_sam(&after), "the caller heard Sam after he barged in: {after}");
    let _ = rt.block_on(sam.close());
    let _ = rt.block_on(priya.close());
}
