//! Staff accounts on a running server: logins with Argon2 hashes and session cookies, role
//! checks on the call APIs and the event stream, rate-limited wrong passwords, forged and
//! ended sessions; callers reach nothing staff-only.

mod common;

use std::process::Command;

use common::root;
use common::server::Server;
use serde_json::{json, Value};

fn users_add(db: &str, name: &str, role: &str, password: &str) {
    let out = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(["users", "add", name, "--role", role, "--db", db])
        .env("SWITCHBOARD_PASSWORD", password)
        .current_dir(root())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// A request without the test's service token; returns status, headers' Set-Cookie, body.
fn request(
    server: &Server,
    method: &str,
    path: &str,
    cookie: Option<&str>,
    body: Option<Value>,
) -> (u16, String, Value) {
    let url = format!("http://{}{path}", server.http);
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let resp = match (method, body) {
        ("GET", _) => {
            let mut r = agent.get(&url);
            if let Some(c) = cookie {
                r = r.header("Cookie", c);
            }
            r.call()
        }
        (_, b) => {
            let mut r = agent.post(&url).header("Content-Type", "application/json");
            if let Some(c) = cookie {
                r = r.header("Cookie", c);
            }
            r.send(b.unwrap_or(Value::Null).to_string())
        }
    }
    .unwrap();
    let status = resp.status().as_u16();
    let set_cookie = resp.headers().get("set-cookie").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let text = resp.into_body().read_to_string().unwrap_or_default();
    (status, set_cookie, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// The HTTP status of a WebSocket handshake (101 when it is let in).
fn ws_status(server: &Server, path: &str, cookie: Option<&str>) -> u16 {
    use tokio_tungstenite::tungstenite::{client::IntoClientRequest, Error};
    let mut req = format!("ws://{}{path}", server.http).into_client_request().unwrap();
    if let Some(c) = cookie {
        req.headers_mut().insert("Cookie", c.parse().unwrap());
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    match rt.block_on(tokio_tungstenite::connect_async(req)) {
        Ok((_, resp)) => resp.status().as_u16(),
        Err(Error::Http(resp)) => resp.status().as_u16(),
        Err(e) => panic!("{e}"),
    }
}

fn login(server: &Server, user: &str, password: &str) -> (u16, String, Value) {
    request(server, "POST", "/api/login", None, Some(json!({"username": user, "password": password})))
}

#[test]
fn logins_roles_sessions_and_rate_limits() {
    let db = std::env::temp_dir().join(format!("switchboard-staff-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&db);
    let db_s = db.to_str().unwrap();
    users_add(db_s, "sam", "supervisor", "sam-demo-pass");
    users_add(db_s, "maria", "agent", "maria-demo-pass");
    let server = Server::start(&[("SWITCHBOARD__STORE__PATH", db_s), ("SWITCHBOARD__ASSISTANT__ENABLED", "false")]);

    // No session: nothing.
    assert_eq!(request(&server, "GET", "/api/calls", None, None).0, 401);
    assert_eq!(
        request(&server, "GET", "/api/calls", Some(&format!("sb_session={}", "ab".repeat(32))), None).0,
        401,
        "forged"
    );

    // A supervisor logs in: an HttpOnly, SameSite cookie, and sees the calls.
    let (status, cookie, body) = login(&server, "sam", "sam-demo-pass");
    assert_eq!(status, 200, "{body}");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
    let session = cookie.split(';').next().unwrap().to_string();
    let (status, _, me) = request(&server, "GET", "/api/me", Some(&session), None);
    assert_eq!((status, me["role"].as_str()), (200, Some("supervisor")));
    assert_eq!(request(&server, "GET", "/api/calls", Some(&session), None).0, 200);

    // An agent sees only their own calls (none yet) and not the whole event stream.
    let (_, agent_cookie, _) = login(&server, "maria", "maria-demo-pass");
    let agent_session = agent_cookie.split(';').next().unwrap().to_string();
    let (status, _, calls) = request(&server, "GET", "/api/calls", Some(&agent_session), None);
    assert_eq!((status, calls), (200, json!([])));
    assert_eq!(ws_status(&server, "/api/events", Some(&agent_session)), 403, "agents do not see every call");
    assert_eq!(ws_status(&server, "/api/events", Some(&session)), 101, "supervisors do");

    // Logged out: the cookie is dead.
    assert_eq!(request(&server, "POST", "/api/logout", Some(&session), None).0, 200);
    assert_eq!(request(&server, "GET", "/api/me", Some(&session), None).0, 401);

    // Wrong passwords: told so, then rate-limited (even the right one, for a while).
    for _ in 0..5 {
        assert_eq!(login(&server, "sam", "guess").0, 401);
    }
    let (status, _, body) = login(&server, "sam", "sam-demo-pass");
    assert_eq!(status, 429, "{body}");
    assert!(body["error"].as_str().unwrap().contains("try again"), "{body}");
    assert_eq!(login(&server, "nobody", "x").0, 429, "the same address is limited too");

    // A caller's event stream needs the call's own token.
    assert_eq!(ws_status(&server, "/api/events?call=c-nope&token=guess", None), 401);
    assert_eq!(ws_status(&server, "/api/events", None), 401);
    let _ = std::fs::remove_file(&db);
}
