//! The Twilio Media Streams protocol: its messages in and out (the WebSocket session that
//! speaks it is `web::media_stream`).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// Largest accepted WebSocket message (a media message is ~300 bytes).
pub const MAX_MESSAGE: usize = 64 * 1024;
/// Close code for data the endpoint cannot accept (RFC 6455 7.4.1: 1007 invalid payload).
pub const CLOSE_INVALID: u16 = 1007;
pub const CLOSE_POLICY: u16 = 1008;

/// An inbound message.
#[derive(Debug, Deserialize)]
#[serde(tag = "event", rename_all = "lowercase")]
pub enum Inbound {
    Connected {},
    Start {
        #[serde(rename = "streamSid")]
        stream_sid: Option<String>,
        start: StartInfo,
    },
    Media {
        media: MediaPayload,
    },
    Dtmf {
        dtmf: DtmfPayload,
    },
    Mark {},
    Stop {},
}

/// The `start` message's details.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartInfo {
    pub stream_sid: Option<String>,
    pub call_sid: Option<String>,
    #[serde(default)]
    pub custom_parameters: HashMap<String, String>,
    pub media_format: Option<MediaFormat>,
}

/// Declared audio format; only mu-law 8 kHz mono is sent by providers.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MediaFormat {
    pub encoding: String,
    pub sample_rate: u32,
    pub channels: u16,
}

/// A `media` message's payload.
#[derive(Debug, Deserialize)]
pub struct MediaPayload {
    pub payload: String,
    pub track: Option<String>,
}

/// A `dtmf` message's payload.
#[derive(Debug, Deserialize)]
pub struct DtmfPayload {
    pub digit: String,
}

#[derive(Serialize)]
#[serde(tag = "event", rename_all = "lowercase")]
enum Outbound<'a> {
    Media {
        #[serde(rename = "streamSid")]
        stream_sid: &'a str,
        media: OutMedia,
    },
    Mark {
        #[serde(rename = "streamSid")]
        stream_sid: &'a str,
        mark: OutMark,
    },
    Clear {
        #[serde(rename = "streamSid")]
        stream_sid: &'a str,
    },
}

#[derive(Serialize)]
struct OutMedia {
    payload: String,
}

#[derive(Serialize)]
struct OutMark {
    name: String,
}

/// Parse one text message; the error is the close reason.
pub fn parse_inbound(text: &str) -> Result<Inbound, String> {
    serde_json::from_str(text).map_err(|e| format!("invalid message: {e}"))
}

/// Our audio: base64 mu-law.
pub fn media_message(stream_sid: &str, payload: String) -> String {
    serde_json::to_string(&Outbound::Media { stream_sid, media: OutMedia { payload } }).expect("serialise")
}

/// Drop the audio the provider has buffered (barge-in).
pub fn clear_message(stream_sid: &str) -> String {
    serde_json::to_string(&Outbound::Clear { stream_sid }).expect("serialise")
}

/// A mark after a clip, which the provider echoes once it has played it.
pub fn mark_message(stream_sid: &str, name: String) -> String {
    serde_json::to_string(&Outbound::Mark { stream_sid, mark: OutMark { name } }).expect("serialise")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_providers_messages() {
        assert!(matches!(
            parse_inbound(r#"{"event":"connected","protocol":"Call","version":"1.0.0"}"#),
            Ok(Inbound::Connected {})
        ));
        let start = r#"{"event":"start","sequenceNumber":"1","streamSid":"MZ1","start":{"accountSid":"AC1","streamSid":"MZ1","callSid":"CA1","tracks":["inbound"],"customParameters":{"From":"+15550001"},"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}}}"#;
        match parse_inbound(start).unwrap() {
            Inbound::Start { stream_sid, start } => {
                assert_eq!(stream_sid.as_deref(), Some("MZ1"));
                assert_eq!(start.call_sid.as_deref(), Some("CA1"));
                assert_eq!(start.custom_parameters["From"], "+15550001");
            }
            other => panic!("{other:?}"),
        }
        let media = r#"{"event":"media","sequenceNumber":"3","media":{"track":"inbound","chunk":"1","timestamp":"5","payload":"//8="},"streamSid":"MZ1"}"#;
        assert!(matches!(parse_inbound(media), Ok(Inbound::Media { .. })));
        assert!(matches!(parse_inbound(r#"{"event":"stop","streamSid":"MZ1","stop":{}}"#), Ok(Inbound::Stop {})));
        assert!(parse_inbound("not json").unwrap_err().contains("invalid message"));
        assert!(parse_inbound(r#"{"event":"media"}"#).is_err());
        assert!(parse_inbound(r#"{"event":"bogus"}"#).is_err());
    }

    #[test]
    fn outbound_messages_have_the_providers_shape() {
        let m = serde_json::to_value(Outbound::Media { stream_sid: "MZ1", media: OutMedia { payload: "AA==".into() } })
            .unwrap();
        assert_eq!(m, serde_json::json!({"event":"media","streamSid":"MZ1","media":{"payload":"AA=="}}));
        let c = serde_json::to_value(Outbound::Clear { stream_sid: "MZ1" }).unwrap();
        assert_eq!(c, serde_json::json!({"event":"clear","streamSid":"MZ1"}));
    }
}
