use chrono::NaiveDate;

use super::demo::seed;
use super::model::PaymentStatus;
use super::*;

fn seeded() -> (Store, Customer) {
    let s = Store::open_in_memory().unwrap();
    seed(&s, 6, NaiveDate::from_ymd_opt(2026, 11, 29).unwrap()).unwrap();
    let john = s.customer_by_phone("+15550100").unwrap().unwrap();
    (s, john)
}

#[test]
fn migrations_apply_once_and_a_newer_schema_is_refused() {
    let dir = std::env::temp_dir().join(format!("switchboard-store-{}", std::process::id()));
    let path = dir.join("bo.db");
    let last = migration_number(MIGRATIONS.last().unwrap().0);
    let numbers: Vec<i64> = MIGRATIONS.iter().map(|(n, _)| migration_number(n)).collect();
    assert!(numbers.windows(2).all(|w| w[0] < w[1]), "strictly increasing: {numbers:?}");
    let s = Store::open(&path).unwrap();
    assert_eq!(s.schema_version().unwrap(), last);
    drop(s);
    let s = Store::open(&path).unwrap();
    assert_eq!(s.schema_version().unwrap(), last);
    s.lock().pragma_update(None, "user_version", 99).unwrap();
    drop(s);
    assert!(matches!(Store::open(&path), Err(StoreError::TooNew { found: 99, .. })));
    // A path that cannot be a database says which and why.
    let err = Store::open(&dir).unwrap_err().to_string();
    assert!(err.starts_with(&format!("cannot open database {}", dir.display())), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn refunds_cannot_exceed_what_was_paid() {
    let (s, john) = seeded();
    let order = s.order_by_number("45679").unwrap().unwrap();
    assert_eq!(order.customer_id, john.id);
    let r = s.create_refund(order.id, Some("running shoes"), 5_000, "too small", Some("c-1")).unwrap();
    assert_eq!((r.amount_cents, r.order_number.as_str(), r.status.as_str()), (5_000, "45679", "approved"));
    let err = s.create_refund(order.id, None, order.total_cents, "again", None).unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err}");
    assert!(matches!(s.create_refund(order.id, None, 0, "zero", None), Err(StoreError::Invalid(_))));
    assert!(matches!(s.create_refund(999_999, None, 100, "x", None), Err(StoreError::NotFound(_))));
    assert_eq!(s.refunds(john.id).unwrap().len(), 1);
}

#[test]
fn payments_postpone_links_and_contact_changes() {
    let (s, john) = seeded();
    let next = s.payments(john.id).unwrap().into_iter().find(|p| p.status == PaymentStatus::Scheduled).unwrap();
    let moved = s.postpone_payment(next.id, "2027-01-15").unwrap();
    assert_eq!((moved.due_on.as_str(), moved.postponed), ("2027-01-15", 1));
    let paid = s.payments(john.id).unwrap().into_iter().find(|p| p.status == PaymentStatus::Paid).unwrap();
    assert!(matches!(s.postpone_payment(paid.id, "2027-01-15"), Err(StoreError::NotFound(_))));
    let link = s.create_payment_link(next.id, "+15550100", Some("c-2")).unwrap();
    assert!(link.starts_with("https://pay.example.com/p/"));

    s.update_email(john.id, "john.new@example.com").unwrap();
    s.update_address(john.id, "12 Baker Street", "NW1 6XE", "London").unwrap();
    let j = s.customer(john.id).unwrap().unwrap();
    assert_eq!((j.email.as_str(), j.street.as_str()), ("john.new@example.com", "12 Baker Street"));
    assert!(matches!(s.update_email(424_242, "x@example.com"), Err(StoreError::NotFound(_))));
    assert!(matches!(s.add_phone(john.id, "+46701234567"), Err(StoreError::Invalid(_))), "someone else's number");
    s.add_phone(john.id, "+15550199").unwrap();
    assert_eq!(s.customer_by_phone("+15550199").unwrap().unwrap().id, john.id);
}

#[test]
fn interactions_are_recorded_and_secrets_never_serialise() {
    let (s, john) = seeded();
    let id = s.start_interaction(None, "c-9", "sip", "2026-11-29T10:00:00.000Z").unwrap();
    s.finish_interaction(id, Some(john.id), "resolved", Some("order_status"), "order 45678 arrives tomorrow", None)
        .unwrap();
    let list = s.interactions(john.id).unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!((list[0].outcome.as_str(), list[0].intent.as_deref()), ("resolved", Some("order_status")));
    let json = serde_json::to_string(&john).unwrap();
    assert!(!json.contains("1234") && !json.contains("1985-04-12"), "{json}");
}
