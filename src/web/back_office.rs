//! The HTTP back-office contract (see `assistant/tools/http.rs`) served on the built-in database: the reference
//! a company's developers can call and copy, and what the HTTP adapter is tested against
//! (`switchboard back-office serve`).

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::json;

use super::AppError;

use crate::assistant::policy::Policy;
use crate::assistant::tools::card::CardNumber;
use crate::assistant::tools::sqlite::SqliteBackOffice;
use crate::assistant::tools::{BackOffice, Factor, ToolError, Verified};
use crate::store::Store;

struct Api {
    store: Store,
    tools: SqliteBackOffice,
    token: Option<String>,
}

type Shared = State<Arc<Api>>;

/// The contract's routes. With a token, every request must carry `Authorization: Bearer <token>`.
pub fn router(store: Store, policy: Policy, token: Option<String>) -> Router {
    let api = Arc::new(Api { tools: SqliteBackOffice::new(store.clone(), policy), store, token });
    Router::new()
        .route("/customers", get(find_caller))
        .route("/customers/{id}", axum::routing::patch(update_customer))
        .route("/customers/{id}/verify", post(verify))
        .route("/customers/{id}/orders", get(orders))
        .route("/customers/{id}/payments", get(payments))
        .route("/customers/{id}/refunds", get(refunds).post(request_refund))
        .route("/customers/{id}/interactions", get(interactions))
        .route("/customers/{id}/phones", post(add_phone))
        .route("/payments/{id}/postpone", post(postpone))
        .route("/payments/{id}/link", post(link))
        .route("/payments/{id}/card", post(card))
        .with_state(api)
}

impl From<ToolError> for AppError {
    fn from(e: ToolError) -> Self {
        match e {
            ToolError::NotOnAccount(m) => AppError::NotFound(m),
            ToolError::Refused(r) => AppError::Conflict(r.to_string()),
            ToolError::Invalid(m) => AppError::Invalid(m),
            ToolError::Unavailable(m) => AppError::Unavailable(m),
        }
    }
}

impl Api {
    fn authorised(&self, headers: &HeaderMap) -> Result<(), AppError> {
        let Some(token) = &self.token else { return Ok(()) };
        let given = headers.get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
        match given {
            Some(g) if crate::auth::same_secret(g, token) => Ok(()),
            _ => Err(AppError::Unauthorized("missing or wrong bearer token".into())),
        }
    }

    /// The customer as a verified caller: the HTTP client (Switchboard) did the verification.
    async fn customer(&self, headers: &HeaderMap, id: i64) -> Result<Verified, AppError> {
        self.authorised(headers)?;
        let store = self.store.clone();
        match tokio::task::spawn_blocking(move || store.customer(id)).await {
            Ok(Ok(Some(c))) => Ok(Verified::vouch(c)),
            Ok(Ok(None)) => Err(AppError::NotFound(format!("customer {id}"))),
            Ok(Err(e)) => Err(AppError::Unavailable(e.to_string())),
            Err(e) => Err(AppError::Unavailable(e.to_string())),
        }
    }
}

/// A handler's answer: the JSON, or the error.
type Answer = Result<Response, AppError>;

fn reply<T: serde::Serialize>(r: Result<T, ToolError>) -> Answer {
    r.map(|v| Json(v).into_response()).map_err(AppError::from)
}

#[derive(Deserialize)]
struct PhoneQuery {
    phone: String,
}

async fn find_caller(State(api): Shared, headers: HeaderMap, Query(q): Query<PhoneQuery>) -> Answer {
    api.authorised(&headers)?;
    match api.tools.find_caller(&q.phone).await.map_err(AppError::from)? {
        Some(c) => Ok(Json(c).into_response()),
        None => Err(AppError::NotFound("no customer with that number".into())),
    }
}

#[derive(Deserialize)]
struct VerifyBody {
    factor: String,
    value: String,
}

async fn verify(State(api): Shared, headers: HeaderMap, Path(id): Path<i64>, Json(b): Json<VerifyBody>) -> Answer {
    let who = api.customer(&headers, id).await?;
    let factor = match b.factor.as_str() {
        "pin" => Factor::Pin(b.value),
        "postcode" => Factor::Postcode(b.value),
        "date_of_birth" => match NaiveDate::parse_from_str(&b.value, "%Y-%m-%d") {
            Ok(d) => Factor::DateOfBirth(d),
            Err(_) => return Err(AppError::Invalid("date_of_birth must be YYYY-MM-DD".into())),
        },
        other => return Err(AppError::Invalid(format!("unknown factor {other:?}"))),
    };
    reply(api.tools.verify(who.customer(), &factor).await.map(|v| json!({ "verified": v.is_some() })))
}

/// A GET of one of the customer's lists.
macro_rules! list {
    ($name:ident) => {
        async fn $name(State(api): Shared, headers: HeaderMap, Path(id): Path<i64>) -> Answer {
            let who = api.customer(&headers, id).await?;
            reply(api.tools.$name(&who).await)
        }
    };
}
list!(orders);
list!(payments);
list!(refunds);
list!(interactions);

#[derive(Deserialize)]
struct RefundBody {
    order_number: String,
    item: Option<String>,
    amount_cents: Option<i64>,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    call_id: String,
}

async fn request_refund(
    State(api): Shared,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Json(b): Json<RefundBody>,
) -> Answer {
    let who = api.customer(&headers, id).await?;
    reply(
        api.tools.request_refund(&who, &b.order_number, b.item.as_deref(), b.amount_cents, &b.reason, &b.call_id).await,
    )
}

#[derive(Deserialize)]
struct CustomerPatch {
    email: Option<String>,
    street: Option<String>,
    postcode: Option<String>,
    city: Option<String>,
}

async fn update_customer(
    State(api): Shared,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Json(b): Json<CustomerPatch>,
) -> Answer {
    let who = api.customer(&headers, id).await?;
    let done = match (b.email, b.street, b.postcode, b.city) {
        (Some(e), None, None, None) => api.tools.update_email(&who, &e).await,
        (None, Some(s), Some(p), Some(c)) => api.tools.update_address(&who, &s, &p, &c).await,
        _ => return Err(AppError::Invalid("send either email, or street, postcode and city".into())),
    };
    reply(done.map(|()| json!({ "ok": true })))
}

#[derive(Deserialize)]
struct PhoneBody {
    number: String,
}

async fn add_phone(State(api): Shared, headers: HeaderMap, Path(id): Path<i64>, Json(b): Json<PhoneBody>) -> Answer {
    let who = api.customer(&headers, id).await?;
    reply(api.tools.add_phone(&who, &b.number).await.map(|()| json!({ "ok": true })))
}

/// The verified owner of a payment.
async fn payment_owner(api: &Api, headers: &HeaderMap, payment: i64) -> Result<Verified, AppError> {
    api.authorised(headers)?;
    let store = api.store.clone();
    let owner = tokio::task::spawn_blocking(move || store.payment_owner(payment)).await;
    match owner {
        Ok(Ok(Some(id))) => api.customer(headers, id).await,
        Ok(Ok(None)) => Err(AppError::NotFound(format!("payment {payment}"))),
        Ok(Err(e)) => Err(AppError::Unavailable(e.to_string())),
        Err(e) => Err(AppError::Unavailable(e.to_string())),
    }
}

#[derive(Deserialize)]
struct PostponeBody {
    due_on: String,
}

async fn postpone(State(api): Shared, headers: HeaderMap, Path(id): Path<i64>, Json(b): Json<PostponeBody>) -> Answer {
    let Ok(to) = NaiveDate::parse_from_str(&b.due_on, "%Y-%m-%d") else {
        return Err(AppError::Invalid("due_on must be YYYY-MM-DD".into()));
    };
    let who = payment_owner(&api, &headers, id).await?;
    reply(api.tools.postpone_payment(&who, id, to).await)
}

#[derive(Deserialize)]
struct LinkBody {
    #[serde(default)]
    call_id: String,
}

async fn link(State(api): Shared, headers: HeaderMap, Path(id): Path<i64>, Json(b): Json<LinkBody>) -> Answer {
    let who = payment_owner(&api, &headers, id).await?;
    reply(api.tools.send_payment_link(&who, id, &b.call_id).await.map(|url| json!({ "url": url })))
}

#[derive(Deserialize)]
struct CardBody {
    card_number: String,
    #[serde(default)]
    call_id: String,
}

/// The reference payment: the built-in database is a demo ledger (it keeps the brand and last
/// four digits only), so a number that is not a card is the only decline.
async fn card(State(api): Shared, headers: HeaderMap, Path(id): Path<i64>, Json(b): Json<CardBody>) -> Answer {
    let who = payment_owner(&api, &headers, id).await?;
    let Some(card) = CardNumber::from_keys(b.card_number.into_bytes()) else {
        return reply::<()>(Err(ToolError::Invalid("not a valid card number".into())));
    };
    reply(api.tools.pay_by_card(&who, id, &card, &b.call_id).await)
}
