//! Call history and the review loop in a real browser: a simulated SIP caller (real models)
//! is served by the assistant with recording on; Sam (headless Chromium) finds the call in the
//! history, opens it, plays its recording (the audio element's duration must match the call),
//! seeks by clicking a transcript line, and marks the assistant's intent wrong with the right
//! one and a note. `switchboard export reviews` must then hold that verdict with the turn's
//! words and the AI's decision. The desk's charts must render the call.
//! Saves screenshots to target/call-history.png and target/centre-numbers.png.

mod common;

use std::time::Duration;

use fantoccini::{Client, Locator};
use serde_json::Value;

use common::browser::{browser, click_now, log_in_supervisor, silence_wav, wait_page};
use common::server::{demo_server, have, tempdir};
use common::simulate_in_background;

async fn eval(c: &Client, js: &str) -> Value {
    c.execute(js, vec![]).await.unwrap()
}

#[test]
fn a_call_found_in_history_plays_and_its_review_is_exported() {
    assert!(have("chromedriver"), "needs chromium-driver (scripts/setup)");
    let dir = tempdir("call-history");
    let rec = dir.join("recordings");
    let rec_s = rec.to_str().unwrap().to_string();
    let (db, server) = demo_server(
        "call-history",
        &[("SWITCHBOARD__RECORDING__ENABLED", "true"), ("SWITCHBOARD__RECORDING__DIR", rec_s.as_str())],
    );
    let base = format!("http://{}", server.http);
    let quiet = silence_wav(&dir, 5);

    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let _guard = rt.enter();
    let mut events = rt.block_on(server.events(None));
    let caller = simulate_in_background(&server, "order_status.toml");
    let ended = rt.block_on(events.next_of("call_ended", Duration::from_secs(180)));
    let call = ended["call_id"].as_str().unwrap().to_string();
    let call_s = ended["duration_ms"].as_u64().unwrap() as f64 / 1000.0;
    caller.join().unwrap();

    let (_d, sam) = rt.block_on(browser(&quiet, true));
    rt.block_on(log_in_supervisor(&sam, &base, "sam"));
    // The history lists it; Sam opens it.
    rt.block_on(wait_page(&sam, Duration::from_secs(15), "the call in the history", |s| {
        s["history"].as_array().is_some_and(|h| h.iter().any(|c| c["id"] == call.as_str()))
    }));
    rt.block_on(click_now(&sam, &format!("#history tr[data-id='{call}']")));
    let page = rt.block_on(wait_page(&sam, Duration::from_secs(15), "the call open", |s| {
        s["past"]["call"]["id"] == call.as_str()
    }));
    let past = &page["past"];
    assert_eq!(past["recording"], format!("/api/calls/{call}/recording"), "{past}");

    // Its recording plays: the audio element's duration is the call's.
    let duration = rt.block_on(async {
        for _ in 0..50 {
            let d = eval(&sam, "return document.getElementById('player').duration;").await;
            if let Some(d) = d.as_f64().filter(|d| d.is_finite() && *d > 0.0) {
                return d;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("the recording never loaded");
    });
    println!("recording {duration:.2} s, call {call_s:.2} s");
    assert!((duration - call_s).abs() < 1.5, "recording {duration} s vs call {call_s} s");

    // Clicking a line of the transcript plays from there.
    let lines = past["transcript"].as_array().unwrap();
    assert!(lines.iter().any(|l| l["who"] == "caller") && lines.iter().any(|l| l["who"] == "assistant"), "{lines:?}");
    let line = lines.iter().filter_map(|l| l["start_ms"].as_u64()).find(|ms| *ms > 2000).expect("a line 2 s in");
    rt.block_on(click_now(&sam, &format!("#past-transcript p[data-ms='{line}']")));
    let at = rt.block_on(eval(&sam, "return document.getElementById('player').currentTime;")).as_f64().unwrap();
    println!("clicked the line at {:.2} s: the player is at {at:.2} s", line as f64 / 1000.0);
    assert!(at >= line as f64 / 1000.0 - 0.1 && at < line as f64 / 1000.0 + 3.0, "player at {at} s, line {line} ms");
    std::fs::write(common::root().join("target/call-history.png"), rt.block_on(sam.screenshot()).unwrap()).unwrap();

    // Sam marks the understood intent wrong: the caller wanted a refund.
    let decisions = past["decisions"].as_array().unwrap();
    let intent =
        decisions.iter().find(|d| d["kind"] == "intent").unwrap_or_else(|| panic!("no intent decision: {decisions:?}"));
    let (id, ai) = (intent["id"].as_str().unwrap().to_string(), intent["value"].as_str().unwrap().to_string());
    let row = format!(".decision[data-decision='{id}']");
    rt.block_on(async {
        sam.find(Locator::Css(&format!("{row} input[value=wrong]"))).await.unwrap().click().await.unwrap();
        sam.find(Locator::Css(&format!("{row} select.correct")))
            .await
            .unwrap()
            .select_by_value("refund")
            .await
            .unwrap();
        sam.find(Locator::Css(&format!("{row} input.note")))
            .await
            .unwrap()
            .send_keys("asked for money back")
            .await
            .unwrap();
        sam.find(Locator::Css(&format!("{row} button.save"))).await.unwrap().click().await.unwrap();
    });
    rt.block_on(wait_page(&sam, Duration::from_secs(10), "the verdict saved", |s| {
        s["reviews"].as_array().is_some_and(|r| r.iter().any(|r| r["decision"] == id.as_str()))
    }));

    // The export holds it, with the turn's words and the AI's decision.
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let out = common::ok_stdout(&["export", "reviews", "--since", &today, "--db", db.to_str().unwrap()]);
    let lines: Vec<Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 1, "{out}");
    let r = &lines[0];
    assert_eq!((r["call_id"].as_str(), r["decision"].as_str()), (Some(call.as_str()), Some(id.as_str())), "{r}");
    assert_eq!((r["verdict"].as_str(), r["correct"].as_str()), (Some("wrong"), Some("refund")), "{r}");
    assert_eq!((r["note"].as_str(), r["reviewer"].as_str()), (Some("asked for money back"), Some("sam")), "{r}");
    assert_eq!(r["ai"]["value"].as_str(), Some(ai.as_str()), "{r}");
    assert!(r["turn"]["text"].as_str().is_some_and(|t| !t.is_empty()), "{r}");
    println!("exported: {r}");

    // The desk's charts draw the call.
    rt.block_on(eval(&sam, "refreshNumbers(); document.getElementById('numbers-box').scrollIntoView();"));
    let s = rt.block_on(wait_page(&sam, Duration::from_secs(15), "the numbers", |s| s["stats"]["calls_offered"] == 1));
    let bars = rt.block_on(eval(&sam, "return document.querySelectorAll('#chart-hours rect').length;"));
    assert!(bars.as_u64().unwrap_or(0) >= 1, "no bars in the calls-per-hour chart: {}", s["stats"]);
    std::fs::write(common::root().join("target/centre-numbers.png"), rt.block_on(sam.screenshot()).unwrap()).unwrap();
    let _ = rt.block_on(sam.close());
}
