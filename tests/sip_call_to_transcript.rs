//! A real SIP caller (sipp) rings the real server over UDP on loopback, plays a speech
//! fixture as G.711 RTP followed by RFC 4733 key presses, and hangs up; the transcript's
//! words, the digits and a clean end arrive on /api/events and in /api/calls.

mod common;

use std::time::Duration;

use common::server::{have, pcap_of, sipp, Server};
use common::words;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sipp_call_is_transcribed_with_dtmf_and_ends_cleanly() {
    assert!(have("sipp"), "sipp is missing: apt-get install sip-tester (scripts/setup installs it)");
    let server = Server::start(&[]);
    let mut events = server.events(None).await;
    let pcap = pcap_of("two_turns_8k.wav", "42#");
    let target = server.sip;
    let caller =
        tokio::task::spawn_blocking(move || sipp("caller.xml", target, &[("pcap", pcap.to_str().unwrap())], 16_000, 1));

    let started = events.next_of("call_started", Duration::from_secs(20)).await;
    assert_eq!(started["transport"], "sip");
    assert_eq!(started["caller"], "+15550100");
    let id = started["call_id"].as_str().unwrap().to_string();
    let ended = events.next_of("call_ended", Duration::from_secs(90)).await;
    assert_eq!(ended["call_id"], id.as_str());
    assert_eq!(ended["reason"], "caller_hangup");
    let (ok, log) = caller.await.unwrap();
    assert!(ok, "sipp reported a failed call:\n{log}");

    // What the caller said, in order, before the end.
    let text = words(&events.finals(&id));
    for w in ["calling", "order", "number", "45678", "3", "1", "4", "5", "9"] {
        assert!(text.split_whitespace().any(|t| t == w), "{w:?} missing from {text:?}");
    }
    let digits: String =
        events.seen.iter().filter(|v| v["type"] == "dtmf").map(|v| v["digit"].as_str().unwrap().to_string()).collect();
    assert_eq!(digits, "42#");
    // The caller's state is judged live: a calm verdict with its confidence.
    let state = events.seen.iter().find(|v| v["type"] == "caller_state_changed" && v["call_id"] == id.as_str());
    let state = state.expect("caller_state_changed on a phone call");
    assert_eq!(state["state"], "calm", "{state}");
    assert!(state["confidence"].as_f64().unwrap() > 0.0);
    let lang = events.seen.iter().find(|v| v["type"] == "language_detected" && v["call_id"] == id.as_str());
    let lang = lang.expect("language_detected on a phone call");
    assert_eq!(lang["language"], "en", "{lang}");
    assert!(lang["confidence"].as_f64().unwrap() > 0.5, "{lang}");
    let types = events.types();
    let first_final = types.iter().position(|t| t == "transcript_final").unwrap();
    assert!(types[..first_final].contains(&"transcript_partial".to_string()), "partials precede finals: {types:?}");
    assert_eq!(types.last().map(String::as_str), Some("call_ended"));

    // The REST view agrees.
    let (status, list) = server.get("/api/calls");
    assert_eq!(status, 200);
    let listed = list.as_array().unwrap().iter().find(|c| c["id"] == id.as_str()).expect("call listed");
    assert_eq!((listed["state"].as_str(), listed["transport"].as_str()), (Some("ended"), Some("sip")));
    assert!(listed["started_at"].as_str().unwrap().ends_with('Z'));
    let (status, call) = server.get(&format!("/api/calls/{id}"));
    assert_eq!(status, 200);
    assert_eq!(call["dtmf"], "42#");
    let segs = call["transcript"].as_array().unwrap();
    assert_eq!(segs.len(), 2, "two turns: {segs:?}");
    assert!(segs[0]["end_ms"].as_u64().unwrap() < segs[1]["start_ms"].as_u64().unwrap());
    assert!(words(segs[0]["text"].as_str().unwrap()).contains("order"));
    assert_eq!(server.get("/api/calls/c-nope").0, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dtmf_captures_from_the_dataset_give_the_right_digits() {
    let Some(ds) = common::datasets() else { return };
    let dir = ds.join("telephony-sip-rtp/sipp");
    if !dir.is_dir() {
        eprintln!("skipping: {} is absent", dir.display());
        return;
    }
    assert!(have("sipp"), "sipp is missing: apt-get install sip-tester");
    // One call that plays all twelve captures, 400 ms apart, in label order.
    let labels = std::fs::read_to_string(ds.join("telephony-sip-rtp/labels.tsv")).unwrap();
    let mut expected = String::new();
    let mut plays = String::new();
    for line in labels.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        if let Some(d) = cols[2].strip_prefix("DTMF ") {
            expected.push_str(d);
            plays.push_str(&format!(
                "<nop><action><exec play_pcap_audio=\"{}\"/></action></nop>\n<pause milliseconds=\"400\"/>\n",
                ds.join("telephony-sip-rtp").join(cols[0]).display()
            ));
        }
    }
    let scenario = std::fs::read_to_string(common::root().join("tests/sipp/caller.xml")).unwrap();
    let play = "<nop>\n    <action>\n      <exec play_pcap_audio=\"[pcap]\"/>\n    </action>\n  </nop>";
    assert!(scenario.contains(play), "caller.xml changed shape");
    let dir = common::server::tempdir("dtmf");
    let path = dir.join("dtmf.xml");
    std::fs::write(&path, scenario.replace(play, &plays)).unwrap();

    let server = Server::start(&[("SWITCHBOARD__CALLS__GREETING", "none")]);
    let mut events = server.events(None).await;
    let target = server.sip;
    let p = path.clone();
    let caller = tokio::task::spawn_blocking(move || {
        let rel = format!("../../{}", p.strip_prefix(common::root()).unwrap().display());
        sipp(&rel, target, &[], 2_000, 1)
    });
    let started = events.next_of("call_started", Duration::from_secs(20)).await;
    let id = started["call_id"].as_str().unwrap().to_string();
    events.next_of("call_ended", Duration::from_secs(60)).await;
    let (ok, log) = caller.await.unwrap();
    assert!(ok, "sipp failed:\n{log}");
    let digits: String = events
        .seen
        .iter()
        .filter(|v| v["type"] == "dtmf" && v["call_id"] == id.as_str())
        .map(|v| v["digit"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        digits,
        expected,
        "{}/{} digits right",
        digits.chars().zip(expected.chars()).filter(|(a, b)| a == b).count(),
        expected.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_hangs_up_live_calls_with_bye_and_writes_recordings() {
    assert!(have("sipp"), "sipp is missing: apt-get install sip-tester");
    let rec = common::server::tempdir("rec");
    let server = Server::start(&[
        ("SWITCHBOARD__RECORDING__ENABLED", "true"),
        ("SWITCHBOARD__RECORDING__DIR", rec.to_str().unwrap()),
    ]);
    let mut events = server.events(None).await;
    let pcap = pcap_of("two_turns_8k.wav", "");
    let target = server.sip;
    // The caller would stay 60 s; the server's shutdown must end the call first with BYE,
    // which the scenario answers with 200 (its "server hangs up" branch).
    let caller =
        tokio::task::spawn_blocking(move || sipp("caller.xml", target, &[("pcap", pcap.to_str().unwrap())], 60_000, 1));
    let started = events.next_of("call_started", Duration::from_secs(20)).await;
    let id = started["call_id"].as_str().unwrap().to_string();
    events.next_of("transcript_final", Duration::from_secs(30)).await;
    let (status, log) = tokio::task::spawn_blocking(move || server.terminate()).await.unwrap();
    assert!(status.success(), "exit status {status:?}\n{log}");
    let ended = events.until(Duration::from_secs(10), |v| v["type"] == "call_ended").await;
    assert_eq!(ended["reason"], "shutdown");
    let (ok, sipp_log) = caller.await.unwrap();
    assert!(ok, "sipp did not see a clean BYE:\n{sipp_log}");

    let wav = rec.join(format!("{id}.wav"));
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(rec.join(format!("{id}.json"))).unwrap()).unwrap();
    let mut reader = hound::WavReader::open(&wav).unwrap();
    assert_eq!((reader.spec().sample_rate, reader.spec().channels), (8000, 2), "caller | what the caller heard");
    assert!(reader.duration() > 8000 * 3, "at least 3 s recorded");
    assert_eq!(json["end_reason"], "shutdown");
    assert!(words(json["transcript"][0]["text"].as_str().unwrap()).contains("order"));
    // Each channel on its own holds its side: the caller's words on the left, the assistant's
    // greeting on the right.
    let samples: Vec<i16> = reader.samples::<i16>().map(Result::unwrap).collect();
    let side = |ch: usize, name: &str| {
        let path = rec.join(format!("{id}-{name}.wav"));
        let spec = hound::WavSpec { channels: 1, ..reader.spec() };
        let mut w = hound::WavWriter::create(&path, spec).unwrap();
        for s in samples.iter().skip(ch).step_by(2) {
            w.write_sample(*s).unwrap();
        }
        w.finalize().unwrap();
        words(&common::ok_stdout(&["transcribe", path.to_str().unwrap()]))
    };
    let (caller_side, heard_side) = (side(0, "caller"), side(1, "heard"));
    assert!(caller_side.contains("order") && !caller_side.contains("thank you"), "{caller_side}");
    assert!(heard_side.contains("thank you") && !heard_side.contains("order"), "{heard_side}");
}
