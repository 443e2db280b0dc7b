//! A provider media stream (Twilio Media Streams JSON over WebSocket) carries a speech
//! fixture in real time; the transcript arrives, the assistant's welcome comes back as outbound
//! `media` messages until the caller speaks over it (then a `clear`), and `stop` ends the call. A stream that sends
//! something other than JSON is closed with a reason and does not disturb the server.

mod common;

use std::time::Duration;

use base64::Engine as _;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use common::server::Server;
use common::{fixture, words};

fn mulaw_chunks(wav: &str) -> Vec<String> {
    let mut r = hound::WavReader::open(fixture(wav)).unwrap();
    assert_eq!(r.spec().sample_rate, 8000);
    let pcm: Vec<f32> = r.samples::<i16>().map(|s| s.unwrap() as f32 / 32768.0).collect();
    let b64 = base64::engine::general_purpose::STANDARD;
    pcm.chunks(160).map(|c| b64.encode(switchboard::media::g711::Law::Ulaw.encode(c))).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twilio_stream_is_transcribed_hears_the_assistant_and_can_interrupt_it() {
    let server = Server::start(&[]);
    let mut events = server.events(None).await;
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{}/media-stream", server.http)).await.unwrap();
    let sid = "MZ0123456789";
    ws.send(Message::Text(json!({"event":"connected","protocol":"Call","version":"1.0.0"}).to_string().into()))
        .await
        .unwrap();
    let start = json!({"event":"start","sequenceNumber":"1","streamSid":sid,"start":{
        "accountSid":"AC1","streamSid":sid,"callSid":"CA42","tracks":["inbound"],
        "customParameters":{"From":"+46701234567"},
        "mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}}});
    ws.send(Message::Text(start.to_string().into())).await.unwrap();
    let started = events.next_of("call_started", Duration::from_secs(10)).await;
    assert_eq!(
        (started["transport"].as_str(), started["caller"].as_str()),
        (Some("media_stream"), Some("+46701234567"))
    );
    let id = started["call_id"].as_str().unwrap().to_string();
    let mut only_this = server.events(Some(&id)).await;

    // Send the caller's audio in real time while collecting what the server sends back.
    let (mut tx, mut rx) = ws.split();
    let reader = tokio::spawn(async move {
        let mut got: Vec<Value> = Vec::new();
        while let Some(Ok(m)) = rx.next().await {
            if let Message::Text(t) = m {
                got.push(serde_json::from_str(t.as_str()).unwrap());
            }
        }
        got
    });
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    for (i, chunk) in mulaw_chunks("order_status_8k.wav").into_iter().enumerate() {
        tick.tick().await;
        let m = json!({"event":"media","sequenceNumber":(i+2).to_string(),"streamSid":sid,
            "media":{"track":"inbound","chunk":(i+1).to_string(),"timestamp":(i*20).to_string(),"payload":chunk}});
        tx.send(Message::Text(m.to_string().into())).await.unwrap();
    }
    tx.send(Message::Text(
        json!({"event":"dtmf","streamSid":sid,"dtmf":{"track":"inbound_track","digit":"9"}}).to_string().into(),
    ))
    .await
    .unwrap();
    let fin = events.next_of("transcript_final", Duration::from_secs(30)).await;
    assert_eq!(fin["call_id"], id.as_str());
    let text = words(fin["text"].as_str().unwrap());
    assert!(text.contains("order") && text.contains("number"), "{text}");
    tx.send(Message::Text(
        json!({"event":"stop","sequenceNumber":"999","streamSid":sid,"stop":{"callSid":"CA42"}}).to_string().into(),
    ))
    .await
    .unwrap();
    let ended = events.next_of("call_ended", Duration::from_secs(30)).await;
    assert_eq!(ended["reason"], "caller_hangup");
    assert!(events.seen.iter().any(|v| v["type"] == "dtmf" && v["digit"] == "9"));
    // The per-call subscription saw the same call's events and nothing else.
    only_this.next_of("call_ended", Duration::from_secs(5)).await;
    assert!(only_this.seen.iter().all(|v| v["call_id"] == id.as_str()));
    assert!(only_this.types().contains(&"transcript_final".to_string()));

    let got = tokio::time::timeout(Duration::from_secs(10), reader).await.expect("server closes the socket").unwrap();
    let media: Vec<&Value> = got.iter().filter(|v| v["event"] == "media").collect();
    // The assistant's welcome started playing (20 ms per message, addressed to our stream)...
    let welcome = events.seen.iter().find(|v| v["type"] == "assistant_replied").expect("the assistant answered");
    assert!(welcome["text"].as_str().unwrap().starts_with("Thank you for calling"), "{welcome}");
    assert!(media.len() >= 25, "{} outbound media messages", media.len());
    assert!(media.iter().all(|m| m["streamSid"] == sid));
    let first =
        base64::engine::general_purpose::STANDARD.decode(media[0]["media"]["payload"].as_str().unwrap()).unwrap();
    assert_eq!(first.len(), 160);
    // ... until the caller spoke over it: playback stopped and the provider was told to drop
    // what it had buffered (barge-in).
    assert!(events.seen.iter().any(|v| v["type"] == "assistant_interrupted"), "{:?}", events.types());
    assert!(got.iter().any(|v| v["event"] == "clear"), "a clear after the barge-in");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_json_or_wrong_first_message_closes_only_that_stream() {
    let server = Server::start(&[]);
    for (first, want) in [
        ("this is not json", "invalid message"),
        (r#"{"event":"media","media":{"payload":"AA=="}}"#, "expected a start"),
    ] {
        let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{}/media-stream", server.http)).await.unwrap();
        ws.send(Message::Text(first.into())).await.unwrap();
        let close = loop {
            match tokio::time::timeout(Duration::from_secs(5), ws.next()).await.expect("closed promptly") {
                Some(Ok(Message::Close(Some(f)))) => break f,
                Some(Ok(_)) => continue,
                other => panic!("expected a close frame, got {other:?}"),
            }
        };
        assert!(close.reason.contains(want), "{:?}", close.reason);
    }
    // A stream that starts properly and then sends garbage ends as a call with a reason.
    let mut events = server.events(None).await;
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{}/media-stream", server.http)).await.unwrap();
    let start = json!({"event":"start","streamSid":"MZ1","start":{"streamSid":"MZ1","callSid":"CA1"}});
    ws.send(Message::Text(start.to_string().into())).await.unwrap();
    ws.send(Message::Text("{{{".into())).await.unwrap();
    let ended = events.next_of("call_ended", Duration::from_secs(20)).await;
    assert!(ended["reason"].as_str().unwrap().starts_with("transport_error"), "{ended}");
    // The server still serves.
    assert_eq!(server.get("/api/calls").0, 200);
    assert_eq!(server.get("/healthz").0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_end_at_the_configured_duration_limit() {
    let server = Server::start(&[("SWITCHBOARD__CALLS__MAX_DURATION_S", "2")]);
    let mut events = server.events(None).await;
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{}/media-stream", server.http)).await.unwrap();
    let start = json!({"event":"start","streamSid":"MZ9","start":{"streamSid":"MZ9","callSid":"CA9"}});
    ws.send(Message::Text(start.to_string().into())).await.unwrap();
    let started = events.next_of("call_started", Duration::from_secs(10)).await;
    assert_eq!(started["caller"], "CA9", "without a From parameter the call SID identifies the caller");
    let ended = events.next_of("call_ended", Duration::from_secs(15)).await;
    assert_eq!(ended["reason"], "max_duration");
    let ms = ended["duration_ms"].as_u64().unwrap();
    assert!((2000..6000).contains(&ms), "{ms}");
    // The provider's socket is closed normally.
    loop {
        match tokio::time::timeout(Duration::from_secs(5), ws.next()).await.expect("closed") {
            Some(Ok(Message::Close(Some(f)))) => {
                assert_eq!(u16::from(f.code), 1000);
                break;
            }
            Some(Ok(_)) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
}
