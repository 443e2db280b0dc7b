//! How callers reach Switchboard: SIP/RTP phone calls, provider media streams over
//! WebSocket, browser WebRTC, and the shared SDP code.

pub mod rtp;
pub mod sdp;
pub mod sip;
pub mod stream;
pub mod webrtc;
