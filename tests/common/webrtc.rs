//! Browser signalling without a browser: JSON posts and a syntactically complete offer, for
//! tests of what the server does with offers that never go on to connect.

use super::server::Server;

/// POST a JSON body without credentials: status and parsed body.
pub fn post(server: &Server, path: &str, body: &str) -> (u16, serde_json::Value) {
    let resp = ureq::post(&format!("http://{}{path}", server.http))
        .config()
        .http_status_as_error(false)
        .build()
        .header("content-type", "application/json")
        .send(body)
        .expect("http post");
    let status = resp.status().as_u16();
    let text = resp.into_body().read_to_string().unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(serde_json::Value::Null))
}

/// A syntactically complete browser-style offer (ICE credentials, DTLS fingerprint, Opus).
pub fn offer(media: &str) -> String {
    let fp = (0..32).map(|i| format!("{:02X}", i * 7 % 256)).collect::<Vec<_>>().join(":");
    format!(
        "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n\
         a=msid-semantic: WMS\r\n{media}c=IN IP4 127.0.0.1\r\na=rtcp:9 IN IP4 0.0.0.0\r\n\
         a=candidate:1 1 udp 2122260223 127.0.0.1 9 typ host\r\na=ice-ufrag:abcd\r\n\
         a=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=ice-options:trickle\r\na=fingerprint:sha-256 {fp}\r\n\
         a=setup:actpass\r\na=mid:0\r\na=sendrecv\r\na=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\n\
         a=fmtp:111 minptime=10;useinbandfec=1\r\na=ssrc:1001 cname:test\r\n"
    )
}
