//! Interoperability beyond sipp: baresip (a second, independent SIP/RTP stack) calls the
//! server headless, streams a speech fixture from a WAV file, presses a key (RFC 4733) and
//! hangs up by itself at the end of the file.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::server::{free_udp_port, have, tempdir, Server};
use common::{fixture, words};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn baresip_call_is_transcribed() {
    assert!(have("baresip"), "baresip is missing: apt-get install baresip (scripts/setup installs it)");
    let server = Server::start(&[]);
    let mut events = server.events(None).await;

    let dir = tempdir("baresip");
    let cons = free_udp_port();
    std::fs::write(dir.join("accounts"), "<sip:uac@127.0.0.1>;regint=0;audio_codecs=PCMU/8000\n").unwrap();
    std::fs::write(
        dir.join("config"),
        format!(
            "poll_method epoll\nsip_listen 127.0.0.1:0\nnet_interface 127.0.0.1\n\
             audio_player alsa,null\naudio_alert alsa,null\naudio_source aufile,{}\n\
             audio_level no\nrtcp_mux no\nmodule_path /usr/lib/baresip/modules\n\
             module g711.so\nmodule aufile.so\nmodule alsa.so\nmodule cons.so\ncons_listen 127.0.0.1:{cons}\n\
             module_tmp account.so\nmodule_app menu.so\n",
            fixture("order_status_8k.wav").display()
        ),
    )
    .unwrap();
    // stdio.so is left out on purpose: there is no terminal in CI.
    let mut child = Command::new("baresip")
        .arg("-f")
        .arg(&dir)
        .args(["-e", &format!("/dial sip:switchboard@{}", server.sip), "-t", "25"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start baresip");

    let started = events.next_of("call_started", Duration::from_secs(20)).await;
    let id = started["call_id"].as_str().unwrap().to_string();
    assert_eq!(started["caller"], "uac");
    // Press 7 through baresip's console while the call is up.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.send_to(b"/sndcode 7\n", ("127.0.0.1", cons)).unwrap();

    let ended = events.next_of("call_ended", Duration::from_secs(60)).await;
    assert_eq!(ended["call_id"], id.as_str());
    assert_eq!(ended["reason"], "caller_hangup", "baresip hangs up at the end of its file");
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();

    let text = words(&events.finals(&id));
    for w in ["calling", "order", "number"] {
        assert!(
            text.split_whitespace().any(|t| t == w),
            "{w:?} missing from {text:?}\nbaresip:\n{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    let digits: Vec<&str> =
        events.seen.iter().filter(|v| v["type"] == "dtmf").filter_map(|v| v["digit"].as_str()).collect();
    assert_eq!(digits, vec!["7"]);
}
