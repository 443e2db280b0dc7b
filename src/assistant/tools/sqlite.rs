//! The built-in back office on Switchboard's own database.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::NaiveDate;

use super::{BackOffice, Factor, OrderLookup, RefundQuote, ToolError, Verified};
use crate::assistant::policy::Policy;
use crate::store::model::{Customer, Interaction, Order, Payment, Refund};
use crate::store::{Store, StoreError};

/// The back office on a `Store`, enforcing a `Policy`.
#[derive(Clone)]
pub struct SqliteBackOffice {
    store: Store,
    policy: Policy,
    today: Arc<dyn Fn() -> NaiveDate + Send + Sync>,
}

impl SqliteBackOffice {
    pub fn new(store: Store, policy: Policy) -> Self {
        Self { store, policy, today: Arc::new(|| chrono::Local::now().date_naive()) }
    }

    /// With a fixed "today" (tests, simulations).
    pub fn with_today(mut self, today: NaiveDate) -> Self {
        self.today = Arc::new(move || today);
        self
    }

    /// Run a blocking database call off the async runtime.
    async fn db<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, ToolError> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || f(&store))
            .await
            .map_err(|e| ToolError::Unavailable(format!("database task failed: {e}")))?
            .map_err(|e| match e {
                StoreError::Invalid(m) => ToolError::Invalid(m),
                StoreError::NotFound(m) => ToolError::NotOnAccount(m),
                other => ToolError::Unavailable(other.to_string()),
            })
    }
}

fn normalise_postcode(s: &str) -> String {
    s.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_uppercase).collect()
}

#[async_trait]
impl BackOffice for SqliteBackOffice {
    async fn find_caller(&self, phone: &str) -> Result<Option<Customer>, ToolError> {
        let phone = phone.to_string();
        self.db(move |s| s.customer_by_phone(&phone)).await
    }

    async fn verify(&self, customer: &Customer, factor: &Factor) -> Result<Option<Verified>, ToolError> {
        // Re-read: the secrets are checked against the database, not a copy the caller holds.
        let id = customer.id;
        let Some(c) = self.db(move |s| s.customer(id)).await? else { return Ok(None) };
        let ok = match factor {
            Factor::DateOfBirth(d) => c.date_of_birth == d.format("%Y-%m-%d").to_string(),
            Factor::Postcode(p) => normalise_postcode(p) == normalise_postcode(&c.postcode) && !p.trim().is_empty(),
            Factor::Pin(p) => !c.pin.is_empty() && p.trim() == c.pin,
        };
        Ok(ok.then(|| Verified::vouch(c)))
    }

    async fn orders(&self, who: &Verified) -> Result<Vec<Order>, ToolError> {
        let id = who.customer().id;
        self.db(move |s| s.orders(id)).await
    }

    async fn order(&self, who: &Verified, number: &str) -> Result<OrderLookup, ToolError> {
        let number = number.to_string();
        let order = self.db(move |s| s.order_by_number(&number)).await?;
        Ok(match order {
            Some(o) if o.customer_id == who.customer().id => OrderLookup::Found(Box::new(o)),
            _ => OrderLookup::NotOnAccount,
        })
    }

    async fn payments(&self, who: &Verified) -> Result<Vec<Payment>, ToolError> {
        let id = who.customer().id;
        self.db(move |s| s.payments(id)).await
    }

    async fn refunds(&self, who: &Verified) -> Result<Vec<Refund>, ToolError> {
        let id = who.customer().id;
        self.db(move |s| s.refunds(id)).await
    }

    async fn interactions(&self, who: &Verified) -> Result<Vec<Interaction>, ToolError> {
        let id = who.customer().id;
        self.db(move |s| s.interactions(id)).await
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
        // The same checks as the quote, again: the policy holds whoever calls this.
        let quote = self.quote_refund(who, order_number, item, amount_cents).await?;
        let Some(order) = self
            .db({
                let n = quote.order_number.clone();
                move |s| s.order_by_number(&n)
            })
            .await?
        else {
            return Err(ToolError::NotOnAccount(format!("order {order_number}")));
        };
        let (item, reason, call_id) = (Some(quote.item.clone()), reason.to_string(), call_id.to_string());
        self.db(move |s| s.create_refund(order.id, item.as_deref(), quote.amount_cents, &reason, Some(&call_id))).await
    }

    async fn postpone_payment(&self, who: &Verified, payment_id: i64, to: NaiveDate) -> Result<Payment, ToolError> {
        self.quote_postpone(who, payment_id, to).await?;
        let to = to.format("%Y-%m-%d").to_string();
        self.db(move |s| s.postpone_payment(payment_id, &to)).await
    }

    async fn send_payment_link(&self, who: &Verified, payment_id: i64, call_id: &str) -> Result<String, ToolError> {
        super::unpaid_payment(self, who, payment_id).await?;
        let to = who.customer().phones.first().cloned().unwrap_or_default();
        let call_id = call_id.to_string();
        self.db(move |s| s.create_payment_link(payment_id, &to, Some(&call_id))).await
    }

    /// The built-in database is a demo ledger, not a payment processor: a captured card pays
    /// the instalment, and only its brand and last four digits are kept.
    async fn pay_by_card(
        &self,
        who: &Verified,
        payment_id: i64,
        card: &super::card::CardNumber,
        call_id: &str,
    ) -> Result<Payment, ToolError> {
        super::unpaid_payment(self, who, payment_id).await?;
        let (brand, last4, call_id) = (card.brand(), card.last4(), call_id.to_string());
        let paid_on = (self.today)().format("%Y-%m-%d").to_string();
        self.db(move |s| s.pay_by_card(payment_id, &paid_on, brand, &last4, Some(&call_id))).await
    }

    async fn update_email(&self, who: &Verified, email: &str) -> Result<(), ToolError> {
        let email = super::valid_email(email)?;
        let id = who.customer().id;
        self.db(move |s| s.update_email(id, &email)).await
    }

    async fn update_address(&self, who: &Verified, street: &str, postcode: &str, city: &str) -> Result<(), ToolError> {
        super::valid_address(street, postcode, city)?;
        let (id, street, postcode, city) =
            (who.customer().id, street.to_string(), postcode.to_string(), city.to_string());
        self.db(move |s| s.update_address(id, &street, &postcode, &city)).await
    }

    async fn add_phone(&self, who: &Verified, number: &str) -> Result<(), ToolError> {
        let Some(normalised) = crate::call::actor::e164(number) else {
            return Err(ToolError::Invalid(format!("{number:?} is not an international (E.164) number")));
        };
        let (id, number) = (who.customer().id, normalised);
        self.db(move |s| s.add_phone(id, &number)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assistant::policy::Refusal;
    use crate::store::demo::seed;

    fn back_office() -> SqliteBackOffice {
        let today = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
        let store = Store::open_in_memory().unwrap();
        seed(&store, 12, today).unwrap();
        SqliteBackOffice::new(store, Policy::default()).with_today(today)
    }

    async fn john(bo: &SqliteBackOffice) -> Verified {
        let c = bo.find_caller("+15550100").await.unwrap().unwrap();
        bo.verify(&c, &Factor::Pin("1234".into())).await.unwrap().unwrap()
    }

    #[tokio::test]
    async fn verification_needs_the_right_factor() {
        let bo = back_office();
        let c = bo.find_caller("+15550100").await.unwrap().unwrap();
        assert!(bo.verify(&c, &Factor::Pin("0000".into())).await.unwrap().is_none());
        assert!(bo.verify(&c, &Factor::Pin("".into())).await.unwrap().is_none());
        let dob = NaiveDate::from_ymd_opt(1985, 4, 12).unwrap();
        assert!(bo.verify(&c, &Factor::DateOfBirth(dob)).await.unwrap().is_some());
        assert!(bo.verify(&c, &Factor::Postcode(" 94107 ".into())).await.unwrap().is_some());
        assert!(bo.verify(&c, &Factor::Postcode("".into())).await.unwrap().is_none());
        assert!(bo.find_caller("+19999999999").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn someone_elses_order_is_not_on_the_account() {
        let bo = back_office();
        let who = john(&bo).await;
        assert!(matches!(bo.order(&who, "45678").await.unwrap(), OrderLookup::Found(_)));
        assert_eq!(bo.order(&who, "62345").await.unwrap(), OrderLookup::NotOnAccount, "Anna's order");
        assert_eq!(bo.order(&who, "00000").await.unwrap(), OrderLookup::NotOnAccount);
        let err = bo.request_refund(&who, "62345", None, None, "x", "c-1").await.unwrap_err();
        assert!(matches!(err, ToolError::NotOnAccount(_)), "{err}");
    }

    #[tokio::test]
    async fn refunds_follow_the_policy() {
        let bo = back_office();
        let who = john(&bo).await;
        // Delivered 8 days ago, 129.00 USD running shoes: within window and limit.
        let r = bo.request_refund(&who, "45679", Some("running shoes"), None, "too small", "c-1").await.unwrap();
        assert_eq!((r.amount_cents, r.item.as_deref()), (12_900, Some("running shoes")));
        assert_eq!(bo.refunds(&who).await.unwrap().len(), 1);
        // Shipped, not delivered: nothing to return yet.
        let e = bo.request_refund(&who, "45678", None, None, "x", "c-1").await.unwrap_err();
        assert!(matches!(e, ToolError::Refused(Refusal::NotRefundable { .. })), "{e}");
        // Delivered 86 days ago: outside the window.
        let e = bo.request_refund(&who, "45680", None, None, "x", "c-1").await.unwrap_err();
        assert!(matches!(e, ToolError::Refused(Refusal::OutsideWindow { .. })), "{e}");
    }

    #[tokio::test]
    async fn postpone_once_links_and_contact_changes() {
        let bo = back_office();
        let who = john(&bo).await;
        let next = bo.payments(&who).await.unwrap().into_iter().find(|p| p.paid_on.is_none()).unwrap();
        let due = NaiveDate::parse_from_str(&next.due_on, "%Y-%m-%d").unwrap();
        let moved = bo.postpone_payment(&who, next.id, due + chrono::Duration::days(7)).await.unwrap();
        assert_eq!(moved.postponed, 1);
        let e = bo.postpone_payment(&who, next.id, due + chrono::Duration::days(10)).await.unwrap_err();
        assert!(matches!(e, ToolError::Refused(Refusal::AlreadyPostponed)), "{e}");
        assert!(bo.send_payment_link(&who, next.id, "c-1").await.unwrap().starts_with("https://"));
        assert!(matches!(bo.update_email(&who, "not an email").await, Err(ToolError::Invalid(_))));
        bo.update_email(&who, "John@Example.org").await.unwrap();
        assert!(matches!(bo.add_phone(&who, "12345").await, Err(ToolError::Invalid(_))));
        bo.add_phone(&who, "+1 555 010 0999").await.unwrap();
        assert!(bo.find_caller("+15550100999").await.unwrap().is_some());
    }
}
