//! `switchboard transcribe FILE`: stream a file through the live pipeline.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use serde_json::json;

use crate::media::decode::FileSource;
use crate::media::{AudioFrame, MediaError};
use crate::pipeline::{Engine, TranscriptEvent};

/// How the file is fed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pace {
    /// As fast as the pipeline takes it.
    Fast,
    /// At real time, as a live call would arrive.
    Realtime,
    /// At real time, as a live call nobody follows (finals only, no partial transcripts).
    RealtimeUnwatched,
}

/// Everything one streamed file produced.
#[derive(Debug, Clone, Default)]
pub struct StreamResult {
    pub events: Vec<TranscriptEvent>,
    pub audio_ms: u64,
    pub processing_ms: u64,
}

impl StreamResult {
    /// The finals' texts joined.
    pub fn text(&self) -> String {
        self.finals().map(|(t, ..)| t.to_string()).collect::<Vec<_>>().join(" ")
    }

    /// (text, language, latency_ms) of each final.
    pub fn finals(&self) -> impl Iterator<Item = (&str, &str, u64)> {
        self.events.iter().filter_map(|e| match e {
            TranscriptEvent::Final { text, language, latency_ms, .. } => {
                Some((text.as_str(), language.as_str(), *latency_ms))
            }
            _ => None,
        })
    }

    /// The call-level language: the language of most final words.
    pub fn language(&self) -> Option<(String, f32)> {
        let mut by: std::collections::BTreeMap<String, (usize, f32)> = Default::default();
        for e in &self.events {
            if let TranscriptEvent::Final { text, language, language_prob, .. } = e {
                let entry = by.entry(language.clone()).or_insert((0, 0.0));
                entry.0 += text.split_whitespace().count().max(1);
                entry.1 = entry.1.max(*language_prob);
            }
        }
        by.into_iter().max_by_key(|(_, (n, _))| *n).map(|(l, (_, p))| (l, p))
    }
}

/// Stream `path` through a new stream of `engine`, calling `on_event` as events arrive.
pub async fn stream_file(
    engine: &Arc<Engine>,
    path: &Path,
    pace: Pace,
    on_event: impl FnMut(&TranscriptEvent),
) -> anyhow::Result<StreamResult> {
    let mut source = FileSource::open(path)?;
    // Read the first frame up front so a corrupt file fails before any stream starts.
    let first = match source.next_frame() {
        Some(f) => f?,
        None => {
            return Err(
                MediaError::Corrupt { path: path.display().to_string(), reason: "no audio samples".into() }.into()
            )
        }
    };
    let frames = std::iter::once(Ok(first)).chain(std::iter::from_fn(move || source.next_frame()));
    stream_frames(engine, frames, pace, on_event).await
}

/// Stream frames (stopping at the first unreadable one) through a new stream of `engine`,
/// calling `on_event` as events arrive. With [`Pace::Realtime`] each frame is sent when its
/// end time has passed, as a live call would deliver it.
pub async fn stream_frames(
    engine: &Arc<Engine>,
    frames: impl Iterator<Item = Result<AudioFrame, MediaError>> + Send + 'static,
    pace: Pace,
    mut on_event: impl FnMut(&TranscriptEvent),
) -> anyhow::Result<StreamResult> {
    let handle = if pace == Pace::Fast { engine.start_file_stream()? } else { engine.start_stream()? };
    if pace == Pace::RealtimeUnwatched {
        handle.partials.set(|| false);
    }
    let input = handle.input;
    let mut events = handle.events;
    let started = Instant::now();
    let feeder = tokio::spawn(async move {
        for frame in frames {
            let frame = match frame {
                Ok(f) => f,
                Err(e) => {
                    tracing::warn!(error = %e, "stopping at unreadable audio");
                    break;
                }
            };
            if pace != Pace::Fast {
                tokio::time::sleep_until((started + frame.end_pts()).into()).await;
            }
            if input.send(frame).await.is_err() {
                break;
            }
        }
    });
    let mut result = StreamResult::default();
    while let Some(ev) = events.recv().await {
        on_event(&ev);
        if let TranscriptEvent::Ended { audio_ms } = ev {
            result.audio_ms = audio_ms;
        }
        result.events.push(ev);
    }
    let _ = feeder.await;
    result.processing_ms = started.elapsed().as_millis() as u64;
    Ok(result)
}

fn clock(ms: u64) -> String {
    format!("{:02}:{:02}.{:03}", ms / 60_000, (ms / 1000) % 60, ms % 1000)
}

/// Print one event as a human line or a JSON line (partials and finals; errors to stderr).
pub fn print_event(ev: &TranscriptEvent, as_json: bool) {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let line = match ev {
        TranscriptEvent::Partial { text, start_ms, end_ms, language, language_prob, .. } => {
            if as_json {
                json!({"type": "partial", "text": text, "start_ms": start_ms, "end_ms": end_ms, "language": language, "language_prob": language_prob}).to_string()
            } else {
                format!("[{} -> {}] ~ {text}", clock(*start_ms), clock(*end_ms))
            }
        }
        TranscriptEvent::Final {
            text,
            start_ms,
            end_ms,
            language,
            language_prob,
            latency_ms,
            translation,
            ended_by,
            ..
        } => {
            if as_json {
                let mut v = json!({"type": "final", "text": text, "start_ms": start_ms, "end_ms": end_ms, "language": language, "language_prob": language_prob, "latency_ms": latency_ms});
                if let Some(t) = translation {
                    v["translation"] = json!(t);
                }
                if let Some(why) = ended_by {
                    v["ended_by"] = json!(why);
                }
                v.to_string()
            } else {
                let tr = translation.as_ref().map(|t| format!("\n    (English) {t}")).unwrap_or_default();
                format!(
                    "[{} -> {}] {text}   ({language} {:.2}, +{latency_ms} ms){tr}",
                    clock(*start_ms),
                    clock(*end_ms),
                    language_prob
                )
            }
        }
        TranscriptEvent::Error { message } => {
            eprintln!("warning: {message}");
            return;
        }
        _ => return,
    };
    let _ = writeln!(out, "{line}");
}

/// Run `switchboard transcribe`.
pub async fn run(engine: Arc<Engine>, path: &Path, pace: Pace, as_json: bool) -> anyhow::Result<StreamResult> {
    let result = stream_file(&engine, path, pace, |ev| print_event(ev, as_json)).await?;
    let rtf = result.processing_ms as f64 / result.audio_ms.max(1) as f64;
    let language = result.language().map(|(l, _)| l);
    if as_json {
        println!(
            "{}",
            json!({"type": "summary", "audio_ms": result.audio_ms, "processing_ms": result.processing_ms, "rtf": (rtf * 1000.0).round() / 1000.0, "language": language, "model": engine.recognizer.name()})
        );
    } else {
        println!(
            "-- {} of audio in {} ({}x real time), language {}, model {}",
            clock(result.audio_ms),
            clock(result.processing_ms),
            if rtf > 0.0 { format!("{:.1}", 1.0 / rtf) } else { "-".into() },
            language.as_deref().unwrap_or("-"),
            engine.recognizer.name()
        );
    }
    Ok(result)
}

/// Run `switchboard listen`: the default microphone through the live pipeline until Ctrl-C.
pub async fn listen(engine: Arc<Engine>, as_json: bool) -> anyhow::Result<()> {
    let (tx, mut mic) = tokio::sync::mpsc::channel(256);
    let capture = crate::media::device::capture_default(tx)?;
    eprintln!("listening at {} Hz; speak, and press Ctrl-C to stop", capture.sample_rate);
    let handle = engine.start_stream()?;
    let (input, mut events) = (handle.input, handle.events);
    let forward = tokio::spawn(async move {
        loop {
            tokio::select! {
                frame = mic.recv() => {
                    let Some(f) = frame else { break };
                    if input.send(f).await.is_err() {
                        break;
                    }
                }
                _ = tokio::signal::ctrl_c() => break,
            }
        }
        drop(capture); // stops the microphone; dropping `input` flushes the stream
    });
    while let Some(ev) = events.recv().await {
        print_event(&ev, as_json);
    }
    let _ = forward.await;
    Ok(())
}
