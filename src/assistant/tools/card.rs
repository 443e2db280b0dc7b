//! A card number keyed during secure capture, on its way to the one tool that takes it
//! (`BackOffice::pay_by_card`). It never prints, never serialises, and its digits are wiped
//! when it is dropped: what anything else sees is its brand and last four digits.

/// The Luhn check over ASCII digits.
pub fn luhn(digits: &[u8]) -> bool {
    let mut sum = 0u32;
    for (i, d) in digits.iter().rev().enumerate() {
        let mut v = d.wrapping_sub(b'0') as u32;
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    sum % 10 == 0
}

/// The card scheme by its leading digits (the common ones; "card" otherwise).
pub fn brand(digits: &[u8]) -> &'static str {
    let prefix =
        |n: usize| std::str::from_utf8(&digits[..n.min(digits.len())]).ok().and_then(|s| s.parse::<u32>().ok());
    match (digits.first(), prefix(2), prefix(4)) {
        (Some(b'4'), _, _) => "visa",
        (_, Some(51..=55), _) | (_, _, Some(2221..=2720)) => "mastercard",
        (_, Some(34 | 37), _) => "amex",
        (_, _, Some(6011)) | (_, Some(65), _) => "discover",
        _ => "card",
    }
}

/// Whether keyed digits make a card number: 13-19 digits that pass the Luhn check.
pub fn is_card(digits: &[u8]) -> bool {
    (13..=19).contains(&digits.len()) && digits.iter().all(u8::is_ascii_digit) && luhn(digits)
}

/// Overwrite digits with zeros (kept from being optimised away as a dead store).
pub fn wipe(digits: &mut [u8]) {
    digits.fill(0);
    std::hint::black_box(&*digits);
}

/// A valid card number. Built only from keyed digits ([`CardNumber::from_keys`]).
pub struct CardNumber {
    digits: Vec<u8>,
}

impl CardNumber {
    /// The card these keys make, or `None` (the digits are wiped either way).
    pub fn from_keys(mut digits: Vec<u8>) -> Option<Self> {
        if is_card(&digits) {
            Some(Self { digits })
        } else {
            wipe(&mut digits);
            None
        }
    }

    pub fn brand(&self) -> &'static str {
        brand(&self.digits)
    }

    pub fn last4(&self) -> String {
        String::from_utf8_lossy(&self.digits[self.digits.len() - 4..]).into_owned()
    }

    /// The full number, for the payment request only.
    pub fn reveal(&self) -> &str {
        std::str::from_utf8(&self.digits).unwrap_or_default()
    }
}

impl std::fmt::Debug for CardNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CardNumber({} ending in {})", self.brand(), self.last4())
    }
}

impl Drop for CardNumber {
    fn drop(&mut self) {
        wipe(&mut self.digits);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_and_brands() {
        assert!(luhn(b"4111111111111111"));
        assert!(!luhn(b"4111111111111112"));
        assert_eq!(brand(b"4111111111111111"), "visa");
        assert_eq!(brand(b"5555555555554444"), "mastercard");
        assert_eq!(brand(b"2223003122003222"), "mastercard");
        assert_eq!(brand(b"378282246310005"), "amex");
        assert_eq!(brand(b"6011111111111117"), "discover");
        assert_eq!(brand(b"3530111333300000"), "card");
        assert!(!is_card(b"1234"), "too short");
        assert!(!is_card(b""));
        assert!(!is_card(b"41111111111111x1"));
    }

    #[test]
    fn a_card_prints_as_its_brand_and_last_four_only() {
        let card = CardNumber::from_keys(b"4111111111111111".to_vec()).unwrap();
        assert_eq!(format!("{card:?}"), "CardNumber(visa ending in 1111)");
        assert_eq!(card.reveal(), "4111111111111111");
        assert!(CardNumber::from_keys(b"4111111111111112".to_vec()).is_none());
    }

    #[test]
    fn a_wiped_number_is_zeros() {
        let mut d = b"4111111111111111".to_vec();
        wipe(&mut d);
        assert!(d.iter().all(|b| *b == 0));
    }
}
