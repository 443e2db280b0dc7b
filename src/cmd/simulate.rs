//! `switchboard simulate SCENARIO.toml [--server URL] [--sip ADDR] [--json]`: a scripted caller
//! that places a real SIP/RTP call to a running server, speaks its turns (espeak-ng, or WAV
//! files) after the assistant finishes or over it (`barge_in`), presses keys, records and
//! transcribes what the assistant says, follows the server's events, and reports both sides,
//! the actions, the outcome and the latency from the end of each caller turn to the first
//! assistant audio.
//!
//! Scenario format (TOML):
//! ```toml
//! caller = "+15550100"            # the calling number (caller ID)
//! [[turns]]
//! say = "Where is my order four five six seven eight?"
//! voice = "espeak:en-us"           # optional; espeak:<voice>; rate / pitch optional
//! # or voice = "piper:en_US-joe-medium": the Piper voice from the models folder (rate is
//! # relative to 150 wpm and amplitude to 100; pitch does not apply)
//! [[turns]]
//! dtmf = "1234#"                   # keys instead of speech
//! [[turns]]
//! wav = "path/to/caller.wav"       # or a recording
//! barge_in = true                  # speak 1 s into the assistant's reply instead of after it
//! [[turns]]
//! say = "I'm calling about | my order"  # " | ": a pause mid-sentence
//! pause_ms = 700                   # of this length (default 700 ms)
//! [[turns]]
//! say = "Yes."
//! if_said = "Is that right"        # only if the assistant's last reply says this (else skipped)
//!
//! # After the hand-over (optional): stay on the line and act on the call's events.
//! [handover]
//! stay_s = 60                      # stay this long after the hand-over, or until hung up
//! always = true                    # also when the assistant kept the call (a supervisor may step in)
//! [[handover.steps]]
//! wait_for = "agent_joined"        # the next event of this type for the call
//! after_ms = 1000                  # then wait this long
//! say = "Hello? Is someone there?" # and speak (or dtmf / wav, as in a turn)
//! ```

mod scenario;
mod uac;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::{json, Value};

use crate::cmd::bench::percentile;
use crate::pipeline::Engine;
use scenario::{turn_audio, Handover, PiperVoices, Scenario};
use uac::{Call, Outgoing};

fn loud(frame: &[f32]) -> bool {
    let rms = (frame.iter().map(|x| x * x).sum::<f32>() / frame.len().max(1) as f32).sqrt();
    rms > 0.01
}

/// Wait until the assistant has spoken and then been quiet for `quiet`; returns when its audio
/// first started after `since` (None if it said nothing before `timeout`).
/// Stops early once `done()` holds (an agent took the call: what follows is not the reply).
async fn wait_for_reply(
    call: &Call,
    since: Instant,
    quiet: Duration,
    timeout: Duration,
    done: impl Fn() -> bool,
) -> Option<Instant> {
    let deadline = Instant::now() + timeout;
    loop {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let (first, last) = {
            let h = call.heard.lock().expect("heard");
            let loud_after: Vec<Instant> =
                h.frames.iter().filter(|(t, f)| *t >= since && loud(f)).map(|(t, _)| *t).collect();
            (loud_after.first().copied(), loud_after.last().copied())
        };
        if let (Some(first), Some(last)) = (first, last) {
            if last.elapsed() >= quiet {
                return Some(first);
            }
        }
        if Instant::now() > deadline || done() || call.server_hung_up().await {
            return first;
        }
    }
}

/// Events after which the caller may hear someone else (utterances are cut there).
const MIX_CHANGES: &[&str] = &[
    "agent_joined",
    "agent_left",
    "consult_requested",
    "consult_started",
    "consult_ended",
    "supervisor_joined",
    "supervisor_mode_changed",
    "supervisor_left",
    "taken_over",
];

/// Cut what the server played into utterances (gaps of 700 ms or more, and at each of `cuts`),
/// 8 kHz.
fn utterances(frames: &[(Instant, Vec<f32>)], cuts: &[Instant]) -> Vec<(Instant, Vec<f32>)> {
    let mut out: Vec<(Instant, Vec<f32>)> = Vec::new();
    let mut silent_run = 0usize;
    let mut prev: Option<Instant> = None;
    for (t, f) in frames {
        let cut = prev.is_some_and(|p| cuts.iter().any(|c| p < *c && *c <= *t));
        prev = Some(*t);
        if cut {
            silent_run = 35;
        }
        if loud(f) {
            if out.is_empty() || silent_run >= 35 {
                out.push((*t, Vec::new()));
            }
            silent_run = 0;
        } else {
            silent_run += 1;
        }
        if let Some(last) = out.last_mut() {
            if silent_run < 35 {
                last.1.extend_from_slice(f);
            }
        }
    }
    out
}

/// How long the assistant kept talking after the caller started speaking over it: from the
/// caller's speech onset to the end of the last loud frame we heard before the caller finished.
/// `None` when it was still talking in the caller's last 300 ms (it never stopped).
fn barge_in_stop_ms(frames: &[(Instant, Vec<f32>)], onset: Instant, caller_done: Instant) -> Option<u64> {
    let last_loud = frames.iter().rev().find(|(t, f)| *t >= onset && *t <= caller_done && loud(f)).map(|(t, _)| *t);
    match last_loud {
        None => Some(0),
        Some(t) if caller_done.saturating_duration_since(t) < Duration::from_millis(300) => None,
        Some(t) => Some((t + Duration::from_millis(20)).saturating_duration_since(onset).as_millis() as u64),
    }
}

/// What `run` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Print {
    /// The turns, what was said and heard, the outcome.
    Text,
    /// JSON lines, the last one the summary.
    Json,
    /// Nothing: the summary is returned.
    Quiet,
}

/// A sample above this is the caller's voice, not the silence a voice's clip starts and ends with.
const VOICED: f32 = 0.02;

/// Run a scenario against a server; returns the summary. `partials`: read the events with the
/// partial transcripts, so the call counts as followed live (partials are decoded); without
/// them (`--unwatched`, `bench reply`) it runs as the assistant's calls usually do, with
/// nobody watching.
pub async fn run(
    engine: Arc<Engine>,
    path: &Path,
    http: &str,
    sip: SocketAddr,
    print: Print,
    partials: bool,
) -> anyhow::Result<Value> {
    let scenario = Scenario::load(path)?;
    let base = path.parent().unwrap_or(Path::new(".")).to_path_buf();
    // Prepare every turn's audio first, so synthesis time is not counted as the caller's pause.
    let mut pipers = PiperVoices::default();
    let audio: Vec<Option<Vec<f32>>> = scenario
        .turns
        .iter()
        .map(|t| if t.dtmf.is_some() { Ok(None) } else { turn_audio(t, &base, &mut pipers).map(Some) })
        .collect::<anyhow::Result<_>>()?;
    let handover_audio: Vec<Option<Vec<f32>>> = scenario
        .handover
        .iter()
        .flat_map(|h| &h.steps)
        .map(|s| if s.dtmf.is_some() { Ok(None) } else { turn_audio(&s.turn(), &base, &mut pipers).map(Some) })
        .collect::<anyhow::Result<_>>()?;
    drop(pipers);
    let ws_url = format!("{}/api/events?partials={partials}", http.replacen("http", "ws", 1));
    // The events are staff-only: the simulator signs in with the server's service token.
    let mut req = tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(ws_url.as_str())?;
    if let Ok(t) = std::env::var("SWITCHBOARD_API_TOKEN") {
        req.headers_mut().insert("Authorization", format!("Bearer {t}").parse()?);
    }
    let (ws, _) = tokio_tungstenite::connect_async(req).await.map_err(|e| {
        anyhow::anyhow!("{ws_url}: {e} (the events need SWITCHBOARD_API_TOKEN set to the server's service token)")
    })?;
    let events = Arc::new(std::sync::Mutex::new(Vec::<Value>::new()));
    let sink = events.clone();
    let (_, mut read) = ws.split();
    // Each event is stamped with when it arrived (ms after `epoch`).
    let epoch = Instant::now();
    tokio::spawn(async move {
        while let Some(Ok(m)) = read.next().await {
            if let tokio_tungstenite::tungstenite::Message::Text(t) = m {
                if let Ok(mut v) = serde_json::from_str::<Value>(t.as_str()) {
                    v["received_ms"] = json!(epoch.elapsed().as_millis() as u64);
                    sink.lock().expect("events").push(v);
                }
            }
        }
    });

    let started = Instant::now();
    let call = Call::dial(sip, &scenario.caller).await?;
    // The welcome.
    let agent_joined = || event_seen(&events, &scenario.caller, "agent_joined");
    wait_for_reply(&call, started, Duration::from_millis(1200), Duration::from_secs(20), agent_joined).await;
    let mut latencies = Vec::new();
    // The same from the caller's last voiced sample (the voice's clip ends with silence).
    let mut voice_latencies = Vec::new();
    let mut turn_reports = Vec::new();
    // Barge-in turns: (turn index, caller speech onset, caller speech end).
    let mut barge_ins: Vec<(usize, Instant, Instant)> = Vec::new();
    for (i, t) in scenario.turns.iter().enumerate() {
        if call.server_hung_up().await || escalated(&events, &scenario.caller) {
            break;
        }
        if let Some(asked) = &t.if_said {
            let last = last_reply(&events, &scenario.caller);
            if !last.to_lowercase().contains(&asked.to_lowercase()) {
                turn_reports.push(json!({"turn": i + 1, "skipped": format!("the assistant did not say {asked:?}")}));
                continue;
            }
        }
        let sent_at = Instant::now();
        match (&audio[i], &t.dtmf) {
            (_, Some(d)) => call.send.send(Outgoing::Dtmf(d.clone())).await?,
            (Some(a), _) => call.send.send(Outgoing::Audio(a.clone())).await?,
            _ => {}
        }
        // Audio: its length; keys: 100 ms each plus 100 ms between them.
        let speech_ms = audio[i]
            .as_ref()
            .map(|a| a.len() as u64 / 8)
            .unwrap_or(t.dtmf.as_ref().map(|d| d.len() as u64 * 260).unwrap_or(0));
        // Wait until our audio is out, then for the reply.
        tokio::time::sleep(Duration::from_millis(speech_ms + 40)).await;
        let end_of_speech = *call.sent_until.lock().expect("sent");
        if let (true, Some(a)) = (t.barge_in, &audio[i]) {
            // Speech onset: the first sample above the noise floor (TTS starts with silence).
            let lead = a.iter().position(|x| x.abs() > VOICED).unwrap_or(0) as u64 / 8;
            barge_ins.push((i, sent_at + Duration::from_millis(lead), end_of_speech));
        }
        let reply_start = if t.barge_in || scenario.turns.get(i + 1).is_some_and(|n| n.barge_in) {
            // The next turn barges in: wait only for the reply to start, then 1 s into it.
            let first = wait_first_audio(&call, end_of_speech, Duration::from_secs(15)).await;
            tokio::time::sleep(Duration::from_millis(1000)).await;
            // Barge in mid-word, not in a pause between sentences.
            let deadline = Instant::now() + Duration::from_secs(3);
            while Instant::now() < deadline
                && !call.heard.lock().expect("heard").frames.last().is_some_and(|(_, f)| loud(f))
            {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            first
        } else {
            wait_for_reply(&call, end_of_speech, Duration::from_millis(1200), Duration::from_secs(25), agent_joined)
                .await
        };
        // Latency is measured for speech turns (keys are acted on at the fourth digit).
        let latency = reply_start
            .filter(|_| t.dtmf.is_none())
            .map(|s| s.saturating_duration_since(end_of_speech).as_millis() as u64);
        if let Some(l) = latency {
            latencies.push(l);
            // The clip's trailing silence: after its last sample above the noise floor.
            let tail_ms = audio[i]
                .as_ref()
                .and_then(|a| a.iter().rposition(|x| x.abs() > VOICED).map(|p| (a.len() - p - 1) as u64 / 8))
                .unwrap_or(0);
            voice_latencies.push(l + tail_ms);
        }
        let label = t.say.clone().or(t.dtmf.as_ref().map(|d| format!("[keys {d}]"))).unwrap_or_else(|| {
            format!("[wav {}]", t.wav.as_ref().map(|w| w.display().to_string()).unwrap_or_default())
        });
        turn_reports.push(json!({"turn": i + 1, "caller": label, "barge_in": t.barge_in,
            "sent_ms": sent_at.duration_since(started).as_millis() as u64, "latency_ms": latency}));
    }
    if let Some(h) = scenario.handover.as_ref().filter(|h| h.always || escalated(&events, &scenario.caller)) {
        after_handover(&call, h, &handover_audio, &events, &scenario.caller).await?;
    }
    let hung_up_by_server = call.server_hung_up().await;
    if !hung_up_by_server {
        call.hang_up().await?;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;

    // What the assistant said, transcribed from the audio we heard.
    let frames = std::mem::take(&mut call.heard.lock().expect("heard").frames);
    let stops: Vec<Option<u64>> = barge_ins.iter().map(|(_, on, done)| barge_in_stop_ms(&frames, *on, *done)).collect();
    for ((i, _, _), stop) in barge_ins.iter().zip(&stops) {
        if let Some(r) = turn_reports.get_mut(*i) {
            r["barge_in_stop_ms"] = json!(stop);
        }
    }
    let evs = events.lock().expect("events").clone();
    let call_id = evs
        .iter()
        .find(|v| v["type"] == "call_started" && v["caller"] == scenario.caller.as_str())
        .and_then(|v| v["call_id"].as_str().map(str::to_string))
        .unwrap_or_default();
    let mine: Vec<&Value> = evs.iter().filter(|v| v["call_id"] == call_id.as_str()).collect();
    // When the call's audio changed hands (an agent joined or left, a consult began or
    // ended): what was heard is cut there, so each utterance belongs to one side of it.
    let arrived = |v: &Value| epoch + Duration::from_millis(v["received_ms"].as_u64().unwrap_or(0));
    let cuts: Vec<Instant> =
        mine.iter().filter(|v| MIX_CHANGES.contains(&v["type"].as_str().unwrap_or(""))).map(|v| arrived(v)).collect();
    let timeline: Vec<Value> = mine
        .iter()
        .map(|v| json!({"type": v["type"], "at_ms": arrived(v).saturating_duration_since(started).as_millis() as u64}))
        .collect();
    let mut heard = Vec::new();
    for (at, samples) in utterances(&frames, &cuts) {
        let audio = crate::media::resample::resample_all(&samples, 8000, 16_000)?;
        let text = crate::cmd::eval::offline_transcribe(&engine, audio).await.unwrap_or_default();
        heard.push(json!({"at_ms": at.duration_since(started).as_millis() as u64, "text": text.trim()}));
    }
    let replies: Vec<&Value> = mine.iter().copied().filter(|v| v["type"] == "assistant_replied").collect();
    let actions: Vec<Value> =
        replies.iter().flat_map(|r| r["actions"].as_array().cloned().unwrap_or_default()).collect();
    let escalation = mine.iter().find(|v| v["type"] == "escalation_requested");
    // Resolved: the assistant did something for the caller in the back office (identifying
    // and verifying alone is not a resolution).
    let acted = actions.iter().any(|a| {
        a["ok"] == true && crate::assistant::dialogue::serves_the_caller(a["tool"].as_str().unwrap_or("verify"))
    });
    let outcome = match escalation {
        Some(_) => "escalated",
        None if acted => "resolved",
        None => "abandoned",
    };
    let mut sorted = latencies.clone();
    sorted.sort_unstable();
    let pct = |p: f64| (!sorted.is_empty()).then(|| percentile(&sorted, p));
    let summary = json!({
        "type": "summary",
        "scenario": path.display().to_string(),
        "call_id": call_id,
        "outcome": outcome,
        "escalation_reason": escalation.map(|e| e["reason"].clone()),
        "actions": actions,
        "turns": turn_reports,
        "assistant_said": replies.iter().map(|r| r["text"].clone()).collect::<Vec<_>>(),
        "assistant_heard": heard,
        // What the server heard the caller say, turn by turn, and why each turn ended.
        "caller_finals": mine
            .iter()
            .filter(|v| v["type"] == "transcript_final")
            .map(|v| json!({"text": v["text"], "ended_by": v["ended_by"], "latency_ms": v["latency_ms"]}))
            .collect::<Vec<_>>(),
        "events": timeline,
        "interruptions": mine.iter().filter(|v| v["type"] == "assistant_interrupted").count(),
        "barge_in_stop_ms": stops,
        "latencies_ms": latencies,
        "voice_latencies_ms": voice_latencies,
        "latency_p50_ms": pct(0.5),
        "latency_p95_ms": pct(0.95),
        "duration_ms": started.elapsed().as_millis() as u64,
    });
    if print == Print::Quiet {
        // The caller (a benchmark) reports from the summary.
    } else if print == Print::Json {
        for r in &replies {
            println!(
                "{}",
                json!({"type": "assistant", "text": r["text"], "intent": r["intent"], "actions": r["actions"]})
            );
        }
        println!("{summary}");
    } else {
        println!("scenario {} ({})", path.display(), scenario.description);
        for t in &summary["turns"].as_array().cloned().unwrap_or_default() {
            if let Some(why) = t["skipped"].as_str() {
                println!("  (turn {} skipped: {why})", t["turn"]);
                continue;
            }
            println!(
                "  caller: {}   (first assistant audio after {} ms)",
                t["caller"].as_str().unwrap_or(""),
                t["latency_ms"]
            );
            if let Some(stop) = t.get("barge_in_stop_ms") {
                println!("    barged in: the assistant stopped {stop} ms after the caller started");
            }
        }
        for r in &replies {
            println!("  assistant said: {}", r["text"].as_str().unwrap_or(""));
        }
        for h in &heard {
            println!("  heard at {:>6} ms: {}", h["at_ms"], h["text"].as_str().unwrap_or(""));
        }
        for a in &actions {
            println!(
                "  action: {} {} ({})",
                a["tool"].as_str().unwrap_or(""),
                a["detail"].as_str().unwrap_or(""),
                if a["ok"] == true { "ok" } else { "failed" }
            );
        }
        println!(
            "outcome {outcome}{}; latency p50 {:?} ms, p95 {:?} ms; {} ms",
            escalation.map(|e| format!(" ({})", e["reason"])).unwrap_or_default(),
            pct(0.5),
            pct(0.95),
            summary["duration_ms"]
        );
    }
    Ok(summary)
}

/// Whether this caller's call was handed over (the call is found by its caller number).
fn escalated(events: &std::sync::Mutex<Vec<Value>>, caller: &str) -> bool {
    event_seen(events, caller, "escalation_requested")
}

/// The text of the assistant's last reply on this caller's call ("" before the first).
fn last_reply(events: &std::sync::Mutex<Vec<Value>>, caller: &str) -> String {
    let evs = events.lock().expect("events");
    let id = evs.iter().find(|v| v["type"] == "call_started" && v["caller"] == caller).map(|v| v["call_id"].clone());
    id.and_then(|id| {
        evs.iter().rev().find(|v| v["type"] == "assistant_replied" && v["call_id"] == id).map(|v| v["text"].clone())
    })
    .and_then(|t| t.as_str().map(str::to_string))
    .unwrap_or_default()
}

/// Whether an event of `kind` arrived for this caller's call.
fn event_seen(events: &std::sync::Mutex<Vec<Value>>, caller: &str, kind: &str) -> bool {
    let evs = events.lock().expect("events");
    let Some(id) =
        evs.iter().find(|v| v["type"] == "call_started" && v["caller"] == caller).map(|v| v["call_id"].clone())
    else {
        return false;
    };
    evs.iter().any(|v| v["type"] == kind && v["call_id"] == id)
}

/// Stay on the line after the hand-over: each step waits for its event, then speaks or keys;
/// then wait until the server hangs up or `stay_s` is over.
async fn after_handover(
    call: &Call,
    h: &Handover,
    audio: &[Option<Vec<f32>>],
    events: &std::sync::Mutex<Vec<Value>>,
    caller: &str,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(h.stay_s);
    let mut seen: std::collections::HashMap<&str, usize> = Default::default();
    for (step, audio) in h.steps.iter().zip(audio) {
        let n = seen.entry(step.wait_for.as_str()).or_default();
        *n += 1;
        let wanted = *n;
        loop {
            let count = {
                let evs = events.lock().expect("events");
                let id = evs
                    .iter()
                    .find(|v| v["type"] == "call_started" && v["caller"] == caller)
                    .map(|v| v["call_id"].clone());
                evs.iter().filter(|v| v["type"] == step.wait_for.as_str() && Some(&v["call_id"]) == id.as_ref()).count()
            };
            if count >= wanted {
                break;
            }
            if Instant::now() >= deadline || call.server_hung_up().await {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        tokio::time::sleep(Duration::from_millis(step.after_ms)).await;
        match (audio, &step.dtmf) {
            (_, Some(d)) => call.send.send(Outgoing::Dtmf(d.clone())).await?,
            (Some(a), _) => call.send.send(Outgoing::Audio(a.clone())).await?,
            _ => {}
        }
    }
    while Instant::now() < deadline && !call.server_hung_up().await {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok(())
}

async fn wait_first_audio(call: &Call, since: Instant, timeout: Duration) -> Option<Instant> {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if let Some(t) =
            call.heard.lock().expect("heard").frames.iter().find(|(t, f)| *t >= since && loud(f)).map(|(t, _)| *t)
        {
            return Some(t);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 20 ms frames from a pattern: 'x' loud, '.' quiet.
    fn frames(start: Instant, pattern: &str) -> Vec<(Instant, Vec<f32>)> {
        pattern
            .chars()
            .enumerate()
            .map(|(i, c)| (start + Duration::from_millis(20 * i as u64), vec![if c == 'x' { 0.3 } else { 0.0 }; 160]))
            .collect()
    }

    #[test]
    fn barge_in_stop_is_the_end_of_the_last_loud_frame() {
        let t0 = Instant::now();
        // Talking, a 100 ms gap between words, talking, then quiet from frame 20 (400 ms)
        // until the answer at frame 60.
        let f = frames(t0, &format!("{}{}{}{}{}", "x".repeat(10), ".....", "xxxxx", ".".repeat(40), "xxxx"));
        let onset = t0 + Duration::from_millis(100);
        assert_eq!(barge_in_stop_ms(&f, onset, t0 + Duration::from_millis(1000)), Some(300));
        // Quiet from the onset on: nothing more was heard.
        assert_eq!(barge_in_stop_ms(&f, t0 + Duration::from_millis(500), t0 + Duration::from_millis(1000)), Some(0));
        // Never quiet while the caller spoke: no stop.
        let f = frames(t0, &"x".repeat(50));
        assert_eq!(barge_in_stop_ms(&f, onset, t0 + Duration::from_millis(800)), None);
    }
}
