//! SIP over UDP: message parsing (`message`), the sans-IO user agent server (`endpoint`) and
//! the driver that connects it to a socket, RTP sessions and calls (`driver`).

pub mod driver;
pub mod endpoint;
pub mod message;
pub mod salvage;

pub use driver::SipDriver;
