//! Synthesised sentences kept for reuse. A contact centre's assistant says the same prompts
//! all day ("Can you tell me your date of birth?", the greeting, "Is there anything else?"),
//! and the neural voice costs about 0.1 s of CPU per second of speech: under load that was
//! as much CPU as transcription. Only generic sentences are kept: none with a digit or a
//! capitalised word after the first (names, places, order numbers, amounts), so no
//! caller's details stay in memory after their call. Bounded in bytes, least recently used
//! first out.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use super::{Speech, Synthesizer, TtsError};

/// A synthesiser with a sentence cache in front.
pub struct Cached<S> {
    inner: S,
    max_bytes: usize,
    entries: Mutex<Entries>,
    hits: AtomicU64,
    misses: AtomicU64,
}

#[derive(Default)]
struct Entries {
    map: HashMap<(String, String), (Speech, u64)>,
    bytes: usize,
    clock: u64,
}

/// Whether a sentence is generic enough to keep: no digits, no capitalised word after the
/// first except "I" (a name, a street, a product), not too long.
pub fn cacheable(text: &str) -> bool {
    text.chars().count() <= 200
        && !text.chars().any(|c| c.is_numeric())
        && text.split_whitespace().skip(1).all(|w| {
            let w = w.trim_matches(|c: char| !c.is_alphanumeric());
            w == "I" || w.starts_with("I'") || !w.chars().next().is_some_and(char::is_uppercase)
        })
}

impl<S: Synthesizer> Cached<S> {
    pub fn new(inner: S, max_bytes: usize) -> Self {
        Self { inner, max_bytes, entries: Mutex::default(), hits: AtomicU64::new(0), misses: AtomicU64::new(0) }
    }

    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// (hits, misses) so far, counting only cacheable sentences.
    pub fn stats(&self) -> (u64, u64) {
        (self.hits.load(Ordering::Relaxed), self.misses.load(Ordering::Relaxed))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl<S: Synthesizer> Synthesizer for Cached<S> {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn supports(&self, language: &str) -> bool {
        self.inner.supports(language)
    }

    fn synthesize(&self, text: &str, language: &str) -> Result<Speech, TtsError> {
        if !cacheable(text) {
            return self.inner.synthesize(text, language);
        }
        let key = (language.to_string(), text.to_string());
        {
            let mut e = self.lock();
            e.clock += 1;
            let now = e.clock;
            if let Some((speech, used)) = e.map.get_mut(&key) {
                *used = now;
                self.hits.fetch_add(1, Ordering::Relaxed);
                return Ok(speech.clone());
            }
        }
        self.misses.fetch_add(1, Ordering::Relaxed);
        // Synthesise outside the lock: other calls' sentences go on meanwhile.
        let speech = self.inner.synthesize(text, language)?;
        let size = speech.samples.len() * std::mem::size_of::<f32>();
        if size <= self.max_bytes / 4 {
            let mut e = self.lock();
            while e.bytes + size > self.max_bytes {
                let Some(oldest) = e.map.iter().min_by_key(|(_, (_, used))| *used).map(|(k, _)| k.clone()) else {
                    break;
                };
                if let Some((s, _)) = e.map.remove(&oldest) {
                    e.bytes -= s.samples.len() * std::mem::size_of::<f32>();
                }
            }
            let now = e.clock;
            if let Some((old, _)) = e.map.insert(key, (speech.clone(), now)) {
                e.bytes -= old.samples.len() * std::mem::size_of::<f32>();
            }
            e.bytes += size;
        }
        Ok(speech)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    struct Counting(AtomicUsize);

    impl Synthesizer for Counting {
        fn name(&self) -> &str {
            "counting"
        }
        fn supports(&self, _: &str) -> bool {
            true
        }
        fn synthesize(&self, text: &str, _: &str) -> Result<Speech, TtsError> {
            self.0.fetch_add(1, Ordering::Relaxed);
            Ok(Speech { samples: vec![0.5; text.len() * 100], rate: 16_000 })
        }
    }

    #[test]
    fn generic_sentences_only() {
        assert!(cacheable("Can you tell me your date of birth?"));
        assert!(cacheable("Thank you, I have found your account."));
        assert!(!cacheable("Thank you, John."), "a name");
        assert!(!cacheable("Your order four five six was shipped on the 3rd."), "a number");
        assert!(!cacheable("We ship to 12 Baker Street."));
        assert!(!cacheable("Your refund of 129.00 USD is on its way."));
    }

    #[test]
    fn repeats_are_served_from_memory_within_the_budget() {
        let c = Cached::new(Counting(AtomicUsize::new(0)), 200_000);
        let ask = "Can you tell me your date of birth?";
        for _ in 0..3 {
            assert_eq!(c.synthesize(ask, "en").unwrap().samples.len(), ask.len() * 100);
        }
        assert_eq!(c.inner().0.load(Ordering::Relaxed), 1);
        assert_eq!(c.stats(), (2, 1));
        // Another language is another sentence; a personal one is never kept.
        c.synthesize(ask, "de").unwrap();
        c.synthesize("Thank you, John.", "en").unwrap();
        c.synthesize("Thank you, John.", "en").unwrap();
        assert_eq!(c.inner().0.load(Ordering::Relaxed), 4);
        // Over budget: the least recently used goes first.
        let long = "and so on ".repeat(10);
        for i in 0..20 {
            c.synthesize(&format!("{long}{}", "x".repeat(i)), "en").unwrap();
        }
        let bytes = c.lock().bytes;
        assert!(bytes <= 200_000, "{bytes}");
        let before = c.inner().0.load(Ordering::Relaxed);
        c.synthesize(ask, "en").unwrap();
        assert_eq!(c.inner().0.load(Ordering::Relaxed), before + 1, "evicted");
    }
}
