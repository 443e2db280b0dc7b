//! Entities in what a caller said, as the recogniser wrote it: digit strings read out in any
//! form ("45678", "4, 5, 6, 7, 8", "four five six seven eight", "double five", "fyra fem"),
//! order numbers and PINs, amounts, dates (absolute, relative, birth dates) and yes/no, in
//! en, sv, de, fr and es. Pure functions; `today` is an argument.

mod dates;

pub use dates::{date, day_words, month};

/// Digit words per language (0-9). "oh" and "o" are zero in English numbers.
const DIGIT_WORDS: &[(&str, u8)] = &[
    ("zero", 0),
    ("oh", 0),
    ("o", 0),
    ("one", 1),
    ("two", 2),
    ("three", 3),
    ("four", 4),
    ("five", 5),
    ("six", 6),
    ("seven", 7),
    ("eight", 8),
    ("nine", 9),
    ("noll", 0),
    ("ett", 1),
    ("en", 1),
    ("två", 2),
    ("tre", 3),
    ("fyra", 4),
    ("fem", 5),
    ("sex", 6),
    ("sju", 7),
    ("åtta", 8),
    ("nio", 9),
    ("null", 0),
    ("eins", 1),
    ("zwei", 2),
    ("drei", 3),
    ("vier", 4),
    ("fünf", 5),
    ("sechs", 6),
    ("sieben", 7),
    ("acht", 8),
    ("neun", 9),
    ("zéro", 0),
    ("un", 1),
    ("deux", 2),
    ("trois", 3),
    ("quatre", 4),
    ("cinq", 5),
    ("sept", 7),
    ("huit", 8),
    ("neuf", 9),
    ("cero", 0),
    ("uno", 1),
    ("dos", 2),
    ("tres", 3),
    ("cuatro", 4),
    ("cinco", 5),
    ("seis", 6),
    ("siete", 7),
    ("ocho", 8),
    ("nueve", 9),
];

fn digit_word(w: &str) -> Option<u8> {
    DIGIT_WORDS.iter().find(|(k, _)| *k == w).map(|(_, d)| *d)
}

/// Lower-cased words and numbers, punctuation dropped (hyphens and commas split digits).
fn tokens(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !(c.is_alphanumeric() || c == '.' || c == '$' || c == '€' || c == '£' || c == '/'))
        .map(|t| t.trim_matches('.').to_string())
        .filter(|t| !t.is_empty())
        .collect()
}

/// [`tokens`], each marked when a sentence ends after it (".", "?" or "!" before the next space).
fn tokens_with_stops(text: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    for piece in text.split_whitespace() {
        let stop = piece.trim_end_matches(['"', '\'', ')']).ends_with(['.', '?', '!']);
        let toks = tokens(piece);
        let n = toks.len();
        out.extend(toks.into_iter().enumerate().map(|(i, t)| (t, stop && i + 1 == n)));
    }
    out
}

/// Runs of digits as read out: adjacent digits, digit words and "double"/"triple" join into one
/// string; anything else ends a run. "My order is 4, 5, 6, seven eight" -> ["45678"].
/// A sentence that ends after a group of three or more digits ends the run: Whisper repeats a
/// short answer into the silence after it ("81643. 81643."), which is two runs, not ten digits.
pub fn digit_runs(text: &str) -> Vec<String> {
    let mut runs = Vec::new();
    let mut cur = String::new();
    let mut repeat = 1;
    let toks = tokens_with_stops(text);
    for (i, (t, stop)) in toks.iter().enumerate() {
        let next_is_digit =
            toks.get(i + 1).is_some_and(|(n, _)| n.chars().all(|c| c.is_ascii_digit()) || digit_word(n).is_some());
        // "4.5.6" is how the recogniser sometimes writes digits read one by one; "12.50" is not.
        let dotted = t.contains('.') && t.split('.').all(|p| p.len() == 1 && p.chars().all(|c| c.is_ascii_digit()));
        let digits: Option<String> = if t.chars().all(|c| c.is_ascii_digit()) {
            Some(t.clone())
        } else if dotted {
            Some(t.replace('.', ""))
        } else if let Some(d) = digit_word(t) {
            // Lone "o", "en", "un", "sex" are words unless they sit in a run of digits.
            let ambiguous = matches!(t.as_str(), "o" | "oh" | "en" | "un" | "sex" | "sept" | "tre" | "dos");
            (!ambiguous || !cur.is_empty() || next_is_digit).then(|| d.to_string())
        } else {
            None
        };
        match (digits, t.as_str()) {
            (Some(d), _) => {
                for _ in 0..repeat {
                    cur.push_str(&d);
                }
                repeat = 1;
                // (Dotted digits, "4.5.6.", are digits read one by one, not a group.)
                if *stop && !dotted && d.len() >= 3 {
                    runs.push(std::mem::take(&mut cur));
                }
            }
            (None, "double" | "dubbel" | "doppel") if next_is_digit => repeat = 2,
            (None, "triple") if next_is_digit => repeat = 3,
            _ => {
                if !cur.is_empty() {
                    runs.push(std::mem::take(&mut cur));
                }
                repeat = 1;
            }
        }
    }
    if !cur.is_empty() {
        runs.push(cur);
    }
    runs
}

/// An order number: the first run of 5 or 6 digits (or of a run Whisper echoed, see
/// [`without_echo`]).
pub fn order_number(text: &str) -> Option<String> {
    of_length(text, &[5, 6])
}

/// The first run with one of these lengths; failing that, the first run that is one of them
/// followed by Whisper's echo of its start.
fn of_length(text: &str, lens: &[usize]) -> Option<String> {
    let runs = digit_runs(text);
    runs.iter().find(|r| lens.contains(&r.len())).cloned().or_else(|| runs.iter().find_map(|r| without_echo(r, lens)))
}

/// A run too long for what was asked whose tail repeats its start ("8164381": the order number
/// 81643, then "8 1" again) is the answer and the recogniser's echo of it: tiny.en carries a
/// short answer on into the silence after it ("1, 2, 3, 4, 1, 2,"). Returns the answer.
pub fn without_echo(run: &str, lens: &[usize]) -> Option<String> {
    lens.iter()
        .filter(|&&n| run.len() > n)
        .find(|&&n| run.as_bytes()[n..] == run.as_bytes()[..run.len() - n])
        .map(|&n| run[..n].to_string())
}

/// A phone number given with its country code, keyed or spoken: all its digits (8 to 15, as
/// E.164 allows), returned as "+<digits>". Spoken numbers come in groups ("plus 46 70 123 45
/// 67"), so the runs are joined.
pub fn phone_number(text: &str) -> Option<String> {
    let digits: String = digit_runs(text).concat();
    (8..=15).contains(&digits.len()).then(|| format!("+{digits}"))
}

/// A postal address as a caller says it: "12 Baker Street, 114 55 Stockholm" or "12 Baker
/// Street, London NW1 6XE". The postcode is the last group of 4 to 6 digits (spaces allowed:
/// Swedish "114 55") or a UK postcode; the street is what comes before it, the city what comes
/// after (or, for the UK order, the last comma-separated part before it). `None` unless all
/// three are there.
pub fn address(text: &str) -> Option<(String, String, String)> {
    let lead = ["my new address is", "the new address is", "new address is", "it's", "it is", "to", "address is"];
    let mut t = text.trim().trim_end_matches(['.', '!', '?']).to_string();
    for l in lead {
        if t.to_lowercase().starts_with(l) {
            t = t[l.len()..].trim_start_matches([' ', ':', ',']).to_string();
        }
    }
    let words: Vec<&str> = t.split_whitespace().collect();
    let bare = |w: &str| w.trim_matches(|c: char| c == ',' || c == '.').to_string();
    let uk = |w: &str, n: &str| {
        let (a, b) = (bare(w), bare(n));
        let outward = (2..=4).contains(&a.len())
            && a.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && a.chars().any(|c| c.is_ascii_digit())
            && a.chars().all(|c| c.is_ascii_alphanumeric());
        let inward = b.len() == 3
            && b.chars().next().is_some_and(|c| c.is_ascii_digit())
            && b.chars().skip(1).all(|c| c.is_ascii_alphabetic());
        outward && inward
    };
    // Find the postcode: (start, end) word indices, last match wins.
    let mut found = None;
    for i in 0..words.len() {
        if i + 1 < words.len() && uk(words[i], words[i + 1]) {
            found = Some((i, i + 2));
            continue;
        }
        let mut digits = String::new();
        let mut j = i;
        while j < words.len() && bare(words[j]).chars().all(|c| c.is_ascii_digit()) && !bare(words[j]).is_empty() {
            digits.push_str(&bare(words[j]));
            j += 1;
            if (4..=6).contains(&digits.len()) && i > 0 {
                found = Some((i, j));
            }
            // A comma ends the group: "Baker Street 12, 114 55" is a house number, then a postcode.
            if words[j - 1].ends_with(',') {
                break;
            }
        }
    }
    let (a, b) = found?;
    let postcode = words[a..b].iter().map(|w| bare(w)).collect::<Vec<_>>().join(" ").to_uppercase();
    let before = words[..a].join(" ");
    let after = words[b..].join(" ");
    let clean = |s: &str| s.trim().trim_matches(|c: char| c == ',' || c == '.').trim().to_string();
    let (street, city) = match clean(&after) {
        c if !c.is_empty() => (clean(&before), c),
        _ => match before.rsplit_once(',') {
            Some((street, city)) => (clean(street), clean(city)),
            None => return None,
        },
    };
    let has_letters = |s: &str| s.chars().any(|c| c.is_alphabetic());
    (has_letters(&street) && has_letters(&city)).then_some((street, postcode, city))
}

/// A four-digit PIN (or one Whisper echoed, see [`without_echo`]).
pub fn pin(text: &str) -> Option<String> {
    of_length(text, &[4])
}

const UNITS: &[(&str, i64)] = &[
    ("zero", 0),
    ("one", 1),
    ("two", 2),
    ("three", 3),
    ("four", 4),
    ("five", 5),
    ("six", 6),
    ("seven", 7),
    ("eight", 8),
    ("nine", 9),
    ("ten", 10),
    ("eleven", 11),
    ("twelve", 12),
    ("thirteen", 13),
    ("fourteen", 14),
    ("fifteen", 15),
    ("sixteen", 16),
    ("seventeen", 17),
    ("eighteen", 18),
    ("nineteen", 19),
    ("twenty", 20),
    ("thirty", 30),
    ("forty", 40),
    ("fifty", 50),
    ("sixty", 60),
    ("seventy", 70),
    ("eighty", 80),
    ("ninety", 90),
];

/// An English number said in words ("one hundred twenty nine", "forty-five"), from the start
/// of `words`; returns the value and how many words it used.
fn number_words(words: &[String]) -> Option<(i64, usize)> {
    let (mut total, mut current, mut used) = (0i64, 0i64, 0usize);
    for w in words {
        if let Some((_, v)) = UNITS.iter().find(|(k, _)| k == w) {
            current += v;
        } else if w == "hundred" && used > 0 {
            current *= 100;
        } else if w == "thousand" && used > 0 {
            total += current * 1000;
            current = 0;
        } else if w == "and" && used > 0 {
        } else {
            break;
        }
        used += 1;
    }
    (used > 0).then_some((total + current, used))
}

/// A money amount in minor units: "$40", "40 dollars", "12.50", "forty five euros", "129,50 kr".
pub fn amount_cents(text: &str) -> Option<i64> {
    let lower = text.to_lowercase().replace(',', ".");
    let words: Vec<String> = lower
        .split(|c: char| c.is_whitespace() || c == '-')
        .map(|w| w.trim_matches(|c: char| !(c.is_alphanumeric() || c == '.')).to_string())
        .filter(|w| !w.is_empty())
        .collect();
    for (i, w) in words.iter().enumerate() {
        let w = w.trim_start_matches(['$', '€', '£']);
        if let Ok(v) = w.parse::<f64>() {
            if v >= 0.0 && w.chars().filter(|c| *c == '.').count() <= 1 {
                return Some((v * 100.0).round() as i64);
            }
        }
        if let Some((v, _)) = number_words(&words[i..]) {
            return Some(v * 100);
        }
    }
    None
}

/// A yes or no, in en, sv, de, fr or es. `None` when the answer is neither or both.
pub fn yes_no(text: &str) -> Option<bool> {
    let words = tokens(text);
    let has = |list: &[&str]| words.iter().any(|w| list.contains(&w.as_str()));
    let phrase = |p: &str| format!(" {} ", words.join(" ")).contains(&format!(" {p} "));
    const YES: &[&str] = &[
        "yes",
        "yeah",
        "yep",
        "yup",
        "sure",
        "correct",
        "right",
        "okay",
        "ok",
        "absolutely",
        "definitely",
        "please",
        "ja",
        "japp",
        "jo",
        "visst",
        "stämmer",
        "genau",
        "richtig",
        "oui",
        "ouais",
        "exactement",
        "sí",
        "si",
        "claro",
        "vale",
        "correcto",
    ];
    const NO: &[&str] = &["no", "nope", "nah", "not", "don't", "nej", "nein", "nicht", "non", "pas"];
    let no = has(NO) || phrase("no thanks") || phrase("wrong");
    let yes = has(YES) || phrase("go ahead") || phrase("do it") || phrase("that's right");
    match (yes, no) {
        (true, false) => Some(true),
        (false, true) => Some(false),
        _ => None,
    }
}

/// Whether the caller asks to pay by card ("by card", "with my credit card", "med kort",
/// "mit Karte", "par carte", "con tarjeta").
pub fn by_card(text: &str) -> bool {
    // Whisper writes "by card" as "my cards" too: plurals count.
    const CARD: &[&str] = &[
        "card",
        "cards",
        "kort",
        "kortet",
        "karte",
        "karten",
        "kreditkarte",
        "carte",
        "cartes",
        "tarjeta",
        "tarjetas",
        "visa",
        "mastercard",
    ];
    tokens(text).iter().any(|w| CARD.contains(&w.as_str()))
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;

    #[test]
    fn paying_by_card() {
        for t in [
            "By card, please.",
            "I'll pay with my credit card",
            "I want to pay my bills out, my cards.",
            "med kort",
            "Mit Karte bitte",
            "par carte",
            "con tarjeta",
        ] {
            assert!(by_card(t), "{t}");
        }
        for t in ["Yes please.", "send the link", "a postcard"] {
            assert!(!by_card(t), "{t}");
        }
    }

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn digits_in_every_form() {
        assert_eq!(digit_runs("The order number is 45678."), vec!["45678"]);
        assert_eq!(digit_runs("My account number is 3, 1, 4, 1, 5, 9"), vec!["314159"]);
        assert_eq!(digit_runs("four five six seven eight"), vec!["45678"]);
        assert_eq!(digit_runs("4-5-6, seven eight please"), vec!["45678"]);
        assert_eq!(digit_runs("double five six oh one"), vec!["55601"]);
        // Whisper's echo of a short answer is a second run; digits read one by one are not.
        assert_eq!(digit_runs("81643. 81643."), vec!["81643", "81643"]);
        assert_eq!(order_number("81643. 81643."), Some("81643".into()));
        assert_eq!(pin("2580. 2580."), Some("2580".into()));
        assert_eq!(digit_runs("4. 5. 6. 7. 8."), vec!["45678"]);
        assert_eq!(digit_runs("4.5.6. 7.8."), vec!["45678"]);
        assert_eq!(digit_runs("It's 12. 34."), vec!["1234"]);
        // tiny.en's echo of a short answer into the silence after it.
        assert_eq!(order_number("8 1 6 4 3 8 1"), Some("81643".into()));
        assert_eq!(order_number("2 6 8 1 4. 2 6"), Some("26814".into()));
        assert_eq!(pin("1, 2, 3, 4, 1, 2,"), Some("1234".into()));
        assert_eq!(pin("9901 9901 9"), Some("9901".into()));
        assert_eq!(pin("6, 0, 3, 8, 6, 0, 3"), Some("6038".into()));
        // Not an echo: too long and no repeat.
        assert_eq!(pin("1, 2, 3, 4, 5, 6"), None);
        assert_eq!(order_number("1234567"), None);
        assert_eq!(digit_runs("The order number is 4.5.6. 7.8."), vec!["45678"]);
        assert_eq!(digit_runs("that was 129.50"), Vec::<String>::new());
        assert_eq!(digit_runs("fyra fem sex sju åtta"), vec!["45678"]);
        assert_eq!(digit_runs("vier fünf sechs sieben acht"), vec!["45678"]);
        assert_eq!(digit_runs("cuatro cinco seis siete ocho"), vec!["45678"]);
        assert_eq!(digit_runs("Oh I see, one moment"), vec!["1"], "a lone oh is a word");
        assert_eq!(order_number("Hello, I'm calling about my order, the order number 45678"), Some("45678".into()));
        assert_eq!(order_number("it's one two three"), None);
        assert_eq!(pin("my pin is one two three four"), Some("1234".into()));
    }

    #[test]
    fn amounts() {
        assert_eq!(amount_cents("I want $40 back"), Some(4_000));
        assert_eq!(amount_cents("12.50 please"), Some(1_250));
        assert_eq!(amount_cents("129,50 kr"), Some(12_950));
        assert_eq!(amount_cents("one hundred twenty nine dollars"), Some(12_900));
        assert_eq!(amount_cents("forty-five euros"), Some(4_500));
        assert_eq!(amount_cents("nothing"), None);
    }

    #[test]
    fn dates() {
        let today = d("2026-11-29"); // a Sunday
        assert_eq!(date("2026-12-20", today), Some(d("2026-12-20")));
        assert_eq!(date("on 20/12/2026", today), Some(d("2026-12-20")));
        assert_eq!(date("December 20th", today), Some(d("2026-12-20")));
        assert_eq!(date("the 20th of December", today), Some(d("2026-12-20")));
        assert_eq!(date("move it to the twenty first of december", today), Some(d("2026-12-21")));
        assert_eq!(date("January 5", today), Some(d("2027-01-05")), "past dates roll to next year");
        assert_eq!(date("I was born on April 12th 1985", today), Some(d("1985-04-12")));
        assert_eq!(date("12 april 1985", today), Some(d("1985-04-12")));
        assert_eq!(date("den 12 april 1985", today), Some(d("1985-04-12")));
        assert_eq!(date("tomorrow", today), Some(d("2026-11-30")));
        assert_eq!(date("next friday", today), Some(d("2026-12-04")));
        assert_eq!(date("in two weeks", today), Some(d("2026-12-13")));
        assert_eq!(date("in 10 days", today), Some(d("2026-12-09")));
        assert_eq!(date("whenever", today), None);
    }

    #[test]
    fn phone_numbers() {
        assert_eq!(phone_number("46701234567").as_deref(), Some("+46701234567"));
        assert_eq!(phone_number("plus 46 70 123 45 67").as_deref(), Some("+46701234567"));
        assert_eq!(phone_number("four four seven seven double oh").as_deref(), None, "too short");
        assert_eq!(phone_number("no idea"), None);
    }

    #[test]
    fn addresses() {
        let a = |t: &str| address(t).map(|(s, p, c)| format!("{s} | {p} | {c}"));
        assert_eq!(
            a("My new address is Storgatan 12, 114 55 Stockholm.").as_deref(),
            Some("Storgatan 12 | 114 55 | Stockholm")
        );
        assert_eq!(a("12 Baker Street, London NW1 6XE").as_deref(), Some("12 Baker Street | NW1 6XE | London"));
        assert_eq!(a("Hauptstraße 5 10115 Berlin").as_deref(), Some("Hauptstraße 5 | 10115 | Berlin"));
        assert_eq!(
            a("It's 400 Main Street, Springfield 62704").as_deref(),
            Some("400 Main Street | 62704 | Springfield")
        );
        assert_eq!(a("Storgatan 12"), None, "no postcode");
        assert_eq!(a("11455 Stockholm"), None, "no street");
    }

    #[test]
    fn yes_and_no() {
        assert_eq!(yes_no("Yes, please."), Some(true));
        assert_eq!(yes_no("Yeah go ahead"), Some(true));
        assert_eq!(yes_no("No, that's wrong"), Some(false));
        assert_eq!(yes_no("Ja, gärna"), Some(true));
        assert_eq!(yes_no("Nein"), Some(false));
        assert_eq!(yes_no("Oui"), Some(true));
        assert_eq!(yes_no("Sí, claro"), Some(true));
        assert_eq!(yes_no("Yes... no, wait"), None);
        assert_eq!(yes_no("What is my balance?"), None);
    }
}
