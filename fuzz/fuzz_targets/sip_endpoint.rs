//! The whole UAS state machine on arbitrary datagrams and timer firings never panics.
#![no_main]
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use switchboard::transport::sip::endpoint::{Endpoint, EndpointConfig, Output, SipEvent};

fuzz_target!(|data: &[u8]| {
    let mut ep = Endpoint::new(EndpointConfig::new("127.0.0.1:5060".parse().unwrap()), 1);
    let src = "127.0.0.1:5070".parse().unwrap();
    let t0 = Instant::now();
    // Datagrams separated by 0xff bytes; answer every call so dialogs get exercised.
    for (i, chunk) in data.split(|&b| b == 0xff).enumerate() {
        let now = t0 + Duration::from_millis(i as u64 * 700);
        ep.handle_datagram(now, src, chunk);
        ep.handle_timeout(now);
        while let Some(o) = ep.poll_output() {
            match o {
                Output::Event(SipEvent::Incoming { dialog, .. }) => ep.answer(now, dialog, "v=0\r\n".into()),
                Output::Event(SipEvent::Reoffer { dialog, .. }) if i % 2 == 0 => ep.reject(now, dialog, 488),
                Output::Event(SipEvent::Confirmed { dialog, .. }) if i % 3 == 0 => ep.hangup(now, dialog),
                _ => {}
            }
        }
    }
});
