//! What the assistant says, in en, sv, de, fr and es: templates with numbers, amounts and
//! dates written the way each language reads them (the synthesiser reads digits in its own
//! language; order numbers are spaced out to be read digit by digit).

use chrono::NaiveDate;

mod format;
mod phrases;

pub use format::{birth_date, date, money};
pub use phrases::say;

/// Languages the assistant speaks.
pub const SERVED: &[&str] = &["en", "sv", "de", "fr", "es"];

/// A message, with its data.
#[derive(Debug, Clone, PartialEq)]
pub enum Msg {
    Welcome,
    /// The greeting with the AI notice: an AI answers, the voice is analysed.
    AiNotice,
    HowCanIHelp,
    AskVerification,
    VerificationRetry,
    /// The customer's verification is locked (nothing said about the factor given).
    VerificationLocked,
    Verified {
        name: String,
    },
    /// A spoken date of birth the recogniser was unsure of, read back before it is checked.
    CheckDateOfBirth {
        date: NaiveDate,
    },
    /// The caller said the date read back was wrong.
    SayDateOfBirthAgain,
    /// A spoken PIN the recogniser was unsure of: key it instead.
    KeyPin,
    AskOrderNumber,
    OrderNotFound {
        number: String,
    },
    OrderShipped {
        number: String,
        carrier: String,
        expected: Option<NaiveDate>,
    },
    OrderDelivered {
        number: String,
        on: NaiveDate,
    },
    OrderPlaced {
        number: String,
        expected: Option<NaiveDate>,
    },
    OrderCancelled {
        number: String,
    },
    OrderReturned {
        number: String,
    },
    RefundConfirm {
        number: String,
        item: String,
        amount: i64,
        currency: String,
    },
    RefundDone {
        amount: i64,
        currency: String,
    },
    /// The policy refused a refund or a postponement; `reason` says why.
    Refused {
        reason: String,
    },
    RefundStatus {
        amount: i64,
        currency: String,
        number: String,
        status: String,
    },
    NoRefunds,
    PaymentDue {
        amount: i64,
        currency: String,
        number: String,
        due: NaiveDate,
    },
    NoPaymentsDue,
    PayLinkConfirm {
        amount: i64,
        currency: String,
    },
    PayLinkSent,
    /// The card entry did not give a card: offer the link.
    PayLinkInstead,
    /// The assistant takes the instalment by card (the capture prompt follows).
    TakeCard {
        amount: i64,
        currency: String,
    },
    /// The card payment went through.
    CardPaid {
        amount: i64,
        currency: String,
    },
    /// The payment processor declined the card.
    CardDeclined,
    AskNewDate,
    PostponeConfirm {
        from: NaiveDate,
        to: NaiveDate,
    },
    PostponeDone {
        to: NaiveDate,
    },
    AskEmail,
    EmailConfirm {
        email: String,
    },
    Changed,
    NotChanged,
    AskPhone,
    /// The estimated wait for a person, in whole minutes (0: "shortly").
    EstimatedWait {
        minutes: u64,
    },
    PhoneConfirm {
        number: String,
    },
    AskAddress,
    AddressConfirm {
        street: String,
        postcode: String,
        city: String,
    },
    Handover,
    /// The agent's connection dropped; the caller is back at the front of the queue.
    AgentLost,
    /// Nobody could take the call: press 1 for a callback, or leave a message.
    CallbackOffer,
    /// A callback is booked to `number` (read out digit by digit).
    CallbackConfirmed {
        number: String,
    },
    /// The caller's message is saved.
    VoicemailSaved,
    /// Nobody could take a call that is not transcribed (it came in while the lines were
    /// full): press 1 for a callback, or keep waiting.
    CallbackOfferKeys,
    /// Every line is taken: the call goes to the next free person.
    LinesFull,
    /// Every line is taken: a callback to `number` is booked, goodbye.
    LinesFullCallback {
        number: String,
    },
    /// Every line is taken and there is no number to call back: please call again later.
    LinesFullTryLater,
    /// An agent passes the call to a colleague.
    Transferring,
    /// The caller did not answer the callback offer: they keep waiting.
    BackInQueue,
    /// Secure card capture: key the card number, then #.
    CardCapturePrompt,
    /// The keyed card number is valid (its last four digits read back).
    CardCaptured {
        last4: String,
    },
    /// The keyed number is not a valid card number.
    CardInvalid,
    /// Nothing (complete) was keyed in time, or the caller cancelled.
    CardCaptureStopped,
    DidNotUnderstand,
    AnythingElse,
    YouAreWelcome,
    Goodbye,
    BackOfficeDown,
    StillThere,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_money_per_language() {
        let d = NaiveDate::from_ymd_opt(2026, 12, 17).unwrap();
        assert_eq!(date("en", d), "Thursday, December 17th");
        assert_eq!(date("sv", d), "torsdag den 17 december");
        assert_eq!(date("de", d), "Donnerstag, den 17. Dezember");
        assert_eq!(date("fr", d), "jeudi 17 décembre");
        assert_eq!(date("es", d), "jueves 17 de diciembre");
        assert_eq!(date("en", NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()), "Tuesday, December 1st");
        assert_eq!(date("en", NaiveDate::from_ymd_opt(2026, 12, 11).unwrap()), "Friday, December 11th");
        let born = NaiveDate::from_ymd_opt(1985, 4, 12).unwrap();
        assert_eq!(birth_date("en", born), "April 12th, 1985");
        assert_eq!(birth_date("de", born), "12. April 1985");
        assert_eq!(birth_date("es", born), "12 de abril de 1985");
        assert_eq!(money("en", 4300, "USD"), "43 dollars");
        assert_eq!(money("en", 6633, "USD"), "66.33 dollars");
        assert_eq!(money("sv", 53000, "SEK"), "530 kronor");
        assert_eq!(money("de", 4550, "EUR"), "45,50 Euro");
    }

    #[test]
    fn every_message_in_every_language() {
        let d = NaiveDate::from_ymd_opt(2026, 12, 17).unwrap();
        let msg = Msg::OrderShipped { number: "45678".into(), carrier: "DHL".into(), expected: Some(d) };
        assert_eq!(
            say("en", &msg),
            "Order 4 5 6 7 8 is on its way with DHL. It should arrive on Thursday, December 17th."
        );
        assert!(say("sv", &msg).contains("torsdag den 17 december"));
        assert!(say("de", &msg).starts_with("Die Bestellung 4 5 6 7 8"));
        assert_eq!(say("xx", &Msg::Goodbye), say("en", &Msg::Goodbye), "unserved language falls back to English");
        for lang in SERVED {
            let callback = Msg::LinesFullCallback { number: "+15550199".into() };
            for m in
                [Msg::Welcome, Msg::AskVerification, Msg::Handover, Msg::DidNotUnderstand, Msg::LinesFull, callback]
            {
                assert!(!say(lang, &m).contains('{'), "{lang} {m:?}");
            }
        }
    }
}
