//! The endpoint on a simulated clock: no sockets, time passed in.

use super::*;

const CALLER: &str = "127.0.0.1:5070";

fn ep() -> Endpoint {
    Endpoint::new(EndpointConfig::new("127.0.0.1:5060".parse().unwrap()), 7)
}

fn src() -> SocketAddr {
    CALLER.parse().unwrap()
}

fn invite(branch: &str, to_tag: Option<&str>, cseq: u32, body: &str) -> Vec<u8> {
    let to = match to_tag {
        Some(t) => format!("<sip:sb@127.0.0.1>;tag={t}"),
        None => "<sip:sb@127.0.0.1>".into(),
    };
    format!(
        "INVITE sip:sb@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP {CALLER};branch={branch};rport\r\n\
From: \"Ann\" <sip:+4670111@carrier>;tag=ft\r\nTo: {to}\r\nCall-ID: c1\r\nCSeq: {cseq} INVITE\r\n\
Contact: <sip:ann@{CALLER}>\r\nMax-Forwards: 70\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn request(method: &str, branch: &str, to_tag: &str, cseq: u32) -> Vec<u8> {
    format!(
        "{method} sip:sb@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP {CALLER};branch={branch}\r\n\
From: <sip:+4670111@carrier>;tag=ft\r\nTo: <sip:sb@127.0.0.1>;tag={to_tag}\r\nCall-ID: c1\r\n\
CSeq: {cseq} {method}\r\nContent-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

/// Drain outputs: (responses as (code, cseq method), requests sent, events).
fn drain(e: &mut Endpoint) -> (Vec<(u16, String)>, Vec<SipMessage>, Vec<SipEvent>) {
    let (mut resp, mut reqs, mut evs) = (vec![], vec![], vec![]);
    while let Some(o) = e.poll_output() {
        match o {
            Output::Transmit { data, .. } => {
                let m = SipMessage::parse(&data).unwrap();
                match m.status() {
                    Some(c) => resp.push((c, m.cseq().map(|c| c.1.to_string()).unwrap_or_default())),
                    None => reqs.push(m),
                }
            }
            Output::Event(ev) => evs.push(ev),
        }
    }
    (resp, reqs, evs)
}

fn incoming(e: &mut Endpoint, now: Instant) -> DialogId {
    e.handle_datagram(now, src(), &invite("z9hG4bK-a", None, 1, "v=0\r\n"));
    let (resp, _, evs) = drain(e);
    assert_eq!(resp, vec![(100, "INVITE".into())]);
    match &evs[..] {
        [SipEvent::Incoming { dialog, caller, display, offer, .. }] => {
            assert_eq!(caller, "+4670111");
            assert_eq!(display.as_deref(), Some("Ann"));
            assert_eq!(offer.as_deref(), Some(&b"v=0\r\n"[..]));
            *dialog
        }
        other => panic!("{other:?}"),
    }
}

fn local_tag(e: &Endpoint, id: DialogId) -> String {
    e.dialogs[&id].local_tag.clone()
}

fn answered(e: &mut Endpoint, now: Instant) -> (DialogId, String) {
    let id = incoming(e, now);
    e.ring(id);
    e.answer(now, id, "v=0\r\n".into());
    let (resp, _, _) = drain(e);
    assert_eq!(resp, vec![(180, "INVITE".into()), (200, "INVITE".into())]);
    let tag = local_tag(e, id);
    e.handle_datagram(now, src(), &request("ACK", "z9hG4bK-ack", &tag, 1));
    let (_, _, evs) = drain(e);
    assert_eq!(evs, vec![SipEvent::Confirmed { dialog: id, answer: None }]);
    (id, tag)
}

#[test]
fn answers_a_call_and_retransmits_200_until_ack() {
    let t0 = Instant::now();
    let mut e = ep();
    let id = incoming(&mut e, t0);
    e.answer(t0, id, "v=0\r\n".into());
    assert_eq!(drain(&mut e).0, vec![(200, "INVITE".into())]);
    // Retransmissions at T1, then 2*T1, capped at T2.
    let mut times = vec![];
    let mut now = t0;
    while let Some(t) = e.poll_timeout() {
        if t > t0 + Duration::from_secs(6) {
            break;
        }
        now = t;
        e.handle_timeout(now);
        if !drain(&mut e).0.is_empty() {
            times.push((now - t0).as_millis());
        }
    }
    assert_eq!(times, vec![500, 1500, 3500]);
    // A retransmitted INVITE gets the 200 again; the ACK stops the timer.
    e.handle_datagram(now, src(), &invite("z9hG4bK-a", None, 1, "v=0\r\n"));
    assert_eq!(drain(&mut e).0, vec![(200, "INVITE".into())]);
    let tag = local_tag(&e, id);
    e.handle_datagram(now, src(), &request("ACK", "z9hG4bK-x", &tag, 1));
    assert_eq!(drain(&mut e).2, vec![SipEvent::Confirmed { dialog: id, answer: None }]);
    e.handle_timeout(now + Duration::from_secs(4));
    assert!(drain(&mut e).0.is_empty());
}

#[test]
fn no_ack_ends_the_call_with_bye_after_64_t1() {
    let t0 = Instant::now();
    let mut e = ep();
    let id = incoming(&mut e, t0);
    e.answer(t0, id, "v=0\r\n".into());
    drain(&mut e);
    let mut ended = None;
    while let Some(now) = e.poll_timeout() {
        e.handle_timeout(now);
        let (_, reqs, evs) = drain(&mut e);
        if let Some(SipEvent::Terminated { reason, .. }) = evs.first() {
            ended = Some((now - t0, reason.clone(), reqs[0].method().cloned()));
            break;
        }
    }
    assert_eq!(ended, Some((Duration::from_secs(32), Termination::AckTimeout, Some(Method::Bye))));
}

#[test]
fn caller_bye_and_retransmitted_bye() {
    let t0 = Instant::now();
    let mut e = ep();
    let (id, tag) = answered(&mut e, t0);
    e.handle_datagram(t0, src(), &request("BYE", "z9hG4bK-b", &tag, 2));
    let (resp, _, evs) = drain(&mut e);
    assert_eq!(resp, vec![(200, "BYE".into())]);
    assert_eq!(evs, vec![SipEvent::Terminated { dialog: id, reason: Termination::RemoteBye }]);
    e.handle_datagram(t0, src(), &request("BYE", "z9hG4bK-b", &tag, 2));
    assert_eq!(drain(&mut e).0, vec![(200, "BYE".into())], "retransmission absorbed");
    e.handle_datagram(t0, src(), &request("BYE", "z9hG4bK-c", "nope", 3));
    assert_eq!(drain(&mut e).0, vec![(481, "BYE".into())]);
    assert_eq!(e.active_dialogs(), 0);
}

#[test]
fn our_bye_is_retransmitted_until_answered() {
    let t0 = Instant::now();
    let mut e = ep();
    let (id, _) = answered(&mut e, t0);
    e.hangup(t0, id);
    let (_, reqs, evs) = drain(&mut e);
    assert_eq!(evs, vec![SipEvent::Terminated { dialog: id, reason: Termination::LocalBye }]);
    let bye = &reqs[0];
    assert_eq!(bye.method(), Some(&Method::Bye));
    assert_eq!(bye.cseq(), Some((2, Method::Bye)));
    assert_eq!(bye.to().unwrap().tag(), Some("ft"));
    assert_eq!(bye.start, StartLine::Request { method: Method::Bye, uri: format!("sip:ann@{CALLER}") });
    e.handle_timeout(t0 + Duration::from_millis(500));
    assert_eq!(drain(&mut e).1.len(), 1, "timer E retransmission");
    let mut ok = SipMessage::response_to(bye, 200, "OK", None);
    ok.push("X", "y");
    e.handle_datagram(t0, src(), &ok.to_bytes());
    assert!(!e.has_pending_transactions());
    e.handle_timeout(t0 + Duration::from_secs(2));
    assert!(drain(&mut e).1.is_empty());
    e.hangup(t0, id);
    assert!(drain(&mut e).1.is_empty(), "hangup is idempotent");
}

#[test]
fn hangup_before_ack_waits_for_the_ack() {
    let t0 = Instant::now();
    let mut e = ep();
    let id = incoming(&mut e, t0);
    e.answer(t0, id, "v=0\r\n".into());
    drain(&mut e);
    e.hangup(t0, id);
    assert!(drain(&mut e).1.is_empty());
    let tag = local_tag(&e, id);
    e.handle_datagram(t0, src(), &request("ACK", "z9hG4bK-k", &tag, 1));
    let (_, reqs, evs) = drain(&mut e);
    assert_eq!(reqs[0].method(), Some(&Method::Bye));
    assert_eq!(evs.last(), Some(&SipEvent::Terminated { dialog: id, reason: Termination::LocalBye }));
}

#[test]
fn cancel_before_answer_gives_487_and_absorbs_ack() {
    let t0 = Instant::now();
    let mut e = ep();
    let id = incoming(&mut e, t0);
    e.ring(id);
    drain(&mut e);
    let mut cancel = String::from_utf8(request("CANCEL", "z9hG4bK-a", "x", 1)).unwrap();
    cancel = cancel.replace(";tag=x", "");
    e.handle_datagram(t0, src(), cancel.as_bytes());
    let (resp, _, evs) = drain(&mut e);
    assert_eq!(resp, vec![(200, "CANCEL".into()), (487, "INVITE".into())]);
    assert_eq!(evs, vec![SipEvent::Terminated { dialog: id, reason: Termination::Cancelled }]);
    // Timer G retransmits the 487 until the ACK (same branch) arrives.
    e.handle_timeout(t0 + Duration::from_millis(500));
    assert_eq!(drain(&mut e).0, vec![(487, "INVITE".into())]);
    let tag = local_tag(&e, id);
    let ack = String::from_utf8(request("ACK", "z9hG4bK-a", &tag, 1)).unwrap();
    e.handle_datagram(t0, src(), ack.as_bytes());
    e.handle_timeout(t0 + Duration::from_millis(1600));
    assert!(drain(&mut e).0.is_empty());
    // CANCEL for an unknown transaction.
    e.handle_datagram(t0, src(), String::from_utf8(request("CANCEL", "z9hG4bK-zz", "x", 1)).unwrap().as_bytes());
    assert_eq!(drain(&mut e).0, vec![(481, "CANCEL".into())]);
}

#[test]
fn reject_busy_and_reinvite_for_hold() {
    let t0 = Instant::now();
    let mut e = ep();
    let id = incoming(&mut e, t0);
    e.reject(t0, id, 486);
    let (resp, _, evs) = drain(&mut e);
    assert_eq!(resp, vec![(486, "INVITE".into())]);
    assert_eq!(evs, vec![SipEvent::Terminated { dialog: id, reason: Termination::Rejected(486) }]);

    let mut e = ep();
    let (id, tag) = answered(&mut e, t0);
    e.handle_datagram(t0, src(), &invite("z9hG4bK-re", Some(&tag), 2, "v=0\r\na=sendonly\r\n"));
    let (resp, _, evs) = drain(&mut e);
    assert!(resp.is_empty());
    assert_eq!(evs, vec![SipEvent::Reoffer { dialog: id, offer: Some(b"v=0\r\na=sendonly\r\n".to_vec()) }]);
    e.answer(t0, id, "v=0\r\na=recvonly\r\n".into());
    assert_eq!(drain(&mut e).0, vec![(200, "INVITE".into())]);
    e.handle_datagram(t0, src(), &request("ACK", "z9hG4bK-ack2", &tag, 2));
    assert_eq!(drain(&mut e).2, vec![SipEvent::Confirmed { dialog: id, answer: None }]);
    assert_eq!(e.active_dialogs(), 1);
}

#[test]
fn options_info_unknown_methods_and_bad_requests() {
    let t0 = Instant::now();
    let mut e = ep();
    let opts = String::from_utf8(request("OPTIONS", "z9hG4bK-o", "x", 1)).unwrap().replace(";tag=x", "");
    e.handle_datagram(t0, src(), opts.as_bytes());
    assert_eq!(drain(&mut e).0, vec![(200, "OPTIONS".into())]);
    e.handle_datagram(t0, src(), String::from_utf8(request("REGISTER", "z9hG4bK-r", "x", 1)).unwrap().as_bytes());
    assert_eq!(drain(&mut e).0, vec![(405, "REGISTER".into())]);

    let (id, tag) = answered(&mut e, t0);
    let info = String::from_utf8(request("INFO", "z9hG4bK-i", &tag, 2)).unwrap().replace(
        "Content-Length: 0\r\n\r\n",
        "Content-Type: application/dtmf-relay\r\nContent-Length: 24\r\n\r\nSignal=5\r\nDuration=160\r\n",
    );
    e.handle_datagram(t0, src(), info.as_bytes());
    let (resp, _, evs) = drain(&mut e);
    assert_eq!(resp, vec![(200, "INFO".into())]);
    assert_eq!(evs, vec![SipEvent::InfoDtmf { dialog: id, digit: '5' }]);

    // Missing Call-ID: still answerable by its Via (the branch matches the response), 400.
    let bad = String::from_utf8(request("OPTIONS", "z9hG4bK-q", "x", 1)).unwrap().replace("Call-ID: c1\r\n", "");
    e.handle_datagram(t0, src(), bad.as_bytes());
    let (resp, _, evs) = drain(&mut e);
    assert_eq!(resp, vec![(400, "OPTIONS".into())]);
    assert!(matches!(&evs[..], [SipEvent::Malformed { answered: true, .. }]));
    // A CSeq that is not a number, a NUL or a bare CR in a header: 400 too.
    for (from, to) in
        [("CSeq: 1 OPTIONS", "CSeq: one OPTIONS"), ("Call-ID: c1", "Call-ID: c\x001"), ("Call-ID: c1", "Call-ID: c\r1")]
    {
        let bad = String::from_utf8(request("OPTIONS", "z9hG4bK-q1", "x", 1)).unwrap().replace(from, to);
        e.handle_datagram(t0, src(), bad.as_bytes());
        let (resp, _, evs) = drain(&mut e);
        assert_eq!(resp.iter().map(|r| r.0).collect::<Vec<_>>(), vec![400], "{to:?}");
        assert!(matches!(&evs[..], [SipEvent::Malformed { answered: true, .. }]), "{to:?}");
    }
    // Headers alone over 16 KiB: 513.
    let big = String::from_utf8(request("OPTIONS", "z9hG4bK-q4", "x", 1))
        .unwrap()
        .replace("Content-Length", &format!("{}Content-Length", format!("X-Pad: {}\r\n", "p".repeat(200)).repeat(90)));
    e.handle_datagram(t0, src(), big.as_bytes());
    assert_eq!(drain(&mut e).0, vec![(513, "OPTIONS".into())]);
    // CSeq method mismatch: answerable, 400.
    let bad = String::from_utf8(request("OPTIONS", "z9hG4bK-q2", "x", 1)).unwrap().replace("1 OPTIONS", "1 BYE");
    e.handle_datagram(t0, src(), bad.as_bytes());
    let (resp, _, _) = drain(&mut e);
    assert_eq!(resp, vec![(400, "BYE".into())]);
    // Content-Length larger than the body: 400 with the reason.
    let bad = String::from_utf8(request("OPTIONS", "z9hG4bK-q3", "x", 1)).unwrap().replace("Length: 0", "Length: 99");
    e.handle_datagram(t0, src(), bad.as_bytes());
    assert_eq!(drain(&mut e).0, vec![(400, "OPTIONS".into())]);
    // Garbage.
    e.handle_datagram(t0, src(), b"\x00\x01garbage\xff");
    let (resp, _, evs) = drain(&mut e);
    assert!(resp.is_empty() && evs.len() == 1);
    // Require: an extension we do not support.
    let req = String::from_utf8(invite("z9hG4bK-req", None, 1, "v=0\r\n"))
        .unwrap()
        .replace("Max-Forwards", "Require: 100rel\r\nMax-Forwards");
    e.handle_datagram(t0, src(), req.as_bytes());
    assert_eq!(drain(&mut e).0, vec![(420, "INVITE".into())]);
}

#[test]
fn responses_carry_received_and_rport() {
    let t0 = Instant::now();
    let mut e = ep();
    let from: SocketAddr = "10.0.0.9:40000".parse().unwrap();
    e.handle_datagram(t0, from, &invite("z9hG4bK-n", None, 1, "v=0\r\n"));
    let Some(Output::Transmit { to, data }) = e.poll_output() else { panic!() };
    assert_eq!(to, from);
    let m = SipMessage::parse(&data).unwrap();
    let via = m.top_via().unwrap();
    assert_eq!(via.params.iter().find(|(k, _)| k == "rport").unwrap().1.as_deref(), Some("40000"));
    assert_eq!(via.params.iter().find(|(k, _)| k == "received").unwrap().1.as_deref(), Some("10.0.0.9"));
}
