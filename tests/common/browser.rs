//! Headless Chromium through chromedriver, with a WAV file as its microphone, and the pages'
//! `window.switchboard` state.

use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};
use serde_json::Value;

use super::server::{have, tempdir};

pub use switchboard::cmd::headless::Driver;

/// chromedriver plus a headless Chromium session whose microphone plays `wav` (once, or on a
/// loop with `looped`).
pub async fn browser(wav: &std::path::Path, looped: bool) -> (Driver, Client) {
    assert!(
        have("chromedriver"),
        "chromedriver is missing: apt-get install chromium chromium-driver (scripts/setup installs it)"
    );
    let profile = tempdir("chromium-profile");
    let args = [
        "--use-fake-ui-for-media-stream".to_string(),
        "--use-fake-device-for-media-stream".into(),
        format!("--use-file-for-fake-audio-capture={}{}", wav.display(), if looped { "" } else { "%noloop" }),
        // Chromium leaves loopback out of ICE unless told; the test server binds 127.0.0.1 only.
        "--allow-loopback-in-peer-connection".into(),
        "--autoplay-policy=no-user-gesture-required".into(),
        "--window-size=900,900".into(),
    ];
    switchboard::cmd::headless::chromium(&profile, &args).await.expect("headless Chromium")
}

/// `secs` of silence as a 16 kHz WAV at `dir/quiet.wav` (a microphone that says nothing).
pub fn silence_wav(dir: &std::path::Path, secs: u32) -> std::path::PathBuf {
    let path = dir.join("quiet.wav");
    write_wav_16k(&path, &vec![0.0; 16_000 * secs as usize]);
    path
}

/// 16 kHz mono samples as a 16-bit WAV at `path` (a fake microphone's file).
pub fn write_wav_16k(path: &std::path::Path, samples: &[f32]) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 16_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for s in samples {
        w.write_sample((s.clamp(-1.0, 1.0) * 32767.0) as i16).unwrap();
    }
    w.finalize().unwrap();
}

/// A sentence spoken by espeak-ng (US English) into `dir/name.wav`, after `lead_s` of silence.
pub fn espeak(dir: &std::path::Path, name: &str, text: &str, lead_s: f32) -> std::path::PathBuf {
    let raw = dir.join(format!("{name}-raw.wav"));
    let ok = std::process::Command::new("espeak-ng")
        .args(["-v", "en-us", "-w", raw.to_str().unwrap(), text])
        .status()
        .unwrap()
        .success();
    assert!(ok, "espeak-ng failed");
    let voice = dir.join(format!("{name}.wav"));
    with_leading_silence(&raw, &voice, lead_s);
    voice
}

/// Select `call` on the supervisor's wall. In one script: the wall is redrawn as events
/// arrive, so a row found by WebDriver can be replaced before it is clicked.
pub async fn select_on_wall(c: &Client, call: &str) {
    click_now(c, &format!("tr[data-id='{call}']")).await;
}

/// Click the element `css` selects, found and clicked in one script (see `select_on_wall`).
pub async fn click_now(c: &Client, css: &str) {
    let script = "const e = document.querySelector(arguments[0]); if (e) e.click(); return !!e;";
    let found = c.execute(script, vec![Value::String(css.into())]).await.unwrap();
    assert_eq!(found, Value::Bool(true), "nothing on the page matches {css}");
}

/// Log in at `/supervisor` as `user` (demo password).
pub async fn log_in_supervisor(c: &Client, base: &str, user: &str) {
    c.goto(&format!("{base}/supervisor")).await.unwrap();
    c.find(Locator::Id("username")).await.unwrap().send_keys(user).await.unwrap();
    c.find(Locator::Id("password")).await.unwrap().send_keys(&format!("{user}-demo-pass")).await.unwrap();
    c.find(Locator::Css("#login button[type=submit]")).await.unwrap().click().await.unwrap();
    wait_page(c, Duration::from_secs(10), "the login", |s| s["user"]["username"] == user).await;
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
    // Whether a session cookie still logs us in is known only once /api/me answered: the
    // login form may be hidden under a click sent before (the CI failure after a reload).
    let s = wait_page(c, Duration::from_secs(10), "the session check", |s| s["sessionChecked"] == true).await;
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
