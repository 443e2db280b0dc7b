//! How callers reach Switchboard: SIP/RTP phone calls, provider media streams over
//! WebSocket, browser WebRTC, and the shared SDP code.

pub mod rtp;
pub mod sdp;
pub mod sip;
pub mod stream;
pub mod webrtc;

/// A web client's address (for the per-address admission limits); unspecified when the server
/// was not started with connection info (in-process tests).
pub fn client_ip(info: Option<axum::Extension<axum::extract::ConnectInfo<std::net::SocketAddr>>>) -> std::net::IpAddr {
    info.map(|i| i.0 .0.ip()).unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED))
}
