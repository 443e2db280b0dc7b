//! Per-address admission: a flood of browser offers that never connect cannot hold the call
//! slots (at most `pending_per_address` of them are set up at once, the rest get 429), so a
//! phone caller still gets through; and a call's slot is free as soon as its caller hangs up.
//! Above capacity (`[calls.overflow]`), a caller is answered with a message and queued for a
//! person untranscribed, or booked a callback, or refused (486), as configured.

mod common;

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use common::server::Server;
use common::uac::{sdp, Uac, SDP_CT};
use common::webrtc::{offer, post};
use switchboard::transport::rtp::packet::RtpPacket;

/// A SIP call answered: its To tag, our RTP socket and the server's RTP address.
struct Answered {
    tag: String,
    rtp: UdpSocket,
    server_rtp: SocketAddr,
}

/// Place a SIP call from `uac` and acknowledge the final answer; the status if it is refused.
fn invite(uac: &Uac, id: &str) -> Result<Answered, u16> {
    let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let body = sdp(rtp.local_addr().unwrap().port(), "0", "");
    uac.send(uac.request("INVITE", id, 1, None, SDP_CT, &body).as_bytes());
    let r = uac.final_for(id);
    let tag = r.to().and_then(|t| t.tag().map(str::to_string)).unwrap_or_default();
    uac.send(uac.request("ACK", id, 1, Some(&tag), "", "").as_bytes());
    if r.status() != Some(200) {
        return Err(r.status().unwrap_or(0));
    }
    let answer = String::from_utf8(r.body.clone()).unwrap();
    let port: u16 =
        answer.lines().find(|l| l.starts_with("m=audio")).unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    Ok(Answered { tag, rtp, server_rtp: SocketAddr::from(([127, 0, 0, 1], port)) })
}

/// Place a SIP call; the To tag once it is answered, else the status.
fn call(uac: &Uac, id: &str) -> Result<String, u16> {
    invite(uac, id).map(|a| a.tag)
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
    let server =
        Server::start(&[("SWITCHBOARD__CALLS__MAX_CALLS", "1"), ("SWITCHBOARD__CALLS__OVERFLOW__ACTION", "refuse")]);
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

/// Place a SIP call whose media this test plays: the To tag, our RTP socket and the server's
/// RTP address.
fn call_with_media(uac: &Uac, id: &str) -> (String, UdpSocket, SocketAddr) {
    let a = invite(uac, id).unwrap_or_else(|s| panic!("{id} refused with {s}"));
    (a.tag, a.rtp, a.server_rtp)
}

/// Send mu-law silence to `to` for `secs` and count the packets back that carry sound (not
/// mu-law silence): what the caller hears.
fn packets_with_sound(sock: &UdpSocket, to: SocketAddr, secs: u64) -> usize {
    sock.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
    let (mut buf, mut seq, mut sound) = ([0u8; 2048], 0u16, 0);
    let end = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < end {
        let p = RtpPacket {
            marker: false,
            payload_type: 0,
            sequence: seq,
            timestamp: seq as u32 * 160,
            ssrc: 0x5151,
            payload: &[0xff; 160],
        };
        let _ = sock.send_to(&p.to_bytes(), to);
        seq = seq.wrapping_add(1);
        // What arrives until the next packet is due (every 20 ms).
        let next = Instant::now() + Duration::from_millis(20);
        while Instant::now() < next {
            let Ok((n, from)) = sock.recv_from(&mut buf) else { break };
            let loud = |b: &u8| !matches!(*b, 0xff | 0x7f | 0xfe | 0x7e);
            if from == to
                && RtpPacket::parse(&buf[..n]).is_ok_and(|p| p.payload.iter().filter(|b| loud(b)).count() > 40)
            {
                sound += 1;
            }
        }
    }
    sound
}

/// The line a Prometheus exposition gives for `name` (with its labels), e.g.
/// `switchboard_overflow_calls`.
fn metric(server: &Server, name: &str) -> Option<f64> {
    let body =
        ureq::get(&format!("http://{}/metrics", server.http)).call().unwrap().into_body().read_to_string().unwrap();
    body.lines().find_map(|l| l.strip_prefix(name).and_then(|v| v.strip_prefix(' ')).and_then(|v| v.parse().ok()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_above_capacity_is_answered_and_queued_for_a_person() {
    // One transcribed call and one overflow call at once (the default action: the queue).
    let server =
        Server::start(&[("SWITCHBOARD__CALLS__MAX_CALLS", "1"), ("SWITCHBOARD__CALLS__OVERFLOW__MAX_CALLS", "1")]);
    let mut events = server.events(None).await;
    let first = Uac::new(server.sip);
    let (tag1, _rtp1, _) = call_with_media(&first, "full-1");
    let one = events.next_of("call_started", Duration::from_secs(10)).await;

    let second = Uac::new(server.sip);
    let (tag2, rtp2, to2) = call_with_media(&second, "full-2");
    let handed = events
        .until(Duration::from_secs(10), |v| v["type"] == "escalation_requested" && v["reason"] == "lines_full")
        .await;
    let id2 = handed["call_id"].as_str().unwrap().to_string();
    assert_ne!(id2, one["call_id"].as_str().unwrap(), "the first call is not touched");
    // The caller hears why (the message, synthesised), not silence.
    let heard = packets_with_sound(&rtp2, to2, 6);
    assert!(heard > 50, "the overflow caller hears a message: {heard} packets with sound in 6 s");

    // The API and the metrics show it: untranscribed, waiting for a person; the lines full.
    let (_, calls) = server.get("/api/calls");
    let c = calls.as_array().unwrap().iter().find(|c| c["id"] == id2.as_str()).expect("listed").clone();
    assert_eq!((c["overflow"].clone(), c["state"].clone()), (true.into(), "waiting_for_agent".into()), "{c}");
    let (status, load) = server.get("/api/calls/load");
    assert_eq!(status, 200);
    assert_eq!((load["calls"].as_u64(), load["overflow_calls"].as_u64()), (Some(1), Some(1)), "{load}");
    assert_eq!((load["full"].as_bool(), load["overflow_action"].as_str()), (Some(true), Some("queue")), "{load}");
    assert_eq!(metric(&server, "switchboard_overflow_calls"), Some(1.0));
    assert_eq!(metric(&server, "switchboard_calls_overflowed_total{action=\"queue\"}"), Some(1.0));
    let (_, rec) = server.get(&format!("/api/calls/{id2}"));
    assert!(rec["transcript"].as_array().unwrap().is_empty(), "nothing of it is transcribed: {rec}");

    // Past the overflow calls too: busy, and the server is fine.
    let third = Uac::new(server.sip);
    assert_eq!(call(&third, "full-3"), Err(486));

    for (uac, id, tag) in [(&first, "full-1", &tag1), (&second, "full-2", &tag2)] {
        uac.send(uac.request("BYE", id, 2, Some(tag), "", "").as_bytes());
        assert_eq!(uac.final_for(id).status(), Some(200));
    }
    for _ in 0..2 {
        events.next_of("call_ended", Duration::from_secs(20)).await;
    }
    assert!(!server.log().contains("panicked"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_above_capacity_can_be_booked_a_callback() {
    let server =
        Server::start(&[("SWITCHBOARD__CALLS__MAX_CALLS", "1"), ("SWITCHBOARD__CALLS__OVERFLOW__ACTION", "callback")]);
    let mut events = server.events(None).await;
    let first = Uac::new(server.sip);
    let (tag1, _rtp1, _) = call_with_media(&first, "cb-1");
    events.next_of("call_started", Duration::from_secs(10)).await;

    let second = Uac::new(server.sip);
    let (_tag2, rtp2, to2) = call_with_media(&second, "cb-2");
    let booked = events.next_of("callback_requested", Duration::from_secs(10)).await;
    assert_eq!((booked["kind"].as_str(), booked["number"].as_str()), (Some("callback"), Some("+15550199")), "{booked}");
    assert!(packets_with_sound(&rtp2, to2, 3) > 50, "the caller hears that they will be called back");
    // After the message the server hangs up.
    let ended =
        events.until(Duration::from_secs(30), |v| v["type"] == "call_ended" && v["call_id"] == booked["call_id"]).await;
    assert_eq!(ended["reason"], "server_hangup", "{ended}");
    let deadline = Instant::now() + Duration::from_secs(10);
    let bye = loop {
        assert!(Instant::now() < deadline, "no BYE from the server");
        if let Some(m) = second.recv().filter(|m| m.method().is_some_and(|m| m.as_str() == "BYE")) {
            break m;
        }
    };
    assert_eq!(bye.call_id(), Some("cb-2"));
    first.send(first.request("BYE", "cb-1", 2, Some(&tag1), "", "").as_bytes());
    assert_eq!(first.final_for("cb-1").status(), Some(200));
    assert!(!server.log().contains("panicked"));
}
