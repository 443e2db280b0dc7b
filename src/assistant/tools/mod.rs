//! The back-office tools the assistant acts through, behind the `BackOffice` trait so a company
//! can plug in its own systems. The built-in implementation runs on Switchboard's database.
//!
//! Two guarantees are in the types, not in the dialogue code: account data and actions need a
//! `Verified` caller, which only `BackOffice::verify` hands out (caller number matched plus one
//! factor); and every action is checked against the `Policy` here, whoever asked for it.

pub mod card;
pub mod http;
pub mod sqlite;

use async_trait::async_trait;
use chrono::NaiveDate;

use super::policy::{Policy, Refusal};
use crate::store::model::{Customer, Interaction, Order, Payment, Refund};

/// One verification factor the caller gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Factor {
    DateOfBirth(NaiveDate),
    Postcode(String),
    /// Keyed on the phone (DTMF) or spoken.
    Pin(String),
}

/// Proof that this call's caller was verified as this customer. Only `BackOffice::verify`
/// creates one; every account read or action takes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Verified {
    customer: Customer,
}

impl Verified {
    pub fn customer(&self) -> &Customer {
        &self.customer
    }

    /// For `BackOffice` implementations: vouch for a customer after checking a factor.
    pub fn vouch(customer: Customer) -> Self {
        Self { customer }
    }
}

/// The result of looking up an order number for a caller. Someone else's order is
/// indistinguishable from a missing one to the caller: both say "not on your account".
#[derive(Debug, Clone, PartialEq)]
pub enum OrderLookup {
    Found(Box<Order>),
    NotOnAccount,
}

/// A refund the policy allows, to be confirmed by the caller.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RefundQuote {
    pub order_number: String,
    pub item: String,
    pub amount_cents: i64,
    pub currency: String,
}

/// What can go wrong with a tool.
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    /// The policy says no; the reason can be said to the caller.
    #[error("{0}")]
    Refused(#[from] Refusal),
    /// The thing asked about is not on the caller's account.
    #[error("{0} is not on this account")]
    NotOnAccount(String),
    /// The request is malformed (an amount over the order's total, ...).
    #[error("{0}")]
    Invalid(String),
    /// The back office is unreachable or failed; retrying later may help. The call goes on
    /// (the assistant apologises and offers a person).
    #[error("back office unavailable: {0}")]
    Unavailable(String),
}

/// A contact center's back office.
#[async_trait]
pub trait BackOffice: Send + Sync {
    /// The customer whose phone number this is, if any (no data is disclosed from this alone).
    async fn find_caller(&self, phone: &str) -> Result<Option<Customer>, ToolError>;
    /// Check one factor; `Some(Verified)` when it matches.
    async fn verify(&self, customer: &Customer, factor: &Factor) -> Result<Option<Verified>, ToolError>;
    async fn orders(&self, who: &Verified) -> Result<Vec<Order>, ToolError>;
    async fn order(&self, who: &Verified, number: &str) -> Result<OrderLookup, ToolError>;
    async fn payments(&self, who: &Verified) -> Result<Vec<Payment>, ToolError>;
    async fn refunds(&self, who: &Verified) -> Result<Vec<Refund>, ToolError>;
    async fn interactions(&self, who: &Verified) -> Result<Vec<Interaction>, ToolError>;
    /// What a refund would be, checked against the policy, without making it: the order, the
    /// item and the amount, so the assistant can ask the caller to confirm exactly that.
    async fn quote_refund(
        &self,
        who: &Verified,
        order_number: &str,
        item: Option<&str>,
        amount_cents: Option<i64>,
    ) -> Result<RefundQuote, ToolError>;
    /// Whether a due date may move there, without moving it.
    async fn quote_postpone(&self, who: &Verified, payment_id: i64, to: NaiveDate) -> Result<Payment, ToolError>;
    /// Refund (part of) a delivered order, within policy.
    async fn request_refund(
        &self,
        who: &Verified,
        order_number: &str,
        item: Option<&str>,
        amount_cents: Option<i64>,
        reason: &str,
        call_id: &str,
    ) -> Result<Refund, ToolError>;
    /// Move an unpaid instalment's due date, within policy.
    async fn postpone_payment(&self, who: &Verified, payment_id: i64, to: NaiveDate) -> Result<Payment, ToolError>;
    /// Text a payment link for an instalment to the caller's number; returns the link.
    async fn send_payment_link(&self, who: &Verified, payment_id: i64, call_id: &str) -> Result<String, ToolError>;
    /// Take an instalment by a card keyed in secure capture; returns the instalment, paid. The
    /// one place a card number goes: a back office passes it to its payment processor and
    /// keeps at most the brand and last four digits. A declined card is `Invalid`.
    async fn pay_by_card(
        &self,
        who: &Verified,
        payment_id: i64,
        card: &card::CardNumber,
        call_id: &str,
    ) -> Result<Payment, ToolError>;
    async fn update_email(&self, who: &Verified, email: &str) -> Result<(), ToolError>;
    async fn update_address(&self, who: &Verified, street: &str, postcode: &str, city: &str) -> Result<(), ToolError>;
    async fn add_phone(&self, who: &Verified, number: &str) -> Result<(), ToolError>;
}

/// The caller's order with this number, or "not on this account".
pub async fn own_order<B: BackOffice + ?Sized>(bo: &B, who: &Verified, number: &str) -> Result<Order, ToolError> {
    match bo.order(who, number).await? {
        OrderLookup::Found(o) => Ok(*o),
        OrderLookup::NotOnAccount => Err(ToolError::NotOnAccount(format!("order {number}"))),
    }
}

/// The caller's instalment with this id, or "not on this account".
pub async fn own_payment<B: BackOffice + ?Sized>(
    bo: &B,
    who: &Verified,
    payment_id: i64,
) -> Result<Payment, ToolError> {
    bo.payments(who)
        .await?
        .into_iter()
        .find(|p| p.id == payment_id)
        .ok_or_else(|| ToolError::NotOnAccount(format!("payment {payment_id}")))
}

/// The caller's instalment with this id, unless it is paid already (a link or a card for it
/// is refused).
pub async fn unpaid_payment<B: BackOffice + ?Sized>(
    bo: &B,
    who: &Verified,
    payment_id: i64,
) -> Result<Payment, ToolError> {
    let payment = own_payment(bo, who, payment_id).await?;
    if payment.status == crate::store::model::PaymentStatus::Paid {
        return Err(Refusal::AlreadyPaid.into());
    }
    Ok(payment)
}

/// What a refund on this order would be, checked against the policy: a named item refunds that
/// item's price; otherwise the amount asked, or the whole order. Shared by every back office,
/// so the policy holds whatever system is behind it.
pub fn quote_refund(
    policy: &Policy,
    order: Order,
    item: Option<&str>,
    amount_cents: Option<i64>,
    today: NaiveDate,
) -> Result<RefundQuote, ToolError> {
    let named = item.and_then(|name| order.items.iter().find(|i| i.name.eq_ignore_ascii_case(name)));
    let amount = amount_cents.or(named.map(|i| i.unit_cents * i.quantity)).unwrap_or(order.total_cents);
    policy.check_refund(&order, amount, today)?;
    let item = named
        .map(|i| i.name.clone())
        .or_else(|| (order.items.len() == 1).then(|| order.items[0].name.clone()))
        .unwrap_or_else(|| "order".into());
    Ok(RefundQuote { order_number: order.number, item, amount_cents: amount, currency: order.currency })
}

/// An e-mail address, trimmed and lower-cased, or why it is not one.
pub fn valid_email(email: &str) -> Result<String, ToolError> {
    let email = email.trim().to_lowercase();
    let valid = email.split_once('@').is_some_and(|(u, d)| !u.is_empty() && d.contains('.') && !d.ends_with('.'));
    if !valid || email.contains(char::is_whitespace) {
        return Err(ToolError::Invalid(format!("{email:?} is not an e-mail address")));
    }
    Ok(email)
}

/// An address needs all three parts.
pub fn valid_address(street: &str, postcode: &str, city: &str) -> Result<(), ToolError> {
    if [street, postcode, city].iter().any(|f| f.trim().is_empty()) {
        return Err(ToolError::Invalid("an address needs a street, a postcode and a city".into()));
    }
    Ok(())
}
