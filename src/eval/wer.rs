//! Word error rate by Levenshtein alignment of normalised words.

use super::normalize::normalize;

/// Edit counts of one comparison.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WerCount {
    /// Substitutions + deletions + insertions.
    pub errors: usize,
    /// Words in the reference.
    pub ref_words: usize,
}

impl WerCount {
    /// Add another comparison's counts.
    pub fn add(&mut self, o: WerCount) {
        self.errors += o.errors;
        self.ref_words += o.ref_words;
    }

    /// errors / reference words (0 for an empty reference with no errors).
    pub fn rate(&self) -> f64 {
        if self.ref_words == 0 {
            return if self.errors == 0 { 0.0 } else { 1.0 };
        }
        self.errors as f64 / self.ref_words as f64
    }
}

impl std::fmt::Display for WerCount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.1}% ({}/{} words)", self.rate() * 100.0, self.errors, self.ref_words)
    }
}

/// Minimum edits turning `reference` into `hypothesis`.
pub fn edit_distance<T: PartialEq>(reference: &[T], hypothesis: &[T]) -> usize {
    let mut prev: Vec<usize> = (0..=hypothesis.len()).collect();
    let mut cur = vec![0; hypothesis.len() + 1];
    for (i, r) in reference.iter().enumerate() {
        cur[0] = i + 1;
        for (j, h) in hypothesis.iter().enumerate() {
            let sub = prev[j] + usize::from(r != h);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[hypothesis.len()]
}

/// WER counts of a hypothesis against a reference, after normalisation.
pub fn wer(reference: &str, hypothesis: &str) -> WerCount {
    let r = normalize(reference);
    let h = normalize(hypothesis);
    WerCount { errors: edit_distance(&r, &h), ref_words: r.len() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_substitutions_insertions_deletions() {
        assert_eq!(wer("where is my order", "where is my order").errors, 0);
        assert_eq!(wer("where is my order", "where is the order").errors, 1);
        assert_eq!(wer("where is my order", "where my order").errors, 1);
        assert_eq!(wer("where is my order", "well where is my order now").errors, 2);
        assert_eq!(wer("order 45678", "Order four five six seven eight.").errors, 0);
        let c = wer("a b c d", "");
        assert_eq!((c.errors, c.ref_words), (4, 4));
        assert_eq!(format!("{c}"), "100.0% (4/4 words)");
    }
}
