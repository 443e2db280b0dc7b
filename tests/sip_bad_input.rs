//! Bad and unusual SIP/RTP input against the real server over UDP: each gets the right answer
//! (4xx, or silence for what cannot be answered), and none disturbs the server or other calls.
//! Also: OPTIONS keep-alives, late-offer INVITEs, 488 without a common codec, 486 at capacity.

mod common;

use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use common::server::Server;
use common::uac::{sdp, Uac, SDP_CT};
use switchboard::transport::rtp::packet::RtpPacket;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_sip_gets_4xx_or_silence_and_the_server_keeps_serving() {
    // Calls beyond capacity refused (not answered as overflow calls: tests/admission.rs).
    let server =
        Server::start(&[("SWITCHBOARD__CALLS__MAX_CALLS", "1"), ("SWITCHBOARD__CALLS__OVERFLOW__ACTION", "refuse")]);
    let mut events = server.events(None).await;
    let uac = Uac::new(server.sip);

    // Keep-alive probe.
    uac.send(uac.request("OPTIONS", "opt-1", 1, None, "", "").as_bytes());
    let r = uac.final_for("opt-1");
    assert_eq!(r.status(), Some(200));
    assert!(r.header("Allow").unwrap().contains("INVITE"));
    // Garbage and empty keep-alives: nothing to answer.
    uac.send(b"\x16\x03\x01garbage\x00\xff");
    uac.send(b"\r\n\r\n");
    assert!(uac.recv().is_none());
    // Missing Call-ID: answered 400 all the same (the client matches it by its Via branch).
    uac.send(uac.request("OPTIONS", "x", 1, None, "", "").replace("Call-ID: x\r\n", "").as_bytes());
    let r = uac.recv().expect("a 400 for a request without Call-ID");
    assert_eq!((r.status(), r.call_id()), (Some(400), None));
    // A NUL or a bare CR in a header, a CSeq that is not a number: 400 with the reason.
    for (i, (from, to)) in
        [("Call-ID: nul", "Call-ID: nul\0x"), ("Max-Forwards: 70", "Max-Forwards: 7\r0"), ("1 OPTIONS", "one OPTIONS")]
            .into_iter()
            .enumerate()
    {
        uac.send(uac.request("OPTIONS", "nul", 1, None, "", "").replace(from, to).as_bytes());
        let r = uac.recv().unwrap_or_else(|| panic!("no answer to bad request {i}"));
        assert_eq!(r.status(), Some(400), "bad request {i}");
    }
    // Headers alone over 16 KiB: 513.
    let pad = format!("X-Pad: {}\r\n", "p".repeat(200)).repeat(90);
    uac.send(uac.request("OPTIONS", "big-h", 1, None, &pad, "").as_bytes());
    assert_eq!(uac.final_for("big-h").status(), Some(513));
    // CSeq method mismatch and a Content-Length beyond the body: 400 with the reason.
    uac.send(uac.request("OPTIONS", "bad-1", 1, None, "", "").replace("1 OPTIONS", "1 INVITE").as_bytes());
    let r = uac.final_for("bad-1");
    assert_eq!(r.status(), Some(400));
    uac.send(
        uac.request("INVITE", "bad-2", 1, None, SDP_CT, "v=0\r\n")
            .replace("Content-Length: 5", "Content-Length: 500")
            .as_bytes(),
    );
    let r = uac.final_for("bad-2");
    assert_eq!(r.status(), Some(400));
    assert!(
        matches!(&r.start, switchboard::transport::sip::message::StartLine::Response { reason, .. } if reason.contains("truncated"))
    );
    // Oversized: 513.
    let big = "x".repeat(20_000);
    uac.send(uac.request("MESSAGE", "big-1", 1, None, "Content-Type: text/plain\r\n", &big).as_bytes());
    assert_eq!(uac.final_for("big-1").status(), Some(513));
    // Unknown method: 405.
    uac.send(uac.request("PUBLISH", "m-1", 1, None, "", "").as_bytes());
    assert_eq!(uac.final_for("m-1").status(), Some(405));
    // BYE for no call: 481.
    uac.send(uac.request("BYE", "nope", 2, Some("x"), "", "").as_bytes());
    assert_eq!(uac.final_for("nope").status(), Some(481));
    // No common codec: 488, and the 488 is acknowledged like any final response.
    uac.send(uac.request("INVITE", "g722", 1, None, SDP_CT, &sdp(7000, "9", "a=rtpmap:9 G722/8000\r\n")).as_bytes());
    assert_eq!(uac.final_for("g722").status(), Some(488));
    // A body that is not SDP: 415.
    uac.send(uac.request("INVITE", "json", 1, None, "Content-Type: application/json\r\n", "{}").as_bytes());
    assert_eq!(uac.final_for("json").status(), Some(415));

    // A good call (late offer: no SDP in the INVITE, ours comes in the 200).
    let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let rtp_port = rtp.local_addr().unwrap().port();
    uac.send(uac.request("INVITE", "good-1", 1, None, "", "").as_bytes());
    let ok = uac.final_for("good-1");
    assert_eq!(ok.status(), Some(200));
    let offer = String::from_utf8(ok.body.clone()).unwrap();
    assert!(offer.contains("PCMU/8000") && offer.contains("telephone-event"), "{offer}");
    let tag = ok.to().unwrap().tag().unwrap().to_string();
    let server_rtp: u16 =
        offer.lines().find(|l| l.starts_with("m=audio")).unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let ack = uac.request(
        "ACK",
        "good-1",
        1,
        Some(&tag),
        SDP_CT,
        &sdp(rtp_port, "0 101", "a=rtpmap:101 telephone-event/8000\r\n"),
    );
    uac.send(ack.as_bytes());
    let started = events.next_of("call_started", Duration::from_secs(10)).await;
    assert_eq!(started["caller"], "+15550199");

    // At capacity (max_calls = 1, overflow refused): 486 for the next caller.
    let other = Uac::new(server.sip);
    other.send(other.request("INVITE", "busy-1", 1, None, SDP_CT, &sdp(7002, "0", "")).as_bytes());
    assert_eq!(other.final_for("busy-1").status(), Some(486));

    // Garbage RTP into the live call: wrong version, truncated, unknown payload type, SSRC
    // changes and a huge timestamp jump; all ignored or absorbed.
    let to = SocketAddr::from(([127, 0, 0, 1], server_rtp));
    rtp.send_to(&[0x40; 40], to).unwrap();
    rtp.send_to(&[0x80, 0], to).unwrap();
    for (i, (pt, ssrc, ts)) in
        [(0u8, 1u32, 0u32), (0, 1, 160), (99, 1, 320), (0, 2, 4_000_000_000), (0, 3, 7)].into_iter().enumerate()
    {
        let p = RtpPacket {
            marker: false,
            payload_type: pt,
            sequence: (i as u16).wrapping_mul(9000),
            timestamp: ts,
            ssrc,
            payload: &[0xff; 160],
        };
        rtp.send_to(&p.to_bytes(), to).unwrap();
    }
    // The server's own RTP reaches us (symmetric RTP to where our packets came from).
    rtp.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    let mut buf = [0u8; 2048];
    let (n, _) = rtp.recv_from(&mut buf).expect("server sends RTP");
    let p = RtpPacket::parse(&buf[..n]).unwrap();
    assert_eq!((p.payload_type, p.payload.len()), (0, 160));
    // ... carrying the greeting: speech, not just silence, within its first 1.5 s.
    let mut loudest = 0.0f32;
    for _ in 0..75 {
        let (n, _) = rtp.recv_from(&mut buf).expect("server keeps sending RTP every 20 ms");
        let p = RtpPacket::parse(&buf[..n]).unwrap();
        let pcm = switchboard::media::g711::Law::Ulaw.decode(p.payload);
        loudest = pcm.iter().fold(loudest, |m, s| m.max(s.abs()));
    }
    assert!(loudest > 0.1, "greeting audio peak {loudest}");

    // Hold with a re-INVITE (sendonly), then hang up: the call ends normally.
    let reinvite =
        uac.request("INVITE", "good-1", 2, Some(&tag), SDP_CT, &format!("{}a=sendonly\r\n", sdp(rtp_port, "0", "")));
    uac.send(reinvite.as_bytes());
    let r = uac.final_for("good-1");
    assert_eq!(r.status(), Some(200));
    assert!(String::from_utf8_lossy(&r.body).contains("a=recvonly"));
    uac.send(uac.request("ACK", "good-1", 2, Some(&tag), "", "").as_bytes());
    let held = events.next_of("call_state_changed", Duration::from_secs(5)).await;
    assert_eq!(held["state"], "on_hold");
    uac.send(uac.request("BYE", "good-1", 3, Some(&tag), "", "").as_bytes());
    assert_eq!(uac.final_for("good-1").status(), Some(200));
    let ended = events.next_of("call_ended", Duration::from_secs(20)).await;
    assert_eq!(ended["reason"], "caller_hangup");

    // Still serving, nothing panicked.
    uac.send(uac.request("OPTIONS", "opt-2", 1, None, "", "").as_bytes());
    assert_eq!(uac.final_for("opt-2").status(), Some(200));
    let log = server.log();
    assert!(!log.contains("panicked"), "{log}");
    assert!(log.contains("malformed SIP message"), "malformed input is logged");
}
