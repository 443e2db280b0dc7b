//! Staff accounts on a running server: logins with Argon2 hashes and session cookies, role
//! checks on the call APIs and the event stream, rate-limited wrong passwords, forged and
//! ended sessions; callers reach nothing staff-only.

mod common;

use std::process::Command;

use common::root;
use common::server::Server;
use serde_json::json;

fn users_add(db: &str, name: &str, role: &str, password: &str) {
    let out = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(["users", "add", name, "--role", role, "--db", db])
        .env("SWITCHBOARD_PASSWORD", password)
        .current_dir(root())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
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

#[test]
fn logins_roles_sessions_and_rate_limits() {
    let db = std::env::temp_dir().join(format!("switchboard-staff-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&db);
    let db_s = db.to_str().unwrap();
    users_add(db_s, "sam", "supervisor", "sam-demo-pass");
    users_add(db_s, "maria", "agent", "maria-demo-pass");
    let server = Server::start(&[("SWITCHBOARD__STORE__PATH", db_s), ("SWITCHBOARD__ASSISTANT__ENABLED", "false")]);

    // No session: nothing.
    assert_eq!(server.request("GET", "/api/calls", None, None).0, 401);
    assert_eq!(
        server.request("GET", "/api/calls", Some(&format!("sb_session={}", "ab".repeat(32))), None).0,
        401,
        "forged"
    );

    // A supervisor logs in: an HttpOnly, SameSite cookie, and sees the calls.
    let (status, cookie, body) = server.login("sam", "sam-demo-pass");
    assert_eq!(status, 200, "{body}");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
    let session = cookie.split(';').next().unwrap().to_string();
    let (status, _, me) = server.request("GET", "/api/me", Some(&session), None);
    assert_eq!((status, me["role"].as_str()), (200, Some("supervisor")));
    assert_eq!(server.request("GET", "/api/calls", Some(&session), None).0, 200);

    // An agent sees only their own calls (none yet) and not the whole event stream.
    let (_, agent_cookie, _) = server.login("maria", "maria-demo-pass");
    let agent_session = agent_cookie.split(';').next().unwrap().to_string();
    let (status, _, calls) = server.request("GET", "/api/calls", Some(&agent_session), None);
    assert_eq!((status, calls), (200, json!([])));
    assert_eq!(ws_status(&server, "/api/events", Some(&agent_session)), 403, "no agent profile: no desk, no calls");
    assert_eq!(ws_status(&server, "/api/events", Some(&session)), 101, "supervisors do");

    // Logged out: the cookie is dead.
    assert_eq!(server.request("POST", "/api/logout", Some(&session), None).0, 200);
    assert_eq!(server.request("GET", "/api/me", Some(&session), None).0, 401);

    // Wrong passwords: told so, then rate-limited (even the right one, for a while).
    for _ in 0..5 {
        assert_eq!(server.login("sam", "guess").0, 401);
    }
    let (status, _, body) = server.login("sam", "sam-demo-pass");
    assert_eq!(status, 429, "{body}");
    assert!(body["error"].as_str().unwrap().contains("try again"), "{body}");
    assert_eq!(server.login("nobody", "x").0, 429, "the same address is limited too");

    // A caller's event stream needs the call's own token.
    assert_eq!(ws_status(&server, "/api/events?call=c-nope&token=guess", None), 401);
    assert_eq!(ws_status(&server, "/api/events", None), 401);
    let _ = std::fs::remove_file(&db);
}
