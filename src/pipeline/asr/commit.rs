//! Streaming commit policy, after whisper_streaming's LocalAgreement-2 (sans-IO).
//!
//! Each hypothesis for the growing turn buffer is compared with the previous one; the longest
//! common word prefix beyond what is already committed becomes committed text, the rest stays
//! an unstable partial. At end of turn the last hypothesis is committed whole.

use super::Word;

/// Lower-case alphanumerics only: "Hello," and "hello" agree.
fn norm(w: &str) -> String {
    w.chars().filter(|c| c.is_alphanumeric()).flat_map(|c| c.to_lowercase()).collect()
}

/// Per-turn LocalAgreement state. Word times are absolute stream milliseconds.
#[derive(Debug, Default, Clone)]
pub struct LocalAgreement {
    committed: Vec<Word>,
    unstable: Vec<Word>,
    last_committed_end_ms: u64,
}

impl LocalAgreement {
    /// Fresh state for a new turn.
    pub fn new() -> Self {
        Self::default()
    }

    /// Words committed so far in this turn.
    pub fn committed(&self) -> &[Word] {
        &self.committed
    }

    /// Words of the last hypothesis not yet committed.
    pub fn unstable(&self) -> &[Word] {
        &self.unstable
    }

    /// End time of the last committed word.
    pub fn committed_end_ms(&self) -> u64 {
        self.last_committed_end_ms
    }

    /// Keep only words after what is committed, dropping an n-gram that repeats the committed tail.
    fn fresh(&self, words: Vec<Word>) -> Vec<Word> {
        let cut = self.last_committed_end_ms.saturating_sub(100);
        let mut new: Vec<Word> =
            if self.committed.is_empty() { words } else { words.into_iter().filter(|w| w.start_ms > cut).collect() };
        if let Some(first) = new.first() {
            if !self.committed.is_empty() && first.start_ms.abs_diff(self.last_committed_end_ms) < 1000 {
                let max_n = self.committed.len().min(new.len()).min(5);
                for n in (1..=max_n).rev() {
                    let tail = &self.committed[self.committed.len() - n..];
                    if tail.iter().zip(&new[..n]).all(|(a, b)| norm(&a.text) == norm(&b.text)) {
                        new.drain(..n);
                        break;
                    }
                }
            }
        }
        new
    }

    /// A new hypothesis arrived: commit the prefix it shares with the previous one.
    /// Returns the newly committed words.
    pub fn insert(&mut self, words: Vec<Word>) -> Vec<Word> {
        let new = self.fresh(words);
        let agree = new.iter().zip(&self.unstable).take_while(|(a, b)| norm(&a.text) == norm(&b.text)).count();
        let newly: Vec<Word> = new[..agree].to_vec();
        self.commit(&newly);
        self.unstable = new[agree..].to_vec();
        newly
    }

    /// The final hypothesis for the turn: commit everything new in it. With `whole_turn` the
    /// hypothesis covers all of the turn's audio and replaces the partial commits, which came
    /// from short prefixes of the turn and can miss words.
    pub fn finish(&mut self, words: Vec<Word>, whole_turn: bool) -> Vec<Word> {
        if whole_turn {
            *self = Self::new();
        }
        let new = self.fresh(words);
        self.commit(&new);
        self.unstable.clear();
        new
    }

    fn commit(&mut self, words: &[Word]) {
        if let Some(last) = words.last() {
            self.last_committed_end_ms = self.last_committed_end_ms.max(last.end_ms);
        }
        self.committed.extend_from_slice(words);
    }

    /// Committed text followed by the unstable tail.
    pub fn text(&self) -> String {
        join(self.committed.iter().chain(self.unstable.iter()))
    }

    /// Committed text only.
    pub fn committed_text(&self) -> String {
        join(self.committed.iter())
    }
}

/// Join words as Whisper writes them (each carries its leading space).
pub fn join<'a>(words: impl Iterator<Item = &'a Word>) -> String {
    let s: String = words.map(|w| w.text.as_str()).collect();
    s.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(spec: &[(&str, u64)]) -> Vec<Word> {
        spec.iter().map(|(t, s)| Word { text: format!(" {t}"), start_ms: *s, end_ms: s + 200, prob: 0.9 }).collect()
    }

    #[test]
    fn commits_only_what_two_hypotheses_agree_on() {
        let mut la = LocalAgreement::new();
        assert!(la.insert(words(&[("where", 0), ("is", 250)])).is_empty());
        let c = la.insert(words(&[("where", 0), ("is", 250), ("my", 500), ("odor", 700)]));
        assert_eq!(join(c.iter()), "where is");
        assert_eq!(la.text(), "where is my odor");
        let c = la.insert(words(&[("where", 0), ("is", 250), ("my", 500), ("order", 700), ("number", 950)]));
        assert_eq!(join(c.iter()), "my");
        assert_eq!(la.committed_text(), "where is my");
        let c = la.finish(
            words(&[("where", 0), ("is", 250), ("my", 500), ("order", 700), ("number", 950), ("five", 1200)]),
            false,
        );
        assert_eq!(join(c.iter()), "order number five");
        assert_eq!(la.committed_text(), "where is my order number five");
        assert!(la.unstable().is_empty());
    }

    #[test]
    fn punctuation_and_case_do_not_block_agreement() {
        let mut la = LocalAgreement::new();
        la.insert(words(&[("Hello", 0), ("there", 300)]));
        let c = la.insert(words(&[("hello,", 0), ("there.", 300)]));
        assert_eq!(c.len(), 2);
    }

    #[test]
    fn repeated_committed_tail_is_not_committed_twice() {
        let mut la = LocalAgreement::new();
        la.insert(words(&[("one", 0), ("two", 300)]));
        la.insert(words(&[("one", 0), ("two", 300)]));
        assert_eq!(la.committed_text(), "one two");
        // After a buffer trim the recogniser may re-emit "two" with a shifted time.
        let c = la.finish(words(&[("two", 450), ("three", 700)]), false);
        assert_eq!(join(c.iter()), "three");
        assert_eq!(la.committed_text(), "one two three");
    }

    #[test]
    fn a_whole_turn_final_replaces_partial_commits() {
        let mut la = LocalAgreement::new();
        la.insert(words(&[("hello", 0), ("my", 900)]));
        la.insert(words(&[("hello", 0), ("my", 900), ("order", 1200)]));
        assert_eq!(la.committed_text(), "hello my");
        la.finish(
            words(&[("hello", 0), ("I", 300), ("am", 450), ("calling", 600), ("my", 900), ("order", 1200)]),
            true,
        );
        assert_eq!(la.committed_text(), "hello I am calling my order");
    }

    #[test]
    fn finish_without_partials_commits_everything() {
        let mut la = LocalAgreement::new();
        la.finish(words(&[("yes", 0)]), false);
        assert_eq!(la.committed_text(), "yes");
    }
}
