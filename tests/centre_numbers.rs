//! The centre's numbers from real calls: simulated SIP callers (real models) are resolved by
//! the assistant (twice, the same verified customer), give up waiting in the queue, and are
//! answered by Priya at her agent desktop (headless Chromium). Then `/metrics` (parsed with a
//! Prometheus text-format parser) and `/api/stats` must hold the exact counts, and the service
//! level, speed of answer and first-contact resolution must match values computed here by hand
//! from the calls' own timelines.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use serde_json::Value;

use common::browser::{accept_offer_as, browser, log_in_and_go_available, silence_wav};
use common::server::{demo_server, have, tempdir, DESK};
use common::simulate_in_background;

/// The samples of `/metrics`, by name and sorted labels.
fn scrape(http: &str) -> HashMap<String, f64> {
    let body = ureq::get(&format!("http://{http}/metrics")).call().unwrap().into_body().read_to_string().unwrap();
    let lines = body.lines().map(|l| Ok(l.to_string()));
    let scrape = prometheus_parse::Scrape::parse(lines).expect("valid Prometheus text format");
    scrape
        .samples
        .into_iter()
        .filter_map(|s| {
            let v = match s.value {
                prometheus_parse::Value::Counter(v) | prometheus_parse::Value::Gauge(v) => v,
                prometheus_parse::Value::Untyped(v) => v,
                _ => return None,
            };
            let mut labels: Vec<String> = s.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
            labels.sort();
            Some((format!("{}{{{}}}", s.metric, labels.join(",")), v))
        })
        .collect()
}

fn ms(at: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(at).unwrap().timestamp_millis()
}

/// When the first event of `kind` was published, from a stored timeline.
fn at(timeline: &Value, kind: &str) -> Option<i64> {
    timeline.as_array().unwrap().iter().find(|e| e["type"] == kind).map(|e| ms(e["at"].as_str().unwrap()))
}

#[test]
fn metrics_and_stats_count_real_calls_exactly() {
    assert!(have("chromedriver"), "needs chromium-driver (scripts/setup)");
    let dir = tempdir("centre-numbers");
    let (_, server) = demo_server("centre-numbers", DESK);
    let base = format!("http://{}", server.http);
    let quiet = silence_wav(&dir, 5);

    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let _guard = rt.enter();
    let mut events = rt.block_on(server.events(None));
    let mut calls = Vec::new();
    // 1, 2: John verifies with his PIN and hears where order 45678 is; twice.
    for _ in 0..2 {
        simulate_in_background(&server, "order_status.toml").join().unwrap();
        let started = rt.block_on(events.next_of("call_started", Duration::from_secs(5)));
        calls.push(started["call_id"].as_str().unwrap().to_string());
        rt.block_on(events.next_of("call_ended", Duration::from_secs(30)));
    }
    // 3: a fraud report is handed over; nobody is logged in; the caller gives up.
    simulate_in_background(&server, "fraud.toml").join().unwrap();
    let started = rt.block_on(events.next_of("call_started", Duration::from_secs(5)));
    calls.push(started["call_id"].as_str().unwrap().to_string());
    rt.block_on(events.next_of("call_ended", Duration::from_secs(30)));
    // 4: the same, answered by Priya at her desktop; she hangs up after the caller's words.
    let (_d, priya) = rt.block_on(browser(&quiet, true));
    rt.block_on(log_in_and_go_available(&priya, &base, "priya"));
    let caller = simulate_in_background(&server, "fraud_agent.toml");
    let routed = rt.block_on(events.next_of("call_routed", Duration::from_secs(90)));
    let call = routed["call_id"].as_str().unwrap().to_string();
    rt.block_on(accept_offer_as(&priya, &call, "priya"));
    rt.block_on(
        events.until(Duration::from_secs(60), |v| v["type"] == "transcript_final" && v["call_id"] == call.as_str()),
    );
    let priya_session = server.session("priya", "priya-demo-pass");
    let (status, _, _) = server.request("POST", &format!("/api/calls/{call}/hangup"), Some(&priya_session), None);
    assert_eq!(status, 200);
    rt.block_on(events.until(Duration::from_secs(30), |v| v["type"] == "call_ended" && v["call_id"] == call.as_str()));
    calls.push(call);
    caller.join().unwrap();
    let _ = rt.block_on(priya.close());

    // /metrics: exact counts.
    let m = scrape(&server.http.to_string());
    let get = |k: &str| m.get(k).copied().unwrap_or_else(|| panic!("{k} not in /metrics: {m:?}"));
    assert_eq!(get("switchboard_calls_started_total{transport=sip}"), 4.0);
    assert_eq!(get("switchboard_calls_ended_total{outcome=ai_resolved}"), 2.0);
    assert_eq!(get("switchboard_calls_ended_total{outcome=abandoned_in_queue}"), 1.0);
    assert_eq!(get("switchboard_calls_ended_total{outcome=agent_handled}"), 1.0);
    assert_eq!(get("switchboard_escalations_total{reason=needs_human}"), 2.0);
    assert_eq!(get("switchboard_active_calls{}"), 0.0);
    assert!(get("switchboard_caller_turns_total{}") >= 6.0);

    // /api/stats over the same calls: the same counts, and the rates by hand.
    let sam = server.session("sam", "sam-demo-pass");
    let (status, _, stats) = server.request("GET", "/api/stats", Some(&sam), None);
    assert_eq!(status, 200, "{stats}");
    println!("stats: {stats}");
    assert_eq!(stats["calls_offered"], 4);
    assert_eq!(stats["outcomes"]["ai_resolved"], 2);
    assert_eq!(stats["outcomes"]["abandoned_in_queue"], 1);
    assert_eq!(stats["outcomes"]["agent_handled"], 1);
    assert_eq!(stats["containment"], 0.5);
    let timeline = |c: &str| server.request("GET", &format!("/api/calls/{c}/timeline"), Some(&sam), None).2;
    // Speed of answer: Priya's call, first wait -> her audio up.
    let t4 = timeline(&calls[3]);
    let waited = (at(&t4, "agent_joined").unwrap() - at(&t4, "call_state_changed").unwrap()) as f64 / 1000.0;
    let asa = stats["average_speed_of_answer_s"].as_f64().unwrap();
    assert!((asa - waited).abs() < 0.002, "speed of answer {asa} vs {waited} by hand");
    // Service level: one answered call (within 20 s or not), the abandon counted only when
    // it had waited longer than 20 s.
    let t3 = timeline(&calls[2]);
    let gave_up = (at(&t3, "call_ended").unwrap() - at(&t3, "call_state_changed").unwrap()) as f64 / 1000.0;
    let in_time = (waited <= 20.0) as u32 as f64;
    let counted = 1.0 + (gave_up > 20.0) as u32 as f64;
    assert_eq!(
        stats["service_level"].as_f64(),
        Some(in_time / counted),
        "waited {waited} s, gave up after {gave_up} s"
    );
    assert_eq!(stats["abandonment_rate"], 0.5);
    // First-contact resolution: John's first call was followed by his second within 7 days;
    // the second by none (the fraud calls never verified him): 1 of 2.
    assert_eq!((stats["first_contact_resolution"].as_f64(), stats["fcr_calls"].as_u64()), (Some(0.5), Some(2)));
    assert_eq!(stats["languages"]["en"], 4, "{stats}");
    // One queue: the two calls that waited for a person waited for the fraud team.
    let (status, _, fraud) = server.request("GET", "/api/stats?queue=fraud", Some(&sam), None);
    assert_eq!(status, 200, "{fraud}");
    assert_eq!((fraud["calls_offered"].as_u64(), fraud["queues"]["fraud"].as_u64()), (Some(2), Some(2)), "{fraud}");
    assert_eq!(fraud["outcomes"]["agent_handled"], 1, "{fraud}");
    let (status, _, _) = server.request("GET", "/api/stats?queue=nonsense", Some(&sam), None);
    assert_eq!(status, 422);
    // Priya was staffed (available, then on the call, then wrapping up): her occupancy is the
    // call's handle time and her wrap-up over that.
    let occ = stats["agent_occupancy"].as_f64().unwrap_or_else(|| panic!("no occupancy: {stats}"));
    let staffed = stats["staffed_s"].as_f64().unwrap();
    println!("agent occupancy {occ:.3} of {staffed:.1} staffed seconds");
    assert!(occ > 0.0 && occ <= 1.0 && staffed > 0.0, "{stats}");
    assert!(stats["ai_accuracy"].is_null(), "nothing reviewed yet: {stats}");
    // Supervisors only.
    let (status, _, _) = server.request("GET", "/api/stats", Some(&priya_session), None);
    assert_eq!(status, 403);
    let (status, _, body) = server.request("GET", "/api/stats?from=yesterday", Some(&sam), None);
    assert_eq!(status, 422, "{body}");
}
