//! The built-in dialogue engine: one per call. It takes the caller's turns (text, language,
//! caller state), keys and silences, and answers with what to say, the tool calls it made, and
//! whether to hand the call to a person (and why). No network, no LLM: intents, entities,
//! slot filling, verification before any account data, confirmation before any change.
//!
//! Hand-over rules (the 2025 lesson: know the limits early): the caller asks for a person; the
//! caller is frustrated or angry, or rising two turns in a row; understanding fails twice; an
//! intent that needs a human (fraud, dispute, complaint, bereavement, legal); verification
//! fails, or the customer's verification is locked after failures across calls
//! (`super::lockout`); the caller's language is not served; the back office is down; silence
//! persists.

use std::sync::Arc;

use chrono::NaiveDate;
use serde::Serialize;

use super::entities;
use super::intents::{Intent, IntentClassifier};
use super::llm::LanguageModel;
use super::lockout::VerificationLock;
use super::policy::Policy;
use super::replies::{say, Msg, SERVED};
use super::tools::card::CardNumber;
use super::tools::{BackOffice, Factor, ToolError, Verified};
use crate::pipeline::analysis::state::{State, TurnState};
use crate::store::model::Customer;

/// Why the call goes to a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EscalationReason {
    AskedForPerson,
    CallerUpset,
    NotUnderstood,
    NeedsHuman,
    VerificationFailed,
    /// Too many failed verifications of this customer across calls: no factor is checked.
    VerificationLocked,
    CallerNotIdentified,
    LanguageNotServed,
    BackOfficeUnavailable,
    Silence,
    /// Every line was taken when the call came in: it went straight to the people
    /// (`[calls.overflow] action = "queue"`), never to the assistant.
    LinesFull,
}

impl EscalationReason {
    /// The reason as it appears in events and records.
    pub fn name(self) -> &'static str {
        match self {
            Self::AskedForPerson => "asked_for_person",
            Self::CallerUpset => "caller_upset",
            Self::NotUnderstood => "not_understood",
            Self::NeedsHuman => "needs_human",
            Self::VerificationFailed => "verification_failed",
            Self::VerificationLocked => "verification_locked",
            Self::CallerNotIdentified => "caller_not_identified",
            Self::LanguageNotServed => "language_not_served",
            Self::BackOfficeUnavailable => "back_office_unavailable",
            Self::Silence => "silence",
            Self::LinesFull => "lines_full",
        }
    }
}

/// A tool call the assistant made and how it went (for events and the case file).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActionRecord {
    pub tool: String,
    pub detail: String,
    pub ok: bool,
    /// A business rule (`[assistant.policy]`, the verification lock) said no.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub refused: bool,
}

impl Reply {
    /// Record a tool call and how it went.
    fn act(&mut self, tool: &str, detail: impl Into<String>, ok: bool) {
        self.actions.push(ActionRecord { tool: tool.into(), detail: detail.into(), ok, refused: false });
    }

    /// Record a tool call a business rule refused.
    fn refuse(&mut self, tool: &str, detail: impl Into<String>) {
        self.actions.push(ActionRecord { tool: tool.into(), detail: detail.into(), ok: false, refused: true });
    }
}

/// What the assistant does after an input.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Reply {
    /// What to say, in `language`.
    pub say: Vec<String>,
    pub language: String,
    pub intent: Option<Intent>,
    pub actions: Vec<ActionRecord>,
    /// Hand the call over, and why.
    pub escalate: Option<(EscalationReason, Option<Intent>)>,
    /// The caller is done: hang up after speaking.
    pub hangup: bool,
    /// A note for the agent who takes the call (the case file shows it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Take a card for this instalment: the call starts a secure capture once this reply (which
    /// asks for the keys) is said, and hands the card back as [`Input::Card`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub take_card: Option<i64>,
}

/// How a card entry the assistant asked for ended.
#[derive(Debug, Clone)]
pub enum CardEnded {
    /// A valid card number was keyed: the card.
    Captured(Arc<CardNumber>),
    /// What was keyed is not a card number.
    Invalid,
    /// The caller cancelled, stopped keying, or the entry ran out of time.
    Stopped,
}

/// How a call went, as far as the assistant knows: for the interaction record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    /// "resolved" (a request was served), "escalated" or "abandoned" (nothing done).
    pub outcome: &'static str,
    pub escalation: Option<EscalationReason>,
    /// The customer the caller's number matched (verified or not).
    pub customer_id: Option<i64>,
    pub verified: bool,
    /// The main request: the first account intent, else the last one recognised.
    pub intent: Option<Intent>,
    /// The tool calls, one per line.
    pub summary: String,
}

/// An input to the engine.
#[derive(Debug, Clone)]
pub enum Input<'a> {
    /// The call was answered.
    Start,
    /// A finished caller turn with the call's language and the caller's state after it, and
    /// the recogniser's confidence in its words (`None`: typed, or not known).
    Turn { text: &'a str, language: &'a str, state: Option<&'a TurnState>, trend: f32, confidence: Option<f32> },
    /// Keys pressed (a PIN, collected until '#' or four digits).
    Digits(&'a str),
    /// The caller said nothing for a while after the assistant spoke.
    Silence,
    /// A card entry asked for by [`Reply::take_card`] ended (with the card when captured).
    Card { payment_id: i64, ended: &'a CardEnded },
}

#[derive(Debug, Clone, PartialEq)]
enum Change {
    Refund { order: String, item: String, amount: i64 },
    PayLink { payment_id: i64 },
    Postpone { payment_id: i64, to: NaiveDate },
    Email(String),
    Phone(String),
    Address { street: String, postcode: String, city: String },
}

#[derive(Debug, Clone, PartialEq)]
enum Pending {
    /// Waiting for a verification factor, to then run this intent on this text.
    Verify(Intent, String),
    /// A spoken date of birth read back to the caller: yes checks it ([`Pending::Verify`]'s
    /// intent and text kept).
    CheckBirthDate(Intent, String, NaiveDate),
    OrderNumber(Intent),
    Confirm(Change),
    NewDate {
        payment_id: i64,
        due: NaiveDate,
    },
    Email,
    Phone,
    Address,
}

/// One call's assistant.
pub struct Assistant {
    back_office: Arc<dyn BackOffice>,
    classifier: Arc<dyn IntentClassifier>,
    policy: Policy,
    call_id: String,
    caller: String,
    today: NaiveDate,
    language: String,
    customer: Option<Customer>,
    verified: Option<Verified>,
    verify_failures: u32,
    /// Failed verifications counted across calls (none: this call's limit only).
    lock: Option<Arc<VerificationLock>>,
    not_understood: u32,
    silences: u32,
    /// The recogniser's confidence in the turn being handled.
    heard: Option<f32>,
    rising_turns: u32,
    pending: Option<Pending>,
    last_said: Vec<String>,
    done: bool,
    /// Everything the call did, for `outcome`.
    intents: Vec<Intent>,
    actions: Vec<ActionRecord>,
    escalation: Option<EscalationReason>,
    /// The optional LLM backend and its conversation (dropped for the rest of the call when it
    /// fails: the built-in engine carries on).
    llm: Option<Arc<dyn LanguageModel>>,
    chat: Vec<serde_json::Value>,
    /// The AI notice for the greeting (see `with_notice`).
    notice: Option<std::collections::BTreeMap<String, String>>,
}

impl Assistant {
    pub fn new(
        back_office: Arc<dyn BackOffice>,
        classifier: Arc<dyn IntentClassifier>,
        policy: Policy,
        call_id: &str,
        caller: &str,
        today: NaiveDate,
    ) -> Self {
        Self {
            back_office,
            classifier,
            policy,
            call_id: call_id.into(),
            caller: caller.into(),
            today,
            language: "en".into(),
            customer: None,
            verified: None,
            verify_failures: 0,
            lock: None,
            not_understood: 0,
            silences: 0,
            heard: None,
            rising_turns: 0,
            pending: None,
            last_said: Vec::new(),
            done: false,
            intents: Vec::new(),
            actions: Vec::new(),
            escalation: None,
            llm: None,
            notice: None,
            chat: Vec::new(),
        }
    }

    /// Understand open requests with a language model (the built-in engine stays the fallback).
    /// Tell the caller in the greeting that an AI answers and the voice is analysed (Some:
    /// the centre's wording per language, the built-in text for the others).
    pub fn with_notice(mut self, notice: Option<std::collections::BTreeMap<String, String>>) -> Self {
        self.notice = notice;
        self
    }

    pub fn with_llm(mut self, llm: Option<Arc<dyn LanguageModel>>) -> Self {
        self.llm = llm;
        self
    }

    /// Count failed verifications per customer across calls, and refuse them when locked.
    pub fn with_lock(mut self, lock: Option<Arc<VerificationLock>>) -> Self {
        self.lock = lock;
        self
    }

    /// How the call went so far.
    pub fn outcome(&self) -> Outcome {
        let served = self.actions.iter().any(|a| a.ok && serves_the_caller(&a.tool));
        let outcome = match (self.escalation, served) {
            (Some(_), _) => "escalated",
            (None, true) => "resolved",
            (None, false) => "abandoned",
        };
        let intent = self.intents.iter().copied().find(|i| i.is_account()).or(self.intents.last().copied());
        Outcome {
            outcome,
            escalation: self.escalation,
            customer_id: self.customer.as_ref().map(|c| c.id),
            verified: self.verified.is_some(),
            intent,
            summary: self
                .actions
                .iter()
                .map(|a| format!("{}{}: {}", a.tool, if a.ok { "" } else { " (failed)" }, a.detail))
                .collect::<Vec<_>>()
                .join("\n"),
        }
    }

    /// The verified customer, if any.
    pub fn verified(&self) -> Option<&Customer> {
        self.verified.as_ref().map(|v| v.customer())
    }

    /// The caller's proof of identity, for reading their account on an agent's behalf.
    pub fn verification(&self) -> Option<&Verified> {
        self.verified.as_ref()
    }

    /// What the open question expects from the caller's next turn, for its end
    /// ([`super::expect`]).
    pub fn expecting(&self) -> Option<crate::pipeline::endpoint::Expectation> {
        use super::expect;
        match self.pending.as_ref()? {
            Pending::Verify(..) => Some(expect::date_of_birth_or_pin(self.today)),
            Pending::CheckBirthDate(..) => Some(expect::yes_no()),
            Pending::OrderNumber(_) => Some(expect::order_number()),
            Pending::Confirm(_) => Some(expect::yes_no()),
            Pending::NewDate { .. } => Some(expect::date(self.today)),
            Pending::Phone => Some(expect::phone_number()),
            Pending::Email | Pending::Address => None,
        }
    }

    /// The customer the calling number matched (verified or not).
    pub fn customer(&self) -> Option<&Customer> {
        self.customer.as_ref()
    }

    /// Handle one input.
    pub async fn handle(&mut self, input: Input<'_>) -> Reply {
        if self.done {
            return Reply { language: self.language.clone(), ..Default::default() };
        }
        let mut r = Reply { language: self.language.clone(), ..Default::default() };
        match input {
            Input::Start => {
                match self.back_office.find_caller(&self.caller).await {
                    Ok(c) => {
                        if let Some(c) = &c {
                            if SERVED.contains(&c.language.as_str()) {
                                self.language = c.language.clone();
                                r.language = self.language.clone();
                            }
                        }
                        r.act(
                            "find_caller",
                            if c.is_some() { "number matched a customer" } else { "number not on file" },
                            true,
                        );
                        self.customer = c;
                    }
                    Err(e) => r.act("find_caller", e.to_string(), false),
                }
                match &self.notice {
                    Some(own) => {
                        let notice = own.get(&self.language).cloned();
                        r.say.push(notice.unwrap_or_else(|| say(&self.language, &Msg::AiNotice)));
                        self.msg(&mut r, Msg::HowCanIHelp);
                    }
                    None => self.msg(&mut r, Msg::Welcome),
                }
            }
            Input::Silence => {
                self.silences += 1;
                if self.silences >= 2 {
                    self.escalate(&mut r, EscalationReason::Silence, None);
                } else {
                    self.msg(&mut r, Msg::StillThere);
                    r.say.extend(self.last_said.clone());
                }
            }
            Input::Digits(d) => {
                self.silences = 0;
                match self.pending.clone() {
                    Some(Pending::Verify(..)) => self.verify_with(&mut r, entities::pin(d).map(Factor::Pin)).await,
                    // A PIN keyed instead of a yes to the date read back.
                    Some(Pending::CheckBirthDate(intent, asked, _)) => {
                        self.pending = Some(Pending::Verify(intent, asked));
                        self.verify_with(&mut r, entities::pin(d).map(Factor::Pin)).await
                    }
                    Some(Pending::OrderNumber(intent)) => match entities::order_number(d) {
                        Some(n) => {
                            self.pending = None;
                            self.run_intent(&mut r, intent, &n, d).await;
                        }
                        None => self.msg(&mut r, Msg::AskOrderNumber),
                    },
                    Some(Pending::Phone) => self.new_phone(&mut r, d),
                    _ => {}
                }
            }
            Input::Turn { text, language, state, trend, confidence } => {
                self.silences = 0;
                self.heard = confidence;
                self.turn(&mut r, text, language, state, trend).await;
            }
            Input::Card { payment_id, ended } => {
                self.silences = 0;
                self.card_keyed(&mut r, payment_id, ended).await;
            }
        }
        if !r.say.is_empty() {
            self.last_said = r.say.clone();
        }
        if let Some(i) = r.intent.filter(|i| *i != Intent::Unknown) {
            self.intents.push(i);
        }
        self.actions.extend(r.actions.iter().cloned());
        if let Some((reason, _)) = r.escalate {
            self.escalation = Some(reason);
        }
        r
    }

    fn msg(&self, r: &mut Reply, m: Msg) {
        r.say.push(say(&self.language, &m));
    }

    fn escalate(&mut self, r: &mut Reply, reason: EscalationReason, intent: Option<Intent>) {
        self.msg(r, Msg::Handover);
        r.escalate = Some((reason, intent));
        self.done = true;
        self.pending = None;
    }

    fn tool_failed(&mut self, r: &mut Reply, tool: &str, e: &ToolError) -> bool {
        r.act(tool, e.to_string(), false);
        if let ToolError::Unavailable(_) = e {
            self.msg(r, Msg::BackOfficeDown);
            r.escalate = Some((EscalationReason::BackOfficeUnavailable, r.intent));
            self.done = true;
            return true;
        }
        false
    }

    async fn turn(&mut self, r: &mut Reply, text: &str, language: &str, state: Option<&TurnState>, trend: f32) {
        // Language: speak the caller's if served; hand over if not. A language the recogniser
        // confuses with the customer's own (Norwegian or Danish for a Swedish customer) is the
        // customer's.
        let customer_language = self.customer.as_ref().map(|c| c.language.clone()).unwrap_or_default();
        let language =
            if close_languages(language, &customer_language) { customer_language.as_str() } else { language };
        if !language.is_empty() && language != self.language {
            if SERVED.contains(&language) {
                self.language = language.to_string();
                r.language = self.language.clone();
            } else if text.split_whitespace().count() >= 3 {
                self.escalate(r, EscalationReason::LanguageNotServed, None);
                return;
            }
        }
        let classified = self.classifier.classify(text);
        // "Order number" is about an order, not a phone-number or address change.
        let about_order = text.to_lowercase().contains("order");
        // "Card, please" to the offer of a payment link is that answer, not a card matter for
        // a person (the classifier's nearest example may be a stolen card).
        let card_answer =
            matches!(self.pending, Some(Pending::Confirm(Change::PayLink { .. }))) && entities::by_card(text);
        let intent = match classified.intent {
            _ if card_answer => Intent::PayNow,
            Intent::ChangePhone | Intent::ChangeAddress if about_order => {
                classified.runner_up.map(|(i, _)| i).unwrap_or(Intent::Unknown)
            }
            // Words the classifier cannot place around an order number ("are we actually where
            // we monitor four five six seven eight"): asking about that order is by far the
            // likeliest, and a look-up beats "I didn't catch that".
            Intent::Unknown if entities::order_number(text).is_some() => Intent::OrderStatus,
            i => i,
        };
        r.intent = Some(intent);
        // The caller's mood first: an upset caller gets a person, whatever they asked.
        if let Some(s) = state {
            self.rising_turns = if trend > 0.15 { self.rising_turns + 1 } else { 0 };
            if matches!(s.state, State::Frustrated | State::Angry) || self.rising_turns >= 2 {
                self.escalate(r, EscalationReason::CallerUpset, Some(intent));
                return;
            }
        }
        if intent == Intent::Agent {
            self.escalate(r, EscalationReason::AskedForPerson, Some(intent));
            return;
        }
        if intent.needs_human() {
            self.escalate(r, EscalationReason::NeedsHuman, Some(intent));
            return;
        }
        // An answer to what we asked comes before a fresh intent.
        if let Some(p) = self.pending.take() {
            if self.answer_pending(r, p, text).await {
                return;
            }
        }
        if self.llm.is_some() {
            match self.llm_turn(r, text).await {
                Ok(true) => return,
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(call = %self.call_id, "language model failed; the built-in engine carries on: {e}");
                    r.act("llm", e.to_string(), false);
                    self.llm = None;
                }
            }
        }
        self.dispatch(r, intent, text).await;
    }

    async fn dispatch(&mut self, r: &mut Reply, intent: Intent, text: &str) {
        match intent {
            Intent::Greeting => self.msg(r, Msg::HowCanIHelp),
            Intent::Thanks => {
                self.msg(r, Msg::YouAreWelcome);
                self.msg(r, Msg::AnythingElse);
            }
            Intent::Goodbye => {
                self.msg(r, Msg::Goodbye);
                r.hangup = true;
                self.done = true;
            }
            Intent::Repeat => r.say.extend(self.last_said.clone()),
            Intent::Unknown => {
                self.not_understood += 1;
                if self.not_understood >= 2 {
                    self.escalate(r, EscalationReason::NotUnderstood, None);
                } else {
                    self.msg(r, Msg::DidNotUnderstand);
                }
            }
            _ if self.verified.is_none() => {
                if self.customer.is_none() {
                    self.escalate(r, EscalationReason::CallerNotIdentified, Some(intent));
                } else {
                    self.pending = Some(Pending::Verify(intent, text.to_string()));
                    self.msg(r, Msg::AskVerification);
                }
            }
            _ => {
                let number = entities::order_number(text).unwrap_or_default();
                self.run_intent(r, intent, &number, text).await;
            }
        }
    }
}

/// Whether a successful tool call did something for the caller (identifying and verifying
/// alone are not a resolution, nor is the record that the language model asked for a flow).
/// The simulator judges outcomes by the same rule.
pub fn serves_the_caller(tool: &str) -> bool {
    !matches!(tool, "find_caller" | "verify" | "llm")
}

/// Whether `heard` is a language the recogniser often hears for `customer`'s.
fn close_languages(heard: &str, customer: &str) -> bool {
    matches!(
        (heard, customer),
        ("no" | "nn" | "da", "sv") | ("gl" | "ca", "es") | ("nl" | "lb", "de") | ("oc" | "ca", "fr")
    )
}

/// Whether a turn that does not answer our question is a confident new request.
fn switches_topic(c: &super::intents::Classified) -> bool {
    c.intent != Intent::Unknown && c.score >= 0.4 && !matches!(c.intent, Intent::ChangePhone | Intent::ChangeAddress)
}

/// An e-mail address as spoken: "john dot smith at example dot com" -> john.smith@example.com.
pub fn spoken_email(text: &str) -> Option<String> {
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower.split_whitespace().collect();
    let mut out = String::new();
    for w in words {
        let w = w.trim_matches(|c: char| c == ',' || c == '?' || c == '!');
        match w {
            "at" | "@" => out.push('@'),
            "dot" | "punkt" | "point" | "punto" => out.push('.'),
            "dash" | "hyphen" => out.push('-'),
            "underscore" => out.push('_'),
            "is" | "it's" | "my" | "email" | "e-mail" | "address" | "the" | "new" | "its" => {}
            w => out.push_str(w.trim_end_matches('.')),
        }
    }
    let valid = out.split_once('@').is_some_and(|(u, d)| !u.is_empty() && d.contains('.') && !d.ends_with('.'));
    valid.then_some(out)
}

mod account;
mod llm_turn;
mod pending;
mod read_back;
mod verify;

#[cfg(test)]
mod tests;
