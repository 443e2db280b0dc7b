//! Bad WebRTC signalling: malformed SDP, an offer without audio, a body that is not the
//! expected JSON, a hang-up with the wrong token, and a client that sends a valid offer but
//! never completes ICE. Each gets a clear answer or ends only its own call, and the live call
//! count returns to zero.

mod common;

use std::time::Duration;

use common::server::Server;
use common::webrtc::{offer, post};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_offers_are_refused_and_abandoned_calls_are_freed() {
    let server = Server::start(&[
        ("SWITCHBOARD__WEBRTC__UDP_ADDRS", r#"["127.0.0.1:0"]"#),
        ("SWITCHBOARD__WEBRTC__ICE_TIMEOUT_S", "3"),
    ]);
    let mut events = server.events(None).await;

    let (s, b) = post(&server, "/api/webrtc/offer", "not json");
    assert_eq!(s, 400, "{b}");
    assert!(b["error"].as_str().unwrap().contains("sdp"), "{b}");
    let (s, b) = post(&server, "/api/webrtc/offer", r#"{"sdp":"this is not SDP"}"#);
    assert_eq!(s, 400);
    assert!(b["error"].as_str().unwrap().contains("malformed SDP"), "{b}");
    let video = offer("m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 VP8/90000\r\n")
        .replace("a=rtpmap:111 opus/48000/2\r\n", "");
    let (s, b) = post(&server, "/api/webrtc/offer", &serde_json::json!({ "sdp": video }).to_string());
    assert_eq!(s, 400);
    assert!(b["error"].as_str().unwrap().contains("no audio"), "{b}");
    let good_sdp = offer("m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n");
    let (s, b) = post(
        &server,
        "/api/webrtc/offer",
        &serde_json::json!({ "sdp": good_sdp, "caller": "call me maybe" }).to_string(),
    );
    assert_eq!(s, 400, "{b}");
    assert!(b["error"].as_str().unwrap().contains("not an international number"), "{b}");
    let (s, _) = post(&server, "/api/webrtc/c-nope/hangup", r#"{"token":"x"}"#);
    assert_eq!(s, 403);

    // A valid offer from a client that never does ICE: the call starts, then ends by itself.
    let good = offer("m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n");
    let (s, b) = post(&server, "/api/webrtc/offer", &serde_json::json!({ "sdp": good }).to_string());
    assert_eq!(s, 200, "{b}");
    let answer = b["sdp"].as_str().unwrap();
    assert!(answer.contains("opus/48000") && answer.contains("a=candidate"), "{answer}");
    assert!(answer.contains("127.0.0.1"), "host candidate on loopback: {answer}");
    let id = b["call_id"].as_str().unwrap().to_string();
    let (s, _) = post(&server, &format!("/api/webrtc/{id}/hangup"), r#"{"token":"wrong"}"#);
    assert_eq!(s, 403, "a wrong token cannot end someone's call");
    let ended =
        events.until(Duration::from_secs(20), |v| v["type"] == "call_ended" && v["call_id"] == id.as_str()).await;
    assert_eq!(ended["reason"], "ice_timeout");
    let (_, calls) = server.get("/api/calls");
    assert!(calls.as_array().unwrap().iter().all(|c| c["state"] == "ended"), "{calls}");
    assert_eq!(server.get("/call").0, 200);
    assert!(!server.log().contains("panicked"));
}
