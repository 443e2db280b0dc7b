//! Provider media-stream messages: parsing arbitrary text never panics.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = switchboard::transport::stream::twilio::parse_inbound(s);
    }
});
