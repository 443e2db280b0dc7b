//! Typed views of header values (RFC 3261 section 25): comma-separated lists, parameters,
//! Via, name-addr and SIP URIs.

/// Split a header value at commas that are not inside quotes or angle brackets.
pub fn split_list(v: &str) -> Vec<String> {
    let mut out = Vec::new();
    let (mut quoted, mut angle, mut cur) = (false, false, String::new());
    let mut chars = v.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' if quoted => {
                cur.push(c);
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
                continue;
            }
            '"' => quoted = !quoted,
            '<' if !quoted => angle = true,
            '>' if !quoted => angle = false,
            ',' if !quoted && !angle => {
                let t = cur.trim();
                if !t.is_empty() {
                    out.push(t.to_string());
                }
                cur.clear();
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    let t = cur.trim();
    if !t.is_empty() {
        out.push(t.to_string());
    }
    out
}

/// `;name=value;flag` parameters.
fn parse_params(s: &str) -> Vec<(String, Option<String>)> {
    s.split(';')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (k.trim().to_ascii_lowercase(), Some(v.trim().trim_matches('"').to_string())),
            None => (p.to_ascii_lowercase(), None),
        })
        .collect()
}

fn param<'a>(params: &'a [(String, Option<String>)], name: &str) -> Option<&'a (String, Option<String>)> {
    params.iter().find(|(k, _)| k == name)
}

/// A Via header value: `SIP/2.0/UDP host:port;branch=...;rport`.
#[derive(Debug, Clone, PartialEq)]
pub struct Via {
    pub transport: String,
    pub host: String,
    pub port: Option<u16>,
    pub params: Vec<(String, Option<String>)>,
}

impl Via {
    /// Parse one Via value.
    pub fn parse(v: &str) -> Option<Via> {
        let (proto, rest) = v.trim().split_once(char::is_whitespace)?;
        let mut p = proto.split('/');
        let (Some(name), Some(ver), Some(transport), None) = (p.next(), p.next(), p.next(), p.next()) else {
            return None;
        };
        if !name.eq_ignore_ascii_case("SIP") || ver != "2.0" || transport.is_empty() {
            return None;
        }
        let rest = rest.trim();
        let (sent_by, params) = rest.split_once(';').unwrap_or((rest, ""));
        let (host, port) = split_host_port(sent_by.trim())?;
        Some(Via { transport: transport.to_ascii_uppercase(), host, port, params: parse_params(params) })
    }

    /// The branch parameter.
    pub fn branch(&self) -> Option<&str> {
        param(&self.params, "branch").and_then(|(_, v)| v.as_deref())
    }

    /// Whether the client asked for rport (RFC 3581).
    pub fn has_rport(&self) -> bool {
        param(&self.params, "rport").is_some()
    }
}

/// Split `host[:port]`, `[v6][:port]`.
pub fn split_host_port(s: &str) -> Option<(String, Option<u16>)> {
    if s.is_empty() {
        return None;
    }
    if let Some(rest) = s.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p.parse().ok()?),
            None if after.is_empty() => None,
            None => return None,
        };
        return Some((host.to_string(), port));
    }
    match s.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => Some((h.to_string(), Some(p.parse().ok()?))),
        Some(_) => None,
        None => Some((s.to_string(), None)),
    }
    .filter(|(h, _)| !h.is_empty() && !h.contains(char::is_whitespace))
}

/// A name-addr or addr-spec with header parameters (From, To, Contact, P-Asserted-Identity).
#[derive(Debug, Clone, PartialEq)]
pub struct NameAddr {
    pub display: Option<String>,
    pub uri: String,
    pub params: Vec<(String, Option<String>)>,
}

impl NameAddr {
    /// Parse `"Name" <sip:u@h>;tag=x`, `Name <sip:u@h>` or `sip:u@h;tag=x`.
    pub fn parse(v: &str) -> Option<NameAddr> {
        let v = v.trim();
        if let Some(lt) = find_unquoted(v, '<') {
            let display = v[..lt].trim().trim_matches('"').trim();
            let rest = &v[lt + 1..];
            let gt = rest.find('>')?;
            let uri = rest[..gt].trim();
            if uri.is_empty() || !uri.contains(':') {
                return None;
            }
            return Some(NameAddr {
                display: (!display.is_empty()).then(|| display.to_string()),
                uri: uri.to_string(),
                params: parse_params(&rest[gt + 1..]),
            });
        }
        // addr-spec form: parameters after the URI belong to the header.
        let (uri, params) = v.split_once(';').unwrap_or((v, ""));
        if uri.is_empty() || !uri.contains(':') || uri.contains(char::is_whitespace) {
            return None;
        }
        Some(NameAddr { display: None, uri: uri.to_string(), params: parse_params(params) })
    }

    /// The tag parameter.
    pub fn tag(&self) -> Option<&str> {
        param(&self.params, "tag").and_then(|(_, v)| v.as_deref()).filter(|t| !t.is_empty())
    }

    /// The URI's user part (a phone number for most callers).
    pub fn user(&self) -> Option<String> {
        SipUri::parse(&self.uri).and_then(|u| u.user)
    }
}

fn find_unquoted(s: &str, needle: char) -> Option<usize> {
    let mut quoted = false;
    for (i, c) in s.char_indices() {
        match c {
            '"' => quoted = !quoted,
            c if c == needle && !quoted => return Some(i),
            _ => {}
        }
    }
    None
}

/// A `sip:`/`sips:`/`tel:` URI, enough to route a request to it.
#[derive(Debug, Clone, PartialEq)]
pub struct SipUri {
    pub scheme: String,
    pub user: Option<String>,
    pub host: String,
    pub port: Option<u16>,
    pub params: Vec<(String, Option<String>)>,
}

impl SipUri {
    /// Parse a URI; headers (`?...`) are ignored.
    pub fn parse(s: &str) -> Option<SipUri> {
        let (scheme, rest) = s.trim().split_once(':')?;
        let scheme = scheme.to_ascii_lowercase();
        let rest = rest.split('?').next().unwrap_or("");
        if scheme == "tel" {
            let (num, params) = rest.split_once(';').unwrap_or((rest, ""));
            return Some(SipUri {
                scheme,
                user: Some(num.to_string()),
                host: String::new(),
                port: None,
                params: parse_params(params),
            });
        }
        if scheme != "sip" && scheme != "sips" {
            return None;
        }
        let (userinfo, hostpart) = match rest.rfind('@') {
            Some(at) => (Some(&rest[..at]), &rest[at + 1..]),
            None => (None, rest),
        };
        let (hostport, params) = hostpart.split_once(';').unwrap_or((hostpart, ""));
        let (host, port) = split_host_port(hostport)?;
        let user = userinfo.map(|u| u.split(':').next().unwrap_or("").to_string()).filter(|u| !u.is_empty());
        Some(SipUri { scheme, user, host, port, params: parse_params(params) })
    }
}
