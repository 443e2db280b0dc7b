//! SDP parsing and negotiation never panic; an accepted offer yields an answer that parses
//! and negotiates to the same codec.
#![no_main]
use libfuzzer_sys::fuzz_target;
use switchboard::transport::sdp::{negotiate, write_answer, SessionDescription};

fuzz_target!(|data: &[u8]| {
    if let Ok(sd) = SessionDescription::parse(data) {
        if let Ok(n) = negotiate(&sd) {
            let ans = write_answer(Some(&n), "127.0.0.1".parse().unwrap(), 10000, 1, 1);
            let back = negotiate(&SessionDescription::parse(ans.as_bytes()).unwrap()).unwrap();
            assert_eq!(back.law, n.law);
        }
    }
});
