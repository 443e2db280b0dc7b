//! The form an expected answer takes ("April 12th, 1985", "4 5 6 7 8", "1, 2, 3, 4"), for a
//! decode held to it.
//!
//! When the assistant has asked for a date of birth, a PIN or an order number, a free decode
//! of the answer can wander off the form (tiny.en at 8 kHz writes "May 30, 2017" for "May
//! thirtieth, nineteen seventy-eight", or "four" as "for"). A second decode held to the form
//! picks, at every step, the likeliest token that keeps the text a prefix of a well-formed
//! answer, and ends only when it is whole: the recogniser's own best reading among the answers
//! that could be meant. It runs only when the free decode looks like an attempt at the answer
//! (a caller saying "can I talk to a person" is not forced into a date), and where the two
//! readings disagree the answer is marked unsure, so the dialogue checks it with the caller.
//!
//! A form is a regular expression over the whole transcript, compiled to a DFA; the recogniser
//! walks it token by token ([`AnswerForm::step`]).

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use regex_automata::dfa::{dense, Automaton};
use regex_automata::util::primitives::StateID;
use regex_automata::util::start;
use regex_automata::util::syntax;
use regex_automata::Anchored;

use super::{Hypothesis, Word};

/// The shape of an expected answer.
pub struct AnswerForm {
    what: &'static str,
    dfa: dense::DFA<Vec<u32>>,
    start: StateID,
    attempted: Arc<dyn Fn(&str) -> bool + Send + Sync>,
    /// What a text reads as, by the dialogue's own parser (`None`: no answer).
    read: Arc<Reader>,
}

/// What a text reads as, by the dialogue's own parser.
type Reader = dyn Fn(&str) -> Option<String> + Send + Sync;

impl fmt::Debug for AnswerForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AnswerForm({})", self.what)
    }
}

impl AnswerForm {
    /// A form from a regular expression over the whole transcript (matched case-insensitively,
    /// from its first byte to its last); `attempted` says whether a free decode's text is an
    /// attempt at this answer, `read` what it reads as.
    pub fn new(
        what: &'static str,
        pattern: &str,
        attempted: impl Fn(&str) -> bool + Send + Sync + 'static,
        read: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
    ) -> Result<Self, String> {
        let dfa = dense::Builder::new()
            .syntax(syntax::Config::new().case_insensitive(true).unicode(false).utf8(false))
            .configure(dense::Config::new().start_kind(regex_automata::dfa::StartKind::Anchored))
            // Anchored at both ends: a DFA reports a match one byte late, so without `$` the
            // byte after a whole answer would look like a live prefix.
            .build(&format!("(?:{pattern})$"))
            .map_err(|e| format!("answer form {what}: {e}"))?;
        let start = dfa
            .start_state(&start::Config::new().anchored(Anchored::Yes))
            .map_err(|e| format!("answer form {what}: {e}"))?;
        Ok(Self { what, dfa, start, attempted: Arc::new(attempted), read: Arc::new(read) })
    }

    pub fn what(&self) -> &'static str {
        self.what
    }

    /// The state before any text.
    pub fn start(&self) -> StateID {
        self.start
    }

    /// The state after `bytes` from `from`, or `None` when no answer of this form continues so.
    pub fn step(&self, from: StateID, bytes: &[u8]) -> Option<StateID> {
        let mut s = from;
        for &b in bytes {
            s = self.dfa.next_state(s, b);
            if self.dfa.is_dead_state(s) || self.dfa.is_quit_state(s) {
                return None;
            }
        }
        Some(s)
    }

    /// Whether the text read so far is a whole answer.
    pub fn is_whole(&self, state: StateID) -> bool {
        self.dfa.is_match_state(self.dfa.next_eoi_state(state))
    }

    /// Whether `text` could begin an answer of this form.
    pub fn allows_prefix(&self, text: &str) -> bool {
        self.step(self.start, text.as_bytes()).is_some()
    }

    /// Whether `text` is a whole answer of this form.
    pub fn accepts(&self, text: &str) -> bool {
        self.step(self.start, text.as_bytes()).is_some_and(|s| self.is_whole(s))
    }

    /// Whether a free decode's text is an attempt at this answer (worth a decode held to it).
    pub fn attempted(&self, text: &str) -> bool {
        (self.attempted)(text)
    }

    /// What `text` reads as, by the dialogue's parser.
    pub fn read(&self, text: &str) -> Option<String> {
        (self.read)(text)
    }
}

/// What a decode held to a form changed: the free decode's reading, and whether the two agree.
#[derive(Debug, Clone, PartialEq)]
pub struct HeldReading {
    /// The free decode's text.
    pub free_text: String,
    /// Whether both read as the same answer.
    pub agreed: bool,
}

/// Re-reads held to a form, by outcome, for `/metrics`.
pub static REREADS: Rereads =
    Rereads { agreed: AtomicU64::new(0), disagreed: AtomicU64::new(0), not_whole: AtomicU64::new(0) };

/// Counts of re-reads: the held reading agreed with the free one, disagreed, or was no whole
/// answer (the free reading stands).
pub struct Rereads {
    agreed: AtomicU64,
    disagreed: AtomicU64,
    not_whole: AtomicU64,
}

impl Rereads {
    /// The counts by outcome, named as `/metrics` labels them.
    pub fn snapshot(&self) -> [(&'static str, u64); 3] {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        [("agreed", get(&self.agreed)), ("disagreed", get(&self.disagreed)), ("not_whole", get(&self.not_whole))]
    }
}

/// The hypothesis a call goes on with, from a free decode and one held to the form.
///
/// The held reading wins when it is a whole answer of the form. Its word probabilities are
/// Whisper's among the tokens the form allowed, so they say nothing about whether the answer
/// was heard right: each is capped at the free decode's confidence, and at 0 when the two
/// readings disagree, so that an answer the recogniser read two ways is checked with the caller
/// (read back, or a PIN keyed) rather than taken.
pub fn settle(form: &AnswerForm, free: Hypothesis, held: Hypothesis) -> Hypothesis {
    let decode_ms = free.decode_ms + held.decode_ms;
    let Some(answer) = form.read(&held.text).filter(|_| form.accepts(&held.text)) else {
        REREADS.not_whole.fetch_add(1, Ordering::Relaxed);
        return Hypothesis { decode_ms, ..free };
    };

    let agreed = form.read(&free.text).as_deref() == Some(answer.as_str());
    let outcome = if agreed { &REREADS.agreed } else { &REREADS.disagreed };
    outcome.fetch_add(1, Ordering::Relaxed);
    let cap = if agreed { free.confidence().unwrap_or(0.0) } else { 0.0 };
    let words = held.words.into_iter().map(|w| Word { prob: w.prob.min(cap), ..w }).collect();
    Hypothesis { words, text: held.text, decode_ms, held: Some(HeldReading { free_text: free.text, agreed }) }
}

/// A regular expression matching exactly the given alternatives (no regex syntax in them).
pub fn one_of<S: AsRef<str>>(alternatives: impl IntoIterator<Item = S>) -> String {
    let escape = |a: &str| {
        a.chars().fold(String::new(), |mut out, c| {
            if r"\.+*?()|[]{}^$#&-~".contains(c) {
                out.push('\\');
            }
            out.push(c);
            out
        })
    };
    let alts: Vec<String> = alternatives.into_iter().map(|a| escape(a.as_ref())).collect();
    format!("(?:{})", alts.join("|"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digits() -> AnswerForm {
        AnswerForm::new(
            "digits",
            r" ?(?:it's )?[0-9](?:,? ?[0-9]){3}\.?",
            |t| t.chars().any(|c| c.is_ascii_digit()),
            |t| Some(t.chars().filter(char::is_ascii_digit).collect()),
        )
        .unwrap()
    }

    #[test]
    fn a_form_walks_token_by_token_and_knows_a_whole_answer() {
        let f = digits();
        let s = f.step(f.start(), b" It's").unwrap();
        let s = f.step(s, b" 1").unwrap();
        assert!(!f.is_whole(s));
        assert!(f.step(s, b" April").is_none(), "a month is not a digit");
        let s = f.step(s, b", 2, 3").unwrap();
        assert!(!f.is_whole(s), "three digits of four");
        let s = f.step(s, b", 4").unwrap();
        assert!(f.is_whole(s));
        assert!(f.step(s, b", 5").is_none(), "a fifth digit is not a PIN");
        assert!(f.accepts(" 1234."));
        assert!(f.allows_prefix(" IT'S 9"), "case does not matter");
        assert!(!f.accepts(" 123"));
        assert!(!f.allows_prefix("hello"));
    }

    fn hyp(text: &str, prob: f32) -> Hypothesis {
        let words = text
            .split_inclusive(' ')
            .filter(|w| !w.trim().is_empty())
            .map(|w| Word { text: format!(" {}", w.trim()), start_ms: 0, end_ms: 0, prob })
            .collect();
        Hypothesis { words, text: text.into(), decode_ms: 10, held: None }
    }

    #[test]
    fn a_held_reading_that_agrees_keeps_the_free_confidence() {
        let f = digits();
        let out = settle(&f, hyp(" 1 2 3 4.", 0.7), hyp(" 1 2 3 4.", 0.95));
        assert_eq!(out.text, " 1 2 3 4.");
        assert_eq!(out.confidence(), Some(0.7));
        assert_eq!(out.decode_ms, 20);
        assert!(out.held.as_ref().unwrap().agreed);
    }

    #[test]
    fn a_held_reading_that_disagrees_is_unsure() {
        let f = digits();
        let out = settle(&f, hyp(" for 2 3 4", 0.9), hyp(" 4 2 3 4", 0.95));
        assert_eq!(out.text, " 4 2 3 4");
        assert_eq!(out.confidence(), Some(0.0), "read two ways: check it with the caller");
        assert_eq!(out.held.unwrap().free_text, " for 2 3 4");
    }

    #[test]
    fn a_held_reading_that_is_not_whole_changes_nothing() {
        let f = digits();
        let out = settle(&f, hyp(" 1 2 3 4", 0.9), hyp(" 1 2 3", 0.95));
        assert_eq!(out.text, " 1 2 3 4");
        assert_eq!(out.confidence(), Some(0.9));
        assert!(out.held.is_none());
    }

    #[test]
    fn alternatives_are_taken_literally() {
        assert_eq!(one_of(["a.b", "c"]), r"(?:a\.b|c)");
    }
}
