//! Logins under attack, on the real server with the demo staff: 100 parallel wrong guesses for
//! one agent from one address get 429s after the address's quota (and no more password checks
//! than that), the agent herself still logs in from another address, a flood of logins cannot
//! make the server allocate Argon2 memory per login (RSS bounded), and the login takes JSON
//! only and keeps the session token out of the body.
//!
//! Loopback addresses other than 127.0.0.1 (127.0.0.2, 127.0.1.x) stand in for other clients:
//! the client socket is bound to them before connecting.

mod common;

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::ok_stdout;
use common::server::Server;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A raw HTTP/1.1 response: status, headers (lower-case names), body.
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Value,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// POST `body` to `path` from the local address `from`, with `content_type`.
async fn post_from(server: SocketAddr, from: &str, path: &str, content_type: &str, body: &str) -> Answer {
    let sock = tokio::net::TcpSocket::new_v4().unwrap();
    sock.bind(SocketAddr::new(from.parse::<IpAddr>().unwrap(), 0)).unwrap();
    let mut s = sock.connect(server).await.expect("connect");
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: {server}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).await.expect("read answer");
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines.next().and_then(|l| l.split_whitespace().nth(1)).and_then(|c| c.parse().ok()).unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Answer { status, headers, body: serde_json::from_str(body).unwrap_or(Value::Null) }
}

async fn login_from(server: SocketAddr, from: &str, user: &str, password: &str) -> Answer {
    let body = json!({"username": user, "password": password}).to_string();
    post_from(server, from, "/api/login", "application/json", &body).await
}

/// Password checks the server has run (the admins' monitoring endpoint, via the service token).
fn checks(server: &Server) -> u64 {
    let (status, body) = server.get("/api/admin/login-stats");
    assert_eq!(status, 200, "{body}");
    body["password_checks"].as_u64().expect("password_checks")
}

/// A field of /proc/PID/status in kB.
fn proc_kb(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with(field)).unwrap_or_else(|| panic!("no {field}"));
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn parallel_guesses_are_limited_per_address_and_memory_stays_bounded() {
    let db = std::env::temp_dir().join(format!("switchboard-login-hardening-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&db);
    ok_stdout(&["demo-data", "--db", db.to_str().unwrap(), "--customers", "4"]);
    let server = Server::start(&[("SWITCHBOARD__STORE__PATH", db.to_str().unwrap())]);
    let http = server.http;
    let pid = server.child.id();
    let rt = tokio::runtime::Runtime::new().unwrap();

    // JSON only: a text/plain (or form) body is what a cross-site form can send.
    let body = json!({"username": "priya", "password": "priya-demo-pass"}).to_string();
    for ct in ["text/plain", "application/x-www-form-urlencoded", "text/plain; charset=application/json"] {
        let a = rt.block_on(post_from(http, "127.0.0.1", "/api/login", ct, &body));
        assert_eq!(a.status, 415, "{ct}: {}", a.body);
        assert!(a.header("set-cookie").is_none(), "{ct}: no session");
    }
    assert_eq!(checks(&server), 0, "refused bodies check no password");

    // 100 parallel wrong guesses for Priya from one address: the address's quota (5) of
    // checks, then 429 with Retry-After; never more checks than the quota.
    let answers: Vec<Answer> = rt.block_on(async {
        let tasks: Vec<_> = (0..100)
            .map(|i| tokio::spawn(async move { login_from(http, "127.0.0.1", "priya", &format!("guess-{i}")).await }))
            .collect();
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.unwrap());
        }
        out
    });
    let count = |s: u16| answers.iter().filter(|a| a.status == s).count();
    assert_eq!((count(401), count(429)), (5, 95), "{:?}", answers.iter().map(|a| a.status).collect::<Vec<_>>());
    for a in answers.iter().filter(|a| a.status == 429) {
        let wait: u64 = a.header("retry-after").expect("Retry-After").parse().unwrap();
        assert!((1..=300).contains(&wait), "{wait}");
        assert!(a.body["error"].as_str().unwrap().contains("try again"), "{}", a.body);
    }
    assert_eq!(checks(&server), 5, "at most the quota of password checks");
    // The server's log reaches this process through a pipe: let the last lines arrive.
    let deadline = std::time::Instant::now() + Duration::from_secs(3);
    while server.log().matches("failed login").count() < 5 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(200));
    let log = server.log();
    assert_eq!(log.matches("failed login").count(), 5, "one log line per check, none per refusal");

    // The guessing address stays blocked, even with the right password ...
    assert_eq!(rt.block_on(login_from(http, "127.0.0.1", "priya", "priya-demo-pass")).status, 429);
    // ... but Priya is not locked out: from her own address she logs in. The token is only
    // in the HttpOnly cookie, not in the body.
    let ok = rt.block_on(login_from(http, "127.0.0.2", "priya", "priya-demo-pass"));
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.body["user"]["username"], "priya");
    assert!(ok.body.get("token").is_none(), "no token in the body: {}", ok.body);
    let cookie = ok.header("set-cookie").expect("a session cookie").to_string();
    assert!(cookie.starts_with("sb_session=") && cookie.contains("HttpOnly"), "{cookie}");
    let token = cookie.split(';').next().unwrap().trim_start_matches("sb_session=");
    assert!(!ok.body.to_string().contains(token), "the token appears nowhere in the body");
    let (status, _, me) = server.request("GET", "/api/me", Some(cookie.split(';').next().unwrap()), None);
    assert_eq!((status, me["username"].as_str()), (200, Some("priya")));
    assert_eq!(checks(&server), 6);

    // A flood that the per-address limit lets through (20 addresses x 5 unknown users, all at
    // once): the password checks queue in the bounded pool or are refused as busy, and the
    // server does not allocate Argon2 memory per login.
    let baseline_kb = proc_kb(pid, "VmRSS:");
    let (stop, peak) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicU64::new(0)));
    let sampler = {
        let (stop, peak) = (stop.clone(), peak.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                peak.fetch_max(proc_kb(pid, "VmRSS:"), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };
    let flood: Vec<Answer> = rt.block_on(async {
        let tasks: Vec<_> = (0..100)
            .map(|i| {
                let from = format!("127.0.1.{}", 1 + i % 20);
                tokio::spawn(async move { login_from(http, &from, &format!("nobody-{i}"), "wrong-password").await })
            })
            .collect();
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.unwrap());
        }
        out
    });
    stop.store(true, Ordering::Relaxed);
    sampler.join().unwrap();
    let (unauthorized, busy) =
        (flood.iter().filter(|a| a.status == 401).count(), flood.iter().filter(|a| a.status == 503).count());
    assert_eq!(unauthorized + busy, 100, "{:?}", flood.iter().map(|a| a.status).collect::<Vec<_>>());
    assert!(flood.iter().filter(|a| a.status == 503).all(|a| a.header("retry-after") == Some("1")));
    let (status, stats) = server.get("/api/admin/login-stats");
    assert_eq!(status, 200);
    assert_eq!(stats["password_checks"].as_u64(), Some(6 + unauthorized as u64), "{stats}");
    assert_eq!(stats["refused_busy"].as_u64(), Some(busy as u64), "{stats}");
    let peak_kb = peak.load(Ordering::Relaxed).max(proc_kb(pid, "VmRSS:"));
    let bound_kb = baseline_kb + 300 * 1024;
    assert!(
        peak_kb <= bound_kb,
        "RSS went from {} MB to {} MB (bound {} MB) over {unauthorized} checks",
        baseline_kb / 1024,
        peak_kb / 1024,
        bound_kb / 1024
    );
    eprintln!(
        "flood: {unauthorized} checked, {busy} busy; RSS {} MB -> peak {} MB",
        baseline_kb / 1024,
        peak_kb / 1024
    );

    // Only admins see the counters.
    let sam = rt.block_on(login_from(http, "127.0.0.3", "sam", "sam-demo-pass"));
    assert_eq!(sam.status, 200, "{}", sam.body);
    let sam = sam.header("set-cookie").unwrap().split(';').next().unwrap().to_string();
    assert_eq!(server.request("GET", "/api/admin/login-stats", Some(&sam), None).0, 403);
    assert_eq!(server.request("GET", "/api/admin/login-stats", None, None).0, 401);
    let _ = std::fs::remove_file(&db);
}
