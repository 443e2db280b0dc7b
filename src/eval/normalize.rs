//! The text normaliser used before word error rates are computed.
//!
//! Rules, applied to reference and hypothesis alike:
//! 1. Lower-case; curly quotes become straight ones.
//! 2. Hyphens, slashes and dashes separate words ("twenty-one" -> "twenty one").
//! 3. Numbers written with digits become words: a leading-zero or 5+ digit run is read digit by
//!    digit ("45678" -> "four five six seven eight", as callers read order numbers); 1100-1999
//!    and 2010-2099 are read as years ("1984" -> "nineteen eighty four"); other numbers as
//!    cardinals ("250" -> "two hundred fifty"); ordinals "1st".."99th" too; "%" -> "percent".
//! 4. All punctuation except apostrophes inside words is removed; white space is collapsed.

const ONES: [&str; 20] = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
];
const TENS: [&str; 10] = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"];

fn below_hundred(n: u64, out: &mut Vec<String>) {
    if n < 20 {
        out.push(ONES[n as usize].into());
    } else {
        out.push(TENS[(n / 10) as usize].into());
        if n % 10 != 0 {
            out.push(ONES[(n % 10) as usize].into());
        }
    }
}

/// Cardinal number in words ("one thousand two hundred five").
pub fn cardinal(n: u64) -> Vec<String> {
    let mut out = Vec::new();
    if n == 0 {
        return vec!["zero".into()];
    }
    let mut rest = n;
    for (scale, name) in [(1_000_000_000, "billion"), (1_000_000, "million"), (1_000, "thousand")] {
        if rest >= scale {
            out.extend(cardinal(rest / scale));
            out.push(name.into());
            rest %= scale;
        }
    }
    if rest >= 100 {
        out.push(ONES[(rest / 100) as usize].into());
        out.push("hundred".into());
        rest %= 100;
    }
    if rest > 0 {
        below_hundred(rest, &mut out);
    }
    out
}

fn number_words(digits: &str) -> Vec<String> {
    let by_digit = || digits.chars().map(|c| ONES[c.to_digit(10).unwrap_or(0) as usize].to_string()).collect();
    if digits.len() >= 5 || (digits.len() > 1 && digits.starts_with('0')) {
        return by_digit();
    }
    let Ok(n) = digits.parse::<u64>() else { return by_digit() };
    if digits.len() == 4 && ((1100..2000).contains(&n) || (2010..2100).contains(&n)) {
        let mut out = Vec::new();
        below_hundred(n / 100, &mut out);
        if n % 100 == 0 {
            out.push("hundred".into());
        } else if n % 100 < 10 {
            out.push("oh".into());
            below_hundred(n % 100, &mut out);
        } else {
            below_hundred(n % 100, &mut out);
        }
        return out;
    }
    cardinal(n)
}

fn ordinal(mut words: Vec<String>) -> Vec<String> {
    if let Some(last) = words.pop() {
        let o = match last.as_str() {
            "one" => "first".to_string(),
            "two" => "second".into(),
            "three" => "third".into(),
            "five" => "fifth".into(),
            "eight" => "eighth".into(),
            "nine" => "ninth".into(),
            "twelve" => "twelfth".into(),
            w if w.ends_with('y') => format!("{}ieth", &w[..w.len() - 1]),
            w => format!("{w}th"),
        };
        words.push(o);
    }
    words
}

/// Normalise text for scoring; returns the words.
pub fn normalize(text: &str) -> Vec<String> {
    let mut s = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\u{2018}' | '\u{2019}' => s.push('\''),
            '-' | '/' | '\u{2013}' | '\u{2014}' => s.push(' '),
            '%' => s.push_str(" percent "),
            _ => s.extend(c.to_lowercase()),
        }
    }
    let mut out = Vec::new();
    for raw in s.split_whitespace() {
        // "1,000" -> "1000"; keep letters, digits and inner apostrophes.
        let token: String = raw.chars().filter(|c| c.is_alphanumeric() || *c == '\'').collect();
        let token = token.trim_matches('\'').to_string();
        if token.is_empty() {
            continue;
        }
        let digits: String = token.chars().take_while(|c| c.is_ascii_digit()).collect();
        if !digits.is_empty() {
            let suffix = &token[digits.len()..];
            if suffix.is_empty() && raw.contains(',') {
                // "1,200" is a quantity, never a year or a digit string.
                out.extend(cardinal(digits.parse().unwrap_or(0)));
                continue;
            }
            if suffix.is_empty() {
                out.extend(number_words(&digits));
                continue;
            }
            if matches!(suffix, "st" | "nd" | "rd" | "th") {
                out.extend(ordinal(cardinal(digits.parse().unwrap_or(0))));
                continue;
            }
        }
        out.push(token);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> String {
        normalize(s).join(" ")
    }

    #[test]
    fn punctuation_case_and_hyphens() {
        assert_eq!(n("Hello, World! It's twenty-one."), "hello world it's twenty one");
        assert_eq!(n("\u{2018}Quoted\u{2019} -- dash"), "quoted dash");
    }

    #[test]
    fn numbers_become_words() {
        assert_eq!(n("The order number is 45678."), "the order number is four five six seven eight");
        assert_eq!(n("In 1984 I paid 250 dollars"), "in nineteen eighty four i paid two hundred fifty dollars");
        assert_eq!(n("1,200 items, 50% off"), "one thousand two hundred items fifty percent off");
        assert_eq!(n("PIN 0042"), "pin zero zero four two");
        assert_eq!(n("the 21st and 3rd"), "the twenty first and third");
        assert_eq!(n("1905 2000 2024"), "nineteen oh five two thousand twenty twenty four");
    }
}
