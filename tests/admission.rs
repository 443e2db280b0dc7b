//! Per-address admission: a flood of browser offers that never connect cannot hold the call
//! slots (at most `pending_per_address` of them are set up at once, the rest get 429), so a
//! phone caller still gets through; and a call's slot is free as soon as its caller hangs up.

mod common;

use std::net::UdpSocket;
use std::time::Duration;

use common::server::Server;
use common::uac::{sdp, Uac, SDP_CT};
use common::webrtc::{offer, post};

/// Place a SIP call from `uac`; returns the To tag once it is answered (None if refused,
/// with the status).
fn call(uac: &Uac, id: &str) -> Result<String, u16> {
    let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let body = sdp(rtp.local_addr().unwrap().port(), "0", "");
    uac.send(uac.request("INVITE", id, 1, None, SDP_CT, &body).as_bytes());
    let r = uac.final_for(id);
    let tag = r.to().and_then(|t| t.tag().map(str::to_string)).unwrap_or_default();
    match r.status() {
        Some(200) => {
            uac.send(uac.request("ACK", id, 1, Some(&tag), "", "").as_bytes());
            Ok(tag)
        }
        other => {
            uac.send(uac.request("ACK", id, 1, Some(&tag), "", "").as_bytes());
            Err(other.unwrap_or(0))
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offer_flood_cannot_keep_a_phone_caller_out() {
    let server = Server::start(&[
        ("SWITCHBOARD__CALLS__MAX_CALLS", "8"),
        ("SWITCHBOARD__WEBRTC__UDP_ADDRS", r#"["127.0.0.1:0"]"#),
        ("SWITCHBOARD__WEBRTC__ICE_TIMEOUT_S", "3"),
    ]);
    let mut events = server.events(None).await;
    let body = serde_json::json!({ "sdp": offer("m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n") }).to_string();
    let mut statuses = Vec::new();
    for _ in 0..40 {
        let (s, b) = post(&server, "/api/webrtc/offer", &body);
        if s != 200 {
            assert!(b["error"].as_str().is_some_and(|e| !e.is_empty()), "a refusal says why: {b}");
        }
        statuses.push(s);
    }
    let answered = statuses.iter().filter(|&&s| s == 200).count();
    let limited = statuses.iter().filter(|&&s| s == 429).count();
    assert_eq!((answered, limited), (4, 36), "four offers set up at once from one address: {statuses:?}");

    // The phone caller gets through while those four wait for ICE.
    let uac = Uac::new(server.sip);
    let tag = call(&uac, "flood-sip-1").expect("a SIP caller is answered during the flood");
    let started =
        events.until(Duration::from_secs(10), |v| v["type"] == "call_started" && v["transport"] == "sip").await;
    assert_eq!(started["caller"], "+15550199");

    // The unconnected offers end by themselves; then offers are taken again.
    for _ in 0..4 {
        let ended = events.until(Duration::from_secs(20), |v| v["type"] == "call_ended").await;
        assert_eq!(ended["reason"], "ice_timeout");
    }
    let (s, b) = post(&server, "/api/webrtc/offer", &body);
    assert_eq!(s, 200, "pending offers released after their ICE timeout: {b}");

    uac.send(uac.request("BYE", "flood-sip-1", 2, Some(&tag), "", "").as_bytes());
    assert_eq!(uac.final_for("flood-sip-1").status(), Some(200));
    assert!(!server.log().contains("panicked"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slot_is_free_the_moment_the_caller_hangs_up() {
    let server = Server::start(&[("SWITCHBOARD__CALLS__MAX_CALLS", "1")]);
    let mut events = server.events(None).await;
    let uac = Uac::new(server.sip);
    for i in 0..3 {
        let id = format!("slot-{i}");
        let tag = call(&uac, &id).unwrap_or_else(|s| panic!("call {i} refused with {s}"));
        events.next_of("call_started", Duration::from_secs(10)).await;
        // A second caller while the first is up: busy.
        let other = Uac::new(server.sip);
        assert_eq!(call(&other, &format!("busy-{i}")), Err(486));
        uac.send(uac.request("BYE", &id, 2, Some(&tag), "", "").as_bytes());
        assert_eq!(uac.final_for(&id).status(), Some(200));
        // No waiting for call_ended: the next call may come right after the BYE's 200.
    }
}
