//! Provider media streams over a WebSocket (the Twilio Media Streams protocol,
//! `transport::stream::twilio`): the upgrade with its admission check, the wait for `start`,
//! then the call: the provider's audio and keys in, the call mixer's frames out as they come
//! (with `clear` on barge-in and a `mark` after each clip).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;

use crate::call::{start_call, CallLeg, CallServices, EndReason, MediaIn, NewCall, Transport};
use crate::media::g711::Law;
use crate::media::AudioFrame;
use crate::transport::stream::twilio::{
    clear_message, mark_message, media_message, parse_inbound, Inbound, CLOSE_INVALID, CLOSE_POLICY, MAX_MESSAGE,
};

/// `GET <media_stream.path>`: upgrade to a media stream.
/// Each stream counts against its address's call-start limit (`[calls.admission]`).
pub async fn media_stream_handler(
    State(svc): State<Arc<CallServices>>,
    client: Option<axum::Extension<axum::extract::ConnectInfo<std::net::SocketAddr>>>,
    ws: WebSocketUpgrade,
) -> Response {
    let client = super::client_ip(client);
    if let Err(r) = svc.admission.admit(std::time::Instant::now(), crate::call::admission::Kind::Invite, client) {
        tracing::info!("media stream refused: {r}");
        return super::AppError::from(r).into_response();
    }
    ws.max_message_size(MAX_MESSAGE).on_upgrade(move |socket| session(svc, socket))
}

async fn close(mut socket: WebSocket, code: u16, reason: &str) {
    tracing::warn!("media stream closed: {reason}");
    let _ = socket
        .send(Message::Close(Some(CloseFrame { code, reason: reason.chars().take(120).collect::<String>().into() })))
        .await;
}

async fn session(svc: Arc<CallServices>, mut socket: WebSocket) {
    // Wait for `start` (after an optional `connected`).
    let (stream_sid, caller) = loop {
        let msg = match tokio::time::timeout(Duration::from_secs(10), socket.recv()).await {
            Err(_) => return close(socket, CLOSE_POLICY, "no start message within 10 s").await,
            Ok(None) | Ok(Some(Err(_))) => return,
            Ok(Some(Ok(m))) => m,
        };
        let text = match msg {
            Message::Text(t) => t,
            Message::Close(_) => return,
            Message::Ping(_) | Message::Pong(_) => continue,
            Message::Binary(_) => {
                return close(socket, CLOSE_INVALID, "binary messages are not part of the protocol").await
            }
        };
        match parse_inbound(text.as_str()) {
            Ok(Inbound::Connected {}) => continue,
            Ok(Inbound::Start { stream_sid, start }) => {
                if let Some(f) = &start.media_format {
                    if !f.encoding.eq_ignore_ascii_case("audio/x-mulaw") || f.sample_rate != 8000 || f.channels != 1 {
                        return close(
                            socket,
                            CLOSE_INVALID,
                            &format!("unsupported media format {} {} Hz x{}", f.encoding, f.sample_rate, f.channels),
                        )
                        .await;
                    }
                }
                let sid = stream_sid.or(start.stream_sid.clone()).unwrap_or_else(|| "stream".into());
                let p = &start.custom_parameters;
                let caller = p
                    .get("From")
                    .or_else(|| p.get("from"))
                    .or_else(|| p.get("caller"))
                    .or(start.call_sid.as_ref())
                    .cloned()
                    .unwrap_or_else(|| "unknown".into());
                break (sid, caller);
            }
            Ok(_) => return close(socket, CLOSE_POLICY, "expected a start message first").await,
            Err(e) => return close(socket, CLOSE_INVALID, &e).await,
        }
    };
    let leg = match start_call(&svc, NewCall { caller, transport: Transport::MediaStream, playout_rate: 8000 }) {
        Ok(l) => l,
        Err(e) => return close(socket, 1013, &format!("call refused: {e}")).await,
    };
    run_call(socket, leg, stream_sid).await;
}

async fn run_call(mut socket: WebSocket, mut leg: CallLeg, sid: String) {
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut samples: u64 = 0;
    // The provider plays what it is sent: the call's prompts start now.
    leg.out.ready();
    let mut generation = 0;
    let mut playing = false;
    let mut marks = 0u64;
    let end = |r| leg.media.try_send(MediaIn::Ended(r));
    loop {
        tokio::select! {
            biased;
            _ = leg.hangup.cancelled() => {
                let _ = socket.send(Message::Close(Some(CloseFrame { code: 1000, reason: "call ended".into() }))).await;
                break;
            }
            m = socket.recv() => {
                let text = match m {
                    None | Some(Err(_)) | Some(Ok(Message::Close(_))) => { let _ = end(EndReason::CallerHangup); break; }
                    Some(Ok(Message::Text(t))) => t,
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                    Some(Ok(Message::Binary(_))) => {
                        let _ = end(EndReason::TransportError("binary message".into()));
                        close(socket, CLOSE_INVALID, "binary messages are not part of the protocol").await;
                        return;
                    }
                };
                match parse_inbound(text.as_str()) {
                    Ok(Inbound::Media { media }) => {
                        if media.track.as_deref().is_some_and(|t| t != "inbound" && t != "inbound_track") {
                            continue;
                        }
                        let Ok(bytes) = b64.decode(media.payload.as_bytes()) else {
                            let _ = end(EndReason::TransportError("bad base64 payload".into()));
                            close(socket, CLOSE_INVALID, "media payload is not base64").await;
                            return;
                        };
                        let pcm = Law::Ulaw.decode(&bytes);
                        let pts = Duration::from_micros(samples * 125);
                        samples += pcm.len() as u64;
                        if leg.media.try_send(MediaIn::Audio(AudioFrame::mono(pcm, 8000, pts))).is_err() {
                            crate::metrics::calls().dropped_frames.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                    }
                    Ok(Inbound::Dtmf { dtmf }) => {
                        if let Some(digit) = dtmf.digit.chars().next().filter(|c| "0123456789*#ABCD".contains(*c)) {
                            let _ = leg.media.try_send(MediaIn::Dtmf { digit, at_ms: samples / 8 });
                        }
                    }
                    Ok(Inbound::Stop {}) => { let _ = end(EndReason::CallerHangup); break; }
                    Ok(Inbound::Mark {} | Inbound::Connected {}) => {}
                    Ok(Inbound::Start { .. }) => tracing::debug!(stream = %sid, "ignoring repeated start"),
                    Err(e) => {
                        let _ = end(EndReason::TransportError(e.clone()));
                        close(socket, CLOSE_INVALID, &e).await;
                        return;
                    }
                }
            }
            Some(frame) = leg.out.recv() => {
                let g = frame.cleared;
                if g != generation {
                    generation = g;
                    let msg = clear_message(&sid);
                    if socket.send(Message::Text(msg.into())).await.is_err() { let _ = end(EndReason::CallerHangup); break; }
                }
                match frame.samples {
                    Some(frame) => {
                        playing = true;
                        let payload = b64.encode(Law::Ulaw.encode(&frame));
                        let msg = media_message(&sid, payload);
                        if socket.send(Message::Text(msg.into())).await.is_err() { let _ = end(EndReason::CallerHangup); break; }
                    }
                    None if playing => {
                        // End of a clip: a mark, which the provider echoes once it has played it.
                        playing = false;
                        marks += 1;
                        let msg = mark_message(&sid, format!("clip-{marks}"));
                        let _ = socket.send(Message::Text(msg.into())).await;
                    }
                    None => {}
                }
            }
        }
    }
}
