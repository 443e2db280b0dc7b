//! The shipped caller scenarios (tests/scenarios/*.toml), each a real SIP/RTP call placed by
//! `switchboard simulate` into the real server with real Whisper, the SQLite back office with
//! demo data and espeak-ng on both sides. Prints each scenario's latencies (end of the
//! caller's speech -> first assistant audio) for the notes; asserts outcomes, not timings.

mod common;

use serde_json::Value;

use common::server::{have, tempdir, Server};
use common::{ok_stdout, root};

fn simulate(server: &Server, scenario: &str) -> Value {
    let path = root().join("tests/scenarios").join(scenario);
    let http = format!("http://{}", server.http);
    let out = ok_stdout(&[
        "simulate",
        path.to_str().unwrap(),
        "--server",
        &http,
        "--sip",
        &server.sip.to_string(),
        "--model",
        "tiny.en",
        "--json",
    ]);
    let summary: Value = serde_json::from_str(out.lines().last().expect("summary line")).expect("JSON summary");
    println!(
        "{scenario}: outcome {} {} latencies {} ms, {} ms",
        summary["outcome"], summary["escalation_reason"], summary["latencies_ms"], summary["duration_ms"]
    );
    summary
}

fn said(s: &Value) -> String {
    s["assistant_said"].as_array().unwrap().iter().map(|t| t.as_str().unwrap_or("")).collect::<Vec<_>>().join(" | ")
}

fn tools(s: &Value) -> Vec<String> {
    s["actions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["ok"] == true)
        .map(|a| a["tool"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn shipped_scenarios_resolve_refuse_and_escalate_as_they_should() {
    assert!(have("sipp") && have("espeak-ng"), "needs espeak-ng (scripts/setup installs it)");
    let dir = tempdir("scenarios");
    let db = dir.join("bo.db");
    ok_stdout(&["demo-data", "--db", db.to_str().unwrap(), "--customers", "12"]);
    let server = Server::start(&[("SWITCHBOARD__STORE__PATH", db.to_str().unwrap())]);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let _guard = rt.enter();

    let s = simulate(&server, "order_status.toml");
    assert_eq!(s["outcome"], "resolved", "{s}");
    assert!(said(&s).contains("Order 4 5 6 7 8 is on its way with"), "{}", said(&s));
    assert!(tools(&s).contains(&"order_status".to_string()));

    let s = simulate(&server, "refund.toml");
    assert_eq!(s["outcome"], "resolved", "{s}");
    assert!(tools(&s).contains(&"request_refund".to_string()), "{s}");
    let store = switchboard::store::Store::open(&db).unwrap();
    let john = store.customer_by_phone("+15550100").unwrap().unwrap();
    let refunds = store.refunds(john.id).unwrap();
    assert!(refunds.iter().any(|r| r.order_number == "45679" && r.amount_cents == 12_900), "{refunds:?}");

    let s = simulate(&server, "refund_over_limit.toml");
    assert!(said(&s).contains("over the self-service limit of 300.00 USD"), "{}", said(&s));
    assert!(!tools(&s).contains(&"request_refund".to_string()));
    assert_eq!(store.refunds(john.id).unwrap().len(), refunds.len(), "no refund over the limit");

    let s = simulate(&server, "payment_due.toml");
    assert!(said(&s).contains("Your next payment is 43 dollars for order 4 5 6 7 9"), "{}", said(&s));

    let s = simulate(&server, "wrong_pin.toml");
    let wrong_pin_call = s["call_id"].as_str().unwrap().to_string();
    assert_eq!(
        (s["outcome"].as_str(), s["escalation_reason"].as_str()),
        (Some("escalated"), Some("verification_failed"))
    );
    assert!(!said(&s).contains("4 5 6 7 8") && !said(&s).contains("John"), "{}", said(&s));

    let s = simulate(&server, "fraud.toml");
    assert_eq!((s["outcome"].as_str(), s["escalation_reason"].as_str()), (Some("escalated"), Some("needs_human")));

    let s = simulate(&server, "angry.toml");
    assert_eq!(
        (s["outcome"].as_str(), s["escalation_reason"].as_str()),
        (Some("escalated"), Some("caller_upset")),
        "{s}"
    );

    // Every call is on record with how it went (written before call_ended).
    let contacts = store.interactions(john.id).unwrap();
    let has = |outcome: &str, intent: &str| {
        contacts.iter().any(|c| c.outcome == outcome && c.intent.as_deref() == Some(intent) && c.channel == "phone")
    };
    assert!(has("resolved", "refund") && has("resolved", "order_status"), "{contacts:?}");
    // A caller who failed verification is on record, but not in John's history.
    assert!(!has("escalated: verification_failed", "order_status"), "{contacts:?}");
    let failed = store.interaction_of_call(&wrong_pin_call).unwrap().expect("the wrong-PIN call's record");
    assert_eq!((failed.outcome.as_str(), failed.customer_id), ("escalated: verification_failed", None));
    assert!(contacts.iter().any(|c| c.summary.contains("request_refund: refund")), "{contacts:?}");

    // espeak's flat voice is out of domain for the anger classifier (issue 15): on some runs
    // the first question is judged upset and handed over before there is a reply to barge
    // into. And tiny.en at 8 kHz sometimes mishears espeak's first question altogether ("Far
    // announcements, any" for "Hello, when is my next payment due?"): the assistant says it
    // did not catch that, a short reply with nothing long to barge into. Neither says anything
    // about barge-in, so such a run is tried again (at most twice), with the reason printed.
    let mut s = simulate(&server, "barge_in.toml");
    for _ in 0..2 {
        if s["interruptions"].as_u64() != Some(0) {
            break;
        }
        let said = s["assistant_said"].as_array().map(|a| a.iter().filter_map(|v| v.as_str()).collect::<Vec<_>>());
        let misheard = said.as_ref().and_then(|a| a.get(1)).is_some_and(|r| r.starts_with("Sorry, I didn't catch"));
        if s["escalation_reason"] == "caller_upset" {
            eprintln!("barge_in.toml: the first turn was judged upset (issue 15); trying again");
        } else if misheard {
            eprintln!(
                "barge_in.toml: the first question was misheard ({:?}); trying again",
                s["caller_finals"][0]["text"]
            );
        } else {
            break;
        }
        s = simulate(&server, "barge_in.toml");
    }
    assert!(s["interruptions"].as_u64().unwrap() >= 1, "{s}");
    // The caller heard the assistant stop (how fast is a figure, printed, not asserted).
    let stops = s["barge_in_stop_ms"].as_array().unwrap();
    assert!(!stops.is_empty() && stops.iter().all(|v| v.is_u64()), "playback went on over the caller: {s}");
    eprintln!("barge-in: assistant audio stopped {stops:?} ms after the caller's speech onset");
    // The interrupting question is handled as an order question (Whisper sometimes loses the
    // number at the end of a barged-in sentence; then the assistant asks for it).
    let last = s["assistant_said"].as_array().unwrap().last().unwrap().as_str().unwrap().to_string();
    assert!(last.contains("Order 4 5 6 7 8 is on its way") || last.contains("What is the order number?"), "{last}");
    drop(server);

    // A Swedish caller needs the multilingual model on the server.
    let server =
        Server::start(&[("SWITCHBOARD__STORE__PATH", db.to_str().unwrap()), ("SWITCHBOARD__ASR__MODEL", "base")]);
    let s = simulate(&server, "swedish.toml");
    let text = said(&s);
    assert!(text.starts_with("Tack för att du ringer"), "greeted in the customer's language: {text}");
    // Her question is answered in Swedish too (the base model sometimes hears espeak's Swedish
    // as Norwegian, read as Swedish for a Swedish customer).
    let reply = s["assistant_said"].as_array().unwrap().get(1).and_then(|t| t.as_str()).unwrap_or("").to_string();
    assert!(["Innan jag", "Förlåt", "Tack, Anna", "Vilket är"].iter().any(|w| reply.contains(w)), "{text}");
}
