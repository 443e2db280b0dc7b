//! Keeping payment card numbers out of everything the system writes.
//!
//! A caller who reads out a card number must not find it in a transcript, a partial, an event,
//! a recording's sidecar, a log line or a stored record. Speech recognisers write a spoken
//! number in many shapes: "4111 1111 1111 1111", "4111-1111-...", "4,111,111,111,...",
//! "4111.1111.1111.1111", "four one one one ...", or a mix. [`mask_cards`] finds a run of
//! digits and English digit words joined by short separators (spaces, hyphens, commas, dots)
//! and masks it when it holds 13 or more digits.
//!
//! Every run of 13+ digits is masked, not only those that pass the Luhn check: a card number
//! the recogniser got one digit wrong fails Luhn but is still the caller's card. (Runs longer
//! than 19 digits are masked too: recognisers repeat groups, as in the comma form above.)
//! Phone numbers in E.164 have at most 15 digits, so a 13-15 digit phone number is masked as
//! well; order numbers, PINs, dates and amounts are shorter and stay.
//!
//! A card number is also masked before it is whole: in a sentence about a card ("card",
//! "Visa", "Karte", ...) and in a partial (the sentence still being spoken), any run of 7 or
//! more digits is masked, so the recogniser's "4539 14880343" on the way to sixteen digits never
//! shows. PCI DSS allows at most the first six digits to be shown, and order numbers and PINs
//! have fewer than seven.

/// What a masked card number reads as.
pub const CARD: &str = "[card number]";

/// Digits in a masked run, at least.
const MIN_DIGITS: usize = 13;
/// Digits in a masked run in a sentence about a card, or still being spoken: more than the
/// first six that PCI DSS allows to be shown.
const MIN_DIGITS_NEAR_CARD: usize = 7;

/// Words that say a sentence is about a payment card, in the served languages.
const CARD_WORDS: [&str; 14] = [
    "card",
    "visa",
    "mastercard",
    "amex",
    "credit",
    "debit",
    "karte",
    "kreditkarte",
    "tarjeta",
    "carte",
    "kort",
    "kortnummer",
    "cvv",
    "cvc",
];

/// Whether `text` talks about a payment card.
fn about_a_card(text: &str) -> bool {
    text.split(|c: char| !c.is_alphanumeric()).any(|w| CARD_WORDS.iter().any(|k| k.eq_ignore_ascii_case(w)))
}

/// An English digit word's value ("oh" is how people say 0 in numbers).
fn digit_word(w: &str) -> bool {
    const WORDS: [&str; 11] = ["zero", "oh", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"];
    WORDS.iter().any(|d| d.eq_ignore_ascii_case(w))
}

/// The unit (a digit string or a digit word) starting at byte `i`: its end and digit count.
fn unit_at(text: &str, i: usize) -> Option<(usize, usize)> {
    let rest = &text[i..];
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits > 0 {
        return Some((i + digits, digits));
    }
    // A word, only at a word start.
    if text[..i].chars().next_back().is_some_and(char::is_alphanumeric) {
        return None;
    }
    let len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
    (len > 0 && digit_word(&rest[..len])).then_some((i + len, 1))
}

/// The separator between two units: at most two of space, hyphen, comma, dot.
fn separator_at(text: &str, i: usize) -> usize {
    text[i..].bytes().take(2).take_while(|b| matches!(b, b' ' | b'-' | b',' | b'.')).count()
}

/// `text` with every card-like number replaced by [`CARD`]: runs of 13+ digits, or of 7+ in a
/// sentence about a card.
pub fn mask_cards(text: &str) -> String {
    let min = if about_a_card(text) { MIN_DIGITS_NEAR_CARD } else { MIN_DIGITS };
    mask_runs(text, min)
}

/// [`mask_cards`] for text still being spoken (a partial): runs of 7+ digits, a card number on
/// its way.
pub fn mask_cards_in_progress(text: &str) -> String {
    mask_runs(text, MIN_DIGITS_NEAR_CARD)
}

fn mask_runs(text: &str, min_digits: usize) -> String {
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut i = 0;
    while i < text.len() {
        let Some((mut end, mut digits)) = unit_at(text, i) else {
            i += text[i..].chars().next().map_or(1, char::len_utf8);
            continue;
        };
        // Extend the run over separator + unit pairs (a word unit always ends at a word
        // boundary: `unit_at` takes the whole word).
        loop {
            let sep = separator_at(text, end);
            match unit_at(text, end + sep) {
                Some((e, d)) if sep > 0 => {
                    end = e;
                    digits += d;
                }
                _ => break,
            }
        }
        if digits >= min_digits {
            out.push_str(&text[copied..i]);
            out.push_str(CARD);
            copied = end;
        }
        i = end;
    }
    out.push_str(&text[copied..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_card_numbers_in_every_shape_a_recogniser_writes() {
        for said in [
            "my card is 4111 1111 1111 1111 ok",
            "my card is 4111-1111-1111-1111 ok",
            "my card is 4111111111111111 ok",
            "my card is 4,111,111,111,111,111,111,111,111,111 ok",
            "my card is 4111,1111,1111,1111 ok",
            "my card is 4111.1111.1111.1111 ok",
            "my card is 4111, 1111, 1111, 1111 ok",
            "my card is four one one one one one one one one one one one one one one one ok",
            "my card is Four, one, one, one, 1111 1111 1111 ok",
            "my card is 4111 1111 1111 1112 ok",
        ] {
            assert_eq!(mask_cards(said), "my card is [card number] ok", "{said}");
        }
        assert_eq!(mask_cards("4111 1111 1111 1111"), CARD);
        assert_eq!(
            mask_cards("cards 4111 1111 1111 1111 and 5500 0000 0000 0004."),
            "cards [card number] and [card number]."
        );
    }

    #[test]
    fn a_card_number_on_its_way_is_masked_too() {
        // What a recogniser shows while the number is still being read out.
        assert_eq!(mask_cards_in_progress("my card number is 4539 14880343"), "my card number is [card number]");
        assert_eq!(mask_cards_in_progress("it is 4539 148"), "it is [card number]");
        assert_eq!(mask_cards_in_progress("order 45678, PIN 1234"), "order 45678, PIN 1234");
        // A final about a card with fewer than 13 digits heard.
        assert_eq!(mask_cards("My Visa is 4539 14880343."), "My Visa is [card number].");
        assert_eq!(mask_cards("Meine Karte: 4539 1488 034"), "Meine Karte: [card number]");
        // Without a card in the sentence, a phone number stays.
        assert_eq!(mask_cards("call me on 0171 2345678"), "call me on 0171 2345678");
    }

    #[test]
    fn leaves_short_numbers_and_ordinary_words() {
        for keep in [
            "order 45678, PIN 1 2 3 4, born 1985-04-12",
            "I paid 1,234.56 on 12.05.2026",
            "one of my two orders is 45678",
            "someone phoned at nine",
            "the order number is four five six seven eight",
            "",
            "ünïcödé 12 straße",
        ] {
            assert_eq!(mask_cards(keep), keep);
        }
        // Twelve digits stay; thirteen go.
        assert_eq!(mask_cards("123456789012"), "123456789012");
        assert_eq!(mask_cards("1234567890123"), CARD);
        assert_ne!(mask_cards("it is 4111 1111 1111 1111"), "it is 4111 1111 1111 1111");
    }
}
