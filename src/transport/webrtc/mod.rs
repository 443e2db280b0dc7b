//! Browser callers over WebRTC (webrtc crate 0.21): non-trickle offer/answer over HTTP, Opus
//! both ways (caller audio decoded at 48 kHz into the call, outbound audio encoded from the
//! call mixer's 20 ms frames), ICE with host candidates (STUN/TURN configurable), and the
//! same call model as phone calls.

mod opus_rtp;
mod session;

pub use session::{Answer, WebRtcError, WebRtcService};

use serde::{Deserialize, Serialize};

/// One STUN or TURN server, as the browser's RTCPeerConnection takes it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct IceServer {
    pub urls: Vec<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub username: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub credential: String,
}

/// `[webrtc]`
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebRtcConfig {
    /// Serve the caller page and accept browser calls.
    pub enabled: bool,
    /// Local UDP addresses for media ("IP:port", port 0 = any). `0.0.0.0:0` means every
    /// non-loopback interface; `127.0.0.1:0` adds loopback for a browser on the same machine.
    pub udp_addrs: Vec<String>,
    /// STUN/TURN servers for both the server and the browser (none needed on a LAN).
    pub ice_servers: Vec<IceServer>,
    /// A call whose connection is not up this long after the offer is ended.
    pub ice_timeout_s: u64,
    /// A call whose connection stays interrupted this long is ended.
    pub disconnect_timeout_s: u64,
    /// Show the caller what was understood (live transcript) on the call page.
    pub show_transcript: bool,
}

impl Default for WebRtcConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            udp_addrs: vec!["127.0.0.1:0".into(), "0.0.0.0:0".into()],
            ice_servers: Vec::new(),
            ice_timeout_s: 15,
            disconnect_timeout_s: 5,
            show_transcript: true,
        }
    }
}

impl WebRtcConfig {
    /// Check the values.
    pub fn validate(&self) -> Result<(), String> {
        if self.enabled && self.udp_addrs.is_empty() {
            return Err("webrtc.udp_addrs is empty".into());
        }
        for a in &self.udp_addrs {
            if a.parse::<std::net::SocketAddr>().is_err() {
                return Err(format!("webrtc.udp_addrs: {a:?} is not IP:port"));
            }
        }
        for s in &self.ice_servers {
            if s.urls.is_empty()
                || s.urls.iter().any(|u| !(u.starts_with("stun:") || u.starts_with("turn:") || u.starts_with("turns:")))
            {
                return Err(format!("webrtc.ice_servers: {:?} needs stun:/turn:/turns: URLs", s.urls));
            }
        }
        if self.ice_timeout_s == 0 {
            return Err("webrtc.ice_timeout_s must be at least 1".into());
        }
        Ok(())
    }
}
