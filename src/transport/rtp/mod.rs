//! RTP media for phone calls: packets and telephone-events, the playout (jitter) buffer,
//! pcap writing for test tools, and the per-call driver that does the socket I/O.

pub mod driver;
pub mod jitter;
pub mod latch;
pub mod packet;
pub mod pcap;

pub use driver::{bind_rtp_socket, RtpControl, RtpDriver};
