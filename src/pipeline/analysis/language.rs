//! The call's language (sans-IO): per turn, Whisper's language probabilities fused with the
//! transcript's own evidence (its script, and for Latin-script languages its function words);
//! over the call, a language that settles on the first turn with evidence and changes only when
//! two turns in a row agree on another language.

/// A turn's language evidence, fused.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TurnLanguage {
    pub language: String,
    /// 0..1: the fused score's share.
    pub confidence: f32,
    /// What the transcript said, if anything: ("sv", 0.4) = 40% of the words are Swedish function words.
    pub text_hint: Option<(String, f32)>,
}

/// What the tracker reports after a turn.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum LanguageEvent {
    /// The call's language, first settled.
    Detected { language: String, confidence: f32 },
    /// The caller switched language (two turns in a row agree).
    Changed { from: String, to: String, confidence: f32 },
}

/// Turns needed in a row to change the call's language.
const SWITCH_TURNS: u32 = 2;
/// A turn's fused confidence below this is no evidence at all.
const MIN_TURN_CONFIDENCE: f32 = 0.4;
/// How much agreeing function words raise a turn's confidence (share of what is missing to 1).
const TEXT_WEIGHT: f32 = 0.35;
/// The recogniser's top two closer than this: the transcript's words decide.
const TIE_MARGIN: f32 = 0.2;
/// Turns with less speech than this count only when the recogniser is sure.
const SHORT_TURN_MS: u64 = 1_500;
const SHORT_TURN_MIN_CONFIDENCE: f32 = 0.75;

/// Tracks one call's language.
#[derive(Debug, Default, Clone)]
pub struct LanguageTracker {
    current: Option<(String, f32)>,
    challenger: Option<(String, u32)>,
}

impl LanguageTracker {
    /// The call's language and confidence, once settled.
    pub fn current(&self) -> Option<(&str, f32)> {
        self.current.as_ref().map(|(l, c)| (l.as_str(), *c))
    }

    /// Fuse a turn's evidence. `whisper` is the recogniser's (language, probability) list, best
    /// first; `voiced` says whether the turn held voiced speech at all (noise and hiss give no
    /// language evidence); `speech_ms` is how much speech it held.
    ///
    /// The transcript is a tie-breaker, not a vote: the recogniser writes in the language it
    /// chose, so the words mostly echo its choice. They decide only when the recogniser's top
    /// two are within `TIE_MARGIN`, and they raise or lower the confidence a little.
    pub fn fuse(whisper: &[(String, f32)], text: &str, voiced: bool, speech_ms: u64) -> Option<TurnLanguage> {
        if !voiced {
            return None;
        }
        let hint = text_language(text);
        let (mut language, mut p) = match whisper.first() {
            Some(top) => top.clone(),
            None => {
                let (l, share) = hint.clone()?;
                (l, 0.5 * share)
            }
        };
        if let Some((h, _)) = &hint {
            if let Some((_, ph)) = whisper.iter().find(|(l, _)| l == h && *l != language) {
                if p - ph < TIE_MARGIN {
                    (language, p) = (h.clone(), *ph);
                }
            }
        }
        let confidence = match &hint {
            Some((h, share)) if *h == language => p + TEXT_WEIGHT * share * (1.0 - p),
            Some((_, share)) => p * (1.0 - 0.5 * share),
            None => p,
        }
        .clamp(0.0, 1.0);
        // A short turn (a word or two) is evidence only when the recogniser is sure.
        if speech_ms < SHORT_TURN_MS && confidence < SHORT_TURN_MIN_CONFIDENCE {
            return None;
        }
        Some(TurnLanguage { language, confidence, text_hint: hint })
    }

    /// Add a turn; returns the event to report, if any.
    pub fn turn(&mut self, t: &TurnLanguage) -> Option<LanguageEvent> {
        if t.confidence < MIN_TURN_CONFIDENCE {
            return None;
        }
        match &mut self.current {
            None => {
                self.current = Some((t.language.clone(), t.confidence));
                Some(LanguageEvent::Detected { language: t.language.clone(), confidence: t.confidence })
            }
            Some((lang, conf)) if *lang == t.language => {
                // Agreement firms the confidence up; a challenger loses its run.
                *conf = 1.0 - (1.0 - *conf) * (1.0 - t.confidence);
                self.challenger = None;
                None
            }
            Some((lang, conf)) => {
                let run = match &mut self.challenger {
                    Some((c, n)) if *c == t.language => {
                        *n += 1;
                        *n
                    }
                    _ => {
                        self.challenger = Some((t.language.clone(), 1));
                        1
                    }
                };
                if run < SWITCH_TURNS {
                    // One contrary turn lowers our certainty but does not switch.
                    *conf *= 1.0 - 0.5 * t.confidence;
                    return None;
                }
                let from = std::mem::replace(lang, t.language.clone());
                *conf = t.confidence;
                self.challenger = None;
                Some(LanguageEvent::Changed { from, to: t.language.clone(), confidence: t.confidence })
            }
        }
    }
}

/// Function words that mark a Latin-script language (short, frequent, and rare elsewhere).
const FUNCTION_WORDS: &[(&str, &[&str])] = &[
    (
        "en",
        &[
            "the", "and", "is", "are", "you", "my", "i", "to", "of", "what", "where", "when", "how", "this", "it",
            "have", "would", "like", "please", "not", "with",
        ],
    ),
    (
        "de",
        &[
            "der", "die", "das", "und", "ist", "ich", "nicht", "ein", "eine", "meine", "mein", "wo", "wann", "sie",
            "möchte", "bitte", "mit", "auf", "zu", "wissen",
        ],
    ),
    (
        "sv",
        &[
            "och", "är", "jag", "inte", "det", "en", "ett", "min", "mitt", "var", "när", "vill", "veta", "har", "på",
            "med", "till", "hej", "tack", "att",
        ],
    ),
    (
        "fr",
        &[
            "le", "la", "les", "et", "est", "je", "ne", "pas", "un", "une", "ma", "mon", "où", "quand", "vous",
            "voudrais", "avec", "pour", "de", "bonjour",
        ],
    ),
    (
        "es",
        &[
            "el", "la", "los", "las", "y", "es", "yo", "no", "un", "una", "mi", "dónde", "donde", "cuándo", "quiero",
            "está", "por", "para", "con", "que",
        ],
    ),
    (
        "it",
        &[
            "il", "lo", "gli", "e", "è", "io", "non", "uno", "mio", "mia", "dove", "quando", "voglio", "sono", "per",
            "con", "che", "della", "di",
        ],
    ),
    (
        "pt",
        &[
            "o", "os", "as", "e", "é", "eu", "não", "um", "uma", "meu", "minha", "onde", "quando", "quero", "está",
            "para", "com", "que", "do", "da",
        ],
    ),
    (
        "nl",
        &[
            "de", "het", "een", "en", "is", "ik", "niet", "mijn", "waar", "wanneer", "wil", "weten", "met", "op",
            "van", "dat",
        ],
    ),
];

/// The transcript's own language evidence: a non-Latin script decides outright; Latin-script
/// text is scored by its share of each language's function words. `None` when the text says
/// nothing (too short, or no language stands out).
pub fn text_language(text: &str) -> Option<(String, f32)> {
    if let Some(lang) = script_language(text) {
        return Some((lang.to_string(), 1.0));
    }
    let words: Vec<String> =
        text.split(|c: char| !c.is_alphabetic()).filter(|w| !w.is_empty()).map(|w| w.to_lowercase()).collect();
    if words.len() < 3 {
        return None;
    }
    let mut scored: Vec<(&str, usize)> = FUNCTION_WORDS
        .iter()
        .map(|(lang, list)| (*lang, words.iter().filter(|w| list.contains(&w.as_str())).count()))
        .collect();
    scored.sort_by_key(|s| std::cmp::Reverse(s.1));
    let (best, n) = scored[0];
    let runner_up = scored[1].1;
    // A clear winner only: ties (shared words such as "de", "la") say nothing.
    (n >= 2 && n > runner_up)
        .then(|| (best.to_string(), (n - runner_up) as f32 / words.len() as f32 * 2.0))
        .map(|(l, s)| (l, s.min(1.0)))
}

/// The language a non-Latin script implies, when most letters are in it.
fn script_language(text: &str) -> Option<&'static str> {
    let mut counts = [0usize; 8];
    let mut letters = 0usize;
    for c in text.chars().filter(|c| c.is_alphabetic()) {
        letters += 1;
        let i = match c as u32 {
            0x3040..=0x30FF => 0,                   // kana: Japanese
            0xAC00..=0xD7AF | 0x1100..=0x11FF => 1, // Hangul
            0x4E00..=0x9FFF => 2,                   // Han (Chinese, or Japanese with kana)
            0x0400..=0x04FF => 3,                   // Cyrillic
            0x0600..=0x06FF => 4,                   // Arabic
            0x0900..=0x097F => 5,                   // Devanagari
            0x0370..=0x03FF => 6,                   // Greek
            0x0590..=0x05FF => 7,                   // Hebrew
            _ => continue,
        };
        counts[i] += 1;
    }
    if letters == 0 {
        return None;
    }
    let non_latin: usize = counts.iter().sum();
    if non_latin * 2 < letters {
        return None;
    }
    if counts[0] > 0 {
        return Some("ja");
    }
    let (i, _) = counts.iter().enumerate().max_by_key(|(_, n)| **n)?;
    Some(["ja", "ko", "zh", "ru", "ar", "hi", "el", "he"][i])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(list: &[(&str, f32)]) -> Vec<(String, f32)> {
        list.iter().map(|(l, p)| (l.to_string(), *p)).collect()
    }

    #[test]
    fn scripts_and_function_words_identify_text() {
        assert_eq!(text_language("こんにちは、注文はどこですか").unwrap().0, "ja");
        assert_eq!(text_language("안녕하세요 주문은 어디에 있나요").unwrap().0, "ko");
        assert_eq!(text_language("Hej, jag vill veta var min beställning är.").unwrap().0, "sv");
        assert_eq!(text_language("Guten Tag, ich möchte wissen, wo meine Bestellung ist.").unwrap().0, "de");
        assert_eq!(text_language("Where is my order, please?").unwrap().0, "en");
        assert_eq!(text_language("Okay."), None);
    }

    #[test]
    fn text_breaks_a_near_tie_in_whisper() {
        // Whisper hesitates between Norwegian and Swedish; the words are Swedish.
        let t = LanguageTracker::fuse(
            &w(&[("no", 0.45), ("sv", 0.40), ("da", 0.1)]),
            "Hej, jag vill veta var min beställning är.",
            true,
            3_000,
        )
        .unwrap();
        assert_eq!(t.language, "sv");
        assert!(t.confidence > 0.5 && t.confidence <= 1.0, "{t:?}");
    }

    #[test]
    fn unvoiced_and_short_unsure_turns_are_no_evidence() {
        assert_eq!(LanguageTracker::fuse(&w(&[("en", 0.9)]), "the the the", false, 3_000), None);
        // 1.2 s of accented English taken for Arabic at 0.40: not enough to settle a call on.
        assert_eq!(
            LanguageTracker::fuse(&w(&[("ar", 0.40), ("cy", 0.17), ("en", 0.16)]), "سوف نتوقع", true, 1_240),
            None
        );
        let sure = LanguageTracker::fuse(&w(&[("de", 0.95)]), "Ja, bitte.", true, 900).unwrap();
        assert_eq!(sure.language, "de");
    }

    #[test]
    fn agreeing_words_firm_up_and_disagreeing_words_lower_the_confidence() {
        let agree = LanguageTracker::fuse(&w(&[("en", 0.8)]), "Where is my order, please?", true, 3_000).unwrap();
        assert!(agree.confidence > 0.8);
        let disagree =
            LanguageTracker::fuse(&w(&[("de", 0.7), ("en", 0.2)]), "Where is my order, please?", true, 3_000).unwrap();
        assert_eq!(disagree.language, "de", "a wide margin is not a tie");
        assert!(disagree.confidence < 0.7);
    }

    #[test]
    fn settles_on_the_first_turn_and_switches_only_on_two_agreeing_turns() {
        let mut t = LanguageTracker::default();
        let turn = |l: &str, c: f32| TurnLanguage { language: l.into(), confidence: c, text_hint: None };
        assert_eq!(t.turn(&turn("en", 0.3)), None, "too weak to settle");
        assert_eq!(t.turn(&turn("en", 0.9)), Some(LanguageEvent::Detected { language: "en".into(), confidence: 0.9 }));
        assert_eq!(t.turn(&turn("de", 0.8)), None, "one German turn is not a switch");
        assert!(t.current().unwrap().1 < 0.9);
        assert_eq!(t.turn(&turn("en", 0.9)), None, "back to English: the run is broken");
        assert_eq!(t.turn(&turn("de", 0.8)), None);
        assert_eq!(
            t.turn(&turn("de", 0.85)),
            Some(LanguageEvent::Changed { from: "en".into(), to: "de".into(), confidence: 0.85 })
        );
        assert_eq!(t.current().unwrap().0, "de");
    }
}
