//! Nothing is lost in a crash: three provider media-stream calls carry real speech into the
//! real server (recording on, a demo database on disk); once each has a final turn in the
//! database the server is killed with SIGKILL and started again on the same database. Every
//! call is then listed with its transcript so far and the end reason `server_crash`, has its
//! interaction record, and its recording plays (hound) with the audio so far and its JSON.
//!
//! And history only from verified callers: a web caller who types a demo customer's number
//! (and verifies nothing) adds nothing to that customer's previous contacts.

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use base64::Engine as _;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use common::ok_stdout;
use common::server::{tempdir, Server};

fn mulaw_chunks(wav: &str) -> Vec<String> {
    let mut r = hound::WavReader::open(common::fixture(wav)).unwrap();
    assert_eq!(r.spec().sample_rate, 8000);
    let pcm: Vec<f32> = r.samples::<i16>().map(|s| s.unwrap() as f32 / 32768.0).collect();
    let b64 = base64::engine::general_purpose::STANDARD;
    pcm.chunks(160).map(|c| b64.encode(switchboard::media::g711::Law::Ulaw.encode(c))).collect()
}

/// A caller on a Twilio-format media stream: the fixture in real time, then quiet line noise
/// until the connection goes (the server is killed under it).
async fn stream_call(http: std::net::SocketAddr, sid: String, from: String, wav: &'static str) {
    let Ok((ws, _)) = tokio_tungstenite::connect_async(format!("ws://{http}/media-stream")).await else { return };
    let (mut tx, mut rx) = ws.split();
    // Drain what the server plays back.
    tokio::spawn(async move { while let Some(Ok(_)) = rx.next().await {} });
    let connected = json!({"event":"connected","protocol":"Call","version":"1.0.0"});
    let start = json!({"event":"start","sequenceNumber":"1","streamSid":sid,"start":{
        "accountSid":"AC1","streamSid":sid,"callSid":format!("CA{sid}"),"tracks":["inbound"],
        "customParameters":{"From":from},
        "mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}}});
    for m in [connected, start] {
        if tx.send(Message::Text(m.to_string().into())).await.is_err() {
            return;
        }
    }
    let quiet: Vec<f32> = (0..160).map(|i| ((i as f32) * 0.7).sin() * 0.002).collect();
    let quiet = base64::engine::general_purpose::STANDARD.encode(switchboard::media::g711::Law::Ulaw.encode(&quiet));
    let speech = mulaw_chunks(wav);
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    for i in 0.. {
        tick.tick().await;
        let payload = speech.get(i).unwrap_or(&quiet);
        let m = json!({"event":"media","sequenceNumber":(i+2).to_string(),"streamSid":sid,
            "media":{"track":"inbound","chunk":(i+1).to_string(),"timestamp":(i*20).to_string(),"payload":payload}});
        if tx.send(Message::Text(m.to_string().into())).await.is_err() {
            return;
        }
    }
}

fn recording_env<'a>(db: &'a str, rec: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("SWITCHBOARD__STORE__PATH", db),
        ("SWITCHBOARD__RECORDING__ENABLED", "true"),
        ("SWITCHBOARD__RECORDING__DIR", rec),
    ]
}

/// Wait for the server to log `needle` (its log is read on another thread).
fn wait_log(server: &Server, needle: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !server.log().contains(needle) {
        assert!(Instant::now() < deadline, "no {needle:?} in the log:\n{}", server.log());
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Samples of a WAV and how many are not silence.
fn wav_samples(path: &Path) -> (u32, usize) {
    let mut r = hound::WavReader::open(path).unwrap_or_else(|e| panic!("{} is not a valid WAV: {e}", path.display()));
    let samples: Vec<i16> = r.samples::<i16>().map(|s| s.unwrap()).collect();
    (r.spec().sample_rate, samples.iter().filter(|s| s.unsigned_abs() > 300).count())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_server_leaves_every_call_on_record_with_its_transcript_and_a_playable_recording() {
    let dir = tempdir("crash");
    let (db, rec) = (dir.join("bo.db"), dir.join("recordings"));
    ok_stdout(&["demo-data", "--db", db.to_str().unwrap(), "--customers", "12"]);
    let env = recording_env(db.to_str().unwrap(), rec.to_str().unwrap());
    let mut server = Server::start(&env);
    let mut events = server.events(None).await;

    // Three callers, one of them with a demo customer's number (never verified).
    let callers = [
        ("MZa1", "+15550100", "order_status_8k.wav"),
        ("MZb2", "+46701234567", "refund_8k.wav"),
        ("MZc3", "+4915112345678", "payment_due_8k.wav"),
    ];
    let mut streams = Vec::new();
    for (sid, from, wav) in callers {
        streams.push(tokio::spawn(stream_call(server.http, sid.into(), from.into(), wav)));
    }
    let mut ids: HashMap<String, String> = HashMap::new(); // caller -> call id
    while ids.len() < callers.len() {
        let v = events.next_of("call_started", Duration::from_secs(20)).await;
        ids.insert(v["caller"].as_str().unwrap().into(), v["call_id"].as_str().unwrap().into());
    }
    // Each call has said something...
    for id in ids.values() {
        let id = id.clone();
        events
            .find(Duration::from_secs(180), move |v| {
                v["type"] == "transcript_final"
                    && v["call_id"] == id.as_str()
                    && !v["text"].as_str().unwrap().is_empty()
            })
            .await;
    }
    // ... and it is in the database (written off the call, soon after the event).
    let store = switchboard::store::Store::open(&db).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    for id in ids.values() {
        while store.stored_call(id).unwrap().is_none_or(|c| c.turns.is_empty()) {
            assert!(Instant::now() < deadline, "call {id}: no turn in the database");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let first_turn: HashMap<String, String> =
        ids.values().map(|id| (id.clone(), store.stored_call(id).unwrap().unwrap().turns[0].text.clone())).collect();
    for (id, text) in &first_turn {
        assert!(events.finals(id).contains(text.as_str()), "stored turn {text:?} is what the events said");
    }
    // Let the recordings' headers catch up once more (they are brought up to date every
    // second of audio), then kill.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    for s in &streams {
        s.abort();
    }
    // Killed: the recordings already play up to their last header update.
    for id in ids.values() {
        let (rate, voiced) = wav_samples(&rec.join(format!("{id}.wav")));
        assert_eq!(rate, 8000);
        assert!(voiced > 0, "call {id}: the recording has the caller's audio before any repair");
    }
    drop(server);

    let server = Server::start(&env);
    wait_log(&server, "closed as server_crash");
    let (status, list) = server.get("/api/calls");
    assert_eq!(status, 200);
    for (caller, id) in &ids {
        let c = list
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id.as_str())
            .unwrap_or_else(|| panic!("{id} in {list}"));
        assert_eq!((c["state"].as_str(), c["end_reason"].as_str()), (Some("ended"), Some("server_crash")), "{c}");
        assert_eq!(c["caller"], caller.as_str());
        assert!(c["ended_at"].as_str().is_some_and(|e| e >= c["started_at"].as_str().unwrap()), "{c}");
        let (status, call) = server.get(&format!("/api/calls/{id}"));
        assert_eq!(status, 200, "{call}");
        assert_eq!(call["transcript"][0]["text"], first_turn[id].as_str(), "{call}");
        assert_eq!(call["transport"], "media_stream");

        // On record as a contact, linked to no customer (nobody verified).
        let i = store.interaction_of_call(id).unwrap().unwrap_or_else(|| panic!("{id}: no interaction"));
        assert!(i.outcome.contains("server_crash"), "{i:?}");
        assert_eq!((i.customer_id, i.channel.as_str()), (None, "media_stream"));
        assert!(i.ended_at.is_some());

        // The recording plays, header repaired to all the audio in the file, with its JSON.
        let wav = rec.join(format!("{id}.wav"));
        let reader = hound::WavReader::open(&wav).unwrap();
        assert_eq!(reader.len() as u64 * 2 + 44, std::fs::metadata(&wav).unwrap().len(), "header covers the file");
        assert!(reader.duration() >= 8000, "call {id}: {} samples", reader.duration());
        let json: Value = serde_json::from_slice(&std::fs::read(rec.join(format!("{id}.json"))).unwrap()).unwrap();
        assert_eq!((json["id"].as_str(), json["end_reason"].as_str()), (Some(id.as_str()), Some("server_crash")));
        assert_eq!(json["transcript"][0]["text"], first_turn[id].as_str());
    }
    let john = store.customer_by_phone("+15550100").unwrap().unwrap();
    let contacts = store.interactions(john.id).unwrap();
    assert!(
        contacts.iter().all(|c| !ids.values().any(|id| c.call_id.as_deref() == Some(id.as_str()))),
        "an unverified call from John's number is not John's contact: {contacts:?}"
    );
    // A second start finds nothing more to close: one record per call, still listed.
    let (status, _) = server.terminate();
    assert!(status.success());
    let again = Server::start(&env);
    let (_, list) = again.get("/api/calls");
    let crashed = list.as_array().unwrap().iter().filter(|c| c["end_reason"] == "server_crash").count();
    assert_eq!(crashed, ids.len(), "{list}");
    let db = rusqlite::Connection::open(&db).unwrap();
    for id in ids.values() {
        let n: i64 = db.query_row("SELECT COUNT(*) FROM interactions WHERE call_id = ?1", [id], |r| r.get(0)).unwrap();
        assert_eq!(n, 1, "call {id}");
    }
    drop(again);
    let _ = std::fs::remove_dir_all(dir);
}

/// A syntactically complete browser-style offer (ICE never completes: no browser behind it).
fn offer() -> String {
    let fp = (0..32).map(|i| format!("{:02X}", i * 7 % 256)).collect::<Vec<_>>().join(":");
    format!(
        "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n\
         a=msid-semantic: WMS\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 127.0.0.1\r\na=rtcp:9 IN IP4 0.0.0.0\r\n\
         a=candidate:1 1 udp 2122260223 127.0.0.1 9 typ host\r\na=ice-ufrag:abcd\r\n\
         a=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=ice-options:trickle\r\na=fingerprint:sha-256 {fp}\r\n\
         a=setup:actpass\r\na=mid:0\r\na=sendrecv\r\na=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\n\
         a=fmtp:111 minptime=10;useinbandfec=1\r\na=ssrc:1001 cname:test\r\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unverified_web_caller_with_a_customers_number_adds_nothing_to_their_history() {
    let dir = tempdir("unverified");
    let db = dir.join("bo.db");
    ok_stdout(&["demo-data", "--db", db.to_str().unwrap(), "--customers", "12"]);
    let server = Server::start(&[
        ("SWITCHBOARD__STORE__PATH", db.to_str().unwrap()),
        ("SWITCHBOARD__WEBRTC__UDP_ADDRS", r#"["127.0.0.1:0"]"#),
        ("SWITCHBOARD__WEBRTC__ICE_TIMEOUT_S", "3"),
    ]);
    let store = switchboard::store::Store::open(&db).unwrap();
    let john = store.customer_by_phone("+15550100").unwrap().unwrap();
    let before = store.interactions(john.id).unwrap();
    let mut events = server.events(None).await;

    let (status, _, answer) =
        server.request("POST", "/api/webrtc/offer", None, Some(json!({"sdp": offer(), "caller": "+15550100"})));
    assert_eq!(status, 200, "{answer}");
    let id = answer["call_id"].as_str().unwrap().to_string();
    // The assistant recognised the number (the case file names John, unverified)...
    let case = events
        .until(Duration::from_secs(20), |v| {
            v["type"] == "case_file_updated"
                && v["call_id"] == id.as_str()
                && !v["case_file"]["caller"]["name"].is_null()
        })
        .await;
    assert_eq!(
        (case["case_file"]["caller"]["name"].as_str(), case["case_file"]["caller"]["verified"].as_bool()),
        (Some("John Carter"), Some(false))
    );
    let ended =
        events.until(Duration::from_secs(30), |v| v["type"] == "call_ended" && v["call_id"] == id.as_str()).await;
    assert_eq!(ended["reason"], "ice_timeout");

    // ... but the call is on record for no one: John's previous contacts are as they were.
    let i = store.interaction_of_call(&id).unwrap().expect("the call is still on record");
    assert_eq!((i.customer_id, i.channel.as_str()), (None, "web"), "{i:?}");
    assert_eq!(store.interactions(john.id).unwrap(), before);
    // The journal writes off the call task, in batches: its end lands shortly after call_ended.
    let mut call = store.stored_call(&id).unwrap().expect("journalled");
    for _ in 0..100 {
        if call.end_reason.is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
        call = store.stored_call(&id).unwrap().expect("journalled");
    }
    assert_eq!((call.customer_id, call.end_reason.as_deref()), (None, Some("ice_timeout")));
    // The calls API still has it, after it ended.
    let (status, got) = server.get(&format!("/api/calls/{id}"));
    assert_eq!((status, got["end_reason"].as_str()), (200, Some("ice_timeout")));
    drop(server);
    let _ = std::fs::remove_dir_all(dir);
}
