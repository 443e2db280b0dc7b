//! Whole calls through the tally and the live counters, on a simulated clock (ms).

use super::*;
use crate::assistant::dialogue::{ActionRecord, EscalationReason};
use crate::call::{CallId, CallState, Transport};
use crate::routing::AgentId;

fn id(c: &str) -> CallId {
    CallId(c.into())
}

fn started(c: &str) -> Event {
    Event::CallStarted { call_id: id(c), caller: "+1".into(), transport: Transport::Sip, started_at: "t".into() }
}

fn ended(c: &str) -> Event {
    Event::CallEnded { call_id: id(c), reason: "caller_hangup".into(), duration_ms: 0 }
}

fn state(c: &str, s: CallState) -> Event {
    Event::CallStateChanged { call_id: id(c), state: s }
}

fn s(secs: u64) -> u64 {
    1_700_000_000_000 + secs * 1000
}

#[test]
fn each_call_ends_with_one_outcome_and_its_times() {
    let m = CallMetrics::default();
    let mut t = Tally::default();
    // The assistant resolves c1 in 90 s (reply 0.8 s after the turn).
    count(&m, &mut t, s(0), &started("c1"));
    let said = Event::TranscriptFinal {
        call_id: id("c1"),
        text: "where is my order".into(),
        start_ms: 8000,
        end_ms: 10_000,
        language: "en".into(),
        language_prob: 0.9,
        latency_ms: 400,
        translation: None,
        ended_by: None,
    };
    count(&m, &mut t, s(10), &said);
    let served = ActionRecord { tool: "order_status".into(), detail: String::new(), ok: true, refused: false };
    let reply = Event::AssistantReplied {
        call_id: id("c1"),
        text: "It ships today.".into(),
        language: "en".into(),
        intent: None,
        actions: vec![served],
        at_ms: 10_800,
    };
    count(&m, &mut t, s(11), &reply);
    count(&m, &mut t, s(90), &ended("c1"));
    // c2 escalates, waits 30 s, an agent handles it for 120 s and transfers it.
    count(&m, &mut t, s(0), &started("c2"));
    let why = Event::EscalationRequested {
        call_id: id("c2"),
        reason: EscalationReason::AskedForPerson,
        intent: None,
        at_ms: 20_000,
    };
    count(&m, &mut t, s(20), &why);
    count(&m, &mut t, s(20), &state("c2", CallState::WaitingForAgent));
    count(&m, &mut t, s(50), &Event::AgentJoined { call_id: id("c2"), agent_id: AgentId("anna".into()) });
    count(&m, &mut t, s(50), &state("c2", CallState::WithAgent));
    let left = Event::AgentLeft { call_id: id("c2"), agent_id: AgentId("anna".into()), reason: "transferred".into() };
    count(&m, &mut t, s(100), &left);
    count(&m, &mut t, s(170), &ended("c2"));
    // c3 gives up in the queue after 55 s; c4 hangs up on the assistant; c5 asks for a callback.
    count(&m, &mut t, s(0), &started("c3"));
    count(&m, &mut t, s(5), &state("c3", CallState::WaitingForAgent));
    count(&m, &mut t, s(60), &ended("c3"));
    count(&m, &mut t, s(0), &started("c4"));
    count(&m, &mut t, s(8), &ended("c4"));
    count(&m, &mut t, s(0), &started("c5"));
    count(&m, &mut t, s(5), &state("c5", CallState::WaitingForAgent));
    let cb = Event::CallbackRequested {
        call_id: id("c5"),
        kind: "callback".into(),
        number: "+1".into(),
        message: String::new(),
    };
    count(&m, &mut t, s(300), &cb);
    count(&m, &mut t, s(301), &ended("c5"));
    // An event of a call not followed (started before the metrics) is ignored.
    count(&m, &mut t, s(9), &ended("c-unknown"));

    assert_eq!(m.started.get("sip"), 5);
    for (o, n) in [
        ("ai_resolved", 1),
        ("agent_handled", 1),
        ("abandoned_in_queue", 1),
        ("abandoned_with_ai", 1),
        ("callback_requested", 1),
    ] {
        assert_eq!(m.ended.get(o), n, "{o}");
    }
    assert_eq!(m.escalations.get("asked_for_person"), 1);
    assert_eq!(m.transfers.load(Ordering::Relaxed), 1);
    assert_eq!((m.final_latency.count(), m.reply_latency.count(), m.answer_wait.count()), (1, 1, 1));
    let mut text = String::new();
    for (h, name) in [(&m.answer_wait, "w"), (&m.human_handle, "h"), (&m.ai_resolution, "a"), (&m.reply_latency, "r")] {
        h.render(&mut text, name, "");
    }
    for sum in ["w_sum 30\n", "h_sum 120\n", "a_sum 90\n", "r_sum 0.8\n"] {
        assert!(text.contains(sum), "{sum} in {text}");
    }
    assert_eq!(t.live(), 0);
}

#[test]
fn a_summary_from_stored_events_reads_language_mood_and_waits() {
    let mut t = Tally::default();
    let ev = |v: serde_json::Value| v;
    assert!(t
        .event(s(0), &ev(serde_json::json!({"type": "call_started", "call_id": "c9", "transport": "webrtc"})))
        .is_none());
    for (at, v) in [
        (2, serde_json::json!({"type": "language_detected", "call_id": "c9", "language": "de"})),
        (3, serde_json::json!({"type": "caller_state_changed", "call_id": "c9", "state": "frustrated"})),
        (4, serde_json::json!({"type": "escalation_requested", "call_id": "c9", "reason": "caller_upset"})),
        (4, serde_json::json!({"type": "call_state_changed", "call_id": "c9", "state": "waiting_for_agent"})),
        (9, serde_json::json!({"type": "taken_over", "call_id": "c9", "by": "sam", "from": "assistant"})),
    ] {
        assert!(t.event(s(at), &v).is_none());
    }
    let sum = t.event(s(40), &serde_json::json!({"type": "call_ended", "call_id": "c9"})).unwrap();
    assert_eq!(
        (sum.outcome, sum.language.as_deref(), sum.caller_state.as_deref(), sum.escalation.as_deref()),
        ("agent_handled", Some("de"), Some("frustrated"), Some("caller_upset"))
    );
    assert_eq!((sum.answer_wait_s, sum.handle_s, sum.abandoned_wait_s), (Some(5.0), Some(31.0), None));
    assert_eq!((sum.transport.as_str(), sum.duration_s()), ("webrtc", 40.0));
}

#[test]
fn outcomes_in_order_of_precedence() {
    assert_eq!(outcome(true, false, true, true), "callback_requested");
    assert_eq!(outcome(true, true, true, false), "agent_handled");
    assert_eq!(outcome(false, true, true, false), "abandoned_in_queue");
    assert_eq!(outcome(false, false, true, false), "ai_resolved");
    assert_eq!(outcome(false, false, false, false), "abandoned_with_ai");
}
