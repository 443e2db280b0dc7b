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

/// What a masked card number reads as.
pub const CARD: &str = "[card number]";

/// Digits in a masked run, at least.
const MIN_DIGITS: usize = 13;

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

/// `text` with every card-like number replaced by [`CARD`].
pub fn mask_cards(text: &str) -> String {
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
        if digits >= MIN_DIGITS {
            out.push_str(&text[copied..i]);
            out.push_str(CARD);
            copied = end;
        }
        i = end;
    }
    out.push_str(&text[copied..]);
    out
}

/// Whether `text` holds a card-like number.
pub fn has_card(text: &str) -> bool {
    mask_cards(text) != text
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
            assert!(!has_card(keep));
        }
        // Twelve digits stay; thirteen go.
        assert_eq!(mask_cards("123456789012"), "123456789012");
        assert_eq!(mask_cards("1234567890123"), CARD);
        assert!(has_card("it is 4111 1111 1111 1111"));
    }
}
