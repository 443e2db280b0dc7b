//! The business rules self-service must respect, from config (`[assistant.policy]`). Checked
//! by the back office on every action, whatever asked for it (built-in engine or an LLM).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Deserialize;

use crate::store::model::{format_cents, Order, OrderStatus, Payment, PaymentStatus};

/// `[assistant.policy]`
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    /// A delivered item can be returned for a refund within this many days of delivery.
    pub refund_window_days: i64,
    /// Largest refund self-service may grant, in minor units per currency; above it a human
    /// decides. A currency not listed gets no self-service refunds.
    pub max_refund_cents: BTreeMap<String, i64>,
    /// An instalment's due date may be moved once, by at most this many days.
    pub max_postpone_days: i64,
    /// Verification attempts before self-service ends and a human takes over (per call).
    pub max_verification_failures: u32,
    /// Failed verifications of one customer, counted across calls and transports, after which
    /// the assistant checks no factor for them (not even the right one) and hands every caller
    /// to a person (`verification_locked`). 0 turns the lock off.
    pub verification_lock_failures: u32,
    /// The window those failures count in, in minutes. They expire only with it: a successful
    /// verification does not clear earlier failures.
    pub verification_lock_window_minutes: u32,
    /// A spoken date of birth the recogniser is less sure of than this (its least certain
    /// word's probability) is read back to the caller before it is checked, and a spoken PIN
    /// is asked for on the keypad instead: a misheard factor must not count as a failed
    /// verification. 0 never reads back.
    pub read_back_below: f32,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            refund_window_days: 30,
            max_refund_cents: [("USD", 30_000), ("GBP", 30_000), ("EUR", 30_000), ("SEK", 300_000)]
                .into_iter()
                .map(|(c, v)| (c.to_string(), v))
                .collect(),
            max_postpone_days: 14,
            max_verification_failures: 2,
            verification_lock_failures: 3,
            verification_lock_window_minutes: 60,
            read_back_below: crate::assistant::expect::READ_BACK_BELOW,
        }
    }
}

/// Why a policy says no, in words an assistant can say to the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The order is not delivered (nothing to return yet) or already returned or cancelled.
    #[error("order {number} is {status} and cannot be refunded")]
    NotRefundable { number: String, status: &'static str },
    /// Delivered too long ago.
    #[error("order {number} was delivered on {delivered}, more than {days} days ago")]
    OutsideWindow { number: String, delivered: String, days: i64 },
    /// Over the self-service limit: a human must approve.
    #[error("a refund of {amount} {currency} is over the self-service limit of {limit} {currency}")]
    OverLimit { amount: String, limit: String, currency: String },
    /// Already moved once.
    #[error("this payment's due date was already moved once")]
    AlreadyPostponed,
    /// Further than allowed, or into the past.
    #[error("the due date can move by 1 to {max} days, not {days}")]
    PostponeTooFar { days: i64, max: i64 },
    /// Already paid.
    #[error("this payment is already paid")]
    AlreadyPaid,
}

impl Policy {
    /// May `amount_cents` of `order` be refunded on `today`?
    pub fn check_refund(&self, order: &Order, amount_cents: i64, today: NaiveDate) -> Result<(), Refusal> {
        if order.status != OrderStatus::Delivered {
            return Err(Refusal::NotRefundable { number: order.number.clone(), status: order.status.as_str() });
        }
        if let Some(d) = order.delivered_on.as_deref().and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()) {
            if (today - d).num_days() > self.refund_window_days {
                return Err(Refusal::OutsideWindow {
                    number: order.number.clone(),
                    delivered: d.to_string(),
                    days: self.refund_window_days,
                });
            }
        }
        let limit = self.max_refund_cents.get(&order.currency).copied().unwrap_or(0);
        if amount_cents > limit {
            return Err(Refusal::OverLimit {
                amount: format_cents(amount_cents),
                limit: format_cents(limit),
                currency: order.currency.clone(),
            });
        }
        Ok(())
    }

    /// May `payment` move to `to`?
    pub fn check_postpone(&self, payment: &Payment, to: NaiveDate) -> Result<(), Refusal> {
        if payment.status == PaymentStatus::Paid {
            return Err(Refusal::AlreadyPaid);
        }
        if payment.postponed > 0 {
            return Err(Refusal::AlreadyPostponed);
        }
        let due = NaiveDate::parse_from_str(&payment.due_on, "%Y-%m-%d").unwrap_or(to);
        let days = (to - due).num_days();
        if days < 1 || days > self.max_postpone_days {
            return Err(Refusal::PostponeTooFar { days, max: self.max_postpone_days });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(status: OrderStatus, delivered: Option<&str>, total: i64, currency: &str) -> Order {
        Order {
            id: 1,
            number: "45679".into(),
            customer_id: 1,
            merchant: "m".into(),
            currency: currency.into(),
            total_cents: total,
            status,
            carrier: None,
            tracking: None,
            ordered_on: "2026-11-01".into(),
            shipped_on: None,
            expected_on: None,
            delivered_on: delivered.map(str::to_string),
            items: vec![],
        }
    }

    #[test]
    fn refunds_within_window_and_limit_only() {
        let p = Policy::default();
        let today = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
        let ok = order(OrderStatus::Delivered, Some("2026-11-20"), 12_900, "USD");
        assert_eq!(p.check_refund(&ok, 12_900, today), Ok(()));
        assert!(matches!(p.check_refund(&ok, 30_001, today), Err(Refusal::OverLimit { .. })));
        let old = order(OrderStatus::Delivered, Some("2026-09-01"), 12_900, "USD");
        assert!(matches!(p.check_refund(&old, 100, today), Err(Refusal::OutsideWindow { .. })));
        let shipped = order(OrderStatus::Shipped, None, 12_900, "USD");
        assert!(matches!(p.check_refund(&shipped, 100, today), Err(Refusal::NotRefundable { .. })));
        let yen = order(OrderStatus::Delivered, Some("2026-11-20"), 1_000, "JPY");
        assert!(matches!(p.check_refund(&yen, 100, today), Err(Refusal::OverLimit { .. })), "unlisted currency");
        assert!(Refusal::OverLimit { amount: "400.00".into(), limit: "300.00".into(), currency: "USD".into() }
            .to_string()
            .contains("over the self-service limit of 300.00 USD"));
    }

    #[test]
    fn a_due_date_moves_once_and_not_too_far() {
        let p = Policy::default();
        let mut pay = Payment {
            id: 1,
            order_id: 1,
            order_number: "45679".into(),
            instalment: 2,
            of_instalments: 3,
            amount_cents: 4_300,
            currency: "USD".into(),
            due_on: "2026-12-17".into(),
            status: PaymentStatus::Scheduled,
            paid_on: None,
            postponed: 0,
        };
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(p.check_postpone(&pay, d("2026-12-31")), Ok(()));
        assert!(matches!(p.check_postpone(&pay, d("2027-01-10")), Err(Refusal::PostponeTooFar { .. })));
        assert!(matches!(p.check_postpone(&pay, d("2026-12-10")), Err(Refusal::PostponeTooFar { .. })));
        pay.postponed = 1;
        assert_eq!(p.check_postpone(&pay, d("2026-12-20")), Err(Refusal::AlreadyPostponed));
        pay.status = PaymentStatus::Paid;
        assert_eq!(p.check_postpone(&pay, d("2026-12-20")), Err(Refusal::AlreadyPaid));
    }
}
