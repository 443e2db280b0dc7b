//! SIP message parsing and writing (RFC 3261 sections 7, 20 and 25): start line, headers
//! (compact forms, folding, comma-separated values), body bounded by Content-Length, and the
//! typed views the endpoint needs (Via, name-addr, URI, CSeq).

use std::fmt::Write as _;

mod values;
pub use values::{split_host_port, split_list, NameAddr, SipUri, Via};

/// Largest SIP message accepted. Real INVITEs are 1-4 KB; anything near a full UDP datagram
/// is an attack or a bug, answered with 513 Message Too Large when its headers are readable.
pub const MAX_MESSAGE_BYTES: usize = 16 * 1024;
/// Most headers accepted in one message.
const MAX_HEADERS: usize = 128;

/// Why bytes are not a SIP message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Nothing but whitespace (a keep-alive), not an error worth answering.
    #[error("empty datagram")]
    Empty,
    /// Larger than a SIP message may be.
    #[error("message of {0} bytes exceeds the {MAX_MESSAGE_BYTES}-byte limit")]
    TooLarge(usize),
    /// No blank line ends the header section.
    #[error("no end of headers (missing blank line)")]
    NoHeaderEnd,
    /// The header section is not UTF-8.
    #[error("header section is not valid UTF-8")]
    NotUtf8,
    /// The first line is neither a request line nor a status line.
    #[error("bad start line: {0}")]
    BadStartLine(String),
    /// A header line is malformed.
    #[error("bad header line: {0}")]
    BadHeader(String),
    /// Too many header lines.
    #[error("more than {MAX_HEADERS} headers")]
    TooManyHeaders,
    /// Content-Length is not a number.
    #[error("bad Content-Length: {0}")]
    BadContentLength(String),
    /// The body is shorter than Content-Length says.
    #[error("body truncated: Content-Length {declared}, {actual} bytes present")]
    Truncated { declared: usize, actual: usize },
}

/// A SIP method.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Method {
    Invite,
    Ack,
    Bye,
    Cancel,
    Options,
    Register,
    Info,
    Update,
    Prack,
    Refer,
    Notify,
    Subscribe,
    Message,
    /// Any extension method, kept verbatim.
    Other(String),
}

impl Method {
    /// Parse a method token (case-sensitive, as RFC 3261 requires).
    pub fn parse(s: &str) -> Option<Method> {
        if s.is_empty() || !s.bytes().all(is_token_char) {
            return None;
        }
        Some(match s {
            "INVITE" => Method::Invite,
            "ACK" => Method::Ack,
            "BYE" => Method::Bye,
            "CANCEL" => Method::Cancel,
            "OPTIONS" => Method::Options,
            "REGISTER" => Method::Register,
            "INFO" => Method::Info,
            "UPDATE" => Method::Update,
            "PRACK" => Method::Prack,
            "REFER" => Method::Refer,
            "NOTIFY" => Method::Notify,
            "SUBSCRIBE" => Method::Subscribe,
            "MESSAGE" => Method::Message,
            other => Method::Other(other.to_string()),
        })
    }

    /// The wire token.
    pub fn as_str(&self) -> &str {
        match self {
            Method::Invite => "INVITE",
            Method::Ack => "ACK",
            Method::Bye => "BYE",
            Method::Cancel => "CANCEL",
            Method::Options => "OPTIONS",
            Method::Register => "REGISTER",
            Method::Info => "INFO",
            Method::Update => "UPDATE",
            Method::Prack => "PRACK",
            Method::Refer => "REFER",
            Method::Notify => "NOTIFY",
            Method::Subscribe => "SUBSCRIBE",
            Method::Message => "MESSAGE",
            Method::Other(s) => s,
        }
    }
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Request line or status line.
#[derive(Debug, Clone, PartialEq)]
pub enum StartLine {
    Request { method: Method, uri: String },
    Response { code: u16, reason: String },
}

/// One header line; `name` is in canonical form (compact forms expanded).
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    pub name: String,
    pub value: String,
}

/// A parsed SIP request or response.
#[derive(Debug, Clone, PartialEq)]
pub struct SipMessage {
    pub start: StartLine,
    pub headers: Vec<Header>,
    pub body: Vec<u8>,
}

fn is_token_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b)
}

/// Canonical spelling of a header name, expanding RFC 3261 / 3515 compact forms.
fn canonical_name(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    let canon = match lower.as_str() {
        "v" | "via" => "Via",
        "f" | "from" => "From",
        "t" | "to" => "To",
        "i" | "call-id" => "Call-ID",
        "m" | "contact" => "Contact",
        "l" | "content-length" => "Content-Length",
        "c" | "content-type" => "Content-Type",
        "e" | "content-encoding" => "Content-Encoding",
        "k" | "supported" => "Supported",
        "s" | "subject" => "Subject",
        "r" | "refer-to" => "Refer-To",
        "cseq" => "CSeq",
        "max-forwards" => "Max-Forwards",
        "record-route" => "Record-Route",
        "route" => "Route",
        "require" => "Require",
        "p-asserted-identity" => "P-Asserted-Identity",
        "user-agent" => "User-Agent",
        "allow" => "Allow",
        "accept" => "Accept",
        _ => return name.to_string(),
    };
    canon.to_string()
}

/// Headers whose values may be comma-separated lists (RFC 3261 7.3.1).
fn is_list_header(name: &str) -> bool {
    matches!(name, "Via" | "Route" | "Record-Route" | "Contact" | "Allow" | "Supported" | "Require")
}

impl SipMessage {
    /// Parse one message from a datagram.
    pub fn parse(data: &[u8]) -> Result<SipMessage, ParseError> {
        if data.len() > MAX_MESSAGE_BYTES {
            return Err(ParseError::TooLarge(data.len()));
        }
        // RFC 3261 7.5: ignore CRLFs before the start line (also keep-alives, RFC 5626).
        let start = data.iter().position(|b| !b" \r\n\t".contains(b)).ok_or(ParseError::Empty)?;
        let data = &data[start..];
        let (head_len, body_start) = find_header_end(data).ok_or(ParseError::NoHeaderEnd)?;
        let head = std::str::from_utf8(&data[..head_len]).map_err(|_| ParseError::NotUtf8)?;
        let mut lines = unfold(head).into_iter();
        let first = lines.next().ok_or_else(|| ParseError::BadStartLine(String::new()))?;
        let start = parse_start_line(&first)?;
        let mut headers = Vec::new();
        // Content-Length does not count: `to_bytes` always writes one, and what we write must
        // parse again.
        let mut counted = 0;
        for line in lines {
            let (name, value) = line.split_once(':').ok_or_else(|| ParseError::BadHeader(clip(&line)))?;
            let name = name.trim_end();
            if name.is_empty() || !name.bytes().all(is_token_char) {
                return Err(ParseError::BadHeader(clip(&line)));
            }
            // Control characters (a bare CR above all) would let a header we echo back in a
            // response be read as two by the next parser.
            if value.chars().any(|c| c.is_control() && c != '\t') {
                return Err(ParseError::BadHeader(clip(&line)));
            }
            let name = canonical_name(name);
            if name != "Content-Length" {
                if counted >= MAX_HEADERS {
                    return Err(ParseError::TooManyHeaders);
                }
                counted += 1;
            }
            headers.push(Header { name, value: value.trim().to_string() });
        }
        let rest = &data[body_start..];
        let body = match headers.iter().find(|h| h.name == "Content-Length") {
            Some(h) => {
                let declared: usize = h.value.parse().map_err(|_| ParseError::BadContentLength(clip(&h.value)))?;
                if declared > rest.len() {
                    return Err(ParseError::Truncated { declared, actual: rest.len() });
                }
                // Extra bytes after the declared body are discarded (RFC 3261 18.3).
                rest[..declared].to_vec()
            }
            None => rest.to_vec(),
        };
        Ok(SipMessage { start, headers, body })
    }

    /// Serialise; Content-Length is always written from the actual body.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut s = String::with_capacity(512 + self.body.len());
        match &self.start {
            StartLine::Request { method, uri } => {
                let _ = write!(s, "{method} {uri} SIP/2.0\r\n");
            }
            StartLine::Response { code, reason } => {
                let _ = write!(s, "SIP/2.0 {code} {reason}\r\n");
            }
        }
        for h in self.headers.iter().filter(|h| h.name != "Content-Length") {
            let _ = write!(s, "{}: {}\r\n", h.name, h.value);
        }
        let _ = write!(s, "Content-Length: {}\r\n\r\n", self.body.len());
        let mut out = s.into_bytes();
        out.extend_from_slice(&self.body);
        out
    }

    /// A new request.
    pub fn request(method: Method, uri: impl Into<String>) -> SipMessage {
        SipMessage { start: StartLine::Request { method, uri: uri.into() }, headers: Vec::new(), body: Vec::new() }
    }

    /// A response to `req` (RFC 3261 8.2.6.2): Via, From, To, Call-ID and CSeq copied; `to_tag`
    /// added to To when it has none.
    pub fn response_to(req: &SipMessage, code: u16, reason: &str, to_tag: Option<&str>) -> SipMessage {
        let mut headers = Vec::new();
        for h in &req.headers {
            match h.name.as_str() {
                "Via" | "From" | "Call-ID" | "CSeq" => headers.push(h.clone()),
                "Record-Route" if (101..300).contains(&code) => headers.push(h.clone()),
                "To" => {
                    let mut v = h.value.clone();
                    if let Some(tag) = to_tag {
                        if NameAddr::parse(&v).map(|n| n.tag().is_none()).unwrap_or(false) {
                            v.push_str(";tag=");
                            v.push_str(tag);
                        }
                    }
                    headers.push(Header { name: "To".into(), value: v });
                }
                _ => {}
            }
        }
        SipMessage { start: StartLine::Response { code, reason: reason.to_string() }, headers, body: Vec::new() }
    }

    /// Append a header.
    pub fn push(&mut self, name: &str, value: impl Into<String>) -> &mut Self {
        self.headers.push(Header { name: name.to_string(), value: value.into() });
        self
    }

    /// Set the body and its Content-Type.
    pub fn set_body(&mut self, content_type: &str, body: Vec<u8>) -> &mut Self {
        self.headers.retain(|h| h.name != "Content-Type");
        self.push("Content-Type", content_type);
        self.body = body;
        self
    }

    /// First value of a header (canonical name), trimmed.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|h| h.name == name).map(|h| h.value.as_str())
    }

    /// Every value of a header, list headers split at top-level commas.
    pub fn header_values(&self, name: &str) -> Vec<String> {
        let mut out = Vec::new();
        for h in self.headers.iter().filter(|h| h.name == name) {
            if is_list_header(name) {
                out.extend(split_list(&h.value));
            } else {
                out.push(h.value.clone());
            }
        }
        out
    }

    /// The request method, if this is a request.
    pub fn method(&self) -> Option<&Method> {
        match &self.start {
            StartLine::Request { method, .. } => Some(method),
            StartLine::Response { .. } => None,
        }
    }

    /// The status code, if this is a response.
    pub fn status(&self) -> Option<u16> {
        match &self.start {
            StartLine::Response { code, .. } => Some(*code),
            StartLine::Request { .. } => None,
        }
    }

    /// The Call-ID.
    pub fn call_id(&self) -> Option<&str> {
        self.header("Call-ID").filter(|v| !v.is_empty())
    }

    /// The topmost Via.
    pub fn top_via(&self) -> Option<Via> {
        self.header_values("Via").first().and_then(|v| Via::parse(v))
    }

    /// CSeq number and method.
    pub fn cseq(&self) -> Option<(u32, Method)> {
        let v = self.header("CSeq")?;
        let mut it = v.split_whitespace();
        let n = it.next()?.parse().ok()?;
        let m = Method::parse(it.next()?)?;
        if it.next().is_some() {
            return None;
        }
        Some((n, m))
    }

    /// From header as a name-addr.
    pub fn from(&self) -> Option<NameAddr> {
        self.header("From").and_then(NameAddr::parse)
    }

    /// To header as a name-addr.
    pub fn to(&self) -> Option<NameAddr> {
        self.header("To").and_then(NameAddr::parse)
    }

    /// Check that a request carries what RFC 3261 8.1.1 requires, consistently.
    pub fn validate_request(&self) -> Result<(), String> {
        let Some(method) = self.method() else { return Err("not a request".into()) };
        if self.top_via().is_none() {
            return Err("missing or malformed Via".into());
        }
        if self.call_id().is_none() {
            return Err("missing Call-ID".into());
        }
        if self.from().is_none() {
            return Err("missing or malformed From".into());
        }
        if self.to().is_none() {
            return Err("missing or malformed To".into());
        }
        match self.cseq() {
            None => return Err("missing or malformed CSeq".into()),
            Some((_, m)) if &m != method => return Err(format!("CSeq method {m} does not match {method}")),
            _ => {}
        }
        Ok(())
    }
}

/// Offset of the end of the header section and the start of the body.
fn find_header_end(data: &[u8]) -> Option<(usize, usize)> {
    let crlf = data.windows(4).position(|w| w == b"\r\n\r\n").map(|i| (i, i + 4));
    let lf = data.windows(2).position(|w| w == b"\n\n").map(|i| (i, i + 2));
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
        (a, b) => a.or(b),
    }
}

/// Split into logical lines, joining continuation lines (leading SP/HT) to the previous one.
fn unfold(head: &str) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for raw in head.split('\n') {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        if (raw.starts_with(' ') || raw.starts_with('\t')) && !lines.is_empty() {
            let last = lines.last_mut().expect("checked non-empty");
            last.push(' ');
            last.push_str(raw.trim());
        } else if !raw.is_empty() {
            lines.push(raw.to_string());
        }
    }
    lines
}

fn parse_start_line(line: &str) -> Result<StartLine, ParseError> {
    let bad = || ParseError::BadStartLine(clip(line));
    if let Some(rest) = line.strip_prefix("SIP/2.0 ") {
        let (code, reason) = rest.split_once(' ').unwrap_or((rest, ""));
        let code: u16 = code.parse().map_err(|_| bad())?;
        if !(100..700).contains(&code) {
            return Err(bad());
        }
        return Ok(StartLine::Response { code, reason: reason.to_string() });
    }
    let mut parts = line.split(' ');
    let (Some(m), Some(uri), Some(ver), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    if ver != "SIP/2.0" || uri.is_empty() || !uri.contains(':') {
        return Err(bad());
    }
    let method = Method::parse(m).ok_or_else(bad)?;
    Ok(StartLine::Request { method, uri: uri.to_string() })
}

fn clip(s: &str) -> String {
    s.chars().take(80).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const INVITE: &str = "INVITE sip:switchboard@127.0.0.1:5060 SIP/2.0\r\n\
Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1;rport\r\n\
v: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-0\r\n\
From: \"Alice, A.\" <sip:+4612345@example.com>;tag=abc\r\n\
t: <sip:switchboard@127.0.0.1>\r\n\
i: call-1@127.0.0.1\r\n\
CSeq: 1 INVITE\r\n\
Subject: a folded\r\n  header\r\n\
Content-Type: application/sdp\r\n\
l: 4\r\n\
\r\n\
v=0\r\nEXTRA";

    #[test]
    fn parses_a_request_with_compact_and_folded_headers() {
        let m = SipMessage::parse(INVITE.as_bytes()).unwrap();
        assert_eq!(m.method(), Some(&Method::Invite));
        assert_eq!(m.call_id(), Some("call-1@127.0.0.1"));
        assert_eq!(m.header("Subject"), Some("a folded header"));
        assert_eq!(m.body, b"v=0\r");
        let via = m.top_via().unwrap();
        assert_eq!((via.host.as_str(), via.port, via.branch()), ("127.0.0.1", Some(5070), Some("z9hG4bK-1")));
        assert!(via.has_rport());
        assert_eq!(m.header_values("Via").len(), 2);
        let from = m.from().unwrap();
        assert_eq!(from.display.as_deref(), Some("Alice, A."));
        assert_eq!(from.tag(), Some("abc"));
        assert_eq!(from.user().as_deref(), Some("+4612345"));
        assert_eq!(m.to().unwrap().tag(), None);
        assert_eq!(m.cseq(), Some((1, Method::Invite)));
        assert!(m.validate_request().is_ok());
    }

    #[test]
    fn round_trips_and_builds_responses() {
        let m = SipMessage::parse(INVITE.as_bytes()).unwrap();
        let again = SipMessage::parse(&m.to_bytes()).unwrap();
        assert_eq!(again, m);
        let r = SipMessage::response_to(&m, 200, "OK", Some("srv1"));
        let r = SipMessage::parse(&r.to_bytes()).unwrap();
        assert_eq!(r.status(), Some(200));
        assert_eq!(r.to().unwrap().tag(), Some("srv1"));
        assert_eq!(r.header_values("Via").len(), 2);
        assert_eq!(r.header("Content-Length"), Some("0"));
    }

    #[test]
    fn rejects_malformed_messages_with_reasons() {
        assert_eq!(SipMessage::parse(b"\r\n\r\n"), Err(ParseError::Empty));
        assert_eq!(SipMessage::parse(b"INVITE sip:a@b SIP/2.0\r\nVia: x\r\n"), Err(ParseError::NoHeaderEnd));
        assert!(matches!(SipMessage::parse(b"HELLO\r\n\r\n"), Err(ParseError::BadStartLine(_))));
        assert!(matches!(SipMessage::parse(b"INVITE sip:a@b SIP/3.0\r\n\r\n"), Err(ParseError::BadStartLine(_))));
        assert!(matches!(SipMessage::parse(b"SIP/2.0 99 Weird\r\n\r\n"), Err(ParseError::BadStartLine(_))));
        assert!(matches!(
            SipMessage::parse(b"OPTIONS sip:a@b SIP/2.0\r\nno colon here\r\n\r\n"),
            Err(ParseError::BadHeader(_))
        ));
        assert_eq!(
            SipMessage::parse(b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 10\r\n\r\nabc"),
            Err(ParseError::Truncated { declared: 10, actual: 3 })
        );
        assert!(matches!(
            SipMessage::parse(b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: -1\r\n\r\n"),
            Err(ParseError::BadContentLength(_))
        ));
        assert_eq!(SipMessage::parse(&vec![b'A'; 70_000]), Err(ParseError::TooLarge(70_000)));
        assert!(SipMessage::parse(&vec![b'A'; 16_000]).is_err());
        assert_eq!(SipMessage::parse(b"INVITE sip:a@b SIP/2.0\r\n\xff\xfe\r\n\r\n"), Err(ParseError::NotUtf8));
        assert!(matches!(
            SipMessage::parse(b"OPTIONS sip:a@b SIP/2.0\r\nVia: x\rInjected: y\r\n\r\n"),
            Err(ParseError::BadHeader(_))
        ));
        let many: String = (0..128).map(|i| format!("X-{i}: v\r\n")).collect();
        let ok = format!("OPTIONS sip:a@b SIP/2.0\r\n{many}\r\n");
        let m = SipMessage::parse(ok.as_bytes()).unwrap();
        assert!(SipMessage::parse(&m.to_bytes()).is_ok(), "128 headers plus the written Content-Length");
        let too_many = format!("OPTIONS sip:a@b SIP/2.0\r\n{many}X-last: v\r\n\r\n");
        assert_eq!(SipMessage::parse(too_many.as_bytes()), Err(ParseError::TooManyHeaders));
        let m = SipMessage::parse(b"BYE sip:a@b SIP/2.0\r\nCSeq: 1 INVITE\r\n\r\n").unwrap();
        assert!(m.validate_request().unwrap_err().contains("Via"));
    }

    #[test]
    fn parses_uris_and_addresses() {
        let u = SipUri::parse("sip:+4670@[::1]:5080;transport=udp").unwrap();
        assert_eq!((u.user.as_deref(), u.host.as_str(), u.port), (Some("+4670"), "::1", Some(5080)));
        let u = SipUri::parse("sip:pbx.example.com").unwrap();
        assert_eq!((u.user, u.port), (None, None));
        assert_eq!(SipUri::parse("tel:+15551234;phone-context=x").unwrap().user.as_deref(), Some("+15551234"));
        assert!(SipUri::parse("http://x").is_none());
        let n = NameAddr::parse("sip:bob@h;tag=9").unwrap();
        assert_eq!((n.uri.as_str(), n.tag()), ("sip:bob@h", Some("9")));
        assert!(NameAddr::parse("<>").is_none());
        assert_eq!(split_list("<sip:a;lr>, \"x,y\" <sip:b>"), vec!["<sip:a;lr>", "\"x,y\" <sip:b>"]);
    }
}
