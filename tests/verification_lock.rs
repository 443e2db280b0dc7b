//! No PIN guessing across calls (issue 14): failed verifications count per customer across
//! calls on the real server (SIP/RTP, real Whisper and TTS, the SQLite back office). Two wrong
//! PINs in one call, a third in the next: John's verification locks; a third call with his
//! right PIN is refused without a word about the PIN and handed over, and the agent's case
//! file says why.

mod common;

use common::server::{have, tempdir, Server};
use common::{ok_stdout, simulate_in_background, summary_and_heard};
use serde_json::Value;

fn simulate(server: &Server, scenario: &str) -> Value {
    let (summary, _) = summary_and_heard(&simulate_in_background(server, scenario).join().unwrap());
    println!("{scenario}: {} {}", summary["outcome"], summary["escalation_reason"]);
    summary
}

fn said(s: &Value) -> String {
    s["assistant_said"].as_array().unwrap().iter().map(|t| t.as_str().unwrap_or("")).collect::<Vec<_>>().join(" | ")
}

fn reason(s: &Value) -> (Option<&str>, Option<&str>) {
    (s["outcome"].as_str(), s["escalation_reason"].as_str())
}

#[test]
fn a_third_failure_across_calls_locks_verification_and_the_right_pin_is_then_refused() {
    assert!(have("espeak-ng"), "needs espeak-ng (scripts/setup installs it)");
    let dir = tempdir("verification-lock");
    let db = dir.join("bo.db");
    ok_stdout(&["demo-data", "--db", db.to_str().unwrap(), "--customers", "12"]);
    let server = Server::start(&[("SWITCHBOARD__STORE__PATH", db.to_str().unwrap())]);

    // Call 1: two wrong PINs, this call's own limit.
    let s = simulate(&server, "wrong_pin.toml");
    assert_eq!(reason(&s), (Some("escalated"), Some("verification_failed")), "{s}");

    // Call 2: one more wrong PIN, the third for John within the hour: locked now.
    let s = simulate(&server, "locked_wrong_pin.toml");
    assert_eq!(reason(&s), (Some("escalated"), Some("verification_locked")), "{s}");
    assert!(said(&s).contains("can't complete the security check"), "{}", said(&s));

    // Call 3: the right PIN is not checked; nothing of the account is said.
    let s = simulate(&server, "locked_right_pin.toml");
    assert_eq!(reason(&s), (Some("escalated"), Some("verification_locked")), "{s}");
    let text = said(&s);
    assert!(text.contains("can't complete the security check") && text.contains("colleague"), "{text}");
    assert!(!text.contains("4 5 6 7 8") && !text.contains("John") && !text.contains("Thank you,"), "{text}");
    let actions = s["actions"].as_array().unwrap();
    assert!(!actions.iter().any(|a| a["ok"] == true && a["tool"] != "find_caller"), "nothing done: {actions:?}");
    assert!(
        actions.iter().any(|a| a["tool"] == "verify" && a["detail"].as_str().unwrap_or("").starts_with("not checked")),
        "{actions:?}"
    );

    // The agent who takes it sees why, and that the caller is not verified.
    let call = s["call_id"].as_str().unwrap();
    let (status, rec) = server.get(&format!("/api/calls/{call}"));
    assert_eq!(status, 200, "{rec}");
    let cf = &rec["case_file"];
    assert_eq!(cf["handover"]["reason"], "verification_locked", "{cf}");
    let note = "Verification locked after 3 failed attempts in the last hour; verify by other means.";
    assert_eq!(cf["notes"][0], note, "{cf}");
    assert!(cf["next_step"].as_str().unwrap().starts_with(note), "{cf}");
    assert_eq!(cf["caller"]["verified"], false);
    assert_eq!(cf["account"].as_array().map(Vec::len), Some(0), "no account for an unverified caller: {cf}");

    // The count is in the store: three failures (the refusal added none). The call is on
    // record with how it ended, but for no customer: nobody was verified, so John's history
    // is not written by callers who only claim his number.
    let store = switchboard::store::Store::open(&db).unwrap();
    let john = store.customer_by_phone("+15550100").unwrap().unwrap();
    assert_eq!(store.verification_failures(john.id, 0).unwrap(), 3);
    let i = store.interaction_of_call(call).unwrap().expect("the locked call is on record");
    assert_eq!((i.customer_id, i.outcome.as_str()), (None, "escalated: verification_locked"), "{i:?}");
    let contacts = store.interactions(john.id).unwrap();
    assert!(contacts.iter().all(|c| !c.outcome.contains("verification")), "{contacts:?}");
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}
