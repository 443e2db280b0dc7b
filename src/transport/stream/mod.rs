//! Provider media streams: the de-facto Twilio Media Streams WebSocket protocol, so
//! Switchboard can sit behind a hosted telephony provider. Inbound: `connected`, `start`
//! (callSid, streamSid, customParameters), `media` (base64 mu-law 8 kHz), `dtmf`, `mark`,
//! `stop`. Outbound: `media` (our audio, paced at 20 ms), `mark` after each clip, `clear`
//! when queued audio is dropped (barge-in).

pub mod twilio;
