//! The account intents of a verified caller: look-ups, quotes against the policy, and the
//! changes the caller confirmed.

use chrono::NaiveDate;

use super::{Assistant, CardEnded, Change, Pending, Reply};
use crate::assistant::entities;
use crate::assistant::intents::Intent;
use crate::assistant::policy::Refusal;
use crate::assistant::replies::Msg;
use crate::assistant::tools::{unpaid_payment, OrderLookup, ToolError};
use crate::store::model::{OrderStatus, PaymentStatus};

impl Assistant {
    /// Run an account intent for a verified caller. `number` may be empty.
    pub(super) async fn run_intent(&mut self, r: &mut Reply, intent: Intent, number: &str, text: &str) {
        let Some(who) = self.verified.clone() else { return };
        self.not_understood = 0;
        match intent {
            Intent::OrderStatus | Intent::Refund if number.is_empty() => {
                self.pending = Some(Pending::OrderNumber(intent));
                self.msg(r, Msg::AskOrderNumber);
            }
            Intent::OrderStatus => match self.back_office.order(&who, number).await {
                Ok(OrderLookup::Found(o)) => {
                    r.act("order_status", format!("order {number}: {}", o.status.as_str()), true);
                    let day =
                        |d: &Option<String>| d.as_deref().and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
                    let m = match o.status {
                        OrderStatus::Shipped => Msg::OrderShipped {
                            number: o.number.clone(),
                            carrier: o.carrier.clone().unwrap_or_default(),
                            expected: day(&o.expected_on),
                        },
                        OrderStatus::Delivered => Msg::OrderDelivered {
                            number: o.number.clone(),
                            on: day(&o.delivered_on).unwrap_or(self.today),
                        },
                        OrderStatus::Placed => {
                            Msg::OrderPlaced { number: o.number.clone(), expected: day(&o.expected_on) }
                        }
                        OrderStatus::Cancelled => Msg::OrderCancelled { number: o.number.clone() },
                        OrderStatus::Returned => Msg::OrderReturned { number: o.number.clone() },
                    };
                    self.msg(r, m);
                    self.msg(r, Msg::AnythingElse);
                }
                Ok(OrderLookup::NotOnAccount) => {
                    r.act("order_status", format!("order {number}: not on account"), false);
                    self.pending = Some(Pending::OrderNumber(intent));
                    self.msg(r, Msg::OrderNotFound { number: number.into() });
                }
                Err(e) => {
                    self.tool_failed(r, "order_status", &e);
                }
            },
            // The refund is the item's price (or the order's): a spoken amount next to an order
            // number is too easily the number itself.
            Intent::Refund => match self.back_office.quote_refund(&who, number, None, None).await {
                Ok(q) => {
                    r.act("quote_refund", format!("order {}: {} {}", q.order_number, q.amount_cents, q.currency), true);
                    self.msg(
                        r,
                        Msg::RefundConfirm {
                            number: q.order_number.clone(),
                            item: q.item.clone(),
                            amount: q.amount_cents,
                            currency: q.currency.clone(),
                        },
                    );
                    self.pending = Some(Pending::Confirm(Change::Refund {
                        order: q.order_number,
                        item: q.item,
                        amount: q.amount_cents,
                    }));
                }
                Err(ToolError::Refused(why)) => {
                    self.refused(r, "quote_refund", &why);
                    self.msg(r, Msg::AnythingElse);
                }
                Err(ToolError::NotOnAccount(_)) => {
                    self.pending = Some(Pending::OrderNumber(intent));
                    self.msg(r, Msg::OrderNotFound { number: number.into() });
                }
                Err(e) => {
                    self.tool_failed(r, "quote_refund", &e);
                }
            },
            Intent::RefundStatus => match self.back_office.refunds(&who).await {
                Ok(list) => {
                    r.act("refunds", format!("{} refunds", list.len()), true);
                    match list.first() {
                        Some(f) => self.msg(
                            r,
                            Msg::RefundStatus {
                                amount: f.amount_cents,
                                currency: f.currency.clone(),
                                number: f.order_number.clone(),
                                status: f.status.clone(),
                            },
                        ),
                        None => self.msg(r, Msg::NoRefunds),
                    }
                    self.msg(r, Msg::AnythingElse);
                }
                Err(e) => {
                    self.tool_failed(r, "refunds", &e);
                }
            },
            Intent::PaymentDue | Intent::PayNow | Intent::PostponePayment => {
                let payments = match self.back_office.payments(&who).await {
                    Ok(p) => p,
                    Err(e) => {
                        self.tool_failed(r, "payments", &e);
                        return;
                    }
                };
                r.act("payments", format!("{} instalments", payments.len()), true);
                // Overdue first, then the earliest due.
                let mut open: Vec<_> = payments.into_iter().filter(|p| p.status != PaymentStatus::Paid).collect();
                open.sort_by_key(|p| (p.status != PaymentStatus::Overdue, p.due_on.clone()));
                let Some(next) = open.first() else {
                    self.msg(r, Msg::NoPaymentsDue);
                    self.msg(r, Msg::AnythingElse);
                    return;
                };
                let due = NaiveDate::parse_from_str(&next.due_on, "%Y-%m-%d").unwrap_or(self.today);
                match intent {
                    Intent::PaymentDue => {
                        self.msg(
                            r,
                            Msg::PaymentDue {
                                amount: next.amount_cents,
                                currency: next.currency.clone(),
                                number: next.order_number.clone(),
                                due,
                            },
                        );
                        self.msg(r, Msg::AnythingElse);
                    }
                    Intent::PayNow if entities::by_card(text) => self.ask_for_card(r, next.id).await,
                    Intent::PayNow => {
                        self.msg(r, Msg::PayLinkConfirm { amount: next.amount_cents, currency: next.currency.clone() });
                        self.pending = Some(Pending::Confirm(Change::PayLink { payment_id: next.id }));
                    }
                    _ => match entities::date(text, self.today).filter(|d| *d > due) {
                        Some(to) => self.quote_postpone(r, next.id, due, to).await,
                        None => {
                            self.pending = Some(Pending::NewDate { payment_id: next.id, due });
                            self.msg(r, Msg::AskNewDate);
                        }
                    },
                }
            }
            Intent::ChangeEmail => {
                self.pending = Some(Pending::Email);
                self.msg(r, Msg::AskEmail);
            }
            Intent::ChangePhone => {
                self.pending = Some(Pending::Phone);
                self.msg(r, Msg::AskPhone);
            }
            Intent::ChangeAddress => {
                self.pending = Some(Pending::Address);
                self.msg(r, Msg::AskAddress);
            }
            // Conversational intents never get here (dispatch handles them before verification).
            _ => self.msg(r, Msg::HowCanIHelp),
        }
    }

    pub(super) async fn quote_postpone(&mut self, r: &mut Reply, payment_id: i64, due: NaiveDate, to: NaiveDate) {
        let Some(who) = self.verified.clone() else { return };
        match self.back_office.quote_postpone(&who, payment_id, to).await {
            Ok(_) => {
                self.msg(r, Msg::PostponeConfirm { from: due, to });
                self.pending = Some(Pending::Confirm(Change::Postpone { payment_id, to }));
            }
            Err(ToolError::Refused(why)) => {
                self.refused(r, "quote_postpone", &why);
                self.msg(r, Msg::AnythingElse);
            }
            Err(e) => {
                self.tool_failed(r, "quote_postpone", &e);
            }
        }
    }

    pub(super) async fn execute(&mut self, r: &mut Reply, change: Change) {
        let Some(who) = self.verified.clone() else { return };
        let bo = self.back_office.clone();
        let (tool, result) = match &change {
            Change::Refund { order, item, amount } => (
                "request_refund",
                bo.request_refund(&who, order, Some(item), Some(*amount), "requested by the caller", &self.call_id)
                    .await
                    .map(|f| {
                        (
                            format!("refund {} of {} {} on order {order}", f.id, f.amount_cents, f.currency),
                            Msg::RefundDone { amount: f.amount_cents, currency: f.currency },
                        )
                    }),
            ),
            Change::PayLink { payment_id } => (
                "send_payment_link",
                bo.send_payment_link(&who, *payment_id, &self.call_id)
                    .await
                    .map(|_| (format!("link for payment {payment_id}"), Msg::PayLinkSent)),
            ),
            Change::Postpone { payment_id, to } => (
                "postpone_payment",
                bo.postpone_payment(&who, *payment_id, *to)
                    .await
                    .map(|p| (format!("payment {payment_id} now due {}", p.due_on), Msg::PostponeDone { to: *to })),
            ),
            Change::Email(e) => {
                ("update_email", bo.update_email(&who, e).await.map(|_| ("email updated".to_string(), Msg::Changed)))
            }
            Change::Phone(n) => {
                ("add_phone", bo.add_phone(&who, n).await.map(|_| ("phone number added".to_string(), Msg::Changed)))
            }
            Change::Address { street, postcode, city } => (
                "update_address",
                bo.update_address(&who, street, postcode, city)
                    .await
                    .map(|_| ("address updated".to_string(), Msg::Changed)),
            ),
        };
        match result {
            Ok((detail, m)) => {
                r.act(tool, detail, true);
                self.msg(r, m);
                self.msg(r, Msg::AnythingElse);
            }
            Err(ToolError::Refused(why)) => self.refused(r, tool, &why),
            Err(e) => {
                if !self.tool_failed(r, tool, &e) {
                    self.msg(r, Msg::DidNotUnderstand);
                }
            }
        }
    }

    /// Ask for a card for this instalment: the reply names the amount and asks for the keys,
    /// and the call runs a secure capture after it ([`Reply::take_card`]).
    pub(super) async fn ask_for_card(&mut self, r: &mut Reply, payment_id: i64) {
        let Some(who) = self.verified.clone() else { return };
        match unpaid_payment(self.back_office.as_ref(), &who, payment_id).await {
            Err(ToolError::Refused(why)) => self.refused(r, "pay_by_card", &why),
            Ok(p) => {
                self.msg(r, Msg::TakeCard { amount: p.amount_cents, currency: p.currency });
                self.msg(r, Msg::CardCapturePrompt);
                r.take_card = Some(payment_id);
            }
            Err(e) => {
                self.tool_failed(r, "payments", &e);
            }
        }
    }

    /// A card entry asked for by [`Self::ask_for_card`] ended: pay with the card, or offer the
    /// payment link instead.
    pub(super) async fn card_keyed(&mut self, r: &mut Reply, payment_id: i64, ended: &CardEnded) {
        let Some(who) = self.verified.clone() else { return };
        let card = match ended {
            CardEnded::Captured(card) => card,
            CardEnded::Invalid | CardEnded::Stopped => {
                self.msg(
                    r,
                    if matches!(ended, CardEnded::Invalid) { Msg::CardInvalid } else { Msg::CardCaptureStopped },
                );
                self.msg(r, Msg::PayLinkInstead);
                self.pending = Some(Pending::Confirm(Change::PayLink { payment_id }));
                return;
            }
        };
        self.msg(r, Msg::CardCaptured { last4: card.last4() });
        match self.back_office.pay_by_card(&who, payment_id, card, &self.call_id).await {
            Ok(p) => {
                r.act(
                    "pay_by_card",
                    format!(
                        "payment {payment_id}: {} {} by {} ending in {}",
                        p.amount_cents,
                        p.currency,
                        card.brand(),
                        card.last4()
                    ),
                    true,
                );
                self.msg(r, Msg::CardPaid { amount: p.amount_cents, currency: p.currency });
                self.msg(r, Msg::AnythingElse);
            }
            Err(ToolError::Refused(why)) => self.refused(r, "pay_by_card", &why),
            Err(ToolError::Invalid(why)) | Err(ToolError::NotOnAccount(why)) => {
                // Declined: said as such, the link offered instead (the reason is the
                // processor's, for the case file, not read out).
                r.act("pay_by_card", format!("declined: {why}"), false);
                self.msg(r, Msg::CardDeclined);
                self.msg(r, Msg::PayLinkInstead);
                self.pending = Some(Pending::Confirm(Change::PayLink { payment_id }));
            }
            Err(e) => {
                self.tool_failed(r, "pay_by_card", &e);
            }
        }
    }

    /// The policy said no: record it and tell the caller why.
    fn refused(&self, r: &mut Reply, tool: &str, why: &Refusal) {
        r.refuse(tool, format!("refused: {why}"));
        self.msg(r, Msg::Refused { reason: why.to_string() });
    }
}
