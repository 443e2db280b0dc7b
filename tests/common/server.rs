//! Starts the real `switchboard serve` on loopback ports chosen by the OS and talks to it:
//! the event WebSocket, the REST API, and raw SIP over UDP for bad-input tests.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;

use super::root;

/// A running server process; killed when dropped.
pub struct Server {
    pub child: Child,
    pub http: SocketAddr,
    pub sip: SocketAddr,
    pub stderr: std::sync::Arc<std::sync::Mutex<String>>,
}

/// The service token of this test process's servers (admin over the API). Exported to the
/// environment too, so `switchboard simulate` run from a test finds it.
pub fn api_token() -> String {
    static TOKEN: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TOKEN
        .get_or_init(|| {
            let t: String = (0..40).map(|_| fastrand::alphanumeric()).collect();
            std::env::set_var("SWITCHBOARD_API_TOKEN", &t);
            t
        })
        .clone()
}

impl Server {
    /// Start with extra `SWITCHBOARD__SECTION__KEY` settings.
    pub fn start(env: &[(&str, &str)]) -> Server {
        super::require_models();
        // Each server gets its own RTP port range so parallel tests do not collide.
        let base = 20000 + (std::process::id() % 200) as u16 * 100 + (fastrand::u16(..50) * 2);
        let (min, max) = (base.to_string(), (base + 1000).to_string());
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_switchboard"));
        cmd.env("SWITCHBOARD_API_TOKEN", api_token());
        cmd.args(["serve", "--http", "127.0.0.1:0", "--sip", "127.0.0.1:0"])
            .current_dir(root())
            .env("SWITCHBOARD_MODELS", root().join("models"))
            .env("SWITCHBOARD_LOG", "info")
            .env("SWITCHBOARD__SIP__RTP_PORT_MIN", &min)
            .env("SWITCHBOARD__SIP__RTP_PORT_MAX", &max)
            // A back-office database of its own per server.
            .env(
                "SWITCHBOARD__STORE__PATH",
                std::env::temp_dir().join(format!("switchboard-test-{}-{}.db", std::process::id(), fastrand::u32(..))),
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .stdin(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("start switchboard serve");
        let stderr = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let err_pipe = child.stderr.take().unwrap();
        let sink = stderr.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(err_pipe).lines().map_while(Result::ok) {
                let mut s = sink.lock().unwrap();
                s.push_str(&line);
                s.push('\n');
            }
        });
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        out.read_line(&mut line).expect("read ready line");
        if !line.contains("Switchboard ready") {
            std::thread::sleep(Duration::from_millis(300));
            panic!("server did not start: {line}\n{}", stderr.lock().unwrap());
        }
        let http = line.split("http://").nth(1).unwrap().split_whitespace().next().unwrap().parse().unwrap();
        let sip = line.split("sip:switchboard@").nth(1).unwrap().split_whitespace().next().unwrap().parse().unwrap();
        std::thread::spawn(move || for _ in out.lines() {});
        Server { child, http, sip, stderr }
    }

    /// GET a JSON document.
    pub fn get(&self, path: &str) -> (u16, Value) {
        let url = format!("http://{}{path}", self.http);
        let resp = ureq::get(&url)
            .header("Authorization", &format!("Bearer {}", api_token()))
            .config()
            .http_status_as_error(false)
            .build()
            .call()
            .expect("http get");
        let status = resp.status().as_u16();
        let text = resp.into_body().read_to_string().unwrap_or_default();
        let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        (status, body)
    }

    /// A request without the test's service token (a browser's view): status, Set-Cookie, body.
    pub fn request(&self, method: &str, path: &str, cookie: Option<&str>, body: Option<Value>) -> (u16, String, Value) {
        let url = format!("http://{}{path}", self.http);
        let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
        let resp = match (method, body) {
            ("GET", _) => {
                let mut r = agent.get(&url);
                if let Some(c) = cookie {
                    r = r.header("Cookie", c);
                }
                r.call()
            }
            (m, b) => {
                let mut r = match m {
                    "PUT" => agent.put(&url),
                    _ => agent.post(&url),
                }
                .header("Content-Type", "application/json");
                if let Some(c) = cookie {
                    r = r.header("Cookie", c);
                }
                r.send(b.unwrap_or(Value::Null).to_string())
            }
        }
        .expect("http request");
        let status = resp.status().as_u16();
        let set_cookie = resp.headers().get("set-cookie").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        let text = resp.into_body().read_to_string().unwrap_or_default();
        (status, set_cookie, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// POST /api/login.
    pub fn login(&self, user: &str, password: &str) -> (u16, String, Value) {
        self.request("POST", "/api/login", None, Some(serde_json::json!({"username": user, "password": password})))
    }

    /// Log in as an agent and set them available for calls; their session cookie.
    pub fn available_agent(&self, user: &str, password: &str) -> String {
        let cookie = self.session(user, password);
        let (status, _, body) = self.request(
            "PUT",
            "/api/agents/me/presence",
            Some(&cookie),
            Some(serde_json::json!({"presence": "available"})),
        );
        assert_eq!(status, 200, "{user} available: {body}");
        cookie
    }

    /// Log in and return the session cookie ("sb_session=...").
    pub fn session(&self, user: &str, password: &str) -> String {
        let (status, cookie, body) = self.login(user, password);
        assert_eq!(status, 200, "login {user}: {body}");
        cookie.split(';').next().unwrap().to_string()
    }

    /// Subscribe to `/api/events` (optionally one call's).
    pub async fn events(&self, call: Option<&str>) -> Events {
        let url = match call {
            Some(c) => format!("ws://{}/api/events?call={c}", self.http),
            None => format!("ws://{}/api/events", self.http),
        };
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut req = url.into_client_request().unwrap();
        req.headers_mut().insert("Authorization", format!("Bearer {}", api_token()).parse().unwrap());
        let (mut ws, _) = tokio_tungstenite::connect_async(req).await.expect("connect events");
        // The server subscribes to the bus before its 101 goes out (tested in
        // web::events_socket_tests), so nothing published from here on can be missed; the
        // pong to a ping also says the socket is served. Events before the pong wait in the
        // backlog.
        ws.send(Message::Ping(b"subscribed?".to_vec().into())).await.expect("ping the event stream");
        let mut backlog = std::collections::VecDeque::new();
        loop {
            match tokio::time::timeout(Duration::from_secs(10), ws.next()).await {
                Ok(Some(Ok(Message::Pong(_)))) => break,
                Ok(Some(Ok(Message::Text(t)))) => {
                    backlog.push_back(serde_json::from_str(t.as_str()).expect("event JSON"))
                }
                Ok(Some(Ok(_))) => {}
                other => panic!("the event stream did not answer a ping: {other:?}"),
            }
        }
        Events { ws, seen: Vec::new(), backlog }
    }

    /// SIGTERM and wait for exit; returns the exit status and the log.
    pub fn terminate(mut self) -> (std::process::ExitStatus, String) {
        unsafe_kill(self.child.id(), "TERM");
        let deadline = Instant::now() + Duration::from_secs(40);
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                std::thread::sleep(Duration::from_millis(100));
                return (s, self.stderr.lock().unwrap().clone());
            }
            assert!(Instant::now() < deadline, "server did not exit after SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }
}

fn unsafe_kill(pid: u32, sig: &str) {
    let _ = Command::new("kill").args([&format!("-{sig}"), &pid.to_string()]).status();
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The event stream of a server.
pub struct Events {
    ws: tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    /// Every event received so far, in order.
    pub seen: Vec<Value>,
    /// Events received while the stream was being set up, not yet looked at.
    backlog: std::collections::VecDeque<Value>,
}

impl Events {
    /// Read events until `pred` matches one (returned) or `timeout` passes (panics with what was seen).
    pub async fn until(&mut self, timeout: Duration, pred: impl Fn(&Value) -> bool) -> Value {
        while let Some(v) = self.backlog.pop_front() {
            self.seen.push(v.clone());
            if pred(&v) {
                return v;
            }
        }
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let msg = match tokio::time::timeout_at(deadline, self.ws.next()).await {
                Ok(Some(Ok(m))) => m,
                Ok(other) => panic!("event stream ended: {other:?}; seen {:#?}", self.types()),
                Err(_) => panic!("timed out; events seen: {:#?}", self.seen),
            };
            if let Message::Text(t) = msg {
                let v: Value = serde_json::from_str(t.as_str()).expect("event JSON");
                self.seen.push(v.clone());
                if pred(&v) {
                    return v;
                }
            }
        }
    }

    /// Wait for an event of `kind`.
    /// An event already seen that matches `pred`, or else the next one that does.
    pub async fn find(&mut self, timeout: Duration, pred: impl Fn(&Value) -> bool) -> Value {
        if let Some(v) = self.seen.iter().find(|v| pred(v)) {
            return v.clone();
        }
        self.until(timeout, pred).await
    }

    pub async fn next_of(&mut self, kind: &str, timeout: Duration) -> Value {
        self.until(timeout, |v| v["type"] == kind).await
    }

    /// Types of the events seen.
    pub fn types(&self) -> Vec<String> {
        self.seen.iter().map(|v| v["type"].as_str().unwrap_or("?").to_string()).collect()
    }

    /// Final transcript text seen so far for a call.
    pub fn finals(&self, call: &str) -> String {
        self.seen
            .iter()
            .filter(|v| v["type"] == "transcript_final" && v["call_id"] == call)
            .map(|v| v["text"].as_str().unwrap_or("").to_string())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Whether a command exists on PATH.
pub fn have(cmd: &str) -> bool {
    Command::new("sh").args(["-c", &format!("command -v {cmd}")]).output().map(|o| o.status.success()).unwrap_or(false)
}

/// A free UDP port on loopback (bound then released).
pub fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Run sipp with a project scenario against `target`; `keys` fill `[name]` keywords.
/// Returns (success, sipp's screen and error output).
pub fn sipp(
    scenario: &str,
    target: SocketAddr,
    keys: &[(&str, &str)],
    recv_timeout_ms: u64,
    calls: u32,
) -> (bool, String) {
    let dir = tempdir("sipp");
    let mut cmd = Command::new("sipp");
    cmd.current_dir(&dir)
        .arg("-sf")
        .arg(root().join("tests/sipp").join(scenario))
        .args(["-i", "127.0.0.1", "-p", &free_udp_port().to_string(), "-s", "switchboard"])
        .args(["-m", &calls.to_string(), "-l", &calls.to_string(), "-r", &calls.to_string()])
        .args(["-recv_timeout", &recv_timeout_ms.to_string(), "-timeout", "120s", "-timeout_error"])
        .args(["-nostdin", "-trace_err", "-trace_screen"])
        .arg(target.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in keys {
        cmd.args(["-key", k, v]);
    }
    let out = cmd.output().expect("run sipp (apt-get install sip-tester)");
    let mut log = String::from_utf8_lossy(&out.stderr).to_string();
    for e in std::fs::read_dir(&dir).unwrap().flatten() {
        let p = e.path();
        if p.extension().is_some_and(|x| x == "log") {
            log.push_str(&format!("\n--- {}\n", p.display()));
            log.push_str(&std::fs::read_to_string(&p).unwrap_or_default());
        }
    }
    (out.status.success(), log)
}

/// A fresh temporary folder under target/.
/// A server on a fresh back-office database with the demo data (12 customers, the demo staff);
/// the database's path, to remove at the end.
pub fn demo_server(tag: &str, env: &[(&str, &str)]) -> (std::path::PathBuf, Server) {
    let db = tempdir(tag).join("bo.db");
    crate::common::ok_stdout(&["demo-data", "--db", db.to_str().unwrap(), "--customers", "12"]);
    let mut all = vec![("SWITCHBOARD__STORE__PATH", db.to_str().unwrap())];
    all.extend_from_slice(env);
    let server = Server::start(&all);
    (db, server)
}

/// Settings for a server whose agents use the desktop in a browser: WebRTC on loopback, and
/// offers that wait for a browser to click.
pub const DESK: &[(&str, &str)] =
    &[("SWITCHBOARD__WEBRTC__UDP_ADDRS", r#"["127.0.0.1:0"]"#), ("SWITCHBOARD__ROUTING__OFFER_TIMEOUT_S", "30")];

pub fn tempdir(prefix: &str) -> std::path::PathBuf {
    let d = root().join("target/test-tmp").join(format!("{prefix}-{}-{}", std::process::id(), fastrand::u32(..)));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Write a fixture WAV as an RTP pcap (with trailing DTMF digits) using the real binary.
pub fn pcap_of(wav: &str, dtmf: &str) -> std::path::PathBuf {
    let out = tempdir("pcap").join(format!("{wav}.pcap"));
    let wav_path = super::fixture(wav);
    super::ok_stdout(&["pcap", wav_path.to_str().unwrap(), out.to_str().unwrap(), "--dtmf", dtmf]);
    out
}
