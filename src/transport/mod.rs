//! How callers reach Switchboard: SIP/RTP phone calls, provider media streams over
//! WebSocket, and the shared SDP code.

pub mod rtp;
pub mod sdp;
pub mod sip;
pub mod stream;
