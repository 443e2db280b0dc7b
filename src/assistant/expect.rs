//! What the assistant's open question expects as an answer, for the end of the caller's turn
//! ([`crate::pipeline::endpoint`]): an order number read digit by digit, a date of birth or a
//! PIN, a new payment date, yes or no, a phone number. Judged with the same parsers the
//! dialogue reads the answer with ([`super::entities`]), so "the turn is over" and "the answer
//! is understood" agree.

use chrono::NaiveDate;

use super::entities;
use crate::pipeline::endpoint::{Answer, Expectation};

/// The answers whose decoding `switchboard eval answers` measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Date,
    OrderNumber,
    Pin,
}

/// A Whisper prompt for an answer of this kind: an example in the format the parsers read
/// (digits, a date with its year), so the recogniser writes the answer that way.
pub fn prompt(kind: Kind) -> &'static str {
    match kind {
        Kind::Date => "Date of birth: June 3rd, 1964.",
        Kind::OrderNumber => "Order number: 2 7 4 9 1.",
        Kind::Pin => "PIN: 5 0 8 3.",
    }
}

/// The prompt a call decodes an answer of this kind with: only where `switchboard eval
/// answers` measured a gain (order numbers). Dates of birth and PINs are asked for together
/// ("your date of birth, or your PIN"), so they share one.
pub fn prompt_for(kind: Kind) -> Option<&'static str> {
    match kind {
        Kind::OrderNumber => Some(prompt(Kind::OrderNumber)),
        Kind::Date | Kind::Pin => None,
    }
}

/// Below this confidence ([`crate::pipeline::asr::confidence`]) a spoken date of birth is read
/// back to the caller before it is checked, and a spoken PIN is asked for on the keypad: a
/// misheard factor would count as a failed verification. The default for
/// `[assistant.policy] read_back_below`; `switchboard eval answers` prints what it catches.
pub const READ_BACK_BELOW: f32 = 0.5;

/// A month's name (English, Swedish, German, Spanish, French: what the date parser reads).
fn names_a_month(text: &str) -> bool {
    text.to_lowercase().split(|c: char| !c.is_alphabetic()).any(|w| entities::month(w).is_some())
}

fn digits_so_far(text: &str) -> usize {
    entities::digit_runs(text).iter().map(|r| r.len()).max().unwrap_or(0)
}

/// An order number: five or six digits. Decoded with the digits prompt, which measured better
/// on spoken order numbers over the phone (`switchboard eval answers`).
pub fn order_number() -> Expectation {
    Expectation::new("order number", |t: &str| match entities::order_number(t) {
        Some(_) => Answer::Complete,
        None if digits_so_far(t) > 0 => Answer::Partial,
        None => Answer::Nothing,
    })
    .with_prompt(prompt_for(Kind::OrderNumber))
}

/// A date ("April twelfth, 1985", "12/04/1985"), `today` for relative dates.
pub fn date(today: NaiveDate) -> Expectation {
    Expectation::new("date", move |t: &str| date_answer(t, today))
}

fn date_answer(t: &str, today: NaiveDate) -> Answer {
    if entities::date(t, today).is_some() {
        // "April twelfth" is a date, but a year may follow: wait for it unless there is one.
        let year = entities::digit_runs(t).iter().any(|r| r.len() == 4) || t.to_lowercase().contains("nineteen");
        return if year || !names_a_month(t) { Answer::Complete } else { Answer::Partial };
    }
    if names_a_month(t) || digits_so_far(t) > 0 {
        Answer::Partial
    } else {
        Answer::Nothing
    }
}

/// Identity: a date of birth or a four-digit PIN.
pub fn date_of_birth_or_pin(today: NaiveDate) -> Expectation {
    Expectation::new("date of birth or PIN", move |t: &str| {
        if entities::pin(t).is_some() && !names_a_month(t) {
            return Answer::Complete;
        }
        date_answer(t, today)
    })
    .with_prompt(prompt_for(Kind::Date))
}

/// Yes or no.
pub fn yes_no() -> Expectation {
    Expectation::new("yes or no", |t: &str| match entities::yes_no(t) {
        Some(_) => Answer::Complete,
        None => Answer::Nothing,
    })
}

/// A phone number with its country code: complete at ten digits or more (E.164 allows 8 to 15,
/// so a shorter number ends on the model's word or the silence).
pub fn phone_number() -> Expectation {
    Expectation::new("phone number", |t: &str| {
        let n: usize = entities::digit_runs(t).iter().map(|r| r.len()).sum();
        match n {
            0 => Answer::Nothing,
            10.. => Answer::Complete,
            _ => Answer::Partial,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 5).unwrap()
    }

    #[test]
    fn an_order_number_read_slowly_is_partial_until_it_is_whole() {
        let e = order_number();
        assert_eq!(e.judge("Yes, it's four five"), Answer::Partial);
        assert_eq!(e.judge("4, 5, 6"), Answer::Partial);
        assert_eq!(e.judge("4, 5, 6, 7, 8."), Answer::Complete);
        assert_eq!(e.judge("I don't have it"), Answer::Nothing);
    }

    #[test]
    fn a_date_of_birth_waits_for_its_year() {
        let e = date_of_birth_or_pin(today());
        assert_eq!(e.judge("April"), Answer::Partial);
        assert_eq!(e.judge("April twelfth"), Answer::Partial);
        assert_eq!(e.judge("April twelfth, 1985."), Answer::Complete);
        assert_eq!(e.judge("1234"), Answer::Complete);
        assert_eq!(e.judge("Sorry, who is this?"), Answer::Nothing);
    }

    #[test]
    fn yes_no_and_phone_numbers() {
        assert_eq!(yes_no().judge("Yes, that's right."), Answer::Complete);
        assert_eq!(yes_no().judge("Well"), Answer::Nothing);
        assert_eq!(phone_number().judge("plus 46 70"), Answer::Partial);
        assert_eq!(phone_number().judge("plus 46 70 123 45 67"), Answer::Complete);
    }
}
