//! A back office reached over HTTP: a company points Switchboard at its own order, payment and
//! customer APIs instead of the built-in database (`[back_office] kind = "http"`).
//!
//! The contract (JSON both ways; every path configurable in `[back_office.paths]`, templates
//! with `{phone}`, `{customer}`, `{order}`, `{payment}`):
//!
//! | tool | request | answer |
//! |---|---|---|
//! | find_caller | `GET /customers?phone={phone}` | a customer, or 404 |
//! | verify | `POST /customers/{customer}/verify` `{"factor":"pin"\|"date_of_birth"\|"postcode","value":...}` | `{"verified":bool}` |
//! | orders | `GET /customers/{customer}/orders` | `[order]` |
//! | payments | `GET /customers/{customer}/payments` | `[payment]` |
//! | refunds | `GET /customers/{customer}/refunds` | `[refund]` |
//! | interactions | `GET /customers/{customer}/interactions` | `[interaction]` |
//! | request_refund | `POST /customers/{customer}/refunds` `{order_number,item,amount_cents,reason,call_id}` | refund |
//! | postpone_payment | `POST /payments/{payment}/postpone` `{"due_on":"YYYY-MM-DD"}` | payment |
//! | send_payment_link | `POST /payments/{payment}/link` `{"to":...,"call_id":...}` | `{"url":...}` |
//! | pay_by_card | `POST /payments/{payment}/card` `{"card_number":...,"call_id":...}` | payment (paid); 402 or 422 = declined |
//! | update_email / update_address | `PATCH /customers/{customer}` `{"email":...}` or `{street,postcode,city}` | 2xx |
//! | add_phone | `POST /customers/{customer}/phones` `{"number":...}` | 2xx |
//!
//! The records are `crate::store::model`'s, as JSON. Errors: 404 = not on this account; 400, 402, 409
//! and 422 with `{"error":"..."}` = the request is wrong (said to the caller as such); anything
//! else, a timeout or no connection = unavailable (the assistant apologises and hands over).
//! Switchboard checks its own policy (refund window and limit, postponement) before every
//! action, whatever the company's API also checks; it also counts failed verifications per
//! customer itself (`crate::assistant::lockout`) and does not call `verify` for a customer
//! whose verification is locked, so the API need not count (it may lock as well: a
//! `{"verified":false}` is all the caller hears of it); `switchboard back-office serve` runs this
//! contract on the built-in database as a reference.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::NaiveDate;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use super::{BackOffice, Factor, OrderLookup, RefundQuote, ToolError, Verified};
use crate::assistant::policy::Policy;
use crate::store::model::{Customer, Interaction, Order, Payment, Refund};

/// Which back office the assistant acts through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BackOfficeKind {
    /// Switchboard's own database (`[store] path`), with the demo data.
    Database,
    /// A company's own APIs over HTTP (the contract above).
    Http,
}

/// `[back_office]`: the built-in database, or a company's APIs over HTTP.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BackOfficeConfig {
    pub kind: BackOfficeKind,
    /// The API's base URL, e.g. `https://backoffice.example.com/api`.
    pub url: String,
    /// The environment variable holding a bearer token (sent as `Authorization: Bearer ...`);
    /// the token itself never sits in the config file.
    pub token_env: String,
    /// Per request, connection included.
    pub timeout_ms: u64,
    /// Path overrides, by tool name (see the table above).
    pub paths: BTreeMap<String, String>,
}

impl Default for BackOfficeConfig {
    fn default() -> Self {
        Self {
            kind: BackOfficeKind::Database,
            url: String::new(),
            token_env: "SWITCHBOARD_BACK_OFFICE_TOKEN".into(),
            timeout_ms: 3000,
            paths: BTreeMap::new(),
        }
    }
}

/// The default path of each tool.
const PATHS: &[(&str, &str)] = &[
    ("find_caller", "/customers?phone={phone}"),
    ("verify", "/customers/{customer}/verify"),
    ("orders", "/customers/{customer}/orders"),
    ("payments", "/customers/{customer}/payments"),
    ("refunds", "/customers/{customer}/refunds"),
    ("interactions", "/customers/{customer}/interactions"),
    ("request_refund", "/customers/{customer}/refunds"),
    ("postpone_payment", "/payments/{payment}/postpone"),
    ("send_payment_link", "/payments/{payment}/link"),
    ("pay_by_card", "/payments/{payment}/card"),
    ("update_customer", "/customers/{customer}"),
    ("add_phone", "/customers/{customer}/phones"),
];

impl BackOfficeConfig {
    /// Check the URL and the path names (at start-up, so a typo is a clear error early).
    pub fn validate(&self) -> Result<(), String> {
        if self.kind == BackOfficeKind::Database {
            return Ok(());
        }
        if !(self.url.starts_with("http://") || self.url.starts_with("https://")) {
            return Err(format!("back_office.url {:?} must be an http:// or https:// URL", self.url));
        }
        if let Some(k) = self.paths.keys().find(|k| !PATHS.iter().any(|(n, _)| n == k)) {
            let names: Vec<&str> = PATHS.iter().map(|(n, _)| *n).collect();
            return Err(format!("back_office.paths.{k}: unknown tool (known: {})", names.join(", ")));
        }
        if self.timeout_ms == 0 {
            return Err("back_office.timeout_ms must be at least 1".into());
        }
        Ok(())
    }
}

/// The HTTP back office.
#[derive(Clone)]
pub struct HttpBackOffice {
    agent: ureq::Agent,
    base: String,
    token: Option<String>,
    paths: BTreeMap<String, String>,
    policy: Policy,
    today: Arc<dyn Fn() -> NaiveDate + Send + Sync>,
}

/// Percent-encode a value for a URL path or query (phone numbers start with '+').
fn encode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl HttpBackOffice {
    pub fn new(settings: &BackOfficeConfig, policy: Policy) -> Result<Self, String> {
        settings.validate()?;
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_millis(settings.timeout_ms)))
            .http_status_as_error(false)
            .build()
            .into();
        let mut paths: BTreeMap<String, String> = PATHS.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        paths.extend(settings.paths.clone());
        Ok(Self {
            agent,
            base: settings.url.trim_end_matches('/').to_string(),
            token: std::env::var(&settings.token_env).ok().filter(|t| !t.is_empty()),
            paths,
            policy,
            today: Arc::new(|| chrono::Local::now().date_naive()),
        })
    }

    /// With a fixed "today" (tests).
    pub fn with_today(mut self, today: NaiveDate) -> Self {
        self.today = Arc::new(move || today);
        self
    }

    fn url(&self, tool: &str, vars: &[(&str, String)]) -> String {
        let mut path = self.paths.get(tool).cloned().unwrap_or_default();
        for (k, v) in vars {
            path = path.replace(&format!("{{{k}}}"), &encode(v));
        }
        format!("{}{path}", self.base)
    }

    /// One request. `Ok(None)` on 404.
    async fn call<T: DeserializeOwned + Send + 'static>(
        &self,
        method: &'static str,
        url: String,
        body: Option<Value>,
    ) -> Result<Option<T>, ToolError> {
        let (agent, token) = (self.agent.clone(), self.token.clone());
        let shown = url.split('?').next().unwrap_or_default().to_string();
        let result = tokio::task::spawn_blocking(move || -> Result<(u16, String), String> {
            let auth = token.map(|t| format!("Bearer {t}"));
            let mut resp = match (method, body) {
                ("GET", _) => {
                    let mut r = agent.get(&url).header("Accept", "application/json");
                    if let Some(a) = &auth {
                        r = r.header("Authorization", a);
                    }
                    r.call()
                }
                (m, body) => {
                    let mut r = match m {
                        "PATCH" => agent.patch(&url),
                        _ => agent.post(&url),
                    }
                    .header("Content-Type", "application/json")
                    .header("Accept", "application/json");
                    if let Some(a) = &auth {
                        r = r.header("Authorization", a);
                    }
                    r.send(body.unwrap_or(Value::Null).to_string())
                }
            }
            .map_err(|e| e.to_string())?;
            let status = resp.status().as_u16();
            let text = resp.body_mut().with_config().limit(10 << 20).read_to_string().map_err(|e| e.to_string())?;
            Ok((status, text))
        })
        .await
        .map_err(|e| ToolError::Unavailable(format!("back-office request failed: {e}")))?
        .map_err(|e| ToolError::Unavailable(format!("{method} {shown}: {e}")))?;
        let (status, text) = result;
        let message = || {
            serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_string))
                .unwrap_or_else(|| format!("{method} {shown}: HTTP {status}"))
        };
        match status {
            200..=299 => {
                let text = if text.trim().is_empty() { "null" } else { &text };
                serde_json::from_str(text).map(Some).map_err(|e| {
                    ToolError::Unavailable(format!("{method} {shown}: the answer is not what the contract says: {e}"))
                })
            }
            404 => Ok(None),
            400 | 402 | 409 | 422 => Err(ToolError::Invalid(message())),
            _ => Err(ToolError::Unavailable(message())),
        }
    }

    /// A call that must find something: 404 is "not on this account".
    async fn must<T: DeserializeOwned + Send + 'static>(
        &self,
        method: &'static str,
        url: String,
        body: Option<Value>,
        what: String,
    ) -> Result<T, ToolError> {
        self.call(method, url, body).await?.ok_or(ToolError::NotOnAccount(what))
    }

    fn customer_vars(who: &Verified) -> Vec<(&'static str, String)> {
        vec![("customer", who.customer().id.to_string())]
    }
}

#[async_trait]
impl BackOffice for HttpBackOffice {
    async fn find_caller(&self, phone: &str) -> Result<Option<Customer>, ToolError> {
        self.call("GET", self.url("find_caller", &[("phone", phone.to_string())]), None).await
    }

    async fn verify(&self, customer: &Customer, factor: &Factor) -> Result<Option<Verified>, ToolError> {
        let (kind, value) = match factor {
            Factor::DateOfBirth(d) => ("date_of_birth", d.format("%Y-%m-%d").to_string()),
            Factor::Postcode(p) => ("postcode", p.clone()),
            Factor::Pin(p) => ("pin", p.clone()),
        };
        let url = self.url("verify", &[("customer", customer.id.to_string())]);
        let answer: Option<Value> = self.call("POST", url, Some(json!({"factor": kind, "value": value}))).await?;
        let verified = answer.and_then(|v| v.get("verified").and_then(Value::as_bool)).unwrap_or(false);
        Ok(verified.then(|| Verified::vouch(customer.clone())))
    }

    async fn orders(&self, who: &Verified) -> Result<Vec<Order>, ToolError> {
        Ok(self.call("GET", self.url("orders", &Self::customer_vars(who)), None).await?.unwrap_or_default())
    }

    async fn order(&self, who: &Verified, number: &str) -> Result<OrderLookup, ToolError> {
        // Only the caller's own orders are asked for, so someone else's cannot leak.
        Ok(match self.orders(who).await?.into_iter().find(|o| o.number == number) {
            Some(o) => OrderLookup::Found(Box::new(o)),
            None => OrderLookup::NotOnAccount,
        })
    }

    async fn payments(&self, who: &Verified) -> Result<Vec<Payment>, ToolError> {
        Ok(self.call("GET", self.url("payments", &Self::customer_vars(who)), None).await?.unwrap_or_default())
    }

    async fn refunds(&self, who: &Verified) -> Result<Vec<Refund>, ToolError> {
        Ok(self.call("GET", self.url("refunds", &Self::customer_vars(who)), None).await?.unwrap_or_default())
    }

    async fn interactions(&self, who: &Verified) -> Result<Vec<Interaction>, ToolError> {
        Ok(self.call("GET", self.url("interactions", &Self::customer_vars(who)), None).await?.unwrap_or_default())
    }

    async fn quote_refund(
        &self,
        who: &Verified,
        order_number: &str,
        item: Option<&str>,
        amount_cents: Option<i64>,
    ) -> Result<RefundQuote, ToolError> {
        let order = super::own_order(self, who, order_number).await?;
        super::quote_refund(&self.policy, order, item, amount_cents, (self.today)())
    }

    async fn quote_postpone(&self, who: &Verified, payment_id: i64, to: NaiveDate) -> Result<Payment, ToolError> {
        let payment = super::own_payment(self, who, payment_id).await?;
        self.policy.check_postpone(&payment, to)?;
        Ok(payment)
    }

    async fn request_refund(
        &self,
        who: &Verified,
        order_number: &str,
        item: Option<&str>,
        amount_cents: Option<i64>,
        reason: &str,
        call_id: &str,
    ) -> Result<Refund, ToolError> {
        let q = self.quote_refund(who, order_number, item, amount_cents).await?;
        let body = json!({
            "order_number": q.order_number, "item": q.item, "amount_cents": q.amount_cents,
            "currency": q.currency, "reason": reason, "call_id": call_id,
        });
        let url = self.url("request_refund", &Self::customer_vars(who));
        self.must("POST", url, Some(body), format!("order {order_number}")).await
    }

    async fn postpone_payment(&self, who: &Verified, payment_id: i64, to: NaiveDate) -> Result<Payment, ToolError> {
        self.quote_postpone(who, payment_id, to).await?;
        let url = self.url("postpone_payment", &[("payment", payment_id.to_string())]);
        let body = json!({"due_on": to.format("%Y-%m-%d").to_string()});
        self.must("POST", url, Some(body), format!("payment {payment_id}")).await
    }

    async fn send_payment_link(&self, who: &Verified, payment_id: i64, call_id: &str) -> Result<String, ToolError> {
        super::unpaid_payment(self, who, payment_id).await?;
        let to = who.customer().phones.first().cloned().unwrap_or_default();
        let url = self.url("send_payment_link", &[("payment", payment_id.to_string())]);
        let v: Value = self
            .must("POST", url, Some(json!({"to": to, "call_id": call_id})), format!("payment {payment_id}"))
            .await?;
        v.get("url")
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| ToolError::Unavailable("send_payment_link: the answer has no \"url\"".into()))
    }

    /// The one request that carries a card number (keyed in secure capture): point this path at
    /// the payment service, over https, as it brings that service into PCI DSS scope.
    async fn pay_by_card(
        &self,
        who: &Verified,
        payment_id: i64,
        card: &super::card::CardNumber,
        call_id: &str,
    ) -> Result<Payment, ToolError> {
        super::unpaid_payment(self, who, payment_id).await?;
        let url = self.url("pay_by_card", &[("payment", payment_id.to_string())]);
        let body = json!({"card_number": card.reveal(), "call_id": call_id});
        self.must("POST", url, Some(body), format!("payment {payment_id}")).await
    }

    async fn update_email(&self, who: &Verified, email: &str) -> Result<(), ToolError> {
        let email = super::valid_email(email)?;
        let url = self.url("update_customer", &Self::customer_vars(who));
        self.must::<Value>("PATCH", url, Some(json!({ "email": email })), "customer".into()).await.map(|_| ())
    }

    async fn update_address(&self, who: &Verified, street: &str, postcode: &str, city: &str) -> Result<(), ToolError> {
        super::valid_address(street, postcode, city)?;
        let url = self.url("update_customer", &Self::customer_vars(who));
        let body = json!({"street": street, "postcode": postcode, "city": city});
        self.must::<Value>("PATCH", url, Some(body), "customer".into()).await.map(|_| ())
    }

    async fn add_phone(&self, who: &Verified, number: &str) -> Result<(), ToolError> {
        let Some(number) = crate::call::actor::e164(number) else {
            return Err(ToolError::Invalid(format!("{number:?} is not an international (E.164) number")));
        };
        let url = self.url("add_phone", &Self::customer_vars(who));
        self.must::<Value>("POST", url, Some(json!({ "number": number })), "customer".into()).await.map(|_| ())
    }
}

#[cfg(test)]
#[path = "http_tests.rs"]
mod tests;
