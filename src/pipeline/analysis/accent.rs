//! Accent of an English-speaking caller (sans-IO), from the multilingual recogniser's
//! language-probability vector on the caller's English turns.
//!
//! Why this works at all: Whisper's language identifier hears phonetics and prosody, not words.
//! On a native speaker's English it puts nearly all its mass on "en"; on a second-language
//! speaker some of the mass leaks to the speaker's first language (Hindi for Indian English,
//! Spanish for a Spanish speaker's English ...). We average that vector over the caller's
//! English turns, weighted by speech time, and read: how much is left for English (native or
//! not), and where the rest went (the likely first language, hence a region).
//!
//! Limits, stated plainly: it does not separate native regional accents (US vs British vs
//! Australian English all look "en"), so a native speaker's `region` is `null`; it needs a few
//! seconds of speech; and the thresholds are calibrated on little data (see
//! `scripts/calibrate-analytics` and the README). When the evidence is weak it says "unknown".

/// The accent estimate. `label` is "unknown" (and the rest null) when the evidence is weak.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Accent {
    pub label: String,
    pub native: Option<bool>,
    pub region: Option<String>,
    pub l1: Option<String>,
    pub confidence: f32,
    /// The averaged probability of "en" the verdict rests on.
    pub english_prob: f32,
    /// Speech time it rests on, ms.
    pub speech_ms: u64,
    /// What the verdict rests on, in words ("voice classifier: non-native 0.86").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<String>,
}

impl Accent {
    /// The estimate when there is nothing to go on.
    pub fn unknown(english_prob: f32, speech_ms: u64) -> Self {
        Self {
            label: "unknown".into(),
            native: None,
            region: None,
            l1: None,
            confidence: 0.0,
            english_prob,
            speech_ms,
            evidence: Vec::new(),
        }
    }

    pub fn is_known(&self) -> bool {
        self.label != "unknown"
    }
}

/// The calibrated thresholds (see `scripts/calibrate-analytics`).
#[derive(Debug, Clone, Copy)]
pub struct AccentModel {
    /// Averaged p(en) at or above which the speaker is taken as native.
    pub native_min_en: f32,
    /// Averaged p(en) at or below which the speaker is taken as non-native.
    pub foreign_max_en: f32,
    /// Speech needed before any verdict, ms.
    pub min_speech_ms: u64,
    /// Share of the non-English mass one language needs to be named as the first language.
    pub l1_min_share: f32,
}

impl Default for AccentModel {
    fn default() -> Self {
        Self { native_min_en: 0.93, foreign_max_en: 0.80, min_speech_ms: 2_500, l1_min_share: 0.40 }
    }
}

/// Per-class probabilities over a caller's turns, weighted by each turn's speech time: the
/// recogniser's language vector, or one of the accent classifiers' outputs.
#[derive(Debug, Default, Clone)]
struct Tally {
    /// Speech-time-weighted sums of each class's probability.
    mass: Vec<(String, f64)>,
    speech_ms: u64,
}

impl Tally {
    fn add(&mut self, probs: &[(String, f32)], speech_ms: u64) {
        if probs.is_empty() || speech_ms == 0 {
            return;
        }
        for (class, p) in probs {
            let w = *p as f64 * speech_ms as f64;
            match self.mass.iter_mut().find(|(c, _)| c == class) {
                Some((_, m)) => *m += w,
                None => self.mass.push((class.clone(), w)),
            }
        }
        self.speech_ms += speech_ms;
    }

    /// The class with the highest mean probability, and that mean.
    fn top(&self) -> Option<(String, f32)> {
        let total = self.speech_ms.max(1) as f64;
        self.mass.iter().max_by(|a, b| a.1.total_cmp(&b.1)).map(|(c, s)| (c.clone(), (s / total) as f32))
    }
}

/// Accumulates one caller's English turns.
#[derive(Debug, Default, Clone)]
pub struct AccentEstimator {
    model: AccentModel,
    tally: Tally,
}

impl AccentEstimator {
    pub fn new(model: AccentModel) -> Self {
        Self { model, ..Default::default() }
    }

    /// Speech needed before any verdict, ms.
    pub fn min_speech_ms(&self) -> u64 {
        self.model.min_speech_ms
    }

    /// Add an English turn: the recogniser's (language, probability) list and its speech time.
    pub fn add(&mut self, probs: &[(String, f32)], speech_ms: u64) {
        self.tally.add(probs, speech_ms);
    }

    /// The current estimate.
    pub fn estimate(&self) -> Accent {
        let m = self.model;
        let Tally { mass, speech_ms } = &self.tally;
        let speech_ms = *speech_ms;
        let total = speech_ms.max(1) as f64;
        let avg = |lang: &str| mass.iter().find(|(l, _)| l == lang).map(|(_, w)| (w / total) as f32).unwrap_or(0.0);
        let en = avg("en");
        if speech_ms < m.min_speech_ms || mass.is_empty() {
            return Accent::unknown(en, speech_ms);
        }
        // Confidence grows with the distance from the undecided band and with speech time.
        let time = (speech_ms as f32 / (3 * m.min_speech_ms) as f32).min(1.0);
        if en >= m.native_min_en {
            let margin = (en - m.native_min_en) / (1.0 - m.native_min_en).max(1e-3);
            return Accent {
                label: "native English".into(),
                native: Some(true),
                region: None,
                l1: Some("en".into()),
                confidence: (0.5 + 0.5 * margin).min(1.0) * (0.5 + 0.5 * time),
                english_prob: en,
                speech_ms,
                evidence: vec![format!("recogniser: English {:.2}", en)],
            };
        }
        if en > m.foreign_max_en {
            return Accent::unknown(en, speech_ms);
        }
        let margin = (m.foreign_max_en - en) / m.foreign_max_en.max(1e-3);
        let confidence = (0.5 + 0.5 * margin).min(1.0) * (0.5 + 0.5 * time);
        // The non-English mass by family: Indian English leaks to Hindi, Sanskrit, Urdu, Telugu
        // and Tamil at once, which together name the accent where no single one would.
        let mut families: Vec<(&str, f32, &str, f32)> = Vec::new(); // family, mass, top language, its mass
        for (l, w) in mass.iter().filter(|(l, _)| l != "en" && !UNINFORMATIVE.contains(&l.as_str())) {
            let p = (w / total) as f32;
            let fam = family(l);
            match families.iter_mut().find(|f| f.0 == fam) {
                Some(f) => {
                    f.1 += p;
                    if p > f.3 {
                        (f.2, f.3) = (l.as_str(), p);
                    }
                }
                None => families.push((fam, p, l.as_str(), p)),
            }
        }
        families.sort_by(|a, b| b.1.total_cmp(&a.1));
        let rest = (1.0 - en).max(1e-3);
        // Sanskrit is nobody's first language: the recogniser's "sa" on Indian English means Hindi.
        let l1 = families.first().filter(|f| f.1 / rest >= m.l1_min_share).map(|f| {
            if f.2 == "sa" {
                "hi".to_string()
            } else {
                f.2.to_string()
            }
        });
        let (label, region) = match l1.as_deref() {
            Some(l) => (format!("{} English", accent_adjective(l)), region_of(l).map(str::to_string)),
            None => ("non-native English".to_string(), None),
        };
        let evidence = vec![format!("recogniser: English {en:.2}")];
        Accent { label, native: Some(false), region, l1, confidence, english_prob: en, speech_ms, evidence }
    }
}

/// The learned accent classifiers' verdicts on a caller's English turns, averaged by speech
/// time (see `super::voice`), fused with the recogniser's language vector: the classifier
/// decides native or not (it hears pronunciation, where the vector mostly hears the words'
/// language), and a first language the vector names outright (Hindi for Indian English) is
/// kept, being more specific than the classifier's language family.
#[derive(Debug, Default, Clone)]
pub struct LearnedAccent {
    native: Tally,
    family: Tally,
    region: Tally,
    /// Each probe's confidence floor (carried by its predictions): native, family, region.
    floors: [f32; 3],
}

impl LearnedAccent {
    /// Add a turn's classifier verdicts (they rest on the turn's last 8 s at most, so a
    /// turn weighs its speech time up to that).
    pub fn add(&mut self, scores: &super::voice::VoiceScores, speech_ms: u64) {
        let speech_ms = speech_ms.min(super::encoder::WINDOW as u64 / 16);
        let probes = [
            (&mut self.native, &scores.native),
            (&mut self.family, &scores.family),
            (&mut self.region, &scores.region),
        ];
        for ((tally, pred), floor) in probes.into_iter().zip(self.floors.iter_mut()) {
            if let Some(pred) = pred {
                tally.add(&pred.probs, speech_ms);
                *floor = pred.floor;
            }
        }
    }

    /// The fused estimate; the vector's estimate alone when the classifiers have not spoken
    /// (not installed, or too little speech).
    pub fn fuse(&self, vector: Accent, min_speech_ms: u64) -> Accent {
        let Some((native, p)) = self.native.top() else { return vector };
        let speech_ms = self.native.speech_ms;
        if speech_ms < min_speech_ms {
            return vector;
        }
        let [native_floor, family_floor, region_floor] = self.floors;
        let mut evidence = vec![format!("voice classifier: {} {p:.2}", native.replace('_', "-"))];
        evidence.extend(vector.evidence.iter().cloned());
        // Below the floor, or a weak verdict the recogniser's language vector contradicts:
        // say nothing rather than guess.
        let contradicted = vector.native.is_some_and(|v| v != (native == "native")) && p < STRONG_VOICE;
        if p < native_floor || contradicted {
            return Accent { evidence, ..Accent::unknown(vector.english_prob, speech_ms) };
        }
        let time = (speech_ms as f32 / (3 * min_speech_ms) as f32).min(1.0);
        let confidence = p * (0.6 + 0.4 * time);
        if native == "native" {
            let region = self.region.top().filter(|(_, q)| *q >= region_floor).map(|(r, q)| {
                evidence.push(format!("voice classifier: {} {q:.2}", r.replace('_', " ")));
                region_name(&r).to_string()
            });
            return Accent {
                label: "native English".into(),
                native: Some(true),
                region,
                l1: Some("en".into()),
                confidence,
                english_prob: vector.english_prob,
                speech_ms,
                evidence,
            };
        }
        if vector.native == Some(false) && vector.l1.is_some() {
            return Accent { confidence: confidence.max(vector.confidence), evidence, speech_ms, ..vector };
        }
        let family = self.family.top().filter(|(_, q)| *q >= family_floor);
        let (label, l1) = match family {
            Some((f, q)) => {
                evidence.push(format!("voice classifier: {} first language {q:.2}", f.replace('_', "-")));
                (format!("non-native English ({} first language)", family_name(&f)), Some(f))
            }
            None => ("non-native English".to_string(), None),
        };
        Accent {
            label,
            native: Some(false),
            region: None,
            l1,
            confidence,
            english_prob: vector.english_prob,
            speech_ms,
            evidence,
        }
    }
}

/// A classifier verdict this sure overrides the language vector's opposite one (the vector
/// misses many accents); a weaker one it contradicts gives "unknown".
const STRONG_VOICE: f32 = 0.8;

/// A native region's name in words.
pub fn region_name(r: &str) -> &str {
    match r {
        "north_america" => "North America",
        "british_isles" => "British Isles",
        "oceania" => "Oceania",
        other => other,
    }
}

/// A first-language family's name in words.
pub fn family_name(f: &str) -> &str {
    match f {
        "afro_asiatic" => "Afro-Asiatic",
        "germanic" => "Germanic",
        "slavic" => "Slavic",
        "chinese" => "Chinese",
        "indo_aryan" => "Indo-Aryan",
        other => other,
    }
}

/// Languages the recogniser reaches for on any unusual English (synthetic voices, strong
/// regional accents): Latin, Hawaiian, Nynorsk, Welsh, Javanese. They count against "en" but
/// never name a first language.
const UNINFORMATIVE: &[&str] = &["la", "haw", "nn", "cy", "jw"];

/// Languages whose accents in English the recogniser confuses with each other, grouped.
fn family(lang: &str) -> &str {
    match lang {
        "hi" | "sa" | "ur" | "mr" | "ne" | "bn" | "ta" | "te" | "gu" | "kn" | "ml" | "pa" | "si" => "indic",
        "zh" | "yue" => "chinese",
        other => other,
    }
}

/// "Indian English", "Spanish-accented English": the name of an accent by first language.
fn accent_adjective(l1: &str) -> String {
    match family(l1) {
        "indic" => "Indian".into(),
        other => format!("{}-accented", language_name(other)),
    }
}

/// Where an accent from this first language is most likely from (None when that is ambiguous,
/// as for Spanish, Arabic or French).
fn region_of(l1: &str) -> Option<&'static str> {
    Some(match family(l1) {
        "indic" => "IN",
        "chinese" => "CN",
        "ja" => "JP",
        "ko" => "KR",
        "de" => "DE",
        "sv" => "SE",
        "it" => "IT",
        "ru" => "RU",
        "pl" => "PL",
        "nl" => "NL",
        "tr" => "TR",
        "vi" => "VN",
        "el" => "GR",
        _ => return None,
    })
}

/// An English name for a language code (the common ones; the code otherwise).
pub fn language_name(code: &str) -> String {
    match code {
        "en" => "English",
        "de" => "German",
        "sv" => "Swedish",
        "fr" => "French",
        "es" => "Spanish",
        "it" => "Italian",
        "pt" => "Portuguese",
        "nl" => "Dutch",
        "hi" => "Hindi",
        "ar" => "Arabic",
        "zh" => "Chinese",
        "ja" => "Japanese",
        "ko" => "Korean",
        "ru" => "Russian",
        "pl" => "Polish",
        "tr" => "Turkish",
        "el" => "Greek",
        "ur" => "Urdu",
        "vi" => "Vietnamese",
        "ro" => "Romanian",
        other => return other.to_string(),
    }
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(list: &[(&str, f32)]) -> Vec<(String, f32)> {
        list.iter().map(|(l, p)| (l.to_string(), *p)).collect()
    }

    #[test]
    fn too_little_speech_is_unknown() {
        let mut a = AccentEstimator::default();
        a.add(&v(&[("en", 0.99)]), 1_000);
        assert_eq!(a.estimate().label, "unknown");
    }

    #[test]
    fn confident_english_is_native_without_a_region() {
        let mut a = AccentEstimator::default();
        a.add(&v(&[("en", 0.99), ("cy", 0.004)]), 3_000);
        a.add(&v(&[("en", 0.97)]), 2_000);
        let e = a.estimate();
        assert_eq!((e.native, e.region.as_deref(), e.label.as_str()), (Some(true), None, "native English"));
        assert!(e.confidence > 0.5);
    }

    #[test]
    fn mass_leaking_to_hindi_is_indian_english() {
        let mut a = AccentEstimator::default();
        a.add(&v(&[("en", 0.55), ("hi", 0.30), ("ur", 0.05)]), 3_000);
        a.add(&v(&[("en", 0.65), ("hi", 0.20), ("ta", 0.05)]), 3_000);
        let e = a.estimate();
        assert_eq!(e.label, "Indian English");
        assert_eq!((e.native, e.region.as_deref(), e.l1.as_deref()), (Some(false), Some("IN"), Some("hi")));
    }

    #[test]
    fn indic_languages_add_up() {
        // CMU ARCTIC axb's vector: no single Indian language holds 40% of the rest, together they do.
        let mut a = AccentEstimator::default();
        a.add(&v(&[("en", 0.66), ("sa", 0.08), ("hi", 0.07), ("te", 0.05), ("ur", 0.04), ("la", 0.03)]), 5_400);
        let e = a.estimate();
        assert_eq!((e.label.as_str(), e.region.as_deref()), ("Indian English", Some("IN")), "{e:?}");
    }

    #[test]
    fn latin_and_welsh_never_name_a_first_language() {
        let mut a = AccentEstimator::default();
        a.add(&v(&[("en", 0.6), ("la", 0.3), ("cy", 0.05)]), 5_000);
        let e = a.estimate();
        assert_eq!((e.label.as_str(), e.l1.as_deref()), ("non-native English", None), "{e:?}");
    }

    #[test]
    fn the_undecided_band_and_a_scattered_remainder_say_so() {
        let mut a = AccentEstimator::default();
        a.add(&v(&[("en", 0.87), ("de", 0.05)]), 5_000);
        assert_eq!(a.estimate().label, "unknown");
        let mut b = AccentEstimator::default();
        b.add(&v(&[("en", 0.5), ("de", 0.1), ("nl", 0.1), ("sv", 0.1), ("da", 0.1)]), 5_000);
        let e = b.estimate();
        assert_eq!((e.label.as_str(), e.native, e.l1.as_deref()), ("non-native English", Some(false), None));
    }

    fn pred(classes: &[(&str, f32)], floor: f32) -> crate::pipeline::analysis::probe::Prediction {
        let (best, conf) = classes.iter().fold(("", 0.0), |a, (c, p)| if *p > a.1 { (*c, *p) } else { a });
        crate::pipeline::analysis::probe::Prediction {
            label: if conf >= floor { best.to_string() } else { "unknown".into() },
            confidence: conf,
            probs: classes.iter().map(|(c, p)| (c.to_string(), *p)).collect(),
            floor,
        }
    }

    fn learned(native: f32, family: &[(&str, f32)], region: &[(&str, f32)]) -> LearnedAccent {
        let scores = crate::pipeline::analysis::voice::VoiceScores {
            anger: None,
            arousal: None,
            native: Some(pred(&[("native", native), ("non_native", 1.0 - native)], 0.6)),
            family: Some(pred(family, 0.5)),
            region: Some(pred(region, 0.5)),
            end_of_turn: 0.9,
            compute_us: 0,
        };
        let mut l = LearnedAccent::default();
        l.add(&scores, 4_000);
        l
    }

    fn vector(list: &[(&str, f32)]) -> Accent {
        let mut a = AccentEstimator::default();
        a.add(&v(list), 4_000);
        a.estimate()
    }

    #[test]
    fn the_voice_classifier_decides_and_a_weak_verdict_the_vector_contradicts_is_unknown() {
        let fam = [("chinese", 0.7), ("germanic", 0.3)];
        let reg = [("british_isles", 0.8), ("north_america", 0.2)];
        // Both say native: native, with the classifier's region.
        let a = learned(0.9, &fam, &reg).fuse(vector(&[("en", 0.99)]), 2_500);
        assert_eq!(
            (a.label.as_str(), a.native, a.region.as_deref()),
            ("native English", Some(true), Some("British Isles"))
        );
        assert!(a.evidence.iter().any(|e| e.starts_with("voice classifier: native 0.90")), "{:?}", a.evidence);
        // A weak non-native verdict against a confident native vector: unknown.
        let a = learned(0.35, &fam, &reg).fuse(vector(&[("en", 0.99)]), 2_500);
        assert_eq!(a.label, "unknown", "{a:?}");
        // A strong one wins (the vector misses many accents), with the family.
        let a = learned(0.1, &fam, &reg).fuse(vector(&[("en", 0.99)]), 2_500);
        assert_eq!(
            (a.label.as_str(), a.native, a.l1.as_deref()),
            ("non-native English (Chinese first language)", Some(false), Some("chinese"))
        );
        // A first language the vector names outright is kept.
        let a = learned(0.1, &fam, &reg).fuse(vector(&[("en", 0.6), ("hi", 0.3), ("ur", 0.1)]), 2_500);
        assert_eq!((a.label.as_str(), a.l1.as_deref()), ("Indian English", Some("hi")));
        // Too little speech for the classifier: the vector's estimate.
        let a = learned(0.1, &fam, &reg).fuse(vector(&[("en", 0.99)]), 10_000);
        assert_eq!(a.label, "native English");
    }
}
