//! The LLM path against a scripted OpenAI-compatible server over loopback HTTP (the real
//! client, the real engine and back office; only the model's choices are scripted).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::NaiveDate;
use serde_json::{json, Value};

use crate::assistant::dialogue::{Assistant, EscalationReason, Input, Reply};
use crate::assistant::intents::{Intent, NearestExamples};
use crate::assistant::llm::{LanguageModel, LlmConfig, OpenAiCompatible};
use crate::assistant::policy::Policy;
use crate::assistant::tools::sqlite::SqliteBackOffice;
use crate::store::{demo, Store};

struct Script {
    /// What the model does with a fresh caller turn: a tool call's arguments, or "fail".
    first: Value,
    requests: AtomicUsize,
}

async fn completions(State(s): State<Arc<Script>>, Json(body): Json<Value>) -> (StatusCode, Json<Value>) {
    s.requests.fetch_add(1, Ordering::SeqCst);
    let messages = body["messages"].as_array().cloned().unwrap_or_default();
    assert_eq!(messages[0]["role"], "system");
    assert!(body["tools"].as_array().is_some_and(|t| t.len() == 2));
    let last = messages.last().unwrap();
    if last["role"] == "tool" {
        // Relay what the tool said, as a model told to would.
        let told: Value = serde_json::from_str(last["content"].as_str().unwrap()).unwrap();
        let text = format!("Sure. {}", told["tell_the_caller"].as_str().unwrap());
        return (StatusCode::OK, Json(json!({"choices": [{"message": {"role": "assistant", "content": text}}]})));
    }
    if s.first == "fail" {
        return (StatusCode::INTERNAL_SERVER_ERROR, Json(json!({"error": "model crashed"})));
    }
    let call = json!({"id": "call_1", "type": "function",
        "function": {"name": s.first["name"], "arguments": s.first["arguments"].to_string()}});
    (
        StatusCode::OK,
        Json(json!({"choices": [{"message": {"role": "assistant", "content": null, "tool_calls": [call]}}]})),
    )
}

async fn setup(first: Value) -> (Assistant, Arc<Script>, Store) {
    let script = Arc::new(Script { first, requests: AtomicUsize::new(0) });
    let app =
        axum::Router::new().route("/v1/chat/completions", axum::routing::post(completions)).with_state(script.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let cfg = LlmConfig {
        enabled: true,
        base_url: format!("http://{}/v1", listener.local_addr().unwrap()),
        ..Default::default()
    };
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let today = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
    let store = Store::open_in_memory().unwrap();
    demo::seed(&store, 12, today).unwrap();
    let bo = SqliteBackOffice::new(store.clone(), Policy::default()).with_today(today);
    let llm: Arc<dyn LanguageModel> = Arc::new(OpenAiCompatible::new(&cfg));
    let a = Assistant::new(
        Arc::new(bo),
        Arc::new(NearestExamples::default()),
        Policy::default(),
        "c-llm",
        "+15550100",
        today,
    )
    .with_llm(Some(llm));
    (a, script, store)
}

async fn say(a: &mut Assistant, text: &str) -> Reply {
    a.handle(Input::Turn { text, language: "en", state: None, trend: 0.0, confidence: None }).await
}

#[tokio::test]
async fn the_model_phrases_but_verification_stays_with_the_engine() {
    let tool = json!({"name": "account_request", "arguments": {"request": "order_status", "order_number": "45678"}});
    let (mut a, script, _) = setup(tool).await;
    a.handle(Input::Start).await;
    let r = say(&mut a, "hi, what's going on with the package I bought, it's number four five six seven eight").await;
    let s = r.say.join(" ");
    assert!(s.starts_with("Sure.") && s.contains("date of birth"), "the model relays the engine's question: {s}");
    assert!(!s.contains("on its way"), "nothing disclosed before verification: {s}");
    assert_eq!(r.intent, Some(Intent::OrderStatus));
    assert_eq!(a.outcome().outcome, "abandoned", "asking for verification resolves nothing yet");
    let r = a.handle(Input::Digits("1234")).await;
    assert!(r.say.join(" ").contains("Order 4 5 6 7 8 is on its way"), "{r:?}");
    assert_eq!(script.requests.load(Ordering::SeqCst), 2, "the PIN went to the engine, not the model");
}

#[tokio::test]
async fn a_change_the_model_starts_needs_the_callers_own_yes() {
    let tool = json!({"name": "account_request", "arguments": {"request": "refund", "order_number": "45679"}});
    let (mut a, script, store) = setup(tool).await;
    a.handle(Input::Start).await;
    say(&mut a, "the shoes don't fit, I want my money back").await;
    let r = a.handle(Input::Digits("1234")).await;
    assert!(r.say.join(" ").contains("I can refund 129 dollars"), "verified, then quoted: {r:?}");
    let john = store.customer_by_phone("+15550100").unwrap().unwrap();
    assert!(store.refunds(john.id).unwrap().is_empty(), "a quote only");
    let before = script.requests.load(Ordering::SeqCst);
    let r = say(&mut a, "yes please").await;
    assert!(r.actions.iter().any(|x| x.tool == "request_refund" && x.ok), "{r:?}");
    assert_eq!(store.refunds(john.id).unwrap().len(), 1);
    assert_eq!(script.requests.load(Ordering::SeqCst), before, "the confirmation is the engine's, not the model's");
}

#[tokio::test]
async fn a_card_payment_the_model_asks_for_is_taken_in_a_secure_capture_in_the_engines_words() {
    let tool = json!({"name": "account_request", "arguments": {"request": "pay_now"}});
    let (mut a, _, _) = setup(tool).await;
    a.handle(Input::Start).await;
    say(&mut a, "I'd like to settle what I owe with my credit card").await;
    // Verified by the PIN (the engine's), the pending request asks for the card.
    let r = a.handle(Input::Digits("1234")).await;
    assert!(r.take_card.is_some(), "{r:?}");
    // Asked again through the model: the capture prompt is the engine's, not relayed.
    let r = say(&mut a, "actually let me pay by card now").await;
    let s = r.say.join(" ");
    assert!(r.take_card.is_some() && s.contains("key your card number") && !s.starts_with("Sure."), "{r:?}");
}

#[tokio::test]
async fn a_failing_model_falls_back_to_the_built_in_engine() {
    let (mut a, script, _) = setup(json!("fail")).await;
    a.handle(Input::Start).await;
    let r = say(&mut a, "where is my order 45678").await;
    assert!(r.say.join(" ").contains("date of birth"), "the engine answered: {r:?}");
    assert!(r.actions.iter().any(|x| x.tool == "llm" && !x.ok));
    say(&mut a, "hello").await;
    assert_eq!(script.requests.load(Ordering::SeqCst), 1, "not asked again during this call");
    let r = say(&mut a, "I want to talk to a person").await;
    assert_eq!(r.escalate.map(|e| e.0), Some(EscalationReason::AskedForPerson));
}
