//! Dates as callers say them: absolute ("April twelfth, 1985", "12/04/1985"), relative
//! ("next Friday", "in two weeks") and the words that name months, weekdays and days.

use chrono::{Datelike, Duration, NaiveDate, Weekday};

use super::number_words;

/// The month a word names (lower case), in the languages the date parser reads.
pub fn month(word: &str) -> Option<u32> {
    MONTHS.iter().find(|(k, _)| *k == word).map(|(_, m)| *m)
}

const MONTHS: &[(&str, u32)] = &[
    ("january", 1),
    ("february", 2),
    ("march", 3),
    ("april", 4),
    ("may", 5),
    ("june", 6),
    ("july", 7),
    ("august", 8),
    ("september", 9),
    ("october", 10),
    ("november", 11),
    ("december", 12),
    ("januari", 1),
    ("februari", 2),
    ("mars", 3),
    ("maj", 5),
    ("juni", 6),
    ("juli", 7),
    ("augusti", 8),
    ("oktober", 10),
    ("januar", 1),
    ("februar", 2),
    ("märz", 3),
    ("mai", 5),
    ("dezember", 12),
    ("janvier", 1),
    ("février", 2),
    ("avril", 4),
    ("juin", 6),
    ("juillet", 7),
    ("août", 8),
    ("septembre", 9),
    ("octobre", 10),
    ("novembre", 11),
    ("décembre", 12),
    ("enero", 1),
    ("febrero", 2),
    ("marzo", 3),
    ("abril", 4),
    ("mayo", 5),
    ("junio", 6),
    ("julio", 7),
    ("agosto", 8),
    ("septiembre", 9),
    ("octubre", 10),
    ("noviembre", 11),
    ("diciembre", 12),
];

const ORDINALS: &[(&str, u32)] = &[
    ("first", 1),
    ("second", 2),
    ("third", 3),
    ("fourth", 4),
    ("fifth", 5),
    ("sixth", 6),
    ("seventh", 7),
    ("eighth", 8),
    ("ninth", 9),
    ("tenth", 10),
    ("eleventh", 11),
    ("twelfth", 12),
    ("thirteenth", 13),
    ("fourteenth", 14),
    ("fifteenth", 15),
    ("sixteenth", 16),
    ("seventeenth", 17),
    ("eighteenth", 18),
    ("nineteenth", 19),
    ("twentieth", 20),
    ("thirtieth", 30),
];

const WEEKDAYS: &[(&str, Weekday)] = &[
    ("monday", Weekday::Mon),
    ("tuesday", Weekday::Tue),
    ("wednesday", Weekday::Wed),
    ("thursday", Weekday::Thu),
    ("friday", Weekday::Fri),
    ("saturday", Weekday::Sat),
    ("sunday", Weekday::Sun),
];

/// The days of a month as words the date parser reads ("twelfth", "twenty first").
pub fn day_words() -> Vec<String> {
    let mut out: Vec<String> = ORDINALS.iter().map(|(w, _)| w.to_string()).collect();
    for (w, d) in ORDINALS.iter().filter(|(_, d)| *d <= 9) {
        out.push(format!("twenty {w}"));
        if *d == 1 {
            out.push(format!("thirty {w}"));
        }
    }
    out
}

/// A day-of-month from "12", "12th", "twelfth", "twenty first".
fn day_of_month(words: &[String], i: usize) -> Option<u32> {
    let w = words.get(i)?;
    let digits: String = w.chars().take_while(|c| c.is_ascii_digit()).collect();
    if !digits.is_empty()
        && (digits.len() == w.len()
            || w.ends_with("st")
            || w.ends_with("nd")
            || w.ends_with("rd")
            || w.ends_with("th")
            || w.ends_with('e'))
    {
        return digits.parse().ok().filter(|d| (1..=31).contains(d));
    }
    if let Some((_, d)) = ORDINALS.iter().find(|(k, _)| k == w) {
        return Some(*d);
    }
    // "twenty first"
    if w == "twenty" || w == "thirty" {
        let tens = if w == "twenty" { 20 } else { 30 };
        return words
            .get(i + 1)
            .and_then(|n| ORDINALS.iter().find(|(k, _)| k == n))
            .map(|(_, d)| tens + d)
            .filter(|d| *d <= 31);
    }
    None
}

/// A date: ISO ("2026-12-20"), "20/12/2026", "December 20th [2026]", "the 20th of December",
/// "20 december", "today", "tomorrow", "next Friday", "in two weeks", "in 10 days". Without a
/// year, the next such date on or after `today`.
pub fn date(text: &str, today: NaiveDate) -> Option<NaiveDate> {
    let lower = text.to_lowercase();
    let words: Vec<String> = lower
        .split(|c: char| c.is_whitespace() || c == ',')
        .map(|w| w.trim_matches(|c: char| !(c.is_alphanumeric() || c == '-' || c == '/')).to_string())
        .filter(|w| !w.is_empty())
        .collect();
    for w in &words {
        if let Ok(d) = NaiveDate::parse_from_str(w, "%Y-%m-%d") {
            return Some(d);
        }
        if let Ok(d) = NaiveDate::parse_from_str(w, "%d/%m/%Y") {
            return Some(d);
        }
    }
    let year_after = |i: usize| -> Option<i32> {
        words.get(i).and_then(|w| w.parse::<i32>().ok()).filter(|y| (1900..=2100).contains(y))
    };
    for (i, w) in words.iter().enumerate() {
        if let Some(m) = month(w) {
            // "December 20th [2026]" or "20 December [2026]" / "the 20th of December".
            let (day, year) = if let Some(d) = day_of_month(&words, i + 1) {
                let skip =
                    if words.get(i + 1).is_some_and(|w| w == "twenty" || w == "thirty") && d % 10 != 0 { 3 } else { 2 };
                (Some(d), year_after(i + skip))
            } else {
                let before = if i >= 2 && words[i - 1] == "of" { i - 2 } else { i.saturating_sub(1) };
                // "twenty first of December": the compound starts one word earlier.
                let compound = before >= 1 && matches!(words[before - 1].as_str(), "twenty" | "thirty");
                let d = if compound { day_of_month(&words, before - 1) } else { None };
                let d = d.or_else(|| (i > 0).then(|| day_of_month(&words, before)).flatten());
                (d, year_after(i + 1))
            };
            let day = day?;
            return match year {
                Some(y) => NaiveDate::from_ymd_opt(y, m, day),
                None => {
                    let this = NaiveDate::from_ymd_opt(today.year(), m, day)?;
                    if this >= today {
                        Some(this)
                    } else {
                        NaiveDate::from_ymd_opt(today.year() + 1, m, day)
                    }
                }
            };
        }
    }
    if words.iter().any(|w| w == "today") {
        return Some(today);
    }
    if words.iter().any(|w| w == "tomorrow") {
        return Some(today + Duration::days(1));
    }
    for (i, w) in words.iter().enumerate() {
        if let Some((_, wd)) = WEEKDAYS.iter().find(|(k, _)| k == w) {
            let ahead = (wd.num_days_from_monday() as i64 - today.weekday().num_days_from_monday() as i64 + 7) % 7;
            // "Friday" and "next Friday" both mean the coming one; today's weekday means a week on.
            let ahead = if ahead == 0 { 7 } else { ahead };
            return Some(today + Duration::days(ahead));
        }
        if w == "in" {
            let n = words
                .get(i + 1)
                .and_then(|n| n.parse::<i64>().ok().or_else(|| number_words(&words[i + 1..i + 2]).map(|(v, _)| v)));
            let n = n.or_else(|| words.get(i + 1).filter(|n| *n == "a" || *n == "one").map(|_| 1));
            if let (Some(n), Some(unit)) = (n, words.get(i + 2)) {
                let days = match unit.trim_end_matches('s') {
                    "day" => n,
                    "week" => 7 * n,
                    _ => continue,
                };
                return Some(today + Duration::days(days));
            }
        }
    }
    None
}
