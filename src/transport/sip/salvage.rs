//! Recovering enough of a request that could not be parsed (or failed validation) to answer
//! it: RFC 3261 8.2.1 asks for a 400 with the reason, and 513 for messages that are too
//! large. A response is routed by the top Via and matched by its branch, so that is all a
//! request needs to be answerable; From, To, Call-ID and CSeq are copied when present.
//! Sans-IO: bytes in, a message out.

use super::message::{SipMessage, MAX_MESSAGE_BYTES};

/// The headers a response copies (long and compact names).
const ADDRESSING: [&str; 9] = ["via", "v", "from", "f", "to", "t", "call-id", "i", "cseq"];

/// The request line and the addressing headers of `data`, each taken only if its own line is
/// well-formed, within the first `MAX_MESSAGE_BYTES` (a header section larger than that is
/// cut at its last whole line). Lines with NUL, a bare CR or other control characters,
/// unknown or broken lines and the body are left out. `None` without a clean request line.
pub fn salvage(data: &[u8]) -> Option<SipMessage> {
    let cut = &data[..data.len().min(MAX_MESSAGE_BYTES)];
    let start = cut.iter().position(|b| !b" \r\n\t".contains(b))?;
    let cut = &cut[start..];
    // Only lines that end within the limit are whole.
    let whole = if cut.len() < data.len() - start { cut.iter().rposition(|&b| b == b'\n')? } else { cut.len() };
    let mut lines = Vec::new();
    for (i, raw) in cut[..whole].split(|&b| b == b'\n').enumerate() {
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        if line.is_empty() {
            break; // the end of the header section
        }
        let clean = !line.iter().any(|&b| (b < 0x20 && b != b'\t') || b == 0x7f);
        let text = std::str::from_utf8(line).ok().filter(|_| clean);
        match (i, text) {
            (0, None) => return None,
            (0, Some(t)) => lines.push(t),
            (_, Some(t)) if !t.starts_with([' ', '\t']) => {
                let name = t.split(':').next().unwrap_or_default().trim().to_ascii_lowercase();
                if t.contains(':') && ADDRESSING.contains(&name.as_str()) {
                    lines.push(t);
                }
            }
            _ => {}
        }
    }
    let head = format!("{}\r\n\r\n", lines.join("\r\n"));
    let msg = SipMessage::parse(head.as_bytes()).ok()?;
    msg.method()?;
    Some(msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPTIONS: &str = "OPTIONS sip:sb@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1\r\n\
        From: <sip:a@x>;tag=1\r\nTo: <sip:sb@127.0.0.1>\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\n";

    #[test]
    fn bad_lines_are_left_out_and_addressing_kept() {
        for bad in ["X-Nul: a\0b\r\n", "X-Cr: a\rb\r\n", "no colon here\r\n", "X-Bin: \u{7f}\r\n"] {
            let data = format!("{OPTIONS}{bad}Content-Length: 0\r\n\r\n");
            assert!(SipMessage::parse(data.as_bytes()).is_err(), "{bad:?} is unparseable");
            let m = salvage(data.as_bytes()).expect(bad);
            assert_eq!(m.call_id(), Some("c1"));
            assert!(m.top_via().is_some() && m.cseq().is_some());
        }
    }

    #[test]
    fn oversized_header_sections_keep_their_first_lines() {
        let filler = format!("X-Filler: {}\r\n", "a".repeat(100)).repeat(200); // 22 KB of headers
        let data = format!("{OPTIONS}{filler}\r\n");
        assert!(data.len() > MAX_MESSAGE_BYTES);
        let m = salvage(data.as_bytes()).unwrap();
        assert_eq!(m.call_id(), Some("c1"));
        assert!(m.headers.iter().all(|h| h.name != "X-Filler"));
    }

    #[test]
    fn a_missing_or_broken_header_is_simply_absent() {
        let no_call_id = OPTIONS.replace("Call-ID: c1\r\n", "") + "\r\n";
        let m = salvage(no_call_id.as_bytes()).unwrap();
        assert_eq!(m.call_id(), None);
        assert!(m.top_via().is_some());
        let bad_cseq = OPTIONS.replace("1 OPTIONS", "one OPTIONS") + "\r\n";
        assert!(salvage(bad_cseq.as_bytes()).unwrap().cseq().is_none());
    }

    #[test]
    fn no_clean_request_line_no_answer() {
        assert!(salvage(b"\x00\x01garbage\xff\r\nVia: SIP/2.0/UDP 1.2.3.4\r\n\r\n").is_none());
        assert!(salvage(b"SIP/2.0 200 OK\r\nCall-ID: x\r\n\r\n").is_none(), "responses are never answered");
        assert!(salvage(b"").is_none());
    }
}
