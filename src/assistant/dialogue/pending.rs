//! The caller's answer to what the assistant asked: a verification factor, a yes or no to a
//! read-back or a confirmation, an order number, a date, an e-mail address or a phone number.

use super::{spoken_email, switches_topic, Assistant, Change, EscalationReason, Pending, Reply};
use crate::assistant::entities;
use crate::assistant::intents::Intent;
use crate::assistant::replies::Msg;

impl Assistant {
    /// Returns whether the turn was consumed as an answer.
    pub(super) async fn answer_pending(&mut self, r: &mut Reply, p: Pending, text: &str) -> bool {
        match p {
            Pending::Verify(intent, asked) => self.answer_verify(r, intent, asked, text).await,
            Pending::CheckBirthDate(intent, asked, date) => {
                match self.check_answer(r, intent, asked, date, text).await {
                    // A factor again instead of yes or no: weighed as the answer to the question.
                    Some((intent, asked)) => self.answer_verify(r, intent, asked, text).await,
                    None => true,
                }
            }
            Pending::OrderNumber(intent) => match entities::order_number(text) {
                Some(n) => {
                    self.run_intent(r, intent, &n, text).await;
                    true
                }
                // A confident new request switches topic; anything else is a missed number
                // ("order number" must not read as a phone-number change).
                None if !switches_topic(&self.classifier.classify(text)) => {
                    self.missed(r, Pending::OrderNumber(intent), Msg::AskOrderNumber, intent);
                    true
                }
                None => false,
            },
            // "By card" to the offer of a payment link: take the card on the keypad instead.
            Pending::Confirm(Change::PayLink { payment_id }) if entities::by_card(text) => {
                self.ask_for_card(r, payment_id).await;
                true
            }
            Pending::Confirm(change) => match entities::yes_no(text) {
                Some(true) => {
                    self.execute(r, change).await;
                    true
                }
                Some(false) => {
                    self.msg(r, Msg::NotChanged);
                    self.msg(r, Msg::AnythingElse);
                    true
                }
                None => {
                    // Neither yes nor no: ask the same question again, never act on a guess.
                    self.pending = Some(Pending::Confirm(change));
                    r.say.extend(self.last_said.iter().rev().take(1).cloned());
                    true
                }
            },
            Pending::NewDate { payment_id, due } => match entities::date(text, self.today) {
                Some(to) => {
                    self.quote_postpone(r, payment_id, due, to).await;
                    true
                }
                None => {
                    self.pending = Some(Pending::NewDate { payment_id, due });
                    self.msg(r, Msg::AskNewDate);
                    true
                }
            },
            Pending::Email => {
                let email = spoken_email(text);
                match email {
                    Some(e) => {
                        self.msg(r, Msg::EmailConfirm { email: e.clone() });
                        self.pending = Some(Pending::Confirm(Change::Email(e)));
                    }
                    None => {
                        self.pending = Some(Pending::Email);
                        self.msg(r, Msg::AskEmail);
                    }
                }
                true
            }
            Pending::Phone => {
                self.new_phone(r, text);
                true
            }
            Pending::Address => {
                match entities::address(text) {
                    Some((street, postcode, city)) => {
                        self.msg(
                            r,
                            Msg::AddressConfirm {
                                street: street.clone(),
                                postcode: postcode.clone(),
                                city: city.clone(),
                            },
                        );
                        self.pending = Some(Pending::Confirm(Change::Address { street, postcode, city }));
                    }
                    None => self.missed(r, Pending::Address, Msg::AskAddress, Intent::ChangeAddress),
                }
                true
            }
        }
    }

    /// A new phone number, keyed or spoken: read it back for confirmation.
    pub(super) fn new_phone(&mut self, r: &mut Reply, text: &str) {
        match entities::phone_number(text) {
            Some(number) => {
                self.msg(r, Msg::PhoneConfirm { number: number.clone() });
                self.pending = Some(Pending::Confirm(Change::Phone(number)));
            }
            None => self.missed(r, Pending::Phone, Msg::AskPhone, Intent::ChangePhone),
        }
    }

    /// An answer we could not use: ask again once, then hand over.
    pub(super) fn missed(&mut self, r: &mut Reply, again: Pending, ask: Msg, intent: Intent) {
        self.not_understood += 1;
        if self.not_understood >= 2 {
            self.escalate(r, EscalationReason::NotUnderstood, Some(intent));
        } else {
            self.pending = Some(again);
            self.msg(r, ask);
        }
    }
}
