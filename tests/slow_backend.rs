//! A back office that never answers must not stall the call. The server's back office is an
//! HTTP API on loopback that accepts every connection and never replies (a hung backend,
//! timeout 60 s); the assistant's first request (find the caller by number) hangs on it.
//! Meanwhile, over real SIP/RTP (sipp):
//! - a caller who hangs up during the wait gets `call_ended` within 1 s of the BYE;
//! - a caller who keeps talking through the wait loses none of it: the call drops no frame of
//!   their audio and every sentence reaches the transcript.

mod common;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use common::server::{have, sipp, tempdir, Server};
use common::{fixture, ok_stdout, words};

/// An HTTP server that accepts connections and never answers; it holds them open until the
/// test ends.
fn hung_back_office() -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming().flatten() {
            held.push(conn);
        }
    });
    addr
}

/// A pcap of `wav` (8 kHz) for sipp to play.
fn pcap(dir: &std::path::Path, wav: &std::path::Path) -> std::path::PathBuf {
    let out = dir.join(format!("{}.pcap", wav.file_stem().unwrap().to_string_lossy()));
    ok_stdout(&["pcap", wav.to_str().unwrap(), out.to_str().unwrap()]);
    out
}

/// The `call ended` log line of a call, for its `dropped_frames`.
fn dropped_frames(log: &str, call: &str) -> u64 {
    let line = log
        .lines()
        .find(|l| l.contains("call ended") && l.contains(call))
        .unwrap_or_else(|| panic!("no 'call ended' line for {call} in the log:\n{log}"));
    let n = line.split("dropped_frames=").nth(1).unwrap_or_else(|| panic!("{line}"));
    n.split(|c: char| !c.is_ascii_digit()).next().unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_back_office_stalls_neither_hang_up_nor_the_callers_audio() {
    assert!(have("sipp"), "sipp is missing: apt-get install sip-tester (scripts/setup installs it)");
    assert!(have("sox"), "sox is missing: apt-get install sox (scripts/setup installs it)");
    let dir = tempdir("slow-backend");
    let backend = format!("http://{}", hung_back_office());
    let server = Server::start(&[
        ("SWITCHBOARD__BACK_OFFICE__KIND", "http"),
        ("SWITCHBOARD__BACK_OFFICE__URL", &backend),
        ("SWITCHBOARD__BACK_OFFICE__TIMEOUT_MS", "60000"),
    ]);
    let mut events = server.events(None).await;
    let target = server.sip;

    // 1. One second of silence, then the caller hangs up 6 s into the call (sipp's BYE after its
    //    receive timeout), while the assistant still waits for the back office.
    let silence = dir.join("silence.wav");
    let made = std::process::Command::new("sox")
        .args(["-n", "-r", "8000", "-c", "1", "-b", "16", silence.to_str().unwrap(), "trim", "0", "1"])
        .status()
        .unwrap();
    assert!(made.success());
    let quiet = pcap(&dir, &silence);
    let caller = tokio::task::spawn_blocking(move || {
        let r = sipp("caller.xml", target, &[("pcap", quiet.to_str().unwrap())], 6_000, 1);
        (r, Instant::now())
    });
    let started = events.next_of("call_started", Duration::from_secs(20)).await;
    let id = started["call_id"].as_str().unwrap().to_string();
    let ended =
        events.until(Duration::from_secs(40), |v| v["type"] == "call_ended" && v["call_id"] == id.as_str()).await;
    let ended_at = Instant::now();
    let ((ok, log), bye_done) = caller.await.unwrap();
    assert!(ok, "sipp reported a failed call:\n{log}");
    assert_eq!(ended["reason"], "caller_hangup", "{ended}");
    let late = ended_at.saturating_duration_since(bye_done);
    eprintln!("call_ended {} ms after the BYE's 200 OK (call lasted {} ms)", late.as_millis(), ended["duration_ms"]);
    assert!(late <= Duration::from_secs(1), "call_ended came {late:?} after the caller's BYE");
    assert!(
        !events.seen.iter().any(|v| v["type"] == "assistant_replied" && v["call_id"] == id.as_str()),
        "the back office never answered, so the assistant had nothing to say yet"
    );

    // 2. The caller talks through the wait: four sentences, about 25 s.
    let talk = dir.join("talk.wav");
    let parts = ["order_status_8k.wav", "refund_8k.wav", "payment_due_8k.wav", "change_address_8k.wav"];
    let mut sox = std::process::Command::new("sox");
    for p in parts {
        sox.arg(fixture(p));
    }
    let made = sox.arg(&talk).args(["pad", "0", "1"]).status().unwrap();
    assert!(made.success());
    let speech = pcap(&dir, &talk);
    let caller = tokio::task::spawn_blocking(move || {
        sipp("caller.xml", target, &[("pcap", speech.to_str().unwrap())], 28_000, 1)
    });
    let started =
        events.until(Duration::from_secs(20), |v| v["type"] == "call_started" && v["call_id"] != id.as_str()).await;
    let id2 = started["call_id"].as_str().unwrap().to_string();
    events.until(Duration::from_secs(90), |v| v["type"] == "call_ended" && v["call_id"] == id2.as_str()).await;
    let (ok, log) = caller.await.unwrap();
    assert!(ok, "sipp reported a failed call:\n{log}");

    let heard = words(&events.finals(&id2));
    // Words of each sentence that tiny.en reliably gets from this espeak voice at 8 kHz.
    let expected =
        ["calling", "order", "number", "return", "shoes", "refund", "payment", "change", "delivery", "address"];
    let found: Vec<&str> = expected.iter().copied().filter(|w| heard.split_whitespace().any(|h| h == *w)).collect();
    eprintln!("key words transcribed: {}/{} ({heard})", found.len(), expected.len());
    let dropped = dropped_frames(&server.log(), &id2);
    eprintln!("caller frames dropped: {dropped}");
    assert_eq!(dropped, 0, "the call dropped caller audio while the back office hung");
    assert!(found.len() >= expected.len() - 1, "sentences missing from the transcript: {found:?} in {heard:?}");
    assert!(!server.log().contains("panicked"), "{}", server.log());
}
