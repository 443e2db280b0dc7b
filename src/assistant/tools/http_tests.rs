//! The HTTP adapter against the reference server (`web::back_office`) on real HTTP and SQLite.

use std::sync::Arc;

use super::*;
use crate::assistant::dialogue::{Assistant, Input};
use crate::assistant::intents::NearestExamples;
use crate::store::model::PaymentStatus;
use crate::store::{demo, Store};

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 29).unwrap()
}

/// A reference server on a loopback port with demo data; returns its URL and the store.
async fn serve(token: Option<&str>) -> (String, Store) {
    let store = Store::open_in_memory().unwrap();
    demo::seed(&store, 12, today()).unwrap();
    let app = crate::web::back_office::router(store.clone(), Policy::default(), token.map(str::to_string));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, store)
}

fn client(url: &str, token_env: &str) -> HttpBackOffice {
    let cfg = BackOfficeConfig {
        kind: BackOfficeKind::Http,
        url: url.into(),
        token_env: token_env.into(),
        ..Default::default()
    };
    HttpBackOffice::new(&cfg, Policy::default()).unwrap().with_today(today())
}

#[tokio::test]
async fn tools_over_http_keep_verification_policy_and_ownership() {
    let (url, store) = serve(None).await;
    let bo = client(&url, "SWITCHBOARD_TEST_NO_TOKEN");
    assert!(bo.find_caller("+19990000000").await.unwrap().is_none());
    let john = bo.find_caller("+15550100").await.unwrap().expect("John by his number");
    assert_eq!(john.pin, "", "secrets never cross the API");
    assert!(bo.verify(&john, &Factor::Pin("0000".into())).await.unwrap().is_none());
    let who = bo.verify(&john, &Factor::Pin("1234".into())).await.unwrap().expect("right PIN");
    assert!(matches!(bo.order(&who, "45678").await.unwrap(), OrderLookup::Found(_)));
    assert_eq!(bo.order(&who, "62345").await.unwrap(), OrderLookup::NotOnAccount, "Anna's order");
    assert!(matches!(bo.quote_refund(&who, "45681", None, None).await, Err(ToolError::Refused(_))), "over the limit");
    let refund = bo.request_refund(&who, "45679", Some("running shoes"), None, "test", "c-http").await.unwrap();
    assert_eq!((refund.amount_cents, refund.call_id.as_deref()), (12_900, Some("c-http")));
    assert_eq!(store.refunds(john.id).unwrap().len(), 1, "the refund is in the database");
    bo.update_address(&who, "400 Main Street", "62704", "Springfield").await.unwrap();
    assert_eq!(store.customer(john.id).unwrap().unwrap().city, "Springfield");
    assert!(matches!(bo.update_email(&who, "not an email").await, Err(ToolError::Invalid(_))));
    bo.add_phone(&who, "+15550177").await.unwrap();
    let due = bo.payments(&who).await.unwrap().into_iter().find(|p| p.status != PaymentStatus::Paid).unwrap();
    assert!(bo.send_payment_link(&who, due.id, "c-http").await.unwrap().starts_with("https://"));
    let moved = bo.postpone_payment(&who, due.id, today() + chrono::Days::new(25)).await.unwrap();
    assert_eq!(moved.postponed, 1);
    // A card keyed in secure capture pays it; the database keeps no more than the last four.
    let card = crate::assistant::tools::card::CardNumber::from_keys(b"4111111111111111".to_vec()).unwrap();
    let paid = bo.pay_by_card(&who, due.id, &card, "c-http").await.unwrap();
    assert_eq!(paid.status, PaymentStatus::Paid);
    assert!(matches!(bo.pay_by_card(&who, due.id, &card, "c-http").await, Err(ToolError::Refused(_))), "paid");
}

#[tokio::test]
async fn a_wrong_token_or_no_server_is_unavailable_not_a_crash() {
    let (url, _) = serve(Some("s3cret")).await;
    std::env::set_var("SWITCHBOARD_TEST_WRONG_TOKEN", "guess");
    let bo = client(&url, "SWITCHBOARD_TEST_WRONG_TOKEN");
    assert!(matches!(bo.find_caller("+15550100").await, Err(ToolError::Unavailable(m)) if m.contains("bearer")));
    std::env::set_var("SWITCHBOARD_TEST_RIGHT_TOKEN", "s3cret");
    assert!(client(&url, "SWITCHBOARD_TEST_RIGHT_TOKEN").find_caller("+15550100").await.unwrap().is_some());

    // Nothing listens there: the assistant apologises and hands over.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let bo = Arc::new(client(&format!("http://{closed}"), "SWITCHBOARD_TEST_NO_TOKEN"));
    assert!(matches!(bo.find_caller("+15550100").await, Err(ToolError::Unavailable(_))));
    let mut a = Assistant::new(bo, Arc::new(NearestExamples::default()), Policy::default(), "c", "+15550100", today());
    let hello = a.handle(Input::Start).await;
    assert!(!hello.say.is_empty(), "the caller is still greeted");
}

#[tokio::test]
async fn a_whole_conversation_through_the_http_back_office() {
    let (url, _) = serve(None).await;
    let bo = Arc::new(client(&url, "SWITCHBOARD_TEST_NO_TOKEN"));
    let mut a = Assistant::new(bo, Arc::new(NearestExamples::default()), Policy::default(), "c", "+15550100", today());
    a.handle(Input::Start).await;
    let turn = |t: &'static str| Input::Turn { text: t, language: "en", state: None, trend: 0.0, confidence: None };
    a.handle(turn("where is my order 45678")).await;
    let r = a.handle(Input::Digits("1234")).await;
    assert!(r.say.join(" ").contains("Order 4 5 6 7 8 is on its way"), "{r:?}");
}

#[test]
fn config_errors_are_clear() {
    let mut c = BackOfficeConfig { kind: BackOfficeKind::Http, url: "ftp://x".into(), ..Default::default() };
    assert!(c.validate().unwrap_err().contains("http://"));
    c.url = "http://127.0.0.1:1".into();
    c.paths.insert("orderz".into(), "/o".into());
    assert!(c.validate().unwrap_err().contains("unknown tool"));
    assert_eq!(encode("+46 70"), "%2B46%2070");
}
