use serde_json::json;

use super::*;
use crate::store::calls::CallWrite;

/// A finished assisted call: two caller turns, a reply with an intent and a tool call, a
/// refused tool call, the caller's state, and a hand-over.
fn stored(handover: bool) -> Store {
    let s = Store::open_in_memory().unwrap();
    let id = "c-000000000001".to_string();
    let turn = |seq, start_ms, end_ms, text: &str, speaker| CallWrite::Turn {
        id: id.clone(),
        seq,
        start_ms,
        end_ms,
        language: "en".into(),
        text: text.into(),
        speaker,
    };
    let event = |v: Value| CallWrite::Event {
        id: id.clone(),
        at: "2026-12-05T08:00:05.000Z".into(),
        kind: v["type"].as_str().unwrap().into(),
        body: v.to_string(),
    };
    let mut w = vec![
        CallWrite::Started {
            id: id.clone(),
            caller: "+15550100".into(),
            transport: "sip".into(),
            assisted: true,
            started_at: "2026-12-05T08:00:00.000Z".into(),
        },
        turn(0, 1000, 3000, "Where is my order?", "caller"),
        event(json!({"type": "caller_state_changed", "call_id": id, "state": "calm", "frustration": 0.2,
                     "confidence": 0.6, "trend": 0.0, "evidence": [], "at_ms": 3000})),
        event(json!({"type": "assistant_replied", "call_id": id, "text": "It ships today.", "language": "en",
                     "intent": "order_status", "actions": [
                        {"tool": "get_order", "detail": "order 4512", "ok": true},
                        {"tool": "create_refund", "detail": "over the limit", "ok": false, "refused": true}],
                     "at_ms": 4200})),
        turn(1, 6000, 8000, "I want to speak to a person now", "caller"),
        turn(2, 8100, 9000, "Hello, how can I help?", "agent"),
    ];
    if handover {
        w.push(event(json!({"type": "escalation_requested", "call_id": id, "reason": "asked_for_person",
                            "intent": "agent", "at_ms": 9100})));
    }
    w.push(CallWrite::Ended { id: id.clone(), ended_at: "2026-12-05T08:01:00.000Z".into(), reason: "hangup".into() });
    s.write_calls(&w).unwrap();
    s
}

fn verdict(decision: &str, verdict: &str, correct: Option<&str>) -> Verdict {
    Verdict {
        decision: decision.into(),
        verdict: verdict.into(),
        correct: correct.map(String::from),
        note: String::new(),
    }
}

#[test]
fn decisions_come_from_the_timeline_with_the_turn_before_them() {
    let s = stored(true);
    let list = sheet(&s, s.stored_call("c-000000000001").unwrap().unwrap()).unwrap().decisions;
    let seen: Vec<(String, Kind, String)> = list.iter().map(|d| (d.id.clone(), d.kind, d.value.clone())).collect();
    let rows: Vec<i64> = s.decision_events("c-000000000001").unwrap().iter().map(|(r, _)| *r).collect();
    let (state, reply, esc) = (rows[0], rows[1], rows[2]);
    assert_eq!(
        seen,
        vec![
            (format!("e{state}/caller_state"), Kind::CallerState, "calm".into()),
            (format!("e{reply}/intent"), Kind::Intent, "order_status".into()),
            (format!("e{reply}/action/0"), Kind::Tool, "get_order (ok): order 4512".into()),
            (format!("e{reply}/action/1"), Kind::Refusal, "create_refund (refused): over the limit".into()),
            (format!("e{esc}/handover"), Kind::Handover, "hand_over: asked_for_person".into()),
        ]
    );
    // Each sees the caller's last turn by then (never the agent's).
    let text = |i: usize| list[i].turn.as_ref().map(|t| t.text.as_str());
    assert_eq!(text(0), Some("Where is my order?"));
    assert_eq!(text(1), Some("Where is my order?"));
    assert_eq!(text(4), Some("I want to speak to a person now"));
    assert!(list[1].choices.contains(&"refund".to_string()) && list[2].choices.is_empty());
}

#[test]
fn a_call_the_ai_kept_has_a_no_hand_over_decision() {
    let s = stored(false);
    let list = sheet(&s, s.stored_call("c-000000000001").unwrap().unwrap()).unwrap().decisions;
    let last = list.last().unwrap();
    assert_eq!((last.id.as_str(), last.kind, last.value.as_str()), ("call/handover", Kind::Handover, KEEP));
}

#[test]
fn verdicts_are_checked_stored_replaced_and_exported() {
    let s = stored(true);
    let list = sheet(&s, s.stored_call("c-000000000001").unwrap().unwrap()).unwrap().decisions;
    let intent = &list[1];
    // A wrong verdict needs a correct value from the choices.
    assert!(judge("c", intent, verdict(&intent.id, "wrong", None), "sam").unwrap_err().contains("needs the correct"));
    assert!(judge("c", intent, verdict(&intent.id, "wrong", Some("teleport")), "sam")
        .unwrap_err()
        .contains("not one of"));
    assert!(judge("c", intent, verdict(&intent.id, "maybe", None), "sam").is_err());
    // Right: no correction kept.
    let r = judge("c-000000000001", intent, verdict(&intent.id, "right", Some("refund")), "priya").unwrap();
    assert_eq!(r.correct, None);
    s.save_review(&r).unwrap();
    // A second verdict on the same decision replaces the first.
    let r = judge("c-000000000001", intent, verdict(&intent.id, "wrong", Some("refund")), "sam").unwrap();
    s.save_review(&r).unwrap();
    let tool = &list[2];
    s.save_review(
        &judge("c-000000000001", tool, verdict(&tool.id, "wrong", Some("look up order 4521")), "sam").unwrap(),
    )
    .unwrap();
    let list = sheet(&s, s.stored_call("c-000000000001").unwrap().unwrap()).unwrap().decisions;
    assert_eq!(list[1].review.as_ref().map(|r| (r.verdict.as_str(), r.reviewer.as_str())), Some(("wrong", "sam")));

    let mut out = Vec::new();
    assert_eq!(export(&s, "2000-01-01T00:00:00Z", &mut out).unwrap(), 2);
    let lines: Vec<Exported> =
        String::from_utf8(out).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let i = lines.iter().find(|l| l.kind == Kind::Intent).unwrap();
    assert_eq!(i.turn.as_ref().unwrap().text, "Where is my order?");
    assert_eq!((i.ai.value.as_str(), i.truth()), ("order_status", Some("refund")));
    assert_eq!(i.ai.inputs["text"], "It ships today.");
    // Nothing reviewed after a later date.
    let mut none = Vec::new();
    assert_eq!(export(&s, "2999-01-01T00:00:00Z", &mut none).unwrap(), 0);
}
