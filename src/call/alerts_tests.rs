//! Each alert rule on a simulated clock (seconds into the call).

use std::sync::Arc;
use std::time::Duration;

use super::*;

fn s(secs: u64) -> At {
    Duration::from_secs(secs)
}

fn watch() -> Watch {
    Watch::new(Arc::new(AlertConfig::default()), Duration::from_secs(20))
}

fn rules(f: &[Fired]) -> Vec<AlertRule> {
    f.iter().map(|f| f.rule).collect()
}

fn action(tool: &str, refused: bool) -> ActionRecord {
    ActionRecord { tool: tool.into(), detail: format!("{tool} detail"), ok: !refused, refused }
}

#[test]
fn turning_angry_alerts_once_until_the_caller_calms_down() {
    let mut w = watch();
    assert!(w.on_turn(s(5), State::Calm, 0.2).is_empty());
    assert_eq!(rules(&w.on_turn(s(70), State::Angry, 0.8)), [AlertRule::CallerAngry]);
    assert!(w.on_turn(s(80), State::Angry, 0.85).is_empty(), "still angry: no second alert");
    assert!(w.on_turn(s(90), State::Unknown, 0.0).is_empty(), "an unjudged turn changes nothing");
    assert!(w.on_turn(s(95), State::Angry, 0.85).is_empty());
    assert!(w.on_turn(s(100), State::Calm, 0.3).is_empty());
    assert_eq!(rules(&w.on_turn(s(200), State::Angry, 0.8)), [AlertRule::CallerAngry], "angry again");
}

#[test]
fn frustration_rising_fast_alerts_and_a_slow_drift_does_not() {
    let mut w = watch();
    // A slow drift: +0.1 a minute, never 0.3 within 60 s.
    for (i, f) in [0.1, 0.2, 0.3, 0.4].into_iter().enumerate() {
        assert!(w.on_turn(s(61 * i as u64), State::Calm, f).is_empty(), "turn {i}");
    }
    // A jump within the window.
    let fired = w.on_turn(s(200), State::Frustrated, 0.45);
    assert!(fired.is_empty());
    let fired = w.on_turn(s(230), State::Frustrated, 0.8);
    assert_eq!(rules(&fired), [AlertRule::FrustrationRising]);
    assert!(fired[0].detail.contains("0.40 → 0.80"), "{}", fired[0].detail);
    // Not again within the same window, even rising further.
    assert!(w.on_turn(s(240), State::Frustrated, 0.5).is_empty());
    assert!(w.on_turn(s(250), State::Frustrated, 0.95).is_empty());
    // After the quiet window, a new rise alerts again.
    assert!(w.on_turn(s(300), State::Calm, 0.2).is_empty());
    assert_eq!(rules(&w.on_turn(s(320), State::Frustrated, 0.6)), [AlertRule::FrustrationRising]);
}

#[test]
fn the_assistant_not_understanding_twice_alerts_once() {
    let mut w = watch();
    assert!(w.on_reply(Some(Intent::OrderStatus), &[]).is_empty());
    assert!(w.on_reply(Some(Intent::Unknown), &[]).is_empty(), "once is not twice");
    assert_eq!(rules(&w.on_reply(Some(Intent::Unknown), &[])), [AlertRule::NotUnderstood]);
    assert!(w.on_reply(Some(Intent::Unknown), &[]).is_empty());
    assert!(w.on_escalated(EscalationReason::NotUnderstood).is_empty(), "already raised");
    // A hand-over because an answer could not be used twice counts too.
    let mut w = watch();
    assert!(w.on_escalated(EscalationReason::AskedForPerson).is_empty());
    assert_eq!(rules(&w.on_escalated(EscalationReason::NotUnderstood)), [AlertRule::NotUnderstood]);
}

#[test]
fn a_wait_longer_than_the_service_level_alerts_once_per_wait() {
    let mut w = watch();
    let long_call = Some(s(15 * 60));
    assert_eq!(w.next_timeout(), long_call);
    w.on_state(s(30), CallState::WaitingForAgent);
    assert_eq!(w.next_timeout(), Some(s(50)));
    assert!(w.on_timeout(s(49)).is_empty());
    w.on_state(s(45), CallState::OnHold);
    let fired = w.on_timeout(s(50));
    assert_eq!(rules(&fired), [AlertRule::LongWait]);
    assert!(fired[0].detail.contains("20 s"));
    assert_eq!(w.next_timeout(), long_call, "fired: no wait timer");
    // Answered in time: no alert.
    w.on_state(s(60), CallState::WithAgent);
    w.on_state(s(100), CallState::WaitingForAgent);
    w.on_state(s(110), CallState::WithAgent);
    assert_eq!(w.next_timeout(), long_call);
    assert!(w.on_timeout(s(130)).is_empty());
}

#[test]
fn a_long_call_alerts_once_and_rules_switch_off() {
    let mut w = watch();
    assert!(w.on_timeout(s(899)).is_empty());
    assert_eq!(rules(&w.on_timeout(s(900))), [AlertRule::LongCall]);
    assert_eq!(w.next_timeout(), None);
    assert!(w.on_timeout(s(2000)).is_empty());

    let off = AlertConfig { long_call_minutes: 0, long_wait: false, ..AlertConfig::default() };
    let mut w = Watch::new(Arc::new(off), Duration::from_secs(20));
    w.on_state(s(1), CallState::WaitingForAgent);
    assert_eq!(w.next_timeout(), None);
    let none = AlertConfig { enabled: false, ..AlertConfig::default() };
    let mut w = Watch::new(Arc::new(none), Duration::from_secs(20));
    assert!(w.on_turn(s(1), State::Angry, 0.9).is_empty());
    assert!(w.on_words("I want to speak to my lawyer", None).is_empty());
    assert_eq!(w.next_timeout(), None);
}

#[test]
fn phrases_alert_in_any_served_language_and_through_the_translation() {
    let mut w = watch();
    assert!(w.on_words("Where is my order?", None).is_empty());
    assert!(w.on_words("My lawyers' office called", None).is_empty(), "whole words only");
    let fired = w.on_words("I want to CANCEL my account, now!", None);
    assert_eq!(rules(&fired), [AlertRule::Phrase]);
    assert!(fired[0].detail.contains("cancel my account"), "{}", fired[0].detail);
    assert!(w.on_words("cancel my account", None).is_empty(), "each phrase once per call");
    assert_eq!(rules(&w.on_words("Ich rufe meinen Anwalt an.", None)), [AlertRule::Phrase]);
    assert_eq!(rules(&w.on_words("Je vais porter plainte.", None)), [AlertRule::Phrase]);
    // Swedish words, English translation: the English list catches it through the translation.
    let fired = w.on_words("Jag vill prata med en jurist", Some("I want to talk to an attorney"));
    assert_eq!(rules(&fired), [AlertRule::Phrase]);
    assert!(fired[0].detail.contains("attorney"));
}

#[test]
fn a_policy_refusal_alerts_once_per_refusal() {
    let mut w = watch();
    assert!(w.on_reply(Some(Intent::Refund), &[action("quote_refund", false)]).is_empty());
    let fired = w.on_reply(Some(Intent::Refund), &[action("quote_refund", true)]);
    assert_eq!(rules(&fired), [AlertRule::PolicyRefusal]);
    assert!(fired[0].detail.starts_with("quote_refund"));
    assert!(w.on_reply(Some(Intent::Refund), &[action("quote_refund", true)]).is_empty());
    assert_eq!(rules(&w.on_reply(None, &[action("verify", true)])), [AlertRule::PolicyRefusal]);
}

#[test]
fn config_is_checked() {
    assert!(AlertConfig::default().validate().is_ok());
    let bad = AlertConfig { frustration_rise: 1.5, ..AlertConfig::default() };
    assert!(bad.validate().unwrap_err().contains("frustration_rise"));
    let mut bad = AlertConfig::default();
    bad.phrases.insert("xx".into(), vec!["hello".into()]);
    assert!(bad.validate().unwrap_err().contains("alerts.phrases.xx"));
    let mut bad = AlertConfig::default();
    bad.phrases.insert("en".into(), vec!["  ?! ".into()]);
    assert!(bad.validate().unwrap_err().contains("empty phrase"));
}
