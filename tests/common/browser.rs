//! Headless Chromium through chromedriver, with a WAV file as its microphone, and the pages'
//! `window.switchboard` state.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

use super::server::{have, tempdir};

/// chromedriver, killed when dropped.
pub struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_tcp_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// chromedriver plus a headless Chromium session whose microphone plays `wav` (once, or on a
/// loop with `looped`).
pub async fn browser(wav: &std::path::Path, looped: bool) -> (Driver, Client) {
    assert!(
        have("chromedriver"),
        "chromedriver is missing: apt-get install chromium chromium-driver (scripts/setup installs it)"
    );
    let port = free_tcp_port();
    let driver = Driver(
        Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver"),
    );
    let profile = tempdir("chromium-profile");
    let args = vec![
        "--headless".to_string(),
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        "--disable-quic".into(),
        "--no-first-run".into(),
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
        format!("--user-data-dir={}", profile.display()),
        "--use-fake-ui-for-media-stream".into(),
        "--use-fake-device-for-media-stream".into(),
        format!("--use-file-for-fake-audio-capture={}{}", wav.display(), if looped { "" } else { "%noloop" }),
        // Chromium leaves loopback out of ICE unless told; the test server binds 127.0.0.1 only.
        "--allow-loopback-in-peer-connection".into(),
        "--autoplay-policy=no-user-gesture-required".into(),
        "--window-size=900,900".into(),
    ];
    let mut caps = serde_json::Map::new();
    caps.insert("goog:chromeOptions".into(), json!({ "binary": "/usr/bin/chromium", "args": args }));
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(c) => return (driver, c),
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("cannot start Chromium through chromedriver: {e}"),
        }
    }
}

/// Copy a WAV with `secs` of silence in front.
pub fn with_leading_silence(src: &std::path::Path, dst: &std::path::Path, secs: f32) {
    let mut r = hound::WavReader::open(src).unwrap();
    let spec = r.spec();
    let mut w = hound::WavWriter::create(dst, spec).unwrap();
    for _ in 0..(secs * spec.sample_rate as f32) as usize * spec.channels as usize {
        w.write_sample(0i16).unwrap();
    }
    for s in r.samples::<i16>() {
        w.write_sample(s.unwrap()).unwrap();
    }
    w.finalize().unwrap();
}

pub async fn page_state(c: &Client) -> Value {
    c.execute("return window.switchboard;", vec![]).await.expect("read window.switchboard")
}

pub async fn wait_page(c: &Client, timeout: Duration, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + timeout;
    loop {
        let s = page_state(c).await;
        if pred(&s) {
            return s;
        }
        assert!(Instant::now() < deadline, "page never showed {what}: {s}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Log in at `/agent` as `user` (demo password) and go available.
pub async fn log_in_and_go_available(c: &Client, base: &str, user: &str) {
    c.goto(&format!("{base}/agent")).await.unwrap();
    let s = page_state(c).await;
    if s["user"].is_null() {
        c.find(Locator::Id("username")).await.unwrap().send_keys(user).await.unwrap();
        c.find(Locator::Id("password")).await.unwrap().send_keys(&format!("{user}-demo-pass")).await.unwrap();
        c.find(Locator::Id("login-button")).await.unwrap().click().await.unwrap();
    }
    wait_page(c, Duration::from_secs(10), "the login", |s| s["user"]["username"] == user).await;
    wait_page(c, Duration::from_secs(10), "the presence", |s| s["presence"].is_string()).await;
    c.find(Locator::Id("presence")).await.unwrap().select_by_value("available").await.unwrap();
    wait_page(c, Duration::from_secs(10), "available", |s| s["presence"] == "available").await;
}

/// Accept the offer of `call` on the desktop (it must be offered to `agent`) and wait for the audio.
pub async fn accept_offer_as(c: &Client, call: &str, agent: &str) {
    let s = wait_page(c, Duration::from_secs(120), "an offer", |s| s["offer"]["call_id"] == call).await;
    assert_eq!(s["offer"]["decision"]["agent_id"], agent);
    c.find(Locator::Id("accept")).await.unwrap().click().await.unwrap();
    wait_page(c, Duration::from_secs(20), "the call's audio", |s| s["connected"] == true).await;
}
