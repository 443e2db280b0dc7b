//! Secure card capture on a real SIP call (sipp, G.711 RTP): the caller speaks, a supervisor
//! starts the capture over the API, and the caller keys a card number both as in-band tones
//! in the audio and as RFC 4733 events. The card is captured (brand and last four digits);
//! the digits appear in no event, transcript, REST record, recording, sidecar, log line or
//! database page, and the recording holds silence on both channels for the capture, with a
//! marker saying so.

mod common;

use std::time::Duration;

use fantoccini::Locator;

use common::browser::{accept_offer_as, browser, log_in_and_go_available, wait_page};
use common::server::{demo_server, have, sipp, tempdir, DESK};

const CARD: &str = "4111111111111111";

/// Whether `text` holds a run of the card's digits (8 or more in a row, however separated).
fn leaks(text: &str) -> bool {
    let joined: String = text.chars().filter(|c| !matches!(c, ' ' | ',' | '.' | '-')).collect();
    joined.contains("41111111") || joined.contains("1111111111")
}

/// A mono 8 kHz WAV of `samples`.
fn write_wav(path: &std::path::Path, samples: &[f32]) {
    let spec =
        hound::WavSpec { channels: 1, sample_rate: 8000, bits_per_sample: 16, sample_format: hound::SampleFormat::Int };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for s in samples {
        w.write_sample((s.clamp(-1.0, 1.0) * 32767.0) as i16).unwrap();
    }
    w.finalize().unwrap();
}

/// `keys` as in-band tones, 100 ms each with 100 ms between.
fn tones(keys: &str) -> Vec<f32> {
    let mut audio = Vec::new();
    for key in keys.chars() {
        audio.extend(dtmf_tone(key, 8000, 100));
        audio.extend(std::iter::repeat_n(0.0, 800));
    }
    audio
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
    audio.extend(tones(CARD));
    audio.extend(std::iter::repeat_n(0.0, 8000));
    let wav = dir.join("caller.wav");
    write_wav(&wav, &audio);
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

/// The assistant asks for the card itself: John (a simulated SIP caller, espeak's voice) asks to
/// pay his next instalment by card, keys his PIN, hears the assistant ask for the card and keys
/// it as RFC 4733 events. The instalment is paid through the back office's `pay_by_card`, and the
/// number appears in no event, record, log line or database page (the brand and last four digits
/// do, as PCI DSS allows).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_assistant_takes_a_card_payment_by_secure_capture() {
    assert!(have("espeak-ng"), "needs espeak-ng (scripts/setup installs it)");
    let (db, server) = demo_server("capture-assistant", &[("SWITCHBOARD_LOG", "debug")]);
    let store = switchboard::store::Store::open(&db).unwrap();
    let john = store.customer_by_phone("+15550100").unwrap().unwrap();
    let unpaid =
        |s: &switchboard::store::Store| s.payments(john.id).unwrap().iter().filter(|p| p.paid_on.is_none()).count();
    let unpaid_before = unpaid(&store);
    let mut events = server.events(None).await;
    let scenario = common::root().join("tests/scenarios/pay_by_card.toml");
    let (http, sip) = (format!("http://{}", server.http), server.sip.to_string());
    let summary = tokio::task::spawn_blocking(move || {
        let args = ["simulate", scenario.to_str().unwrap(), "--server", &http, "--sip", &sip, "--model", "tiny.en"];
        common::ok_stdout(&[&args[..], &["--json"]].concat())
    })
    .await
    .unwrap();
    let summary: serde_json::Value = serde_json::from_str(summary.lines().last().unwrap()).unwrap();
    let said: Vec<&str> = summary["assistant_said"].as_array().unwrap().iter().filter_map(|t| t.as_str()).collect();
    let said = said.join(" | ");
    eprintln!("assistant said: {said}");
    assert!(said.contains("by card") && said.contains("key your card number"), "{summary}");
    assert!(said.contains("The payment of 43 dollars is done"), "{said}");

    let id = summary["call_id"].as_str().unwrap().to_string();
    events.until(Duration::from_secs(30), |v| v["type"] == "call_ended" && v["call_id"] == id.as_str()).await;
    let mine: Vec<&serde_json::Value> = events.seen.iter().filter(|v| v["call_id"] == id.as_str()).collect();
    let began = mine.iter().find(|v| v["type"] == "secure_capture_started").expect("a capture");
    assert_eq!(began["by"], "assistant");
    let ended = mine.iter().find(|v| v["type"] == "secure_capture_ended").expect("the capture's end");
    assert_eq!((ended["outcome"].as_str(), ended["last4"].as_str()), (Some("captured"), Some("1111")), "{ended}");
    for ev in &mine {
        assert!(!leaks(&ev.to_string()), "card digits in an event: {ev}");
    }
    // The PIN keyed before the capture is a key event; none of the card's keys is.
    let keys: String = mine.iter().filter(|v| v["type"] == "dtmf").filter_map(|v| v["digit"].as_str()).collect();
    assert!(!keys.contains("41"), "card keys as events: {keys}");

    let (status, call) = server.get(&format!("/api/calls/{id}"));
    assert_eq!(status, 200);
    assert!(!leaks(&call.to_string()), "card digits in the call's record: {call}");
    assert!(call.to_string().contains("pay_by_card"), "{call}");

    // The instalment is paid (the database keeps the brand and last four only: checked below).
    assert_eq!(unpaid(&store), unpaid_before - 1, "one instalment paid");
    drop(store);
    assert!(!server.log().lines().any(leaks), "card digits in the log");
    for f in [db.clone(), db.with_extension("db-wal")] {
        if let Ok(bytes) = std::fs::read(&f) {
            assert!(!leaks(&String::from_utf8_lossy(&bytes)), "card digits in {}", f.display());
        }
    }
}

/// The agent's side in a real browser: Priya (headless Chromium) has a simulated SIP caller's
/// fraud call. Key tones in the caller's audio reach her browser before a capture; she clicks
/// "Take card securely"; the caller keys the card (RFC 4733) and plays the same tones in-band
/// while the capture runs: her browser receives no audio energy until the capture ends.
#[test]
fn the_agents_browser_hears_no_key_tones_during_secure_capture() {
    assert!(have("chromedriver"), "needs chromium-driver (scripts/setup)");
    let dir = tempdir("capture-agent");
    let (_, server) = demo_server("capture-agent", DESK);
    let base = format!("http://{}", server.http);
    // Priya's microphone is silent; the caller's key tones are files the scenario plays.
    let silence = dir.join("silence.wav");
    write_wav(&silence, &vec![0.0; 8000]);
    let (control, card) = (dir.join("control-tones.wav"), dir.join("card-tones.wav"));
    write_wav(&control, &tones("41114111"));
    write_wav(&card, &tones(CARD));
    let scenario = dir.join("capture_agent.toml");
    std::fs::write(
        &scenario,
        format!(
            r##"caller = "+15550100"
[[turns]]
say = "There is a charge on my card that I don't recognize. I never made this purchase."
[handover]
stay_s = 120
[[handover.steps]]
wait_for = "agent_joined"
after_ms = 3000
wav = "{control}"
[[handover.steps]]
wait_for = "secure_capture_started"
after_ms = 11000
dtmf = "{CARD}"
[[handover.steps]]
wait_for = "secure_capture_progress"
after_ms = 5500
wav = "{card}"
[[handover.steps]]
wait_for = "secure_capture_progress"
after_ms = 4500
dtmf = "#"
"##,
            control = control.display(),
            card = card.display()
        ),
    )
    .unwrap();

    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let _guard = rt.enter();
    let (_driver, priya) = rt.block_on(browser(&silence, true));
    rt.block_on(log_in_and_go_available(&priya, &base, "priya"));
    let mut events = rt.block_on(server.events(None));
    let caller = common::simulate_file_in_background(&server, scenario);
    let routed = rt.block_on(events.next_of("call_routed", Duration::from_secs(90)));
    let call = routed["call_id"].as_str().unwrap().to_string();
    rt.block_on(accept_offer_as(&priya, &call, "priya"));
    // Outside a capture the tones reach her (3 s after she joins; nobody else speaks then).
    rt.block_on(priya.execute("window.switchboard.inboundLevel = 0;", vec![])).unwrap();
    let s = rt.block_on(wait_page(&priya, Duration::from_secs(15), "the key tones before the capture", |s| {
        s["inboundLevel"].as_f64().unwrap_or(0.0) > 0.05
    }));
    let heard_before = s["inboundLevel"].as_f64().unwrap();
    std::thread::sleep(Duration::from_secs(2));
    rt.block_on(async { priya.find(Locator::Id("secure-capture")).await.unwrap().click().await.unwrap() });
    rt.block_on(
        events
            .until(Duration::from_secs(10), |v| v["type"] == "secure_capture_started" && v["call_id"] == call.as_str()),
    );
    // The prompt plays (she hears it); once all 16 keys are in, the tones follow in-band.
    rt.block_on(events.until(Duration::from_secs(40), |v| {
        v["type"] == "secure_capture_progress" && v["call_id"] == call.as_str() && v["digits"] == 16
    }));
    rt.block_on(priya.execute("window.switchboard.inboundLevel = 0;", vec![])).unwrap();
    let ended = rt.block_on(
        events.until(Duration::from_secs(30), |v| v["type"] == "secure_capture_ended" && v["call_id"] == call.as_str()),
    );
    let during = rt.block_on(common::browser::page_state(&priya))["inboundLevel"].as_f64().unwrap();
    println!("Priya's browser: peak level {heard_before:.3} for tones before the capture, {during:.4} during it");
    assert_eq!(ended["outcome"], "captured", "{ended}");
    assert!(during < 0.01, "the agent's browser received audio during the capture: peak {during}");
    // Her audio was live all along: the confirmation said to the caller after the capture
    // reaches her.
    let s = rt.block_on(wait_page(&priya, Duration::from_secs(15), "audio after the capture", |s| {
        s["capture"] == "captured" && s["inboundLevel"].as_f64().unwrap_or(0.0) > 0.02
    }));
    println!("after the capture: peak level {}", s["inboundLevel"]);
    assert!(!s.to_string().contains("41111111"), "digits on the desktop: {s}");
    rt.block_on(async { priya.find(Locator::Id("hangup")).await.unwrap().click().await.unwrap() });
    let (summary, _) = common::summary_and_heard(&caller.join().unwrap());
    assert!(!events.seen.iter().any(|v| v["type"] == "dtmf" && v["call_id"] == call.as_str()), "{summary}");
    let _ = rt.block_on(priya.close());
}
