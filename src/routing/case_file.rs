//! The live case file: what a human agent sees before saying hello. The call's actor keeps it
//! current (event `case_file_updated` on every change; `GET /api/calls/{id}` has the latest):
//! who is calling (verified or not), the account when verified, previous contacts, language
//! (with English for the agent), accent, caller state with trend and evidence, the intents and
//! the reason for hand-over, every tool call the AI made, what is still open, the caller's key
//! sentences with timestamps, and a suggested next step.
//!
//! Secrets never enter it: card-like digit runs, the customer's PIN and date of birth are
//! masked in every sentence, and account details appear only once the caller was verified.

use serde::Serialize;

use super::model::Skill;
use crate::assistant::dialogue::{ActionRecord, EscalationReason};
use crate::assistant::intents::Intent;
use crate::pipeline::analysis::accent::Accent;
use crate::pipeline::analysis::state::{State, TurnState};
use crate::store::model::{format_cents, Customer, Interaction, Order, Payment, PaymentStatus, Refund};

/// Who is calling.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Identity {
    pub number: String,
    pub customer_id: Option<i64>,
    pub name: Option<String>,
    pub market: Option<String>,
    pub preferred_language: Option<String>,
    /// Verified by the assistant (number + one factor). Unverified: verify before discussing
    /// the account.
    pub verified: bool,
}

/// One line of the account, as an agent reads it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccountLine {
    pub kind: &'static str,
    pub text: String,
}

/// A sentence of the conversation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Line {
    pub at_ms: u64,
    /// "caller", "assistant" or "agent".
    pub speaker: &'static str,
    pub text: String,
    /// The English translation, when the sentence is in another language.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub english: Option<String>,
}

/// The caller's mood now.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mood {
    pub state: State,
    pub frustration: f32,
    /// Rising > 0, calming < 0.
    pub trend: f32,
    pub evidence: Vec<String>,
}

/// Why the call came to a person.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Handover {
    pub reason: EscalationReason,
    pub intent: Option<Intent>,
    pub at_ms: u64,
}

/// The case file.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CaseFile {
    pub call_id: String,
    pub caller: Identity,
    /// Orders, payments due and refunds (only once verified).
    pub account: Vec<AccountLine>,
    pub previous_contacts: Vec<AccountLine>,
    pub language: Option<String>,
    pub accent: Option<Accent>,
    pub mood: Option<Mood>,
    pub intents: Vec<Intent>,
    pub handover: Option<Handover>,
    /// Notes from the assistant for the agent (a verification lock, ...).
    pub notes: Vec<String>,
    /// Every tool call the AI made, in order.
    pub ai_actions: Vec<ActionRecord>,
    /// What the caller asked for that is not done.
    pub open: Vec<String>,
    /// The caller's key sentences (extractive), with timestamps.
    pub summary: Vec<Line>,
    pub next_step: String,
    /// The whole conversation so far (masked like the rest).
    pub transcript: Vec<Line>,
    #[serde(skip)]
    secrets: Vec<String>,
    /// The agent of the newest previous contact that had one (routing affinity).
    #[serde(skip)]
    previous_agent: Option<String>,
}

use crate::privacy::mask_cards;

/// Replace `needle` where it is not part of a longer digit run.
fn replace_standalone(text: &str, needle: &str, with: &str) -> String {
    if needle.is_empty() {
        return text.to_string();
    }
    let mut out = String::new();
    let mut rest = text;
    while let Some(pos) = rest.find(needle) {
        let before = rest[..pos].chars().next_back();
        let after = rest[pos + needle.len()..].chars().next();
        let digit = |c: Option<char>| c.is_some_and(|c| c.is_ascii_digit());
        out.push_str(&rest[..pos]);
        out.push_str(if digit(before) || digit(after) { needle } else { with });
        rest = &rest[pos + needle.len()..];
    }
    out.push_str(rest);
    out
}

impl CaseFile {
    pub fn new(call_id: &str, number: &str) -> Self {
        Self {
            call_id: call_id.into(),
            caller: Identity { number: number.into(), ..Default::default() },
            next_step: "Greet the caller and ask how you can help.".into(),
            ..Default::default()
        }
    }

    /// Mask secrets in a sentence before it enters the file: card numbers, the PIN (not
    /// inside a longer number) and the date of birth, however it was said.
    fn mask(&self, text: &str) -> String {
        let mut t = mask_cards(text);
        for s in &self.secrets {
            t = replace_standalone(&t, s, "[secret]");
        }
        let dob = self.secrets.iter().find_map(|s| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok());
        let said = crate::assistant::entities::date(&t, chrono::Local::now().date_naive());
        if dob.is_some() && said == dob {
            return "[date of birth given]".into();
        }
        t
    }

    /// The customer the number matched, and whether the caller proved it.
    pub fn set_identity(&mut self, customer: Option<&Customer>, verified: bool) {
        if let Some(c) = customer {
            self.caller.customer_id = Some(c.id);
            self.caller.name = Some(c.name.clone());
            self.caller.market = Some(c.market.clone());
            self.caller.preferred_language = Some(c.language.clone());
            // The PIN as keyed and as spoken digit by digit ("1 2 3 4").
            let spaced: String = c.pin.chars().map(|ch| ch.to_string()).collect::<Vec<_>>().join(" ");
            self.secrets = vec![c.pin.clone(), spaced, c.date_of_birth.clone()];
            self.secrets.retain(|s| s.len() >= 4);
        }
        self.caller.verified = verified;
        if !verified {
            self.account.clear();
        }
        self.suggest();
    }

    /// The account (call only for a verified caller).
    pub fn set_account(&mut self, orders: &[Order], payments: &[Payment], refunds: &[Refund]) {
        if !self.caller.verified {
            return;
        }
        let mut lines = Vec::new();
        for o in orders.iter().take(5) {
            let items: Vec<&str> = o.items.iter().map(|i| i.name.as_str()).collect();
            let when = o.delivered_on.as_deref().or(o.expected_on.as_deref()).unwrap_or(&o.ordered_on);
            lines.push(AccountLine {
                kind: "order",
                text: format!(
                    "{} {} {} {} ({}) {when}",
                    o.number,
                    o.status.as_str(),
                    format_cents(o.total_cents),
                    o.currency,
                    items.join(", ")
                ),
            });
        }
        for p in payments.iter().filter(|p| p.status != PaymentStatus::Paid).take(3) {
            lines.push(AccountLine {
                kind: "payment",
                text: format!(
                    "{} {} due {} ({}, order {}, {}/{})",
                    format_cents(p.amount_cents),
                    p.currency,
                    p.due_on,
                    p.status.as_str(),
                    p.order_number,
                    p.instalment,
                    p.of_instalments
                ),
            });
        }
        for r in refunds.iter().take(3) {
            lines.push(AccountLine {
                kind: "refund",
                text: format!(
                    "{} {} on order {} ({})",
                    format_cents(r.amount_cents),
                    r.currency,
                    r.order_number,
                    r.status
                ),
            });
        }
        self.account = lines;
    }

    /// Earlier contacts, newest first (this call's own record excluded).
    pub fn set_contacts(&mut self, contacts: &[Interaction]) {
        let earlier: Vec<&Interaction> =
            contacts.iter().filter(|c| c.call_id.as_deref() != Some(self.call_id.as_str())).take(5).collect();
        self.previous_agent = earlier.iter().find_map(|c| c.agent.clone());
        self.previous_contacts = earlier
            .into_iter()
            .map(|c| AccountLine {
                kind: "contact",
                text: format!(
                    "{} {} {}{}{}",
                    c.started_at.get(..10).unwrap_or(&c.started_at),
                    c.channel,
                    c.outcome,
                    c.intent.as_deref().map(|i| format!(", {i}")).unwrap_or_default(),
                    c.agent.as_deref().map(|a| format!(", agent {a}")).unwrap_or_default()
                ),
            })
            .collect();
    }

    /// The agent who handled this customer last, if any.
    pub fn previous_agent(&self) -> Option<&str> {
        self.previous_agent.as_deref()
    }

    pub fn on_caller_turn(&mut self, at_ms: u64, text: &str, english: Option<&str>) {
        let line = Line {
            at_ms,
            speaker: "caller",
            text: self.mask(text),
            english: english.filter(|e| !e.trim().is_empty()).map(|e| self.mask(e)),
        };
        self.transcript.push(line);
        self.summarise();
    }

    pub fn on_assistant(&mut self, at_ms: u64, text: &str, intent: Option<Intent>, actions: &[ActionRecord]) {
        if !text.is_empty() {
            self.transcript.push(Line { at_ms, speaker: "assistant", text: self.mask(text), english: None });
        }
        if let Some(i) = intent.filter(|i| *i != Intent::Unknown && !self.intents.contains(i)) {
            self.intents.push(i);
        }
        self.ai_actions.extend(actions.iter().cloned());
        self.suggest();
    }

    pub fn on_agent_turn(&mut self, at_ms: u64, text: &str) {
        self.transcript.push(Line { at_ms, speaker: "agent", text: self.mask(text), english: None });
    }

    pub fn on_language(&mut self, language: &str) {
        self.language = Some(language.to_string());
    }

    pub fn on_accent(&mut self, accent: &Accent) {
        self.accent = Some(accent.clone());
    }

    pub fn on_state(&mut self, s: &TurnState, trend: f32) {
        self.mood = Some(Mood { state: s.state, frustration: s.frustration, trend, evidence: s.evidence.clone() });
        self.suggest();
    }

    /// An agent passed the call on: who, to whom, and their note for the next person.
    pub fn on_transfer(&mut self, from: &str, to: &str, note: &str) {
        let note = self.mask(note.trim());
        let line = match note.is_empty() {
            true => format!("Transferred by {from} to {to}."),
            false => format!("Transferred by {from} to {to}: {note}"),
        };
        self.open.push(line);
    }

    /// A note from the assistant for the agent (it also leads the next step).
    pub fn on_note(&mut self, note: &str) {
        let note = self.mask(note.trim());
        if !note.is_empty() && !self.notes.contains(&note) {
            self.notes.push(note);
        }
        self.suggest();
    }

    pub fn on_handover(&mut self, reason: EscalationReason, intent: Option<Intent>, at_ms: u64) {
        self.handover = Some(Handover { reason, intent, at_ms });
        if let Some(i) = intent.filter(|i| *i != Intent::Unknown && !self.intents.contains(i)) {
            self.intents.push(i);
        }
        self.suggest();
    }

    /// The caller's key sentences: the longest few (three words or more), in call order.
    fn summarise(&mut self) {
        let mut caller: Vec<&Line> = self
            .transcript
            .iter()
            .filter(|l| l.speaker == "caller" && l.text.split_whitespace().count() >= 3)
            .collect();
        caller.sort_by_key(|l| std::cmp::Reverse(l.text.len()));
        caller.truncate(4);
        caller.sort_by_key(|l| l.at_ms);
        self.summary = caller.into_iter().cloned().collect();
    }

    /// What is open (asked for, not done) and what to do first.
    fn suggest(&mut self) {
        // Whether a tool call served this family of requests. Requests only a person handles
        // are always open.
        let done = |skill: Skill| {
            self.ai_actions.iter().any(|a| {
                a.ok && match skill {
                    Skill::Orders => a.tool == "order_status",
                    Skill::Refunds => matches!(a.tool.as_str(), "request_refund" | "refunds"),
                    Skill::Payments => matches!(a.tool.as_str(), "payments" | "send_payment_link" | "postpone_payment"),
                    Skill::Account => matches!(a.tool.as_str(), "update_email" | "update_address" | "add_phone"),
                    _ => false,
                }
            })
        };
        self.open = self
            .intents
            .iter()
            .filter(|i| {
                let skill = Skill::from_intent(**i);
                skill != Skill::General && (i.needs_human() || !done(skill))
            })
            .map(|i| format!("{} (not completed by the assistant)", i.name().replace('_', " ")))
            .collect();
        let name = self.caller.name.clone().unwrap_or_else(|| "the caller".into());
        let first_open = self.open.first().cloned();
        let mut step = match self.handover.as_ref().map(|h| (h.reason, h.intent)) {
            Some((EscalationReason::VerificationFailed, _)) => {
                "The caller failed verification twice: verify identity another way before discussing the account."
                    .to_string()
            }
            Some((EscalationReason::VerificationLocked, _)) => self.notes.last().cloned().unwrap_or_else(|| {
                "Verification is locked after repeated failures: verify identity another way before discussing \
                 the account."
                    .into()
            }),
            Some((EscalationReason::CallerUpset, _)) => {
                format!("{name} is upset: acknowledge it first, then resolve what they asked.")
            }
            Some((EscalationReason::NeedsHuman, Some(Intent::Fraud))) => {
                "Suspected fraud: confirm the unrecognised charge, block the card or order, open a fraud case.".into()
            }
            Some((EscalationReason::NeedsHuman, Some(i))) => {
                format!("Handle the {} with care.", i.name().replace('_', " "))
            }
            Some((EscalationReason::LanguageNotServed, _)) => {
                format!(
                    "The caller speaks {}: answer in it or use the translation.",
                    self.language.as_deref().unwrap_or("another language")
                )
            }
            Some((EscalationReason::NotUnderstood, _)) => {
                "The assistant did not understand: ask the caller what they need (see their sentences).".into()
            }
            Some((EscalationReason::BackOfficeUnavailable, _)) => {
                "The back office was down for the assistant: check it before promising anything.".into()
            }
            Some((EscalationReason::LinesFull, _)) => {
                "Every line was taken when they called: nothing was transcribed and the assistant did not answer, \
                 so ask how you can help and verify the caller."
                    .into()
            }
            Some((EscalationReason::CallerNotIdentified, _)) => {
                "The number is not on file: find the customer by name, e-mail or order number, then verify.".into()
            }
            _ => format!("Greet {name} by name and ask how you can help."),
        };
        if let Some(o) = first_open {
            step.push_str(&format!(" Open: {o}."));
        }
        if !self.caller.verified && self.caller.customer_id.is_some() && !step.contains("verify") {
            step.push_str(" Not verified yet.");
        }
        self.next_step = step;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn john() -> Customer {
        Customer {
            id: 1,
            name: "John Carter".into(),
            email: "john@example.com".into(),
            street: "Maple Avenue 107".into(),
            postcode: "94107".into(),
            city: "San Francisco".into(),
            market: "US".into(),
            language: "en".into(),
            phones: vec!["+15550100".into()],
            date_of_birth: "1985-04-12".into(),
            pin: "1234".into(),
        }
    }

    #[test]
    fn card_numbers_pins_and_birth_dates_never_enter_the_file() {
        assert_eq!(mask_cards("my card is 4111 1111 1111 1111 ok"), "my card is [card number] ok");
        assert_eq!(mask_cards("order 45678 and 4111-1111-1111-1111"), "order 45678 and [card number]");
        let mut c = CaseFile::new("c1", "+15550100");
        c.set_identity(Some(&john()), false);
        c.on_caller_turn(1000, "my PIN is 1 2 3 4 and I was born 1985-04-12", None);
        c.on_caller_turn(2000, "it's 1234", None);
        c.on_caller_turn(2500, "order 81234 please", None);
        c.on_caller_turn(2600, "I was born on April 12th 1985", None);
        let json = serde_json::to_string(&c).unwrap();
        assert!(!json.contains("1 2 3 4") && !json.contains("it's 1234") && !json.contains("1985"), "{json}");
        assert!(json.contains("[secret]") && json.contains("[date of birth given]"), "{json}");
        assert!(json.contains("order 81234"), "a PIN inside a longer number is not a PIN: {json}");
    }

    #[test]
    fn the_account_shows_only_after_verification_and_the_next_step_follows_the_handover() {
        let mut c = CaseFile::new("c1", "+15550100");
        c.set_identity(Some(&john()), false);
        c.set_account(&[], &[], &[]);
        assert!(c.account.is_empty());
        assert!(c.next_step.contains("Not verified"), "{}", c.next_step);
        c.on_assistant(500, "How can I help?", Some(Intent::Refund), &[]);
        assert_eq!(c.open, vec!["refund (not completed by the assistant)"]);
        c.on_handover(EscalationReason::VerificationFailed, Some(Intent::Refund), 9000);
        assert!(c.next_step.contains("verify identity"), "{}", c.next_step);
        let mut locked = CaseFile::new("c2", "+15550100");
        locked.set_identity(Some(&john()), false);
        locked.on_note("Verification locked after 3 failed attempts in the last hour; verify by other means.");
        locked.on_handover(EscalationReason::VerificationLocked, Some(Intent::OrderStatus), 9000);
        assert!(locked.next_step.starts_with("Verification locked after 3 failed attempts"), "{}", locked.next_step);
        assert_eq!(locked.notes.len(), 1);
        c.on_caller_turn(3000, "I want my money back for the shoes that never fit", None);
        c.on_caller_turn(4000, "yes", None);
        assert_eq!(c.summary.len(), 1, "short answers are not key sentences");
        assert_eq!(c.summary[0].at_ms, 3000);
    }
}
