//! SIP parsing and its typed views never panic, and what parses re-parses identically.
#![no_main]
use libfuzzer_sys::fuzz_target;
use switchboard::transport::sip::message::{NameAddr, SipMessage, SipUri, Via};

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = SipMessage::parse(data) {
        let _ = m.validate_request();
        let _ = (m.top_via(), m.cseq(), m.from(), m.to(), m.call_id());
        for v in m.header_values("Via") {
            let _ = Via::parse(&v);
        }
        if let Some(c) = m.header("Contact") {
            let _ = NameAddr::parse(c).map(|n| SipUri::parse(&n.uri));
        }
        let bytes = m.to_bytes();
        if bytes.len() <= switchboard::transport::sip::message::MAX_MESSAGE_BYTES {
            let again = SipMessage::parse(&bytes).expect("serialised message parses");
            assert_eq!(again.start, m.start);
            assert_eq!(again.body, m.body);
        }
    }
});
