//! RTP from a stranger cannot take over a call: a second sender on another loopback address,
//! aimed at a live call's RTP port, hears none of the call's audio and its key presses are not
//! recorded as the caller's; the real caller keeps both.

mod common;

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::server::Server;
use common::uac::{sdp, Uac, SDP_CT};
use switchboard::transport::rtp::packet::{RtpPacket, TelephoneEvent};

/// Send 20 ms of mu-law silence every 20 ms from `sock` to `to` until `stop`; count what
/// comes back from the server into `heard`.
fn stream(sock: UdpSocket, to: SocketAddr, ssrc: u32, stop: Arc<AtomicBool>, heard: Arc<AtomicUsize>) {
    let rx = sock.try_clone().unwrap();
    rx.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
    let stop2 = stop.clone();
    let counter = std::thread::spawn(move || {
        let mut buf = [0u8; 2048];
        while !stop2.load(Ordering::Relaxed) {
            if let Ok((n, from)) = rx.recv_from(&mut buf) {
                if from == to && RtpPacket::parse(&buf[..n]).is_ok() {
                    heard.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    });
    let mut seq = 0u16;
    while !stop.load(Ordering::Relaxed) {
        let p = RtpPacket {
            marker: false,
            payload_type: 0,
            sequence: seq,
            timestamp: seq as u32 * 160,
            ssrc,
            payload: &[0xff; 160],
        };
        let _ = sock.send_to(&p.to_bytes(), to);
        seq = seq.wrapping_add(1);
        std::thread::sleep(Duration::from_millis(20));
    }
    counter.join().unwrap();
}

/// Key presses as RFC 4733 telephone-events (three packets per key, the last with the end bit).
fn press(sock: &UdpSocket, to: SocketAddr, ssrc: u32, keys: &[u8], ts0: u32) {
    for (i, &event) in keys.iter().enumerate() {
        let ts = ts0 + i as u32 * 1600;
        for k in 0..3u16 {
            let ev = TelephoneEvent { event, end: k == 2, volume: 10, duration: 160 * (k + 1) };
            let payload = ev.to_bytes();
            let p = RtpPacket {
                marker: k == 0,
                payload_type: 101,
                sequence: 30000 + i as u16 * 3 + k,
                timestamp: ts,
                ssrc,
                payload: &payload,
            };
            sock.send_to(&p.to_bytes(), to).unwrap();
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_rtp_sender_gets_no_audio_and_injects_no_keys() {
    let server = Server::start(&[]);
    let mut events = server.events(None).await;
    let uac = Uac::new(server.sip);
    let caller_rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let caller_port = caller_rtp.local_addr().unwrap().port();
    let offer = sdp(caller_port, "0 101", "a=rtpmap:101 telephone-event/8000\r\n");
    uac.send(uac.request("INVITE", "hijack-1", 1, None, SDP_CT, &offer).as_bytes());
    let ok = uac.final_for("hijack-1");
    assert_eq!(ok.status(), Some(200));
    let answer = String::from_utf8(ok.body.clone()).unwrap();
    let server_port: u16 =
        answer.lines().find(|l| l.starts_with("m=audio")).unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let tag = ok.to().unwrap().tag().unwrap().to_string();
    uac.send(uac.request("ACK", "hijack-1", 1, Some(&tag), "", "").as_bytes());
    let started = events.next_of("call_started", Duration::from_secs(10)).await;
    let call_id = started["call_id"].as_str().unwrap().to_string();
    let to = SocketAddr::from(([127, 0, 0, 1], server_port));

    // The caller streams; a moment later the attacker (127.0.0.2, another source address)
    // streams too, with its own SSRC, and presses 9 9 7 #.
    let stop = Arc::new(AtomicBool::new(false));
    let (caller_heard, attacker_heard) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let caller_keys = caller_rtp.try_clone().unwrap();
    let caller = {
        let (stop, heard) = (stop.clone(), caller_heard.clone());
        std::thread::spawn(move || stream(caller_rtp, to, 0x1111, stop, heard))
    };
    std::thread::sleep(Duration::from_millis(300));
    let attacker_rtp = UdpSocket::bind("127.0.0.2:0").expect("bind 127.0.0.2 (loopback range)");
    let attacker_keys = attacker_rtp.try_clone().unwrap();
    let attacker = {
        let (stop, heard) = (stop.clone(), attacker_heard.clone());
        std::thread::spawn(move || stream(attacker_rtp, to, 0x2222, stop, heard))
    };
    press(&attacker_keys, to, 0x2222, &[9, 9, 7, 11], 500_000);
    std::thread::sleep(Duration::from_millis(500));
    // The caller's own key still counts.
    press(&caller_keys, to, 0x1111, &[1], 900_000);
    std::thread::sleep(Duration::from_secs(2));
    stop.store(true, Ordering::Relaxed);
    caller.join().unwrap();
    attacker.join().unwrap();

    let (caller_n, attacker_n) = (caller_heard.load(Ordering::Relaxed), attacker_heard.load(Ordering::Relaxed));
    assert!(caller_n > 100, "the caller hears the call's audio every 20 ms: {caller_n} packets");
    assert_eq!(attacker_n, 0, "the second sender must hear nothing (the caller heard {caller_n})");
    let (status, call) = server.get(&format!("/api/calls/{call_id}"));
    assert_eq!(status, 200);
    assert_eq!(call["dtmf"], "1", "only the caller's key is recorded: {call}");
    let ssrc_logs = server.log().matches("new SSRC").count();
    assert!(ssrc_logs <= 2, "{ssrc_logs} SSRC-change log lines");

    uac.send(uac.request("BYE", "hijack-1", 2, Some(&tag), "", "").as_bytes());
    assert_eq!(uac.final_for("hijack-1").status(), Some(200));
    let ended = events.next_of("call_ended", Duration::from_secs(20)).await;
    assert_eq!(ended["reason"], "caller_hangup");
}
