//! A web caller who talks over the assistant's greeting (issue 19, item 6). Headless Chromium
//! calls with a real recorded sentence as its microphone (LJSpeech, from the shared datasets),
//! once starting during the greeting and once after it; both transcripts are scored against
//! the sentence's label. The browser's echo canceller ducks the microphone while the
//! assistant's audio plays, so the page stops that audio the moment it hears the caller
//! (`window.switchboard.bargeIns`) and tells the server, which stops sending it.
//! Word errors are printed for both; the test asserts the barge-in happened on the page and
//! on the server and that both callers were heard.

mod common;

use std::path::Path;
use std::time::Duration;

use fantoccini::Locator;

use common::browser::{browser, wait_page, write_wav_16k};
use common::server::{tempdir, Events, Server};
use switchboard::eval::wer::wer;
use switchboard::media::decode::read_mono_at;

/// A held-out sentence (not in any fixture or training set of the project): 24 words.
const SENTENCE: &str = "english-read-asr/ljspeech/LJ001-0003.flac";

fn label(data: &Path) -> String {
    let labels = std::fs::read_to_string(data.join("english-read-asr/labels.tsv")).unwrap();
    let file = SENTENCE.trim_start_matches("english-read-asr/");
    labels.lines().find(|l| l.starts_with(file)).and_then(|l| l.split('\t').nth(2)).unwrap().to_string()
}

/// The sentence after `lead_s` of silence, as a 16 kHz WAV for Chromium's fake microphone.
fn microphone(data: &Path, dir: &Path, lead_s: f32) -> (std::path::PathBuf, f32) {
    let speech = read_mono_at(data.join(SENTENCE), 16_000).unwrap();
    let path = dir.join(format!("caller-{lead_s}.wav"));
    let lead = vec![0.0; (lead_s * 16_000.0) as usize];
    write_wav_16k(&path, &[&lead[..], &speech[..]].concat());
    (path, speech.len() as f32 / 16_000.0)
}

struct Heard {
    text: String,
    server_interrupted: bool,
    page_barge_ins: u64,
}

/// One browser call whose caller starts `lead_s` after the click; hung up once the sentence
/// and the assistant's answer to it are over.
async fn call(server: &Server, events: &mut Events, data: &Path, lead_s: f32) -> Heard {
    let dir = tempdir("web-barge-in");
    let (wav, speech_s) = microphone(data, &dir, lead_s);
    let (_driver, c) = browser(&wav, false).await;
    c.goto(&format!("http://{}/call", server.http)).await.unwrap();
    c.find(Locator::Id("call")).await.unwrap().click().await.unwrap();
    let started = events.next_of("call_started", Duration::from_secs(20)).await;
    let id = started["call_id"].as_str().unwrap().to_string();
    // The sentence, then time for its last turn to end and be decoded.
    tokio::time::sleep(Duration::from_secs_f32(lead_s + speech_s + 6.0)).await;
    let page = wait_page(&c, Duration::from_secs(5), "the page", |s| s["callId"] == id.as_str()).await;
    c.find(Locator::Id("call")).await.unwrap().click().await.unwrap();
    events.until(Duration::from_secs(30), |v| v["type"] == "call_ended" && v["call_id"] == id.as_str()).await;
    let server_interrupted =
        events.seen.iter().any(|v| v["type"] == "assistant_interrupted" && v["call_id"] == id.as_str());
    println!(
        "  page: first sound on the microphone at {} ms, barge-in at {} ms after the click",
        page["micOnsetMs"], page["bargeInAtMs"]
    );
    for f in events.seen.iter().filter(|v| v["type"] == "transcript_final" && v["call_id"] == id.as_str()) {
        println!("  final {}-{} ms ({}): {:?}", f["start_ms"], f["end_ms"], f["ended_by"], f["text"]);
    }
    let _ = c.close().await;
    Heard { text: events.finals(&id), server_interrupted, page_barge_ins: page["bargeIns"].as_u64().unwrap_or(0) }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_web_caller_talking_over_the_greeting_is_heard_as_well_as_one_who_waits() {
    let Some(data) = common::datasets() else { return };
    let server = Server::start(&[("SWITCHBOARD__WEBRTC__UDP_ADDRS", r#"["127.0.0.1:0"]"#)]);
    let mut events = server.events(None).await;
    let reference = label(&data);
    // 2.5 s after the click is about 1.5 s into the greeting (it is some 7 s long); 12 s is
    // after it.
    let over = call(&server, &mut events, &data, 2.5).await;
    let after = call(&server, &mut events, &data, 12.0).await;
    let (e_over, e_after) = (wer(&reference, &over.text), wer(&reference, &after.text));
    println!("reference: {reference}");
    println!(
        "talking over the greeting: {}/{} words wrong, page barge-ins {}, server interrupted {}: {:?}",
        e_over.errors, e_over.ref_words, over.page_barge_ins, over.server_interrupted, over.text
    );
    println!(
        "after the greeting:        {}/{} words wrong, page barge-ins {}: {:?}",
        e_after.errors, e_after.ref_words, after.page_barge_ins, after.text
    );
    assert!(over.server_interrupted, "the greeting was not stopped on the server");
    assert!(over.page_barge_ins >= 1, "the page did not stop the greeting when the caller spoke");
    // The words: printed, not asserted (one sentence per call, and tiny.en's own slips, such
    // as repeating the sentence's end into the silence after it, move the count by a few).
    assert!(!over.text.is_empty() && !after.text.is_empty(), "nothing heard: {:?} {:?}", over.text, after.text);
}
