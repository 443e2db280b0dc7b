//! What the assistant's open question expects as an answer, for the end of the caller's turn
//! ([`crate::pipeline::endpoint`]): an order number read digit by digit, a date of birth or a
//! PIN, a new payment date, yes or no, a phone number. Judged with the same parsers the
//! dialogue reads the answer with ([`super::entities`]), so "the turn is over" and "the answer
//! is understood" agree.

use std::sync::{Arc, Mutex};

use chrono::{Datelike, NaiveDate};

use super::entities;
use crate::pipeline::asr::form::{one_of, AnswerForm};
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

/// How callers begin any answer, as Whisper writes it ("Yes, it's ...").
#[rustfmt::skip]
const LEADS: &[&str] = &[
    "it's", "it is", "it was", "that's", "that is", "that would be", "yes", "yeah", "yep", "sure",
    "okay", "ok", "so", "um", "uh", "er", "oh", "well", "right",
];

/// How callers begin a date of birth ("My date of birth is ...").
#[rustfmt::skip]
const DATE_OF_BIRTH_LEADS: &[&str] = &[
    "my date of birth is", "date of birth", "my birthday is", "my birth date is", "i was born on",
    "born on", "i was born", "the date is",
];

/// How callers begin a PIN ("My PIN is ...").
#[rustfmt::skip]
const PIN_LEADS: &[&str] = &["my pin is", "my pin number is", "my pin code is", "the pin is", "pin"];

#[rustfmt::skip]
const MONTHS: &[&str] = &[
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
    "november", "december",
];

/// Lead-in words (any answer's, and these), then `body`.
fn led(leads: &[&str], body: &str) -> String {
    format!(r"(?:{}[,.:]? )*(?:{body})", one_of(LEADS.iter().chain(leads)))
}

/// A whole answer from its alternatives, then at most a full stop (or the comma Whisper writes
/// before it would repeat the answer).
fn answer_pattern(alternatives: &[String]) -> String {
    format!(r" ?(?:{})[.,!]?", alternatives.join("|"))
}

/// Digits as Whisper writes a number read digit by digit: "45678", "4 5 6 7 8", "4, 5, 6, 7, 8".
fn digits_pattern(n: &str) -> String {
    format!(r"[0-9](?:(?:, | |-)?[0-9]){{{n}}}")
}

/// A date of birth as Whisper writes one: "April 12th, 1985", "the 12th of April, 1985",
/// "12/04/1985". Years from 1900 to 16 years before `today` (account holders), so a year the
/// caller cannot have been born in is never the reading.
fn date_of_birth_pattern(today: NaiveDate) -> String {
    let month = one_of(MONTHS);
    let day = format!(r"(?:(?:0?[1-9]|[12][0-9]|3[01])(?:st|nd|rd|th)?|{})", one_of(entities::day_words()));
    let year = one_of((1900..=today.year() - 16).map(|y| y.to_string()));
    format!(
        r"(?:the )?{day}(?: of)? {month},? {year}|{month}(?: the)? {day},? {year}|[0-9]{{1,2}}[/.-][0-9]{{1,2}}[/.-]{year}"
    )
}

/// A PIN said as the answer to "date of birth or PIN": four digits, and no month.
fn spoken_pin(t: &str) -> Option<String> {
    entities::pin(t).filter(|_| !names_a_month(t))
}

/// What a date-of-birth-or-PIN answer reads as: the PIN, or the date (ISO).
fn read_identity(t: &str, today: NaiveDate) -> Option<String> {
    spoken_pin(t).or_else(|| entities::date(t, today).map(|d| d.to_string()))
}

/// Whether a free decode is worth re-reading held to the identity form: a PIN, or a month with
/// a year ("May 30, 2017": a date the caller finished, whatever the recogniser made of it). A
/// date still under way ("April twelfth") is never re-read, so a year the caller has not said
/// is never made up.
fn identity_attempted(t: &str) -> bool {
    spoken_pin(t).is_some() || (names_a_month(t) && has_year(t))
}

/// A number of four digits on its own ("2017" in "May 30, 2017"; not "302017").
fn has_year(t: &str) -> bool {
    t.split(|c: char| !c.is_ascii_digit()).any(|run| run.len() == 4) || t.to_lowercase().contains("nineteen")
}

/// The form of a date of birth or a PIN (built once a year: its years depend on today).
pub fn identity_form(today: NaiveDate) -> Option<Arc<AnswerForm>> {
    static CACHE: Mutex<Option<(i32, Option<Arc<AnswerForm>>)>> = Mutex::new(None);
    let mut cache = CACHE.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((_, form)) = cache.as_ref().filter(|(year, _)| *year == today.year()) {
        return form.clone();
    }
    let pattern = answer_pattern(&[
        led(DATE_OF_BIRTH_LEADS, &date_of_birth_pattern(today)),
        led(PIN_LEADS, &digits_pattern("3")),
    ]);
    let form = AnswerForm::new("date of birth or PIN", &pattern, identity_attempted, move |t| read_identity(t, today))
        .map(Arc::new)
        .map_err(|e| tracing::error!("{e}"))
        .ok();
    *cache = Some((today.year(), form.clone()));
    form
}

/// The form a call holds an answer of this kind to (`switchboard eval answers` measures it).
pub fn form_for(kind: Kind, today: NaiveDate) -> Option<Arc<AnswerForm>> {
    match kind {
        // Held to five or six digits, tiny.en's echo of the number ("8 1 6 4 3 8 1") becomes a
        // sixth digit: order numbers measured worse held than free (12/30 against 18/30).
        Kind::OrderNumber => None,
        Kind::Date | Kind::Pin => identity_form(today),
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
        return if has_year(t) || !names_a_month(t) { Answer::Complete } else { Answer::Partial };
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
        if spoken_pin(t).is_some() {
            return Answer::Complete;
        }
        date_answer(t, today)
    })
    .with_prompt(prompt_for(Kind::Date))
    .with_form(identity_form(today))
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
    fn the_identity_form_takes_dates_of_birth_and_pins_as_whisper_writes_them() {
        let f = identity_form(today()).unwrap();
        for ok in [
            " April 12th, 1985.",
            " It's May 30th, 1978.",
            " My date of birth is the 15th of August, 1992.",
            " Yes, it's 12 April 1985",
            " 12/04/1985",
            " 1, 2, 3, 4.",
            " My PIN is 2580.",
        ] {
            assert!(f.accepts(ok), "{ok}");
        }
        for not in [
            " April 12th",
            " May 30, 2017.",
            " 1, 2, 3",
            " 12345",
            " Can I talk to a person?",
            " April 32nd, 1985",
            " My date of birth is 2015,",
            " My PIN is April 12th, 1985.",
        ] {
            assert!(!f.accepts(not), "{not}");
        }
        assert!(f.allows_prefix(" May 30, 19"));
        assert!(f.allows_prefix(" May 30, 200"));
        assert!(!f.allows_prefix(" May 30, 2017"), "born 2017 is no account holder");
        assert_eq!(f.read(" It's May 30th, 1978."), Some("1978-05-30".into()));
        assert_eq!(f.read(" 1, 2, 3, 4."), Some("1234".into()));
    }

    #[test]
    fn a_form_re_reads_only_a_whole_answer() {
        let f = identity_form(today()).unwrap();
        assert!(f.attempted(" May 30, 2017."), "a whole (if unlikely) date");
        assert!(f.attempted(" 1, 2, 3, 4."));
        assert!(!f.attempted(" April twelfth"), "a date still under way is never completed by the form");
        assert!(!f.attempted(" April 12th,"));
        assert!(!f.attempted(" Can I talk to a person?"));
        assert!(form_for(Kind::OrderNumber, today()).is_none(), "order numbers measured worse held");
        // The year check reads "2017" in "30, 2017" (digit runs join across commas).
        assert_eq!(date_of_birth_or_pin(today()).judge(" It's May 30, 2017."), Answer::Complete);
    }

    #[test]
    fn yes_no_and_phone_numbers() {
        assert_eq!(yes_no().judge("Yes, that's right."), Answer::Complete);
        assert_eq!(yes_no().judge("Well"), Answer::Nothing);
        assert_eq!(phone_number().judge("plus 46 70"), Answer::Partial);
        assert_eq!(phone_number().judge("plus 46 70 123 45 67"), Answer::Complete);
    }
}
