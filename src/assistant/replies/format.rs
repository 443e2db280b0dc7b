//! Numbers, amounts and dates written the way each served language reads them.

use chrono::{Datelike, NaiveDate};

use super::SERVED;

pub(super) fn spaced(number: &str) -> String {
    number.chars().map(|c| c.to_string()).collect::<Vec<_>>().join(" ")
}

/// "43 dollars", "43,50 euros", "430 kronor".
pub fn money(lang: &str, cents: i64, currency: &str) -> String {
    let (major, minor) = (cents / 100, cents % 100);
    let sep = if lang == "en" { "." } else { "," };
    let amount = if minor == 0 { major.to_string() } else { format!("{major}{sep}{minor:02}") };
    let name = match (lang, currency) {
        ("en", "USD") => "dollars",
        ("en", "GBP") => "pounds",
        ("en", "EUR") | ("fr", "EUR") | ("es", "EUR") => "euros",
        ("de", "EUR") => "Euro",
        ("sv", "SEK") | ("en", "SEK") => "kronor",
        ("sv", "EUR") => "euro",
        ("de", "USD") | ("sv", "USD") => "Dollar",
        ("fr", "USD") | ("es", "USD") => "dólares",
        (_, c) => c,
    };
    format!("{amount} {name}")
}

const WEEKDAYS: [[&str; 7]; 5] = [
    ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
    ["måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag"],
    ["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"],
    ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"],
    ["lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"],
];
const MONTHS: [[&str; 12]; 5] = [
    [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
    [
        "januari",
        "februari",
        "mars",
        "april",
        "maj",
        "juni",
        "juli",
        "augusti",
        "september",
        "oktober",
        "november",
        "december",
    ],
    [
        "Januar",
        "Februar",
        "März",
        "April",
        "Mai",
        "Juni",
        "Juli",
        "August",
        "September",
        "Oktober",
        "November",
        "Dezember",
    ],
    [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ],
    [
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "octubre",
        "noviembre",
        "diciembre",
    ],
];

pub(super) fn lang_index(lang: &str) -> usize {
    SERVED.iter().position(|l| *l == lang).unwrap_or(0)
}

/// "Thursday, December 17th", "torsdag den 17 december", "Donnerstag, den 17. Dezember",
/// "jeudi 17 décembre", "jueves 17 de diciembre".
pub fn date(lang: &str, d: NaiveDate) -> String {
    let i = lang_index(lang);
    let wd = WEEKDAYS[i][d.weekday().num_days_from_monday() as usize];
    let m = MONTHS[i][d.month0() as usize];
    let day = d.day();
    match i {
        0 => format!("{wd}, {m} {day}{}", ordinal_suffix(day)),
        1 => format!("{wd} den {day} {m}"),
        2 => format!("{wd}, den {day}. {m}"),
        3 => format!("{wd} {day} {m}"),
        _ => format!("{wd} {day} de {m}"),
    }
}

/// A date with its year and no weekday, as a date of birth is said: "April 12th, 1985",
/// "12 april 1985", "12. April 1985", "12 avril 1985", "12 de abril de 1985".
pub fn birth_date(lang: &str, d: NaiveDate) -> String {
    let i = lang_index(lang);
    let m = MONTHS[i][d.month0() as usize];
    let (day, year) = (d.day(), d.year());
    match i {
        0 => format!("{m} {day}{}, {year}", ordinal_suffix(day)),
        1 | 3 => format!("{day} {m} {year}"),
        2 => format!("{day}. {m} {year}"),
        _ => format!("{day} de {m} de {year}"),
    }
}

fn ordinal_suffix(day: u32) -> &'static str {
    match (day % 10, day % 100) {
        (1, n) if n != 11 => "st",
        (2, n) if n != 12 => "nd",
        (3, n) if n != 13 => "rd",
        _ => "th",
    }
}
