//! Hand-over to a person on the real server: demo staff log in and go available, a simulated
//! caller (SIP/RTP, real models) reports fraud, the assistant hands over, and the router offers
//! the call to the agent with the fraud skill and the caller's language (not to the other), with
//! the score breakdowns; the case file names the caller and the intent; exactly one accept wins.

mod common;

use std::time::Duration;

use common::server::{demo_server, have};
use common::{simulate_in_background, summary_and_heard};
use serde_json::json;

/// A server on a fresh demo database (customers and staff) with `env` on top.
#[test]
fn an_escalated_fraud_call_is_offered_to_the_right_agent_with_its_case_file() {
    assert!(have("espeak-ng"), "needs espeak-ng (scripts/setup installs it)");
    // Accepts here carry no audio (no browser): give them time before they count as dropped.
    let (db, server) = demo_server("handover", &[("SWITCHBOARD__ROUTING__AGENT_CONNECT_TIMEOUT_S", "300")]);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let _guard = rt.enter();

    // Priya (English, fraud) and James (English, no fraud) go available; agents act only for themselves.
    let priya = server.session("priya", "priya-demo-pass");
    let james = server.session("james", "james-demo-pass");
    for who in [&priya, &james] {
        let (status, _, body) =
            server.request("PUT", "/api/agents/me/presence", Some(who), Some(json!({"presence": "available"})));
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["presence"], "available");
    }
    let (status, _, _) =
        server.request("PUT", "/api/agents/priya/presence", Some(&james), Some(json!({"presence": "away"})));
    assert_eq!(status, 403, "an agent cannot set someone else's presence");
    let profile = json!({"id": "x", "name": "X", "languages": [["en", "native"]], "skills": ["general"],
        "seniority": 1, "max_calls": 1});
    let (status, _, _) = server.request("PUT", "/api/agents/x", Some(&james), Some(profile));
    assert_eq!(status, 403, "only admins edit agents");

    let mut events = rt.block_on(server.events(None));
    let caller = simulate_in_background(&server, "fraud_hold.toml");

    let routed = rt.block_on(events.next_of("call_routed", Duration::from_secs(90)));
    let call = routed["call_id"].as_str().unwrap().to_string();
    let d = &routed["decision"];
    assert_eq!(d["agent_id"], "priya", "fraud + English goes to Priya: {d}");
    let top = d["candidates"].as_array().unwrap();
    assert_eq!(top[0]["agent_id"], "priya");
    let parts: Vec<&str> = top[0]["breakdown"].as_array().unwrap().iter().map(|p| p[0].as_str().unwrap()).collect();
    assert!(parts.contains(&"language") && parts.contains(&"skill"), "explainable: {parts:?}");

    // The case file says who is calling and why, before anyone says hello.
    let case = rt.block_on(events.find(Duration::from_secs(5), |v| {
        v["type"] == "case_file_updated" && v["call_id"] == call.as_str() && !v["case_file"]["handover"].is_null()
    }));
    let cf = &case["case_file"];
    assert_eq!(cf["caller"]["name"], "John Carter", "{cf}");
    assert_eq!(cf["handover"]["reason"], "needs_human");
    assert!(cf["intents"].as_array().unwrap().iter().any(|i| i == "fraud"), "{cf}");
    assert!(cf["next_step"].as_str().unwrap().contains("fraud"), "{cf}");

    // James cannot take it (nor decline it): not offered to him, it answers 404 like a GET of
    // it; Priya can, once.
    let (status, _, body) = server.request("POST", &format!("/api/calls/{call}/accept"), Some(&james), None);
    assert_eq!(status, 404, "not offered to James: {body}");
    let (status, _, body) = server.request("POST", &format!("/api/calls/{call}/decline"), Some(&james), None);
    assert_eq!(status, 404, "not offered to James: {body}");
    let (status, _, body) = server.request("POST", &format!("/api/calls/{call}/accept"), Some(&priya), None);
    assert_eq!(status, 200, "{body}");
    let (status, _, _) = server.request("POST", &format!("/api/calls/{call}/accept"), Some(&priya), None);
    assert_eq!(status, 409, "exactly one accept wins");
    // Taken by Priya: to James, accept and agent media answer 404 (not "taken by priya").
    let (status, _, body) = server.request("POST", &format!("/api/calls/{call}/accept"), Some(&james), None);
    assert_eq!(status, 404, "{body}");
    assert!(!body.to_string().contains("priya"), "{body}");
    let media = format!("/api/calls/{call}/agent-media");
    let (status, _, body) = server.request("POST", &media, Some(&james), Some(json!({"sdp": "v=0"})));
    assert_eq!(status, 404, "{body}");
    rt.block_on(events.find(Duration::from_secs(5), |v| v["type"] == "call_accepted" && v["agent_id"] == "priya"));

    // Priya now sees the call; James does not.
    let (_, _, mine) = server.request("GET", "/api/calls", Some(&priya), None);
    assert!(mine.as_array().unwrap().iter().any(|c| c["id"] == call.as_str() && c["agent"] == "priya"), "{mine}");
    let (status, _, _) = server.request("GET", &format!("/api/calls/{call}"), Some(&james), None);
    assert_eq!(status, 404);

    // Priya transfers the call to Lena (German/English, fraud) with a note; only Lena is offered
    // it, and the case file carries the note (card number masked).
    let lena = server.session("lena", "lena-demo-pass");
    let (status, _, _) =
        server.request("PUT", "/api/agents/me/presence", Some(&lena), Some(json!({"presence": "available"})));
    assert_eq!(status, 200);
    let transfer = format!("/api/calls/{call}/transfer");
    let note = json!({"to_agent": "lena", "note": "Card 4111 1111 1111 1111 used in Berlin; please block it."});
    assert_eq!(server.request("POST", &transfer, Some(&james), Some(note.clone())).0, 404, "not James's call");
    let (status, _, body) = server.request("POST", &transfer, Some(&priya), Some(json!({"to_agent": "nobody"})));
    assert_eq!(status, 404, "{body}");
    let (status, _, body) = server.request("POST", &transfer, Some(&priya), Some(note));
    assert_eq!(status, 200, "{body}");
    let left = rt.block_on(events.next_of("agent_left", Duration::from_secs(10)));
    assert_eq!((left["agent_id"].as_str(), left["reason"].as_str()), (Some("priya"), Some("transferred")));
    let to_lena = rt.block_on(events.next_of("call_routed", Duration::from_secs(10)));
    assert_eq!(
        (to_lena["call_id"].as_str(), to_lena["decision"]["agent_id"].as_str()),
        (Some(call.as_str()), Some("lena"))
    );
    let case = rt.block_on(events.find(Duration::from_secs(5), |v| {
        v["type"] == "case_file_updated"
            && v["case_file"]["open"]
                .as_array()
                .is_some_and(|o| o.iter().any(|l| l.as_str().unwrap_or("").contains("Transferred")))
    }));
    let open = case["case_file"]["open"].to_string();
    assert!(open.contains("Transferred by priya to lena") && !open.contains("4111"), "{open}");
    let (status, _, body) = server.request("POST", &format!("/api/calls/{call}/accept"), Some(&lena), None);
    assert_eq!(status, 200, "{body}");
    // Lena ends the call (the caller is still on the line).
    let (status, _, body) = server.request("POST", &format!("/api/calls/{call}/hangup"), Some(&lena), None);
    assert_eq!(status, 200, "{body}");
    let ended = rt.block_on(
        events.until(Duration::from_secs(20), |v| v["type"] == "call_ended" && v["call_id"] == call.as_str()),
    );
    assert_eq!(ended["reason"], "agent_hangup");

    // Wrap-up only after the call, only by its agent, with a known disposition.
    let wrap = json!({"disposition": "fraud_case_opened", "notes": "Card 4111 1111 1111 1111 blocked, case opened."});
    let path = format!("/api/calls/{call}/wrap-up");
    let (summary, _) = summary_and_heard(&caller.join().unwrap());
    assert_eq!(summary["escalation_reason"], "needs_human", "{summary}");
    assert_eq!(server.request("POST", &path, Some(&priya), Some(wrap.clone())).0, 404, "no longer Priya's call");
    let (status, _, body) = server.request("POST", &path, Some(&lena), Some(json!({"disposition": "whatever"})));
    assert_eq!(status, 422, "{body}");
    let (status, _, body) = server.request("POST", &path, Some(&lena), Some(wrap));
    assert_eq!(status, 200, "{body}");
    // A wrap-up is final: a second one is refused and the first stands.
    let (status, _, body) = server.request("POST", &path, Some(&lena), Some(json!({"disposition": "other"})));
    assert_eq!(status, 409, "{body}");
    assert!(body["error"].as_str().unwrap().contains("already wrapped up"), "{body}");
    assert_eq!(server.request("POST", &path, Some(&james), Some(json!({"disposition": "other"}))).0, 404);
    let store = switchboard::store::Store::open(&db).unwrap();
    let john = store.customer_by_phone("+15550100").unwrap().unwrap();
    let contact = store.interaction_of_call(&call).unwrap().expect("the call's interaction");
    assert_eq!(contact.agent.as_deref(), Some("lena"));
    // The caller never verified: on record, but not in John's history (caller ID proves nothing).
    assert_eq!(contact.customer_id, None);
    assert!(store.interactions(john.id).unwrap().iter().all(|c| c.call_id.as_deref() != Some(call.as_str())));
    let (disposition, notes) = store.wrap_up_of(&call).unwrap().unwrap();
    assert_eq!(disposition, "fraud_case_opened");
    assert!(notes.contains("[card number]") && !notes.contains("4111"), "{notes}");
    let _ = std::fs::remove_file(&db);
}

/// Nobody takes the call: the offer rolls over from one agent to the next, then the caller is
/// offered a callback, presses 1, hears the number read back and the call ends; the request is
/// on record for the team.
#[test]
fn an_offer_nobody_accepts_rolls_over_then_the_caller_books_a_callback() {
    assert!(have("espeak-ng"), "needs espeak-ng (scripts/setup installs it)");
    let (db, server) = demo_server(
        "callback",
        &[("SWITCHBOARD__ROUTING__OFFER_TIMEOUT_S", "2"), ("SWITCHBOARD__ROUTING__VOICEMAIL_AFTER_OFFERS", "2")],
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    let _guard = rt.enter();
    // Two fraud agents are available and neither answers.
    for (who, pw) in [("priya", "priya-demo-pass"), ("lena", "lena-demo-pass")] {
        let s = server.session(who, pw);
        let (status, _, body) =
            server.request("PUT", "/api/agents/me/presence", Some(&s), Some(json!({"presence": "available"})));
        assert_eq!(status, 200, "{body}");
    }
    let mut events = rt.block_on(server.events(None));
    let caller = simulate_in_background(&server, "fraud_callback.toml");
    let first = rt.block_on(events.next_of("call_routed", Duration::from_secs(90)));
    let call = first["call_id"].as_str().unwrap().to_string();
    let second = rt.block_on(events.next_of("call_routed", Duration::from_secs(10)));
    assert_eq!(second["call_id"], call.as_str());
    let mut offered =
        [first["decision"]["agent_id"].as_str().unwrap(), second["decision"]["agent_id"].as_str().unwrap()];
    offered.sort();
    assert_eq!(offered, ["lena", "priya"], "rolled over to the other agent");
    let cb = rt.block_on(events.next_of("callback_offered", Duration::from_secs(10)));
    assert_eq!(cb["call_id"], call.as_str());
    let req = rt.block_on(events.next_of("callback_requested", Duration::from_secs(40)));
    assert_eq!((req["kind"].as_str(), req["number"].as_str()), (Some("callback"), Some("+15550100")), "{req}");
    let ended = rt.block_on(events.next_of("call_ended", Duration::from_secs(30)));
    assert_eq!(ended["call_id"], call.as_str());
    let (_, heard) = summary_and_heard(&caller.join().unwrap());
    assert!(heard.contains("busy"), "the offer: {heard}");
    assert!(heard.contains("call you back"), "the confirmation: {heard}");
    let store = switchboard::store::Store::open(&db).unwrap();
    let open = store.open_callbacks().unwrap();
    assert!(open.iter().any(|(c, n, k, _)| c == &call && n == "+15550100" && k == "callback"), "{open:?}");
    let _ = std::fs::remove_file(&db);
}

/// An agent accepts but their audio never connects (no browser): after
/// `agent_connect_timeout_s` they count as dropped (offline), the call goes back to the front of
/// the queue with its case file, and the next agent gets it.
#[test]
fn an_agent_whose_audio_never_connects_loses_the_call_to_the_next_agent() {
    assert!(have("espeak-ng"), "needs espeak-ng (scripts/setup installs it)");
    let (db, server) = demo_server("noaudio", &[("SWITCHBOARD__ROUTING__AGENT_CONNECT_TIMEOUT_S", "3")]);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let _guard = rt.enter();
    let priya = server.available_agent("priya", "priya-demo-pass");
    let mut events = rt.block_on(server.events(None));
    let caller = simulate_in_background(&server, "fraud_hold.toml");
    let routed = rt.block_on(events.next_of("call_routed", Duration::from_secs(90)));
    let call = routed["call_id"].as_str().unwrap().to_string();
    assert_eq!(routed["decision"]["agent_id"], "priya");
    let (status, _, body) = server.request("POST", &format!("/api/calls/{call}/accept"), Some(&priya), None);
    assert_eq!(status, 200, "{body}");
    let left = rt.block_on(events.next_of("agent_left", Duration::from_secs(20)));
    assert_eq!((left["agent_id"].as_str(), left["reason"].as_str()), (Some("priya"), Some("connection_lost")));
    let (_, _, me) = server.request("GET", "/api/agents/me", Some(&priya), None);
    assert_eq!(me["presence"], "offline", "a dropped agent is offline until they come back");
    let (_, queue) = server.get("/api/queue");
    assert_eq!(queue[0]["call_id"], call.as_str(), "back at the front: {queue}");
    // Lena comes in and gets it, with the case file.
    let lena = server.session("lena", "lena-demo-pass");
    let (status, _, _) =
        server.request("PUT", "/api/agents/me/presence", Some(&lena), Some(json!({"presence": "available"})));
    assert_eq!(status, 200);
    let again = rt.block_on(events.next_of("call_routed", Duration::from_secs(10)));
    assert_eq!(
        (again["call_id"].as_str(), again["decision"]["agent_id"].as_str()),
        (Some(call.as_str()), Some("lena"))
    );
    let (_, _, rec) =
        server.request("GET", &format!("/api/calls/{call}"), Some(&server.session("sam", "sam-demo-pass")), None);
    assert_eq!(rec["case_file"]["caller"]["name"], "John Carter", "the case file stays with the call");
    // A supervisor ends it, once the caller has heard why they wait again (about 5 s).
    std::thread::sleep(Duration::from_secs(7));
    let sam = server.session("sam", "sam-demo-pass");
    let (status, _, body) = server.request("POST", &format!("/api/calls/{call}/hangup"), Some(&sam), None);
    assert_eq!(status, 200, "{body}");
    let (_, heard) = summary_and_heard(&caller.join().unwrap());
    assert!(heard.contains("connection") || heard.contains("queue"), "the caller was told: {heard}");
    let _ = std::fs::remove_file(&db);
}

/// The caller ignores the callback offer: after the answer time they go back to the front of
/// the queue (not left waiting outside it) and are told so.
#[test]
fn a_caller_who_ignores_the_callback_offer_goes_back_to_the_queue() {
    assert!(have("espeak-ng"), "needs espeak-ng (scripts/setup installs it)");
    let (db, server) = demo_server(
        "ignored",
        &[("SWITCHBOARD__ROUTING__OFFER_TIMEOUT_S", "2"), ("SWITCHBOARD__ROUTING__VOICEMAIL_AFTER_OFFERS", "1")],
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    let _guard = rt.enter();
    let priya = server.session("priya", "priya-demo-pass");
    let (status, _, _) =
        server.request("PUT", "/api/agents/me/presence", Some(&priya), Some(json!({"presence": "available"})));
    assert_eq!(status, 200);
    let mut events = rt.block_on(server.events(None));
    let caller = simulate_in_background(&server, "fraud_callback_ignored.toml");
    let routed = rt.block_on(events.next_of("call_routed", Duration::from_secs(90)));
    let call = routed["call_id"].as_str().unwrap().to_string();
    rt.block_on(events.next_of("callback_offered", Duration::from_secs(10)));
    let (_, queue) = server.get("/api/queue");
    assert!(queue.as_array().unwrap().is_empty(), "out of the queue while the offer stands: {queue}");
    // No key, no message: back in the queue within the answer time (20 s after the offer is said).
    let deadline = std::time::Instant::now() + Duration::from_secs(45);
    loop {
        let (_, queue) = server.get("/api/queue");
        if queue[0]["call_id"] == call.as_str() {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "never back in the queue: {queue}");
        std::thread::sleep(Duration::from_millis(500));
    }
    std::thread::sleep(Duration::from_secs(6));
    let sam = server.session("sam", "sam-demo-pass");
    let (status, _, body) = server.request("POST", &format!("/api/calls/{call}/hangup"), Some(&sam), None);
    assert_eq!(status, 200, "{body}");
    let (_, heard) = summary_and_heard(&caller.join().unwrap());
    assert!(heard.contains("back in the queue"), "the caller was told: {heard}");
    let store = switchboard::store::Store::open(&db).unwrap();
    assert!(store.open_callbacks().unwrap().is_empty(), "no callback was booked");
    let _ = std::fs::remove_file(&db);
}
