//! Retraining from reviews with the real commands: reviews made from banking77's labelled
//! customer queries (`eval review-loop`), `train intents` on them (accuracy before and after on
//! held-back reviews, printed and asserted no worse, overall and for both the assistant's
//! intents and the queries that are none of them), `calibrate caller-state` on caller-state
//! verdicts, and a server that loads both files at start.

mod common;

use common::server::{tempdir, Server};
use common::{datasets, ok_stdout, switchboard};

/// The numbers on the line of `out` that starts with `name` (percentages split in two).
fn numbers(out: &str, name: &str) -> Vec<u64> {
    let line = out.lines().find(|l| l.trim_start().starts_with(name)).unwrap_or_else(|| panic!("no {name:?} in {out}"));
    line.split(|c: char| !c.is_ascii_digit()).filter(|s| !s.is_empty()).map(|s| s.parse().unwrap()).collect()
}

/// "name: before 646/895 (72.2%), after 849/895 (94.9%)" -> ((646, 895), (849, 895)).
fn before_after(out: &str, name: &str) -> ((u64, u64), (u64, u64)) {
    let nums = numbers(out, name);
    // 646, 895, 72, 2 (the percentage), 849, 895, ...
    ((nums[0], nums[1]), (nums[4], nums[5]))
}

#[test]
fn training_on_reviews_is_no_worse_on_held_back_turns_and_serve_loads_it() {
    let Some(data) = datasets() else { return };
    let dir = tempdir("review-loop");
    let reviews = dir.join("reviews.jsonl");
    let model = dir.join("intents.json");
    let b77 = data.join("customer-service-text/banking77");
    let made =
        ok_stdout(&["eval", "review-loop", "--dataset", b77.to_str().unwrap(), "--out", reviews.to_str().unwrap()]);
    print!("{made}");
    let out =
        ok_stdout(&["train", "intents", "--reviews", reviews.to_str().unwrap(), "--out", model.to_str().unwrap()]);
    print!("{out}");
    for name in ["held-back accuracy", "the assistant's intents", "none of them"] {
        let ((b, n), (a, n2)) = before_after(&out, name);
        assert_eq!(n, n2, "{name}: the same held-back turns before and after");
        assert!(n > 0 && a >= b, "{name}: {b}/{n} before, {a}/{n} after");
    }
    // Training again on the same reviews adds nothing (the examples are already in).
    let again =
        ok_stdout(&["train", "intents", "--reviews", reviews.to_str().unwrap(), "--out", model.to_str().unwrap()]);
    assert!(again.contains(" 0 reviewed turns folded in"), "{again}");

    // Caller-state verdicts: people call 0.4 and up frustrated (the shipped threshold is 0.5).
    let states = dir.join("states.jsonl");
    let lines: Vec<String> = (0..300)
        .map(|i| {
            let f = i as f64 / 300.0;
            let truth = if f >= 0.85 {
                "angry"
            } else if f >= 0.4 {
                "frustrated"
            } else {
                "calm"
            };
            let ai = if f >= 0.75 {
                "angry"
            } else if f >= 0.5 {
                "frustrated"
            } else {
                "calm"
            };
            let right = ai == truth;
            serde_json::json!({
                "call_id": format!("c-{i}"), "decision": "e1/caller_state", "kind": "caller_state", "turn": null,
                "ai": {"value": ai, "at_ms": 0, "inputs": {"frustration": f}},
                "verdict": if right { "right" } else { "wrong" }, "correct": if right { None } else { Some(truth) },
            })
            .to_string()
        })
        .collect();
    std::fs::write(&states, lines.join("\n")).unwrap();
    let thresholds = dir.join("caller-state.json");
    let out = ok_stdout(&[
        "calibrate",
        "caller-state",
        "--reviews",
        states.to_str().unwrap(),
        "--out",
        thresholds.to_str().unwrap(),
    ]);
    print!("{out}");
    let count = |name: &str| {
        let nums = numbers(&out, name);
        (nums[0], nums[1])
    };
    let (before, after) = (count("held-back accuracy before"), count("held-back accuracy after"));
    assert!(after.0 > before.0 && after.1 == before.1, "{before:?} -> {after:?}");

    // Bad input: a clear error, nothing written.
    std::fs::write(dir.join("bad.jsonl"), "{not json\n").unwrap();
    let bad = switchboard(&[
        "train",
        "intents",
        "--reviews",
        dir.join("bad.jsonl").to_str().unwrap(),
        "--out",
        dir.join("x.json").to_str().unwrap(),
    ]);
    assert!(!bad.status.success() && String::from_utf8_lossy(&bad.stderr).contains("line 1: not a review"));
    assert!(!dir.join("x.json").exists());

    // The server loads both at start.
    let server = Server::start(&[
        ("SWITCHBOARD__LEARNING__INTENT_MODEL", model.to_str().unwrap()),
        ("SWITCHBOARD__LEARNING__CALLER_STATE_MODEL", thresholds.to_str().unwrap()),
    ]);
    // The log is read from the server's stderr by a thread that may lag its "ready" line.
    let wanted = ["intent classifier with reviewed examples", "caller-state thresholds calibrated from reviews"];
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !wanted.iter().all(|w| server.log().contains(w)) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let log = server.log();
    for w in wanted {
        assert!(log.contains(w), "{w:?} not logged: {log}");
    }
}
