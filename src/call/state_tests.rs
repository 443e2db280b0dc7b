//! Whole calls through the core on a simulated clock (`s(n)`: n seconds into the call).

use super::*;
use crate::assistant::dialogue::EscalationReason;

fn s(secs: f32) -> At {
    Duration::from_secs_f32(secs)
}

fn core() -> CallCore {
    CallCore::new(CallId("c-1".into()), Duration::from_secs(600), Duration::from_secs(10))
}

/// A key as the actor feeds it: on the record, then (`free`: nobody else took it) the entry.
fn key(c: &mut CallCore, now: At, digit: char, free: bool) {
    c.handle_key(now, digit);
    if free {
        c.handle_entry(now, digit, true);
    }
}

fn drain(c: &mut CallCore) -> Vec<Output> {
    std::iter::from_fn(|| c.poll_output()).collect()
}

/// The events among `out`, by their `type` tag.
fn kinds(out: &[Output]) -> Vec<String> {
    out.iter()
        .filter_map(|o| match o {
            Output::Publish(e) => Some(serde_json::to_value(e).unwrap()["type"].as_str().unwrap().to_string()),
            _ => None,
        })
        .collect()
}

/// A caller's English turn from 1 to 3 s.
fn words(text: &str) -> CallerWords {
    CallerWords {
        text: text.into(),
        start_ms: 1000,
        end_ms: 3000,
        language: "en".into(),
        language_prob: 0.9,
        latency_ms: 300,
        translation: None,
        ended_by: None,
    }
}

fn records(out: &[Output]) -> Vec<Change> {
    out.iter().filter_map(|o| if let Output::Record(c) = o { Some(c.clone()) } else { None }).collect()
}

/// Run every timeout due up to `until`, in order; the outputs.
fn run_until(c: &mut CallCore, until: At) -> Vec<Output> {
    let mut out = Vec::new();
    while let Some(t) = c.poll_timeout().filter(|t| *t <= until) {
        c.handle_timeout(t);
        out.extend(drain(c));
    }
    out
}

#[test]
fn keyed_entries_end_with_hash_or_a_pause() {
    let mut c = core();
    for (i, d) in "1234#".chars().enumerate() {
        key(&mut c, s(1.0 + i as f32 * 0.3), d, true);
    }
    let out = drain(&mut c);
    assert_eq!(records(&out).iter().filter(|r| matches!(r, Change::Dtmf(_))).count(), 5, "every key on the record");
    assert_eq!(kinds(&out).iter().filter(|k| *k == "dtmf").count(), 5);
    assert_eq!(out.last(), Some(&Output::Digits("1234".into())));
    // Without #: the entry ends 2 s after the last key, not before.
    key(&mut c, s(5.0), '4', true);
    key(&mut c, s(5.5), '2', true);
    drain(&mut c);
    assert!(run_until(&mut c, s(7.4)).is_empty());
    assert_eq!(run_until(&mut c, s(7.5)), vec![Output::Digits("42".into())]);
    // A key someone else took (a callback offer) is recorded but is no entry.
    key(&mut c, s(9.0), '1', false);
    assert_eq!(kinds(&drain(&mut c)), vec!["dtmf"]);
    assert!(run_until(&mut c, s(20.0)).is_empty());
}

#[test]
fn silence_after_a_question_and_a_barge_in_that_was_only_a_cough() {
    let mut c = core();
    c.handle_awaiting_answer(s(2.0), Some(Duration::from_secs(8)));
    c.handle_paused_for_barge_in(s(3.0), Duration::from_millis(600));
    // The cough: no turn follows, playback resumes.
    assert_eq!(run_until(&mut c, s(4.0)), vec![Output::ResumePlayout]);
    // The caller says nothing: the assistant hears of it once.
    assert_eq!(run_until(&mut c, s(10.0)), vec![Output::Silence]);
    // A turn cancels both.
    c.handle_awaiting_answer(s(11.0), Some(Duration::from_secs(8)));
    c.handle_paused_for_barge_in(s(12.0), Duration::from_millis(600));
    c.handle_turn_started(s(12.2));
    assert!(run_until(&mut c, s(30.0)).is_empty());
}

#[test]
fn hand_over_offer_accept_and_the_agent_connects() {
    let mut c = core();
    key(&mut c, s(1.0), '5', true);
    c.handle_escalated(s(4.0), EscalationReason::AskedForPerson, None);
    let out = drain(&mut c);
    assert_eq!(kinds(&out), vec!["dtmf", "escalation_requested", "call_state_changed"]);
    assert_eq!(c.state(), CallState::WaitingForAgent);
    // Routing's accept is a command; a second accept is refused by the call itself.
    c.handle_accepted(s(9.0), "priya").unwrap();
    assert!(c.handle_accepted(s(9.1), "james").unwrap_err().contains("priya"));
    let out = drain(&mut c);
    assert_eq!(kinds(&out), vec!["call_accepted", "call_state_changed"]);
    assert_eq!(records(&out), vec![Change::Agent(Some("priya".into())), Change::State(CallState::WithAgent)]);
    // Someone else's audio is refused; hers stops the assistant and drops the pending entry.
    assert!(!c.handle_agent_joined(s(10.0), "james"));
    assert!(c.handle_agent_joined(s(10.5), "priya"));
    let out = drain(&mut c);
    assert_eq!(out[0], Output::StopAssistant);
    assert_eq!(kinds(&out), vec!["agent_joined"]);
    assert!(c.agent_connected() && !c.wants_reply(), "a late assistant reply is not said");
    // Keys now are the agent's business: recorded, no entry for the assistant.
    key(&mut c, s(12.0), '1', true);
    key(&mut c, s(12.1), '#', true);
    assert!(!drain(&mut c).iter().any(|o| matches!(o, Output::Digits(_))));
    // The connect check that was due is gone.
    assert!(run_until(&mut c, s(30.0)).is_empty());
}

#[test]
fn an_agent_whose_audio_never_connects_is_lost_and_the_call_waits_again() {
    let mut c = core();
    c.handle_escalated(s(3.0), EscalationReason::AskedForPerson, None);
    c.handle_accepted(s(5.0), "priya").unwrap();
    drain(&mut c);
    assert!(run_until(&mut c, s(14.9)).is_empty());
    assert_eq!(run_until(&mut c, s(15.0)), vec![Output::AgentNeverConnected("priya".into())]);
    // The actor treats her as lost: she leaves, the call waits (and is requeued by routing).
    assert!(c.handle_agent_left(s(15.0), "priya", "connection_lost"));
    let out = drain(&mut c);
    assert_eq!(kinds(&out), vec!["agent_left", "call_state_changed"]);
    assert_eq!(c.state(), CallState::WaitingForAgent);
    assert_eq!(c.agent(), None);
    // The next agent takes it.
    c.handle_accepted(s(20.0), "james").unwrap();
    assert!(c.handle_agent_joined(s(21.0), "james"));
}

#[test]
fn an_agent_drops_mid_call_then_another_takes_it_and_transfers_it() {
    let mut c = core();
    c.handle_escalated(s(3.0), EscalationReason::AskedForPerson, None);
    c.handle_accepted(s(5.0), "priya").unwrap();
    c.handle_agent_joined(s(6.0), "priya");
    drain(&mut c);
    // Another agent's drop does not touch this call.
    assert!(!c.handle_agent_left(s(30.0), "james", "connection_lost"));
    assert!(c.handle_agent_left(s(31.0), "priya", "connection_lost"));
    assert_eq!(c.state(), CallState::WaitingForAgent);
    assert!(c.wants_reply(), "nobody has the caller");
    c.handle_accepted(s(40.0), "james").unwrap();
    c.handle_agent_joined(s(41.0), "james");
    drain(&mut c);
    // James transfers it blind: off the call, waiting again.
    assert!(c.handle_agent_left(s(60.0), "james", "transferred"));
    let out = drain(&mut c);
    match &out[1] {
        Output::Publish(Event::AgentLeft { reason, .. }) => assert_eq!(reason, "transferred"),
        other => panic!("{other:?}"),
    }
    assert_eq!(c.state(), CallState::WaitingForAgent);
}

#[test]
fn a_consult_transfer_hands_the_call_to_the_colleague() {
    let mut c = core();
    c.handle_escalated(s(3.0), EscalationReason::AskedForPerson, None);
    c.handle_accepted(s(5.0), "priya").unwrap();
    c.handle_agent_joined(s(6.0), "priya");
    drain(&mut c);
    c.handle_consult_requested(s(20.0), "james").unwrap();
    let out = drain(&mut c);
    assert_eq!(records(&out), vec![Change::Consultant(Some("james".into()))]);
    assert_eq!(kinds(&out), vec!["consult_requested"]);
    assert!(c.handle_consult_requested(s(21.0), "ana").is_err(), "one consult at a time");
    c.handle_consult_started(s(25.0));
    c.handle_consult_ended(s(40.0), "priya", "james", "transferred");
    c.handle_handed_over(s(40.0), "james", "transferred");
    let out = drain(&mut c);
    assert_eq!(kinds(&out), vec!["consult_started", "consult_ended", "agent_left", "call_accepted"]);
    assert_eq!(records(&out), vec![Change::Consultant(None), Change::Agent(Some("james".into()))]);
    assert_eq!((c.agent(), c.agent_connected(), c.state()), (Some("james"), true, CallState::WithAgent));
}

#[test]
fn a_colleague_who_never_joins_the_consult_is_given_up_on() {
    let mut c = core();
    c.handle_escalated(s(3.0), EscalationReason::AskedForPerson, None);
    c.handle_accepted(s(5.0), "priya").unwrap();
    c.handle_agent_joined(s(6.0), "priya");
    c.handle_consult_requested(s(20.0), "james").unwrap();
    drain(&mut c);
    assert_eq!(c.poll_timeout(), Some(s(20.0) + CONSULT_ANSWER));
    assert_eq!(run_until(&mut c, s(64.0)), vec![]);
    assert_eq!(run_until(&mut c, s(65.0)), vec![Output::ConsultUnanswered]);
    // One who joins in time is not.
    c.handle_consult_ended(s(65.0), "priya", "james", "no_answer");
    c.handle_consult_requested(s(70.0), "ana").unwrap();
    c.handle_consult_started(s(80.0));
    assert_eq!(run_until(&mut c, s(200.0)), vec![]);
}

#[test]
fn a_hold_returns_to_where_the_call_was() {
    let mut c = core();
    c.handle_escalated(s(3.0), EscalationReason::AskedForPerson, None);
    c.handle_accepted(s(5.0), "priya").unwrap();
    drain(&mut c);
    c.handle_hold(s(10.0), true);
    c.handle_hold(s(10.1), true);
    assert_eq!(c.state(), CallState::OnHold);
    c.handle_hold(s(20.0), false);
    assert_eq!(c.state(), CallState::WithAgent, "back with the agent, not 'active'");
    assert_eq!(kinds(&drain(&mut c)), vec!["call_state_changed", "call_state_changed"]);
}

#[test]
fn a_hang_up_while_an_assistant_job_is_pending_stops_it_and_ends_once() {
    let mut c = core();
    key(&mut c, s(1.0), '1', true);
    key(&mut c, s(1.2), '#', true);
    assert!(drain(&mut c).contains(&Output::Digits("1".into())));
    // The job runs (a slow back office); the caller hangs up 6 s in.
    c.handle_awaiting_answer(s(1.5), Some(Duration::from_secs(8)));
    c.handle_hangup(s(6.0), EndReason::CallerHangup);
    c.handle_hangup(s(6.1), EndReason::ServerHangup);
    assert_eq!(
        drain(&mut c),
        vec![
            Output::Record(Change::State(CallState::Ending)),
            Output::StopAssistant,
            Output::End(EndReason::CallerHangup)
        ]
    );
    assert!(!c.wants_reply(), "the job's late reply is dropped");
    assert_eq!(c.poll_timeout(), None, "no timer outlives the call");
    key(&mut c, s(7.0), '2', true);
    assert!(drain(&mut c).is_empty());
}

#[test]
fn the_call_ends_at_its_maximum_duration() {
    let mut c = CallCore::new(CallId("c-2".into()), Duration::from_secs(60), Duration::from_secs(10));
    c.handle_awaiting_answer(s(50.0), Some(Duration::from_secs(30)));
    assert_eq!(c.poll_timeout(), Some(s(60.0)));
    let out = run_until(&mut c, s(100.0));
    assert_eq!(out.last(), Some(&Output::End(EndReason::MaxDuration)));
    assert!(!out.contains(&Output::Silence));
}

#[test]
fn a_secure_capture_stops_after_a_pause_or_its_time_limit_and_drops_a_pending_entry() {
    let (pause, max) = (Duration::from_secs(15), Duration::from_secs(90));
    let mut c = core();
    key(&mut c, s(1.0), '4', true);
    drain(&mut c);
    c.handle_awaiting_answer(s(1.0), Some(Duration::from_secs(8)));
    c.handle_capture_started(s(2.0), "assistant", pause, max);
    drain(&mut c);
    assert!(c.capturing());
    // Each key restarts the pause; the entry and the silence timer before it are gone.
    for i in 0..10 {
        c.handle_capture_key(s(10.0 + i as f32 * 10.0), pause);
    }
    assert!(run_until(&mut c, s(91.9)).is_empty(), "keys kept coming");
    assert_eq!(run_until(&mut c, s(92.0)), vec![Output::CaptureTimedOut], "90 s overall");
    assert!(!c.capturing());
    // A pause of 15 s without a key stops the next one.
    c.handle_capture_started(s(100.0), "priya", pause, max);
    drain(&mut c);
    c.handle_capture_key(s(101.0), pause);
    assert_eq!(run_until(&mut c, s(200.0)), vec![Output::CaptureTimedOut]);
    assert_eq!(c.poll_timeout(), Some(s(600.0)), "only the call's own limit is left");
    // Ended by # before either: no timeout.
    c.handle_capture_started(s(300.0), "priya", pause, max);
    drain(&mut c);
    c.handle_capture_ended(s(305.0), "cancelled", None);
    drain(&mut c);
    assert!(run_until(&mut c, s(500.0)).is_empty());
}

#[test]
fn a_capture_pauses_the_recording_and_reports_only_a_count_and_the_last_four() {
    let pause = Duration::from_secs(15);
    let mut c = core();
    c.handle_capture_started(s(10.0), "assistant", pause, Duration::from_secs(90));
    for (i, n) in (1..=16).enumerate() {
        c.handle_capture_key(s(11.0 + i as f32 * 0.3), pause);
        c.handle_capture_progress(s(11.0 + i as f32 * 0.3), n);
    }
    c.handle_capture_ended(s(17.0), "captured", Some(("visa".into(), "1111".into())));
    let out = drain(&mut c);
    assert_eq!(
        records(&out),
        vec![
            Change::RecordingPaused { from_ms: 10_000, reason: CAPTURE_REASON.into() },
            Change::RecordingResumed { at_ms: 17_000 }
        ]
    );
    let k = kinds(&out);
    assert_eq!(
        (k.first().unwrap().as_str(), k.last().unwrap().as_str()),
        ("secure_capture_started", "secure_capture_ended")
    );
    assert_eq!(k.iter().filter(|k| *k == "secure_capture_progress").count(), 16);
    let json = serde_json::to_string(
        &out.iter().filter_map(|o| if let Output::Publish(e) = o { Some(e) } else { None }).collect::<Vec<_>>(),
    )
    .unwrap();
    assert!(json.contains("\"last4\":\"1111\"") && !json.contains("dtmf"), "{json}");
}

#[test]
fn words_go_on_the_record_before_they_go_out_and_a_consult_stays_private() {
    let mut c = core();
    c.handle_started("+15550100".into(), crate::call::Transport::Sip, "2026-12-04T00:00:00Z".into());
    c.handle_partial(s(2.0), "where is my".into(), 1000, 2000, "en".into());
    assert!(!c.handle_caller_words(s(3.3), words("  ")), "an empty turn is dropped");
    assert!(c.handle_caller_words(s(3.3), words("where is my order")));
    c.handle_assistant_said(
        s(4.0),
        AssistantSaid { text: "Your order number?".into(), language: "en".into(), intent: None, actions: vec![] },
    );
    let out = drain(&mut c);
    assert_eq!(kinds(&out), vec!["call_started", "transcript_partial", "transcript_final", "assistant_replied"]);
    let seg = out.iter().position(|o| matches!(o, Output::Record(Change::Segment(_)))).unwrap();
    let fin = out.iter().position(|o| matches!(o, Output::Publish(Event::TranscriptFinal { .. }))).unwrap();
    assert!(seg < fin, "the record first");
    // With an agent: their words join the transcript; in a consult, only the agents hear.
    c.handle_escalated(s(5.0), EscalationReason::AskedForPerson, None);
    c.handle_accepted(s(6.0), "priya").unwrap();
    c.handle_agent_joined(s(7.0), "priya");
    drain(&mut c);
    assert!(c.handle_staff_words(s(9.0), "priya", false, "hello John".into(), 8000, 9000, "en".into()));
    assert!(!c.handle_staff_words(s(20.0), "priya", true, "can you take this".into(), 19000, 20000, "en".into()));
    let out = drain(&mut c);
    assert_eq!(kinds(&out), vec!["agent_transcript", "consult_transcript"]);
    assert_eq!(records(&out).len(), 1, "only what the caller heard is on the record");
    c.handle_hangup(s(30.0), EndReason::CallerHangup);
    drain(&mut c);
    c.handle_finished("caller_hangup".into(), 30_000);
    assert_eq!(kinds(&drain(&mut c)), vec!["call_ended"]);
}

#[test]
fn a_supervisor_listens_coaches_barges_and_leaves() {
    let mut c = core();
    // On a call still with the assistant: listening is fine, coaching nobody is not.
    c.handle_supervisor_joined(s(5.0), "sam", StaffMode::Listen).unwrap();
    assert!(c.handle_supervisor_joined(s(5.5), "sam", StaffMode::Listen).is_err(), "once");
    assert!(c.handle_supervisor_mode(s(6.0), "sam", StaffMode::Coach).is_err(), "no agent to coach");
    let out = drain(&mut c);
    assert_eq!(kinds(&out), vec!["supervisor_joined"]);
    assert!(out.contains(&Output::Mix(MixChange::Supervisor { id: "sam".into(), mode: Some(StaffMode::Listen) })));
    // An agent takes the call; the supervisor coaches them, then barges in.
    c.handle_escalated(s(10.0), EscalationReason::AskedForPerson, None);
    c.handle_accepted(s(12.0), "priya").unwrap();
    c.handle_agent_joined(s(13.0), "priya");
    drain(&mut c);
    c.handle_supervisor_mode(s(20.0), "sam", StaffMode::Coach).unwrap();
    c.handle_supervisor_mode(s(20.5), "sam", StaffMode::Coach).unwrap();
    c.handle_supervisor_mode(s(30.0), "sam", StaffMode::Barge).unwrap();
    let out = drain(&mut c);
    assert_eq!(kinds(&out), vec!["supervisor_mode_changed", "supervisor_mode_changed"], "no event for no change");
    assert_eq!(c.supervisors(), &[SupervisorOnCall { id: "sam".into(), mode: StaffMode::Barge }]);
    // Back to coaching; the agent drops: the coach now only listens.
    c.handle_supervisor_mode(s(35.0), "sam", StaffMode::Coach).unwrap();
    c.handle_agent_left(s(40.0), "priya", "connection_lost");
    assert_eq!(c.supervisors()[0].mode, StaffMode::Listen);
    drain(&mut c);
    // The supervisor leaves; leaving twice is nothing.
    assert!(c.handle_supervisor_left(s(50.0), "sam"));
    assert!(!c.handle_supervisor_left(s(51.0), "sam"));
    let out = drain(&mut c);
    assert_eq!(kinds(&out), vec!["supervisor_left"]);
    assert_eq!(records(&out), vec![Change::Supervisors(vec![])]);
    assert!(out.contains(&Output::Mix(MixChange::Supervisor { id: "sam".into(), mode: None })));
    assert_eq!(c.state(), CallState::WaitingForAgent, "a supervisor coming and going does not move the call");
}

#[test]
fn a_supervisor_takes_over_from_the_assistant_then_from_an_agent() {
    let mut c = core();
    c.handle_awaiting_answer(s(4.0), Some(Duration::from_secs(8)));
    assert!(c.handle_take_over(s(5.0), "sam").is_err(), "join first");
    c.handle_supervisor_joined(s(5.0), "sam", StaffMode::Listen).unwrap();
    drain(&mut c);
    c.handle_take_over(s(6.0), "sam").unwrap();
    let out = drain(&mut c);
    assert!(out.contains(&Output::StopAssistant));
    assert!(out.contains(&Output::Mix(MixChange::TakeOver { by: "sam".into() })));
    assert_eq!(kinds(&out), vec!["taken_over", "call_state_changed"]);
    assert_eq!((c.agent(), c.agent_connected(), c.supervisors().len()), (Some("sam"), true, 0));
    assert!(!c.wants_reply(), "the assistant's late reply is dropped");
    assert!(run_until(&mut c, s(30.0)).is_empty(), "no silence prompt once a person has the call");
    // A second supervisor takes it from sam (who is now the call's person).
    c.handle_supervisor_joined(s(40.0), "lee", StaffMode::Listen).unwrap();
    c.handle_take_over(s(41.0), "lee").unwrap();
    let out = drain(&mut c);
    let left = out.iter().find_map(|o| match o {
        Output::Publish(Event::AgentLeft { agent_id, reason, .. }) => Some((agent_id.0.clone(), reason.clone())),
        _ => None,
    });
    assert_eq!(left, Some(("sam".into(), "taken_over".into())));
    assert_eq!(c.agent(), Some("lee"));
}

#[test]
fn alerts_go_on_the_record_and_out_and_a_supervisor_acknowledges_once() {
    use crate::call::alerts::{AlertConfig, AlertRule, Watch};
    let watch = Watch::new(std::sync::Arc::new(AlertConfig::default()), Duration::from_secs(20));
    let mut c = core().with_alerts(watch);
    assert!(c.handle_caller_words(s(3.5), words("This is a joke, I will call my lawyer.")));
    let out = drain(&mut c);
    assert_eq!(kinds(&out), ["transcript_final", "alert_raised"]);
    let alerts = records(&out).into_iter().find_map(|r| if let Change::Alerts(a) = r { Some(a) } else { None });
    let alerts = alerts.expect("on the record");
    assert_eq!((alerts[0].id.as_str(), alerts[0].rule, alerts[0].at_ms), ("a1", AlertRule::Phrase, 3500));

    // Escalated at 10 s, nobody answers: the service level's 20 s pass at 30 s.
    c.handle_escalated(s(10.0), EscalationReason::AskedForPerson, None);
    drain(&mut c);
    assert_eq!(c.poll_timeout(), Some(s(30.0)));
    let out = run_until(&mut c, s(31.0));
    assert_eq!(kinds(&out), ["alert_raised"]);
    assert_eq!(c.alerts()[1].rule, AlertRule::LongWait);

    // Acknowledged once, by the first supervisor.
    assert!(c.handle_alert_acknowledged(s(35.0), "a9", "sam").unwrap_err().contains("no alert a9"));
    c.handle_alert_acknowledged(s(35.0), "a2", "sam").unwrap();
    let out = drain(&mut c);
    assert_eq!(kinds(&out), ["alert_acknowledged"]);
    assert_eq!(c.alerts()[1].acknowledged_by.as_deref(), Some("sam"));
    assert_eq!(c.alerts()[1].acknowledged_at_ms, Some(35_000));
    let again = c.handle_alert_acknowledged(s(36.0), "a2", "lee").unwrap_err();
    assert!(again.contains("already acknowledged by sam"), "{again}");
    // Once the call is over, nothing more is raised.
    c.handle_hangup(s(40.0), EndReason::CallerHangup);
    drain(&mut c);
    c.raise(s(41.0), vec![crate::call::alerts::Fired { rule: AlertRule::LongCall, detail: String::new() }]);
    assert!(kinds(&drain(&mut c)).is_empty());
}

#[test]
fn a_supervisor_hands_the_assistants_call_to_an_agent_they_pick() {
    let mut c = core();
    c.handle_awaiting_answer(s(4.0), Some(Duration::from_secs(8)));
    c.handle_assigned(s(5.0), "sam", "anna").unwrap();
    let out = drain(&mut c);
    assert!(out.contains(&Output::StopAssistant));
    assert_eq!(kinds(&out), vec!["call_assigned", "call_state_changed"]);
    assert_eq!(c.state(), CallState::WaitingForAgent);
    assert!(run_until(&mut c, s(30.0)).iter().all(|o| *o != Output::Silence), "no silence prompt");
    // Anna accepts and connects; handing it to her again is refused; to James it is fine.
    c.handle_accepted(s(31.0), "anna").unwrap();
    c.handle_agent_joined(s(32.0), "anna");
    drain(&mut c);
    assert!(c.handle_assigned(s(33.0), "sam", "anna").unwrap_err().contains("already has the call"));
    c.handle_assigned(s(34.0), "sam", "james").unwrap();
    let out = drain(&mut c);
    assert_eq!(kinds(&out), vec!["call_assigned"], "the actor transfers: anna leaves then");
    let from = out.iter().find_map(|o| match o {
        Output::Publish(Event::CallAssigned { from, agent_id, .. }) => Some((from.clone(), agent_id.0.clone())),
        _ => None,
    });
    assert_eq!(from, Some(("anna".into(), "james".into())));
}
