//! Scripted conversations against the real SQLite back office (in memory, demo data).

use std::sync::Arc;

use chrono::NaiveDate;

use super::*;
use crate::assistant::intents::NearestExamples;
use crate::assistant::tools::sqlite::SqliteBackOffice;
use crate::store::{demo, Store};

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 29).unwrap()
}

fn assistant(caller: &str) -> (Assistant, Store) {
    let store = Store::open_in_memory().unwrap();
    demo::seed(&store, 12, today()).unwrap();
    let bo = SqliteBackOffice::new(store.clone(), Policy::default()).with_today(today());
    let a = Assistant::new(
        Arc::new(bo),
        Arc::new(NearestExamples::default()),
        Policy::default(),
        "c-test",
        caller,
        today(),
    );
    (a, store)
}

async fn say(a: &mut Assistant, text: &str) -> Reply {
    a.handle(Input::Turn { text, language: "", state: None, trend: 0.0, confidence: None }).await
}

fn said(r: &Reply) -> String {
    r.say.join(" ")
}

#[tokio::test]
async fn the_greeting_carries_the_ai_notice_in_the_callers_language_or_the_centres_words() {
    let (a, _) = assistant("+15550100");
    let mut a = a.with_notice(Some(Default::default()));
    let hello = said(&a.handle(Input::Start).await);
    assert!(hello.contains("AI assistant") && hello.contains("voice is analysed"), "{hello}");
    assert!(hello.ends_with("How can I help you?"), "{hello}");
    let own = [("en".to_string(), "Welcome to Example Bank: an AI answers and listens to your voice.".to_string())];
    let (a, _) = assistant("+15550100");
    let mut a = a.with_notice(Some(own.into_iter().collect()));
    let hello = said(&a.handle(Input::Start).await);
    assert!(hello.starts_with("Welcome to Example Bank"), "{hello}");
    // Off: the plain greeting.
    let (mut a, _) = assistant("+15550100");
    assert!(!said(&a.handle(Input::Start).await).contains("analysed"));
}

#[tokio::test]
async fn order_status_after_verification_by_date_of_birth() {
    let (mut a, _) = assistant("+15550100");
    let hello = a.handle(Input::Start).await;
    assert!(said(&hello).starts_with("Thank you for calling"), "{hello:?}");
    let r = say(&mut a, "Hello, I'm calling about my order, the order number 45678").await;
    assert_eq!(r.intent, Some(Intent::OrderStatus));
    assert!(said(&r).contains("date of birth"), "verification first: {r:?}");
    assert!(!said(&r).contains("4 5 6 7 8"), "nothing disclosed before verification");
    let r = say(&mut a, "April 12th 1985").await;
    let s = said(&r);
    assert!(s.contains("Thank you, John"), "{s}");
    // The order number given before verification is kept: the answer follows the thanks.
    assert!(s.contains("Order 4 5 6 7 8 is on its way with"), "{s}");
    assert!(s.contains("Monday, November 30th"), "{s}");
}

#[tokio::test]
async fn a_garbled_question_with_an_order_number_is_taken_as_order_status() {
    let (mut a, _) = assistant("+15550100");
    a.handle(Input::Start).await;
    say(&mut a, "When is my next payment due?").await;
    say(&mut a, "my pin is one two three four").await;
    let r = say(&mut a, "Are we actually where we monitor four five six seven eight.").await;
    assert_eq!(r.intent, Some(Intent::OrderStatus));
    assert!(said(&r).contains("Order 4 5 6 7 8 is on its way"), "{r:?}");
    // Without a number it is still not understood.
    let r = say(&mut a, "It checks really where, a tremendously Scottish basket").await;
    assert_eq!(r.intent, Some(Intent::Unknown));
}

#[tokio::test]
async fn refund_within_policy_is_created_after_confirmation_only() {
    let (mut a, store) = assistant("+15550100");
    a.handle(Input::Start).await;
    say(&mut a, "I want to return the running shoes and get a refund").await;
    a.handle(Input::Digits("1234")).await;
    let r = say(&mut a, "the order number is 4 5 6 7 9").await;
    assert!(said(&r).contains("I can refund 129 dollars for the running shoes from order 4 5 6 7 9"), "{r:?}");
    let john = store.customer_by_phone("+15550100").unwrap().unwrap();
    assert!(store.refunds(john.id).unwrap().is_empty(), "nothing before the yes");
    let r = say(&mut a, "hmm what").await;
    assert!(said(&r).contains("Shall I go ahead?"), "unclear answers repeat the question: {r:?}");
    let r = say(&mut a, "yes please").await;
    assert!(said(&r).starts_with("Done. 129 dollars"), "{r:?}");
    assert!(r.actions.iter().any(|x| x.tool == "request_refund" && x.ok));
    let refunds = store.refunds(john.id).unwrap();
    assert_eq!((refunds.len(), refunds[0].amount_cents, refunds[0].call_id.as_deref()), (1, 12_900, Some("c-test")));
}

#[tokio::test]
async fn refund_over_the_limit_is_refused_politely() {
    let (mut a, store) = assistant("+15550100");
    a.handle(Input::Start).await;
    say(&mut a, "I'd like a refund for order 45681").await;
    let r = a.handle(Input::Digits("1234")).await;
    let s = said(&r);
    assert!(s.contains("over the self-service limit of 300.00 USD"), "{s}");
    let john = store.customer_by_phone("+15550100").unwrap().unwrap();
    assert!(store.refunds(john.id).unwrap().is_empty());
}

#[tokio::test]
async fn payment_due_is_answered() {
    let (mut a, _) = assistant("+15550100");
    a.handle(Input::Start).await;
    say(&mut a, "When is my next payment due, and how much do I owe?").await;
    let r = say(&mut a, "my pin is one two three four").await;
    assert!(
        said(&r).contains("Your next payment is 43 dollars for order 4 5 6 7 9, due on Thursday, December 17th"),
        "{r:?}"
    );
}

#[tokio::test]
async fn failed_verification_discloses_nothing_and_hands_over() {
    let (mut a, _) = assistant("+15550100");
    a.handle(Input::Start).await;
    say(&mut a, "where is my order 45678").await;
    let r = say(&mut a, "January 1st 1970").await;
    assert!(said(&r).contains("doesn't match"), "{r:?}");
    let r = a.handle(Input::Digits("9999")).await;
    assert_eq!(r.escalate, Some((EscalationReason::VerificationFailed, Some(Intent::OrderStatus))));
    let all = said(&r);
    assert!(!all.contains("4 5 6 7 8") && !all.contains("John"), "{all}");
    assert!(a.verified().is_none());
    assert!(say(&mut a, "1234").await.say.is_empty(), "after hand-over the assistant is silent");
}

#[tokio::test]
async fn angry_callers_and_fraud_go_to_a_person() {
    let (mut a, _) = assistant("+15550100");
    a.handle(Input::Start).await;
    let angry = TurnState { state: State::Angry, frustration: 0.9, confidence: 0.6, arousal: 2.0, evidence: vec![] };
    let r = a
        .handle(Input::Turn {
            text: "where is my order",
            language: "en",
            state: Some(&angry),
            trend: 0.5,
            confidence: None,
        })
        .await;
    assert_eq!(r.escalate.map(|e| e.0), Some(EscalationReason::CallerUpset));

    let (mut a, _) = assistant("+15550100");
    a.handle(Input::Start).await;
    let r = say(&mut a, "there's a charge on my card I don't recognise").await;
    assert_eq!(r.escalate, Some((EscalationReason::NeedsHuman, Some(Intent::Fraud))));

    let (mut a, _) = assistant("+15550100");
    a.handle(Input::Start).await;
    let r = say(&mut a, "let me speak to a person right now").await;
    assert_eq!(r.escalate.map(|e| e.0), Some(EscalationReason::AskedForPerson));
}

#[tokio::test]
async fn swedish_and_german_callers_are_answered_in_their_language() {
    let (mut a, _) = assistant("+46701234567");
    let r = a.handle(Input::Start).await;
    assert!(said(&r).starts_with("Tack för att du ringer"), "{r:?}");
    a.handle(Input::Turn {
        text: "Hej, jag vill veta var min beställning är.",
        language: "sv",
        state: None,
        trend: 0.0,
        confidence: None,
    })
    .await;
    a.handle(Input::Digits("2580")).await;
    let r = a
        .handle(Input::Turn {
            text: "sex två tre fyra fem", language: "sv", state: None, trend: 0.0, confidence: None
        })
        .await;
    assert!(said(&r).contains("Order 6 2 3 4 5 är på väg med"), "{r:?}");

    let (mut a, _) = assistant("+4915112345678");
    a.handle(Input::Start).await;
    let r = a
        .handle(Input::Turn {
            text: "Wann ist meine nächste Zahlung fällig?",
            language: "de",
            state: None,
            trend: 0.0,
            confidence: None,
        })
        .await;
    assert!(said(&r).contains("Geburtsdatum"), "{r:?}");
    let r = a.handle(Input::Digits("1357")).await;
    assert!(said(&r).contains("Ihre nächste Zahlung von"), "{r:?}");
}

#[tokio::test]
async fn unknown_languages_numbers_and_nonsense() {
    let (mut a, _) = assistant("+15550100");
    a.handle(Input::Start).await;
    let r = a
        .handle(Input::Turn {
            text: "Buongiorno, dov'è il mio ordine per favore",
            language: "it",
            state: None,
            trend: 0.0,
            confidence: None,
        })
        .await;
    assert_eq!(r.escalate.map(|e| e.0), Some(EscalationReason::LanguageNotServed));

    let (mut a, _) = assistant("+19998887777");
    a.handle(Input::Start).await;
    let r = say(&mut a, "where is my order").await;
    assert_eq!(r.escalate.map(|e| e.0), Some(EscalationReason::CallerNotIdentified));

    let (mut a, _) = assistant("+15550100");
    a.handle(Input::Start).await;
    let r = say(&mut a, "purple elephants dance quietly").await;
    assert!(said(&r).starts_with("Sorry, I didn't catch that"));
    let r = say(&mut a, "banana telescope").await;
    assert_eq!(r.escalate.map(|e| e.0), Some(EscalationReason::NotUnderstood));

    let (mut a, _) = assistant("+15550100");
    a.handle(Input::Start).await;
    assert!(said(&a.handle(Input::Silence).await).starts_with("Are you still there?"));
    assert_eq!(a.handle(Input::Silence).await.escalate.map(|e| e.0), Some(EscalationReason::Silence));
}

#[tokio::test]
async fn someone_elses_order_and_postponing_once() {
    let (mut a, store) = assistant("+15550100");
    a.handle(Input::Start).await;
    say(&mut a, "where is my order").await;
    a.handle(Input::Digits("1234")).await;
    let r = say(&mut a, "62345").await;
    assert!(said(&r).contains("can't find order 6 2 3 4 5 on your account"), "Anna's order: {r:?}");

    let r = say(&mut a, "can I postpone my payment to December 24th").await;
    assert!(said(&r).contains("move the payment due on Thursday, December 17th to Thursday, December 24th"), "{r:?}");
    let r = say(&mut a, "yes").await;
    assert!(said(&r).starts_with("Done. The payment is now due on Thursday, December 24th"), "{r:?}");
    let john = store.customer_by_phone("+15550100").unwrap().unwrap();
    assert!(store.payments(john.id).unwrap().iter().any(|p| p.due_on == "2026-12-24" && p.postponed == 1));
}

#[tokio::test]
async fn phone_and_address_changes_after_confirmation() {
    let (mut a, store) = assistant("+15550100");
    a.handle(Input::Start).await;
    say(&mut a, "I'd like to add a new phone number").await;
    let r = a.handle(Input::Digits("1234")).await;
    assert!(said(&r).contains("country code"), "{r:?}");
    let r = a.handle(Input::Digits("15550177")).await;
    assert!(said(&r).contains("1 5 5 5 0 1 7 7. Shall I add it"), "{r:?}");
    let r = say(&mut a, "yes").await;
    assert!(r.actions.iter().any(|x| x.tool == "add_phone" && x.ok), "{r:?}");
    assert!(store.customer_by_phone("+15550177").unwrap().is_some_and(|c| c.name.starts_with("John")));

    let r = say(&mut a, "I moved, please change my address").await;
    assert!(said(&r).contains("street address"), "{r:?}");
    let r = say(&mut a, "My new address is 400 Main Street, Springfield 62704").await;
    assert!(said(&r).contains("400 Main Street, 6 2 7 0 4, Springfield"), "{r:?}");
    let r = say(&mut a, "no").await;
    assert!(said(&r).contains("won't change anything"), "{r:?}");
    let john = store.customer_by_phone("+15550100").unwrap().unwrap();
    assert_ne!(john.postcode, "62704", "a no changes nothing");
    say(&mut a, "change my address please").await;
    say(&mut a, "400 Main Street, Springfield 62704").await;
    say(&mut a, "yes that's right").await;
    let john = store.customer_by_phone("+15550100").unwrap().unwrap();
    assert_eq!(
        (john.street.as_str(), john.postcode.as_str(), john.city.as_str()),
        ("400 Main Street", "62704", "Springfield")
    );
    let o = a.outcome();
    assert_eq!((o.outcome, o.customer_id), ("resolved", Some(john.id)));
    assert!(o.summary.contains("update_address"), "{}", o.summary);
}

#[tokio::test]
async fn outcome_of_an_escalated_and_an_abandoned_call() {
    let (mut a, _) = assistant("+15550100");
    a.handle(Input::Start).await;
    assert_eq!(a.outcome().outcome, "abandoned");
    say(&mut a, "let me speak to a person").await;
    let o = a.outcome();
    assert_eq!((o.outcome, o.escalation), ("escalated", Some(EscalationReason::AskedForPerson)));
    assert_eq!(o.intent, Some(Intent::Agent));
    assert!(o.customer_id.is_some(), "the number matched, though not verified");
}

#[test]
fn escalation_reason_names_match_the_events() {
    for r in [
        EscalationReason::AskedForPerson,
        EscalationReason::BackOfficeUnavailable,
        EscalationReason::Silence,
        EscalationReason::VerificationLocked,
    ] {
        assert_eq!(serde_json::to_value(r).unwrap(), r.name());
    }
}

#[test]
fn spoken_emails() {
    assert_eq!(spoken_email("it's john dot smith at example dot com").as_deref(), Some("john.smith@example.com"));
    assert_eq!(spoken_email("john at example"), None);
}

/// A call's assistant with the verification lock on `store`, reading a simulated clock.
fn with_lock(store: &Store, clock: &Arc<std::sync::atomic::AtomicI64>, call: &str, caller: &str) -> Assistant {
    use crate::assistant::lockout::VerificationLock;
    let bo = SqliteBackOffice::new(store.clone(), Policy::default()).with_today(today());
    let c = clock.clone();
    let lock = VerificationLock::new(store.clone(), &Policy::default())
        .unwrap()
        .with_clock(Arc::new(move || c.load(std::sync::atomic::Ordering::SeqCst)));
    Assistant::new(Arc::new(bo), Arc::new(NearestExamples::default()), Policy::default(), call, caller, today())
        .with_lock(Some(Arc::new(lock)))
}

/// A new call from John's number asking for order 45678, then `factor` (keys, or spoken).
async fn call_with(a: &mut Assistant, factor: &str) -> Reply {
    a.handle(Input::Start).await;
    say(a, "where is my order 45678").await;
    match factor.chars().all(|c| c.is_ascii_digit()) {
        true => a.handle(Input::Digits(factor)).await,
        false => say(a, factor).await,
    }
}

#[tokio::test]
async fn failed_pins_count_across_calls_and_the_lock_refuses_even_the_right_one() {
    use std::sync::atomic::{AtomicI64, Ordering};
    const MIN: i64 = 60_000;
    let store = Store::open_in_memory().unwrap();
    demo::seed(&store, 12, today()).unwrap();
    let t0 = 1_800_000_000_000;
    let clock = Arc::new(AtomicI64::new(t0));
    let john = store.customer_by_phone("+15550100").unwrap().unwrap();

    // Call 1: two wrong PINs end this call (its own limit).
    let mut a = with_lock(&store, &clock, "c-1", "+15550100");
    let r = call_with(&mut a, "9999").await;
    assert!(said(&r).contains("doesn't match"), "{r:?}");
    let r = a.handle(Input::Digits("0000")).await;
    assert_eq!(r.escalate, Some((EscalationReason::VerificationFailed, Some(Intent::OrderStatus))));

    // Call 2, ten minutes on: the third wrong PIN within the hour locks John now.
    clock.store(t0 + 10 * MIN, Ordering::SeqCst);
    let mut a = with_lock(&store, &clock, "c-2", "+15550100");
    let r = call_with(&mut a, "1111").await;
    assert_eq!(r.escalate, Some((EscalationReason::VerificationLocked, Some(Intent::OrderStatus))));
    assert_eq!(
        r.note.as_deref(),
        Some("Verification locked after 3 failed attempts in the last hour; verify by other means.")
    );
    assert!(said(&r).contains("can't complete the security check") && said(&r).contains("colleague"), "{r:?}");

    // Call 3: the right PIN is not even checked, and sounds exactly like a wrong one (call 4);
    // a right date of birth neither (call 5). Nothing of the account is said.
    clock.store(t0 + 20 * MIN, Ordering::SeqCst);
    let mut right = with_lock(&store, &clock, "c-3", "+15550100");
    let r = call_with(&mut right, "1234").await;
    assert_eq!(r.escalate.map(|e| e.0), Some(EscalationReason::VerificationLocked));
    assert!(right.verified().is_none());
    assert!(r.actions.iter().any(|x| x.tool == "verify" && x.detail.starts_with("not checked")), "{r:?}");
    let mut wrong = with_lock(&store, &clock, "c-4", "+15550100");
    let w = call_with(&mut wrong, "5678").await;
    assert_eq!((&r.say, &r.escalate, &r.note), (&w.say, &w.escalate, &w.note), "right and wrong sound the same");
    let mut dob = with_lock(&store, &clock, "c-5", "+15550100");
    let d = call_with(&mut dob, "April 12th 1985").await;
    assert_eq!(d.escalate.map(|e| e.0), Some(EscalationReason::VerificationLocked));
    assert!(dob.verified().is_none());
    for x in [&r, &w, &d] {
        assert!(!said(x).contains("4 5 6 7 8") && !said(x).contains("John"), "{x:?}");
    }
    assert_eq!(store.verification_failures(john.id, t0 - 60 * MIN).unwrap(), 3, "refusals add nothing");

    // Another customer is not affected.
    let mut anna = with_lock(&store, &clock, "c-6", "+46701234567");
    anna.handle(Input::Start).await;
    say(&mut anna, "where is my order 62345").await;
    anna.handle(Input::Digits("2580")).await;
    assert!(anna.verified().is_some());

    // An hour after call 1 its two failures expire; call 2's still counts. The right PIN works.
    clock.store(t0 + 60 * MIN + 1, Ordering::SeqCst);
    let mut a = with_lock(&store, &clock, "c-7", "+15550100");
    let r = call_with(&mut a, "1234").await;
    assert!(said(&r).contains("Order 4 5 6 7 8 is on its way"), "{r:?}");
    // The success cleared nothing: two more wrong PINs make three within the hour again.
    let mut a = with_lock(&store, &clock, "c-8", "+15550100");
    let r = call_with(&mut a, "9999").await;
    assert!(said(&r).contains("doesn't match"), "{r:?}");
    let r = a.handle(Input::Digits("0000")).await;
    assert_eq!(r.escalate.map(|e| e.0), Some(EscalationReason::VerificationLocked), "{r:?}");

    // Once the window has passed for all of them, John can verify again.
    clock.store(t0 + 3 * 60 * MIN, Ordering::SeqCst);
    let mut a = with_lock(&store, &clock, "c-9", "+15550100");
    let r = call_with(&mut a, "1234").await;
    assert!(a.verified().is_some(), "{r:?}");
}

#[tokio::test]
async fn a_caller_who_hangs_up_mid_check_still_counts() {
    // Parallel calls cannot outrun the count: an attempt counts from before its check (a
    // pending one from a call still checking, or one that died mid-check).
    use std::sync::atomic::AtomicI64;
    let store = Store::open_in_memory().unwrap();
    demo::seed(&store, 12, today()).unwrap();
    let t0 = 1_800_000_000_000;
    let john = store.customer_by_phone("+15550100").unwrap().unwrap();
    for call in ["x-1", "x-2", "x-3"] {
        assert!(matches!(
            store.begin_verification(john.id, call, t0, t0 - 3_600_000, 3).unwrap(),
            crate::store::verification::AttemptSlot::Granted { .. }
        ));
    }
    let clock = Arc::new(AtomicI64::new(t0 + 1000));
    let mut a = with_lock(&store, &clock, "c-1", "+15550100");
    let r = call_with(&mut a, "1234").await;
    assert_eq!(r.escalate.map(|e| e.0), Some(EscalationReason::VerificationLocked), "{r:?}");
}

async fn heard(a: &mut Assistant, text: &str, confidence: f32) -> Reply {
    a.handle(Input::Turn { text, language: "en", state: None, trend: 0.0, confidence: Some(confidence) }).await
}

fn checked(r: &Reply) -> bool {
    r.actions.iter().any(|a| a.tool == "verify")
}

#[tokio::test]
async fn an_unsure_date_of_birth_is_read_back_and_a_no_costs_no_attempt() {
    let (mut a, _) = assistant("+15550100");
    a.handle(Input::Start).await;
    let r = say(&mut a, "Where is my order 45678?").await;
    assert!(said(&r).contains("date of birth"), "{r:?}");
    // John Carter was born on April 12th, 1985; the recogniser heard 1975 and was unsure.
    let r = heard(&mut a, "April 12th, 1975.", 0.31).await;
    assert_eq!(said(&r), "I heard April 12th, 1975. Is that right?");
    assert!(!checked(&r), "checked before the caller confirmed: {r:?}");
    assert_eq!(a.expecting().map(|e| e.what), Some("yes or no"));
    let r = heard(&mut a, "No.", 0.9).await;
    assert!(said(&r).contains("say your date of birth once more"), "{r:?}");
    assert!(!checked(&r));
    let r = heard(&mut a, "April twelfth, 1985.", 0.42).await;
    assert_eq!(said(&r), "I heard April 12th, 1985. Is that right?");
    let r = heard(&mut a, "Yes, that's right.", 0.95).await;
    assert!(checked(&r) && said(&r).starts_with("Thank you, John."), "{r:?}");
    assert!(said(&r).contains("4 5 6 7 8"), "the order asked about is looked up: {r:?}");
    assert_eq!(a.verify_failures, 0);
}

#[tokio::test]
async fn a_confident_date_is_checked_at_once_and_a_new_date_replaces_one_read_back() {
    let (mut a, _) = assistant("+15550100");
    a.handle(Input::Start).await;
    say(&mut a, "Where is my order 45678?").await;
    let r = heard(&mut a, "April 12th, 1975.", 0.93).await;
    assert!(checked(&r) && said(&r).contains("doesn't match"), "{r:?}");
    // Read back, then corrected with a date rather than a no: the new date is weighed.
    let r = heard(&mut a, "April 2nd, 1985.", 0.2).await;
    assert!(said(&r).contains("April 2nd, 1985"), "{r:?}");
    let r = heard(&mut a, "No, April twelfth 1985.", 0.8).await;
    assert!(checked(&r) && said(&r).starts_with("Thank you, John."), "{r:?}");
}

#[tokio::test]
async fn an_unsure_spoken_pin_is_asked_for_on_the_keypad_and_never_said_back() {
    let (mut a, _) = assistant("+15550100");
    a.handle(Input::Start).await;
    say(&mut a, "Where is my order 45678?").await;
    let r = heard(&mut a, "One two three four.", 0.25).await;
    assert!(said(&r).contains("key in your four digit PIN"), "{r:?}");
    assert!(!said(&r).contains("1 2 3 4") && !said(&r).contains("1234") && !checked(&r), "{r:?}");
    let r = a.handle(Input::Digits("1234")).await;
    assert!(checked(&r) && said(&r).starts_with("Thank you, John."), "{r:?}");
}

#[tokio::test]
async fn a_date_read_back_can_be_answered_with_the_pin_on_the_keypad() {
    let (mut a, _) = assistant("+15550100");
    a.handle(Input::Start).await;
    say(&mut a, "Where is my order 45678?").await;
    heard(&mut a, "April 12th, 1975.", 0.3).await;
    let r = a.handle(Input::Digits("1234")).await;
    assert!(checked(&r) && said(&r).starts_with("Thank you, John."), "{r:?}");
}

#[tokio::test]
async fn a_caller_pays_by_card_keyed_in_secure_capture_or_is_offered_the_link_instead() {
    use crate::assistant::tools::card::CardNumber;
    let (mut a, store) = assistant("+15550100");
    a.handle(Input::Start).await;
    let r = say(&mut a, "I'd like to pay my next instalment by card").await;
    assert_eq!(r.intent, Some(Intent::PayNow), "{r:?}");
    assert!(r.take_card.is_none(), "verification first");
    let r = a.handle(Input::Digits("1234")).await;
    let payment_id = r.take_card.expect("asks for the card");
    assert!(said(&r).contains("I'll take the payment of 43 dollars by card."), "{}", said(&r));
    assert!(said(&r).contains("key your card number"), "{}", said(&r));

    // Nothing valid keyed: the link is offered, and "by card" asks for the card again.
    let r = a.handle(Input::Card { payment_id, ended: &CardEnded::Invalid }).await;
    assert!(said(&r).contains("not a valid card number") && said(&r).contains("payment link instead"), "{r:?}");
    // "Card, please" is the nearest to a stolen card for the classifier: here it is the answer.
    let r = say(&mut a, "Card, please.").await;
    assert_eq!(r.take_card, Some(payment_id), "{r:?}");

    let card = CardEnded::Captured(Arc::new(CardNumber::from_keys(b"4111111111111111".to_vec()).unwrap()));
    let r = a.handle(Input::Card { payment_id, ended: &card }).await;
    let s = said(&r);
    assert!(s.contains("ending in 1 1 1 1") && s.contains("The payment of 43 dollars is done"), "{s}");
    assert!(r.actions.iter().any(|x| x.tool == "pay_by_card" && x.ok && x.detail.ends_with("visa ending in 1111")));
    assert!(!format!("{r:?}").contains("4111111111111111"));
    let paid = store.payment(payment_id).unwrap().unwrap();
    assert_eq!((paid.status, paid.paid_on.is_some()), (crate::store::model::PaymentStatus::Paid, true));

    // Paid: a second card for it is refused, nothing taken.
    let r = a.handle(Input::Card { payment_id, ended: &card }).await;
    assert!(r.actions.iter().any(|x| x.tool == "pay_by_card" && x.refused), "{r:?}");
}
