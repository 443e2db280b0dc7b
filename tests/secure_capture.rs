//! Secure card capture on a real SIP call (sipp, G.711 RTP): the caller speaks, a supervisor
//! starts the capture over the API, and the caller keys a card number both as in-band tones
//! in the audio and as RFC 4733 events. The card is captured (brand and last four digits);
//! the digits appear in no event, transcript, REST record, recording, sidecar, log line or
//! database page, and the recording holds silence on both channels for the capture, with a
//! marker saying so.

mod common;

use std::time::Duration;

use common::server::{demo_server, have, sipp, tempdir};

const CARD: &str = "4111111111111111";

/// Whether `text` holds a run of the card's digits (8 or more in a row, however separated).
fn leaks(text: &str) -> bool {
    let joined: String = text.chars().filter(|c| !matches!(c, ' ' | ',' | '.' | '-')).collect();
    joined.contains("41111111") || joined.contains("1111111111")
}

/// The two DTMF frequencies of a key.
fn dtmf_tone(key: char, rate: u32, ms: u32) -> Vec<f32> {
    let (row, col) = match key {
        '1' => (697.0, 1209.0),
        '4' => (770.0, 1209.0),
        _ => panic!("only the card's keys"),
    };
    let n = (rate * ms / 1000) as usize;
    (0..n)
        .map(|i| {
            let t = i as f32 / rate as f32;
            0.25 * ((2.0 * std::f32::consts::PI * row * t).sin() + (2.0 * std::f32::consts::PI * col * t).sin())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_card_keyed_during_secure_capture_reaches_nothing_but_the_capture() {
    assert!(have("sipp"), "sipp is missing: apt-get install sip-tester (scripts/setup installs it)");
    let dir = tempdir("capture");
    let rec = dir.join("recordings");
    let (db, server) = demo_server(
        "capture",
        &[
            ("SWITCHBOARD__RECORDING__ENABLED", "true"),
            ("SWITCHBOARD__RECORDING__DIR", rec.to_str().unwrap()),
            ("SWITCHBOARD_LOG", "debug"),
        ],
    );
    let sam = server.session("sam", "sam-demo-pass");

    // The caller's audio: a request, a pause (the capture starts in it), the card as in-band
    // tones; then the same keys as RFC 4733 events, ending with #.
    let mut speech = hound::WavReader::open(common::fixture("order_status_8k.wav")).unwrap();
    let mut audio: Vec<f32> = speech.samples::<i16>().map(|s| s.unwrap() as f32 / 32768.0).collect();
    let speech_ms = audio.len() as u64 / 8;
    audio.extend(std::iter::repeat_n(0.0, 8000 * 8));
    for key in CARD.chars() {
        audio.extend(dtmf_tone(key, 8000, 100));
        audio.extend(std::iter::repeat_n(0.0, 800));
    }
    audio.extend(std::iter::repeat_n(0.0, 8000));
    let wav = dir.join("caller.wav");
    let spec =
        hound::WavSpec { channels: 1, sample_rate: 8000, bits_per_sample: 16, sample_format: hound::SampleFormat::Int };
    let mut w = hound::WavWriter::create(&wav, spec).unwrap();
    for s in &audio {
        w.write_sample((s.clamp(-1.0, 1.0) * 32767.0) as i16).unwrap();
    }
    w.finalize().unwrap();
    let pcap = dir.join("caller.pcap");
    common::ok_stdout(&["pcap", wav.to_str().unwrap(), pcap.to_str().unwrap(), "--dtmf", &format!("{CARD}#")]);

    let mut events = server.events(None).await;
    let target = server.sip;
    let caller =
        tokio::task::spawn_blocking(move || sipp("caller.xml", target, &[("pcap", pcap.to_str().unwrap())], 40_000, 1));
    let started = events.next_of("call_started", Duration::from_secs(20)).await;
    let id = started["call_id"].as_str().unwrap().to_string();
    // The request is heard and transcribed; then the supervisor asks for the card.
    events
        .until(Duration::from_secs(speech_ms / 1000 + 20), |v| {
            v["type"] == "transcript_final" && v["call_id"] == id.as_str()
        })
        .await;
    let (status, _, body) =
        server.request("POST", &format!("/api/calls/{id}/secure-capture"), Some(&sam), Some(serde_json::json!({})));
    assert_eq!(status, 202, "{body}");
    let began = events.next_of("secure_capture_started", Duration::from_secs(5)).await;
    assert_eq!(began["by"], "sam");
    let ended = events.next_of("secure_capture_ended", Duration::from_secs(60)).await;
    assert_eq!(ended["outcome"], "captured", "{ended}");
    assert_eq!((ended["brand"].as_str(), ended["last4"].as_str()), (Some("visa"), Some("1111")));
    events.until(Duration::from_secs(60), |v| v["type"] == "call_ended" && v["call_id"] == id.as_str()).await;
    let (ok, log) = caller.await.unwrap();
    assert!(ok, "sipp reported a failed call:\n{log}");

    // Staff saw the count of digits, never which; no key event went out.
    let mine: Vec<&serde_json::Value> = events.seen.iter().filter(|v| v["call_id"] == id.as_str()).collect();
    let most =
        mine.iter().filter(|v| v["type"] == "secure_capture_progress").filter_map(|v| v["digits"].as_u64()).max();
    assert_eq!(most, Some(16));
    assert!(!mine.iter().any(|v| v["type"] == "dtmf"), "a key event during the capture");
    for ev in &mine {
        assert!(!leaks(&ev.to_string()), "card digits in an event: {ev}");
    }
    let finals = events.finals(&id);
    assert!(finals.to_lowercase().contains("order"), "the speech before the capture is transcribed: {finals}");

    // The call's record: no keys, the pause marked, the card's brand and last four in the case file.
    let (status, call) = server.get(&format!("/api/calls/{id}"));
    assert_eq!(status, 200);
    assert_eq!(call["dtmf"], "", "{call}");
    assert!(!leaks(&call.to_string()), "card digits in the call's record: {call}");
    let spans = call["recording_paused"].as_array().expect("recording_paused");
    assert_eq!(spans.len(), 1, "{call}");
    assert_eq!(spans[0]["reason"], "secure_card_capture");
    let (from, to) = (spans[0]["from_ms"].as_u64().unwrap(), spans[0]["to_ms"].as_u64().unwrap());
    assert!(to > from + 3000, "{from}..{to}");
    assert!(call["case_file"].to_string().contains("visa ending in 1111"), "{}", call["case_file"]);

    // The recording: silence on both channels through the capture; the sidecar says why.
    let sidecar = std::fs::read_to_string(rec.join(format!("{id}.json"))).expect("recording sidecar");
    assert!(sidecar.contains("secure_card_capture") && !leaks(&sidecar), "{sidecar}");
    let mut wav = hound::WavReader::open(rec.join(format!("{id}.wav"))).unwrap();
    let rate = wav.spec().sample_rate as u64;
    let samples: Vec<i16> = wav.samples::<i16>().map(Result::unwrap).collect();
    let (a, b) = (((from + 500) * rate / 1000 * 2) as usize, ((to - 500) * rate / 1000 * 2) as usize);
    assert!(b <= samples.len(), "the recording covers the capture ({} samples)", samples.len());
    let loudest = samples[a..b].iter().map(|s| s.unsigned_abs()).max().unwrap_or(0);
    assert_eq!(loudest, 0, "audio in the recording during the capture");
    let before = samples[..(from * rate / 1000 * 2) as usize].iter().map(|s| s.unsigned_abs()).max().unwrap_or(0);
    assert!(before > 1000, "the call before the capture is recorded");

    // Nor in the log or any page of the database.
    assert!(!server.log().lines().any(leaks), "card digits in the log");
    for f in [db.clone(), db.with_extension("db-wal")] {
        if let Ok(bytes) = std::fs::read(&f) {
            assert!(!leaks(&String::from_utf8_lossy(&bytes)), "card digits in {}", f.display());
        }
    }
}
