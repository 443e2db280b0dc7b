//! Whether a caller's turn is over, from everything the call knows (sans-IO: the silence so far
//! comes in as a number, the model's probability and the words as values).
//!
//! A fixed silence cannot tell "I'd like to ... [thinks] ... change my address" from "I'd like
//! to change my address." So after a short silence ([`TurnConfig::probe_silence_ms`]) the
//! stream asks three witnesses and this module weighs them:
//!
//! 1. **What the assistant asked.** If it asked for an order number, a PIN, a date or yes/no
//!    ([`Expectation`]), an answer that is complete ends the turn at once, and an answer under
//!    way ("my order number is four five...") holds the turn open up to the hard maximum: a
//!    caller reading digits slowly is not cut off.
//! 2. **The words so far.** A hypothesis ending in "and", "the", "my", "um" or a comma is an
//!    unfinished sentence: it waits up to the hard maximum, whatever the model says. One the
//!    recogniser closed (".", "?", "!") needs less of the model, and never waits longer than
//!    the plain silence rule (`end_silence_ms`).
//! 3. **Smart Turn v3.2** (Pipecat's end-of-turn model on the turn's last 8 s: intonation,
//!    rhythm, and what the words sound like): its probability against a threshold.
//!
//! If none of them ends the turn, a longer silence still does ([`TurnConfig::unsure_silence_ms`]),
//! and every turn ends after [`TurnConfig::max_silence_ms`] of silence whatever they say.
//! Every verdict carries its reason ([`Why`]): a final's `ended_by` and the logs.

use std::fmt;
use std::sync::Arc;

use super::turn::{TurnConfig, TurnMode};

/// How far a hypothesis has got in answering what the assistant asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// The answer is all there (five digits of an order number, a whole date, "yes").
    Complete,
    /// An answer is under way but not finished (three digits of five, a month without a day).
    Partial,
    /// Nothing of the answer yet (the caller is saying something else).
    Nothing,
}

/// What the assistant just asked for: a name for the logs and a judge of the answer so far.
#[derive(Clone)]
pub struct Expectation {
    pub what: &'static str,
    /// A Whisper prompt for the answer's decode (an example in the format the answer is read
    /// in), if one measured better than none.
    pub prompt: Option<&'static str>,
    /// The answer's form: a whole answer is re-read held to it ([`super::asr::form`]).
    pub form: Option<Arc<super::asr::form::AnswerForm>>,
    check: Arc<dyn Fn(&str) -> Answer + Send + Sync>,
}

impl Expectation {
    pub fn new(what: &'static str, check: impl Fn(&str) -> Answer + Send + Sync + 'static) -> Self {
        Self { what, prompt: None, form: None, check: Arc::new(check) }
    }

    pub fn with_prompt(mut self, prompt: Option<&'static str>) -> Self {
        self.prompt = prompt;
        self
    }

    pub fn with_form(mut self, form: Option<Arc<super::asr::form::AnswerForm>>) -> Self {
        self.form = form;
        self
    }

    pub fn judge(&self, words: &str) -> Answer {
        (self.check)(words)
    }
}

impl fmt::Debug for Expectation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Expectation({})", self.what)
    }
}

/// A speaker's expected answer, shared between the call (which sets it when the assistant asks
/// a question) and the stream (which reads it when a pause is judged).
#[derive(Clone, Default, Debug)]
pub struct ExpectedAnswer(Arc<std::sync::Mutex<Option<Expectation>>>);

impl ExpectedAnswer {
    pub fn set(&self, e: Option<Expectation>) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = e;
    }
    pub fn get(&self) -> Option<Expectation> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// What is known at a pause.
#[derive(Debug, Clone, Default)]
pub struct Evidence<'a> {
    /// Silence since the last speech, ms.
    pub silence_ms: u64,
    /// Smart Turn's probability that the turn is complete (`None`: the model is not loaded).
    pub end_of_turn: Option<f32>,
    /// The words heard so far in the turn (`None`: no decode yet).
    pub words: Option<&'a str>,
    pub expecting: Option<&'a Expectation>,
}

/// Why a turn ended, or why it is held open.
#[derive(Debug, Clone, PartialEq)]
pub enum Why {
    /// The hard maximum silence.
    MaxSilence,
    /// Silence alone (silence mode, or no model).
    Silence,
    /// Smart Turn is sure enough.
    Model(f32),
    /// The answer to the assistant's question is complete.
    Answered(&'static str),
    /// The answer to the assistant's question is under way.
    Answering(&'static str),
    /// The sentence is grammatically unfinished (the model's probability for the record).
    Unfinished(f32),
    /// The model thinks the caller will go on; a longer silence ends the turn anyway.
    ModelUnsure(f32),
    /// The model is sure the caller goes on: only the hard maximum ends the turn.
    GoesOn(f32),
}

impl fmt::Display for Why {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Why::MaxSilence => f.write_str("max_silence"),
            Why::Silence => f.write_str("silence"),
            Why::Model(p) => write!(f, "model {p:.2}"),
            Why::Answered(w) => write!(f, "answered {w}"),
            Why::Answering(w) => write!(f, "answering {w}"),
            Why::Unfinished(p) => write!(f, "unfinished words (model {p:.2})"),
            Why::ModelUnsure(p) => write!(f, "model unsure {p:.2}"),
            Why::GoesOn(p) => write!(f, "model: caller goes on {p:.2}"),
        }
    }
}

/// The judgement at a pause.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    End(Why),
    Wait(Why),
}

impl Verdict {
    pub fn ends(&self) -> bool {
        matches!(self, Verdict::End(_))
    }
}

/// Words after which a sentence cannot have ended, even where the recogniser closed it (it
/// closes whatever it was given when the audio stops): the conjunctions "and", "or", "but",
/// "because", "if", "than"; articles; the possessives "my", "your", "our", "their"; fillers;
/// and a subject with no verb yet ("I", "we", "I'm", "it's").
const NEVER_LAST: &[&str] = &[
    "and", "or", "but", "because", "the", "a", "an", "my", "your", "our", "their", "um", "uh", "er", "erm", "hmm",
    "if", "than", "i'm", "i", "we", "it's",
];

/// Words after which a sentence has usually not ended, but can ("... what you need.", "go
/// on.", "where are you from?", "I want to.", "I think so.", "I told her."): prepositions,
/// verbs, "so", "that", "which", "when", "then", "like", "his", "her". Unfinished unless the
/// recogniser closed the sentence (". ? !").
const RARELY_LAST: &[&str] = &[
    "so", "his", "her", "is", "are", "was", "to", "of", "for", "with", "at", "in", "on", "from", "about", "that",
    "which", "like", "when", "then", "number", "be", "been", "would", "could", "can", "will", "want", "need", "by",
    "were",
];

/// What callers say when they are about to pause and go on: the turn is held up to the hard
/// maximum whatever the punctuation.
const HOLDING: &[&str] = &[
    "hold on",
    "hang on",
    "one moment",
    "one second",
    "just a second",
    "just a moment",
    "let me check",
    "let me see",
    "let me look",
];

/// Forms of "to be" that, after a noun phrase, want what follows ("the order number is", "my
/// date of birth is"): unfinished whatever the punctuation. Otherwise ("yes, it is.", "it
/// really is.", "that's where it was.") "is", "are", "was" and "were" are only
/// [`RARELY_LAST`], and "am" ("yes, I am.") nothing special.
const COPULAS: &[&str] = &["is", "are", "was", "were", "am"];

/// Whether a final form of "to be" after `before` (the words of its own sentence) still wants
/// what follows: after a noun phrase a determiner or possessive opened, within the last four
/// words ("the order number", "my date of birth"), and not closing a clause a wh-word opened
/// ("I don't know where my parcel is", "can you tell me what the status of my order is").
fn wants_complement(before: &[&str]) -> bool {
    let Some(subject) = before.last() else { return false };
    let phrase = &before[before.len().saturating_sub(4)..];
    !COPULA_SUBJECTS.contains(subject)
        && !before.iter().any(|w| WH.contains(w))
        && phrase.iter().any(|w| DETERMINERS.contains(w))
}

/// Words that open a clause a final "is" can close.
const WH: &[&str] = &["what", "where", "who", "whose", "which", "how", "when", "why", "whatever", "wherever"];

/// Words that open the noun phrase a final "is" wants a complement after.
const DETERMINERS: &[&str] = &["the", "a", "an", "my", "your", "our", "their", "his", "her", "its"];

/// Words after which a final "is" can close a sentence (see [`COPULAS`]); wh-words need no
/// place here, since one anywhere in the sentence already lets it close ([`WH`]).
const COPULA_SUBJECTS: &[&str] =
    &["it", "that", "this", "these", "those", "there", "here", "he", "she", "they", "you", "we", "i", "one", "so"];

/// The last sentence of a hypothesis: after the last ". ? !" before its end.
fn last_sentence(t: &str) -> &str {
    let body = t.trim_end_matches(['.', '?', '!', ' ']);
    body.rfind(['.', '?', '!']).map_or(body, |i| &body[i + 1..])
}

/// Lower case, letters, digits and apostrophes, one space between words.
fn plain_words(t: &str) -> String {
    let plain: String =
        t.to_lowercase().chars().filter(|c| c.is_alphanumeric() || c.is_whitespace() || *c == '\'').collect();
    plain.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// How a hypothesis ends, for the words rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// Where a sentence cannot end: a conjunction, article or filler, or a comma, dash or "..."
    /// the recogniser wrote for a pause mid-sentence.
    Unfinished,
    /// A word sentences rarely end on ("to", "on", "need"), in a sentence the recogniser
    /// closed: trusted no further than the plain silence rule (and a turn of one or two
    /// words no sooner than `unsure_silence_ms`).
    Doubtful,
    /// Anything else.
    Open,
}

/// How a hypothesis ends (see [`Ending`]).
pub fn ending(words: &str) -> Ending {
    let t = words.trim();
    if t.is_empty() {
        return Ending::Open;
    }
    if t.ends_with(',') || t.ends_with('-') || t.ends_with("...") || t.ends_with('…') {
        return Ending::Unfinished;
    }
    let plain = plain_words(t);
    if HOLDING.iter().any(|h| plain.ends_with(h)) {
        return Ending::Unfinished;
    }
    let last = plain.rsplit(' ').next().unwrap_or("");
    let wants_complement = COPULAS.contains(&last) && {
        let sentence = plain_words(last_sentence(t));
        let words: Vec<&str> = sentence.split(' ').collect();
        wants_complement(&words[..words.len().saturating_sub(1)])
    };
    if NEVER_LAST.contains(&last) || wants_complement {
        Ending::Unfinished
    } else if RARELY_LAST.contains(&last) {
        if closes_sentence(t) {
            Ending::Doubtful
        } else {
            Ending::Unfinished
        }
    } else {
        Ending::Open
    }
}

/// Whether a hypothesis stops where a sentence cannot end (see [`Ending::Unfinished`]).
pub fn unfinished(words: &str) -> bool {
    ending(words) == Ending::Unfinished
}

/// One or two words: a turn too short to be ended on the model alone.
fn few_words(words: &str) -> bool {
    (1..=2).contains(&words.split_whitespace().count())
}

/// Words too few or too bare for a sure model to end the turn on:
/// - speech the recogniser wrote nothing for (a mumble, digits over a poor line): nothing says
///   the caller finished;
/// - a number and nothing else (nothing asked for it, or the answer rule would have decided):
///   callers read numbers out in groups with pauses between them (a phone number, a card, an
///   order number nobody asked for yet), and a group sounds finished;
/// - two words or fewer that answer nothing ("Hello.", "Buenos días."): how callers start a
///   request, not all of it.
fn says_too_little(words: &str) -> bool {
    !words.chars().any(char::is_alphanumeric) || only_digits(words) || few_words(words)
}

/// Digits or digit words and nothing else ("4 5 6.", "four, five", "0 1 2 2").
fn only_digits(words: &str) -> bool {
    const DIGIT_WORDS: &[&str] =
        &["zero", "oh", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "double", "triple"];
    // Groups as Whisper writes them ("555-123-4567", "45,678"); any other sign ("$5", "10%")
    // makes it an amount, not a number read out.
    if words.chars().any(|c| !(c.is_alphanumeric() || c.is_whitespace() || ".,?!-".contains(c))) {
        return false;
    }
    let mut any = false;
    for w in words.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
        let w = w.to_lowercase();
        if !(w.chars().all(|c| c.is_ascii_digit()) || DIGIT_WORDS.contains(&w.as_str())) {
            return false;
        }
        any = true;
    }
    any
}

/// Whether the recogniser closed the sentence: a final ".", "?" or "!" (not "...").
pub fn closes_sentence(words: &str) -> bool {
    let t = words.trim_end();
    t.ends_with(['.', '?', '!']) && !t.ends_with("..")
}

/// End on silence once `limit_ms` of it has passed, else wait for `why`.
fn silence_after(ev: &Evidence, limit_ms: u64, why: Why) -> Verdict {
    if ev.silence_ms >= limit_ms {
        Verdict::End(Why::Silence)
    } else {
        Verdict::Wait(why)
    }
}

/// Weigh the evidence at a pause.
pub fn judge(cfg: &TurnConfig, ev: &Evidence) -> Verdict {
    if ev.silence_ms >= cfg.max_silence_ms {
        return Verdict::End(Why::MaxSilence);
    }
    let p = match (cfg.mode, ev.end_of_turn) {
        (TurnMode::Smart, Some(p)) => p,
        _ => return silence_after(ev, cfg.end_silence_ms, Why::Silence),
    };
    if let (Some(e), Some(w)) = (ev.expecting, ev.words) {
        match e.judge(w) {
            Answer::Complete => return Verdict::End(Why::Answered(e.what)),
            Answer::Partial => return Verdict::Wait(Why::Answering(e.what)),
            Answer::Nothing => {}
        }
    }
    // Words that cannot end a sentence hold the turn whatever the model says: it hears tone,
    // and a caller can say "my address is" in the tone of a finished sentence. A word that
    // rarely ends one, after the recogniser's full stop ("please go on."), is not ended on the
    // model but never waits longer than the plain silence rule.
    match ev.words.map(ending) {
        Some(Ending::Unfinished) => return Verdict::Wait(Why::Unfinished(p)),
        Some(Ending::Doubtful) => {
            // One or two words ("So.", "Right on.") wait as other short turns do.
            let short = ev.words.is_some_and(few_words);
            let limit = if short { cfg.unsure_silence_ms.max(cfg.end_silence_ms) } else { cfg.end_silence_ms };
            return silence_after(ev, limit, Why::Unfinished(p));
        }
        _ => {}
    }
    // Too little to end on the model, only on `unsure_silence_ms` (see [`says_too_little`]).
    if ev.words.is_some_and(says_too_little) {
        return silence_after(ev, cfg.unsure_silence_ms, Why::ModelUnsure(p));
    }
    let closed = ev.words.is_some_and(closes_sentence);
    let threshold = if closed { cfg.sentence_end_threshold.min(cfg.model_threshold) } else { cfg.model_threshold };
    if p >= threshold {
        return Verdict::End(Why::Model(p));
    }
    if closed {
        // The recogniser heard a sentence end and the model did not: today's silence rule.
        return silence_after(ev, cfg.end_silence_ms, Why::ModelUnsure(p));
    }
    if p < cfg.goes_on_below {
        return Verdict::Wait(Why::GoesOn(p));
    }
    silence_after(ev, cfg.unsure_silence_ms, Why::ModelUnsure(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn smart() -> TurnConfig {
        TurnConfig { mode: TurnMode::Smart, ..TurnConfig::default() }
    }

    fn digits(n: usize) -> Expectation {
        Expectation::new("order number", move |t: &str| {
            let k = t.chars().filter(|c| c.is_ascii_digit()).count();
            if k >= n {
                Answer::Complete
            } else if k > 0 {
                Answer::Partial
            } else {
                Answer::Nothing
            }
        })
    }

    fn at(silence_ms: u64, p: f32, words: &str) -> Evidence<'_> {
        Evidence { silence_ms, end_of_turn: Some(p), words: Some(words), expecting: None }
    }

    #[test]
    fn a_finished_sentence_the_model_is_sure_of_ends_at_the_first_pause() {
        let cfg = smart();
        let v = judge(&cfg, &at(cfg.probe_silence_ms, 0.92, "When is my next payment due?"));
        assert_eq!(v, Verdict::End(Why::Model(0.92)));
    }

    #[test]
    fn a_pause_the_model_hears_as_mid_sentence_waits_then_a_longer_silence_ends_it() {
        let cfg = smart();
        let words = "And so my fellow Americans, ask not";
        assert_eq!(judge(&cfg, &at(200, 0.3, words)), Verdict::Wait(Why::ModelUnsure(0.3)));
        assert_eq!(judge(&cfg, &at(cfg.unsure_silence_ms - 1, 0.3, words)), Verdict::Wait(Why::ModelUnsure(0.3)));
        assert_eq!(judge(&cfg, &at(cfg.unsure_silence_ms, 0.3, words)), Verdict::End(Why::Silence));
        // A model sure the caller goes on holds the turn up to the hard maximum.
        assert_eq!(judge(&cfg, &at(cfg.unsure_silence_ms, 0.08, words)), Verdict::Wait(Why::GoesOn(0.08)));
        assert_eq!(judge(&cfg, &at(cfg.max_silence_ms, 0.08, words)), Verdict::End(Why::MaxSilence));
    }

    #[test]
    fn unfinished_words_hold_the_turn_up_to_the_hard_maximum_whatever_the_model_says() {
        let cfg = smart();
        let words = "I'd like to change my address and";
        assert!(unfinished(words));
        assert_eq!(judge(&cfg, &at(200, 0.7, words)), Verdict::Wait(Why::Unfinished(0.7)));
        assert_eq!(judge(&cfg, &at(cfg.unsure_silence_ms + 100, 0.7, words)), Verdict::Wait(Why::Unfinished(0.7)));
        assert_eq!(judge(&cfg, &at(200, 0.97, words)), Verdict::Wait(Why::Unfinished(0.97)));
        assert_eq!(judge(&cfg, &at(cfg.max_silence_ms, 0.1, words)), Verdict::End(Why::MaxSilence));
        for w in ["my number is", "um", "the order,", "well I -", "to", "my address is the.", "and."] {
            assert!(unfinished(w), "{w}");
        }
        for w in ["thank you.", "no", "it's 45678", "", "Baker Street", "Please go on."] {
            assert!(!unfinished(w), "{w}");
        }
    }

    #[test]
    fn is_after_a_noun_wants_what_follows_and_after_a_pronoun_can_close_an_answer() {
        // The simulated caller's pause: "The order number is. | four five six seven eight".
        for w in ["The order number is.", "My date of birth is.", "The problem is.", "The items were."] {
            assert_eq!(ending(w), Ending::Unfinished, "{w}");
        }
        for w in [
            "Yes, it is.",
            "That's where it was.",
            "Here it is.",
            "I don't know where my parcel is.",
            "Can you tell me what the status of my order is?",
            "Yes, it really is.",
            "Yes, mine is.",
            "Both are.",
            "They were.",
        ] {
            assert_eq!(ending(w), Ending::Doubtful, "{w}");
        }
        // Only the last sentence counts: a wh-word before it opens nothing in it.
        assert_eq!(ending("I don't know why. The reason is."), Ending::Unfinished);
        assert_eq!(ending("What is it? My order number is"), Ending::Unfinished);
        assert_eq!(ending("Yes, I am."), Ending::Open);
        assert_eq!(ending("Is."), Ending::Doubtful);
    }

    #[test]
    fn a_word_that_rarely_ends_a_sentence_after_a_full_stop_waits_as_the_silence_rule_does() {
        let cfg = smart();
        let words = "Okay, please tell me what you need.";
        assert_eq!(ending(words), Ending::Doubtful);
        // Not ended on the model, however sure it is...
        assert_eq!(judge(&cfg, &at(200, 0.97, words)), Verdict::Wait(Why::Unfinished(0.97)));
        // ...and not held past today's silence rule either.
        assert_eq!(judge(&cfg, &at(cfg.end_silence_ms, 0.04, words)), Verdict::End(Why::Silence));
        // Without the full stop it is unfinished: up to the hard maximum.
        assert_eq!(ending("please tell me what you need"), Ending::Unfinished);
        assert_eq!(judge(&cfg, &at(cfg.end_silence_ms, 0.04, "I want to")), Verdict::Wait(Why::Unfinished(0.04)));
        // One or two such words wait as other short turns do.
        assert_eq!(judge(&cfg, &at(cfg.end_silence_ms, 0.9, "So.")), Verdict::Wait(Why::Unfinished(0.9)));
        assert_eq!(judge(&cfg, &at(cfg.unsure_silence_ms, 0.9, "So.")), Verdict::End(Why::Silence));
        // A caller who says they will pause is held whatever the punctuation.
        for w in ["Hold on.", "Okay, hang on!", "Let me check.", "One moment, please"] {
            let hold = w.trim_end_matches(", please");
            assert_eq!(ending(hold), Ending::Unfinished, "{w}");
        }
        assert_eq!(
            judge(&cfg, &at(cfg.unsure_silence_ms + 100, 0.95, "Hold on.")),
            Verdict::Wait(Why::Unfinished(0.95))
        );
    }

    #[test]
    fn a_number_nobody_asked_for_is_not_ended_on_the_model() {
        let cfg = smart();
        for w in ["1 6 8 8 6 8", "9 5 6 7.", "four, five, six", "0122", "555-123-4567", "45,678"] {
            assert!(only_digits(w), "{w}");
            assert_eq!(judge(&cfg, &at(400, 0.97, w)), Verdict::Wait(Why::ModelUnsure(0.97)), "{w}");
            assert_eq!(judge(&cfg, &at(cfg.unsure_silence_ms, 0.97, w)), Verdict::End(Why::Silence), "{w}");
        }
        for w in ["It's 4 5 6 7 8.", "", "...", "one moment", "$5.", "10%"] {
            assert!(!only_digits(w), "{w}");
        }
        // Asked for, the answer's own rule decides.
        let e = digits(5);
        let ev = Evidence { silence_ms: 300, end_of_turn: Some(0.9), words: Some("4 5 6 7 8"), expecting: Some(&e) };
        assert!(judge(&cfg, &ev).ends());
    }

    #[test]
    fn digits_read_slowly_hold_the_turn_until_the_number_is_whole() {
        let cfg = smart();
        let e = digits(5);
        let ev = |silence_ms, words| Evidence {
            silence_ms,
            end_of_turn: Some(0.9),
            words: Some(words),
            expecting: Some(&e),
        };
        // The model hears a finished phrase after "four five", but the number is not whole.
        assert_eq!(judge(&cfg, &ev(200, "4 5")), Verdict::Wait(Why::Answering("order number")));
        assert_eq!(judge(&cfg, &ev(1500, "4 5 6")), Verdict::Wait(Why::Answering("order number")));
        assert_eq!(judge(&cfg, &ev(cfg.max_silence_ms, "4 5 6")), Verdict::End(Why::MaxSilence));
        // Whole: ends at once even if the model is unsure.
        let whole = Evidence { end_of_turn: Some(0.2), ..ev(200, "4 5 6 7 8") };
        assert_eq!(judge(&cfg, &whole), Verdict::End(Why::Answered("order number")));
        // Something else than the answer: the usual rules.
        assert_eq!(judge(&cfg, &ev(200, "sorry, could you say it again?")), Verdict::End(Why::Model(0.9)));
    }

    #[test]
    fn a_sentence_the_recogniser_closed_needs_less_of_the_model_and_never_waits_past_todays_silence() {
        let cfg = smart();
        assert!(closes_sentence("When is my payment due?") && !closes_sentence("well..."));
        assert_eq!(judge(&cfg, &at(200, 0.3, "When is my payment due?")), Verdict::End(Why::Model(0.3)));
        let low = |silence_ms| at(silence_ms, 0.01, "When is my payment due?");
        assert_eq!(judge(&cfg, &low(200)), Verdict::Wait(Why::ModelUnsure(0.01)));
        assert_eq!(judge(&cfg, &low(cfg.end_silence_ms)), Verdict::End(Why::Silence));
    }

    #[test]
    fn speech_the_recogniser_wrote_nothing_for_is_not_ended_on_the_model() {
        let cfg = smart();
        assert_eq!(judge(&cfg, &at(200, 0.96, "")), Verdict::Wait(Why::ModelUnsure(0.96)));
        assert_eq!(judge(&cfg, &at(cfg.unsure_silence_ms, 0.96, " ")), Verdict::End(Why::Silence));
    }

    #[test]
    fn a_greeting_alone_waits_for_the_request_that_follows() {
        let cfg = smart();
        assert_eq!(judge(&cfg, &at(200, 0.96, "Buenos días.")), Verdict::Wait(Why::ModelUnsure(0.96)));
        assert_eq!(judge(&cfg, &at(cfg.unsure_silence_ms, 0.96, "Hello.")), Verdict::End(Why::Silence));
    }

    #[test]
    fn silence_mode_and_a_missing_model_end_on_silence_alone() {
        let silence = TurnConfig { mode: TurnMode::Silence, ..TurnConfig::default() };
        assert_eq!(judge(&silence, &at(599, 0.99, "yes.")), Verdict::Wait(Why::Silence));
        assert_eq!(judge(&silence, &at(600, 0.0, "and")), Verdict::End(Why::Silence));
        let smart = smart();
        let no_model = Evidence { silence_ms: 600, end_of_turn: None, words: None, expecting: None };
        assert_eq!(judge(&smart, &no_model), Verdict::End(Why::Silence));
    }

    #[test]
    fn reasons_read_as_words() {
        assert_eq!(Why::Model(0.873).to_string(), "model 0.87");
        assert_eq!(Why::Answered("order number").to_string(), "answered order number");
        assert_eq!(Why::MaxSilence.to_string(), "max_silence");
    }
}
