//! Speaking back: the `Synthesizer` trait, the Piper neural voice for English (`piper`), the
//! espeak-ng voice that speaks every language the assistant serves (formant synthesis: robotic
//! but real, fast and offline), and `Voices`, which picks between them per language. Replies
//! are split into sentences so the first one can play while the rest are synthesised.

pub mod cache;
pub mod piper;

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};

pub use piper::Piper;

/// Synthesised speech: mono samples at `rate` Hz.
#[derive(Debug, Clone)]
pub struct Speech {
    pub samples: Vec<f32>,
    pub rate: u32,
}

impl Speech {
    pub fn duration_ms(&self) -> u64 {
        self.samples.len() as u64 * 1000 / self.rate.max(1) as u64
    }
}

/// What can go wrong synthesising.
#[derive(Debug, thiserror::Error)]
pub enum TtsError {
    /// The engine is not installed or cannot start; retrying will not help.
    #[error("speech synthesis unavailable: {0}")]
    Unavailable(String),
    /// This text or language could not be spoken.
    #[error("cannot synthesise: {0}")]
    Failed(String),
}

/// A text-to-speech engine. Blocking: call it from the worker pool or `spawn_blocking`.
pub trait Synthesizer: Send + Sync {
    fn name(&self) -> &str;
    /// Whether it has a voice for this ISO 639-1 language.
    fn supports(&self, language: &str) -> bool;
    fn synthesize(&self, text: &str, language: &str) -> Result<Speech, TtsError>;
}

/// espeak-ng, run as a process per sentence (text on stdin, WAV on stdout).
#[derive(Debug, Clone)]
pub struct Espeak {
    /// Words per minute.
    pub rate_wpm: u32,
    /// Pitch 0-99.
    pub pitch: u32,
    /// Amplitude 0-200 (100 normal).
    pub amplitude: u32,
    binary: String,
}

impl Default for Espeak {
    fn default() -> Self {
        Self { rate_wpm: 165, pitch: 45, amplitude: 100, binary: "espeak-ng".into() }
    }
}

/// espeak-ng voice names for the languages the assistant speaks.
fn voice(language: &str) -> Option<&'static str> {
    Some(match language {
        "en" => "en-us",
        "sv" => "sv",
        "de" => "de",
        "fr" => "fr-fr",
        "es" => "es",
        "it" => "it",
        "pt" => "pt",
        "nl" => "nl",
        _ => return None,
    })
}

impl Espeak {
    /// Check the engine is there (at start-up, so a missing package is a clear error early).
    pub fn check(&self) -> Result<(), TtsError> {
        Command::new(&self.binary)
            .arg("--version")
            .output()
            .map_err(|e| TtsError::Unavailable(format!("{} ({e}); install it: apt-get install espeak-ng", self.binary)))
            .map(|_| ())
    }
}

impl Synthesizer for Espeak {
    fn name(&self) -> &str {
        "espeak-ng"
    }

    fn supports(&self, language: &str) -> bool {
        voice(language).is_some()
    }

    fn synthesize(&self, text: &str, language: &str) -> Result<Speech, TtsError> {
        let voice = voice(language).ok_or_else(|| TtsError::Failed(format!("no voice for language {language:?}")))?;
        self.speak_with(text, voice)
    }
}

impl Espeak {
    /// Speak `text` with a named espeak-ng voice ("en-us", "sv", "en-gb-scotland", "en-us+f3").
    pub fn speak_with(&self, text: &str, voice: &str) -> Result<Speech, TtsError> {
        // Control characters and SSML-looking markup are not for the engine.
        let clean: String =
            text.chars().map(|c| if c.is_control() || c == '<' || c == '>' { ' ' } else { c }).collect();
        if clean.trim().is_empty() {
            return Ok(Speech { samples: Vec::new(), rate: 22_050 });
        }
        let mut child = Command::new(&self.binary)
            .args(["-v", voice, "-s", &self.rate_wpm.to_string(), "-p", &self.pitch.to_string()])
            .args(["-a", &self.amplitude.to_string(), "--stdout"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| TtsError::Unavailable(format!("{}: {e}", self.binary)))?;
        child
            .stdin
            .take()
            .expect("piped")
            .write_all(clean.as_bytes())
            .map_err(|e| TtsError::Failed(format!("writing to espeak-ng: {e}")))?;
        let out = child.wait_with_output().map_err(|e| TtsError::Failed(e.to_string()))?;
        if !out.status.success() {
            return Err(TtsError::Failed(String::from_utf8_lossy(&out.stderr).trim().to_string()));
        }
        // espeak-ng writes a streaming WAV header with unknown sizes: read the format, then
        // take every sample after the header ourselves.
        parse_espeak_wav(&out.stdout)
    }
}

/// Parse espeak-ng's WAV (16-bit mono PCM; its data size field may be 0 or 0xFFFFFFFF).
fn parse_espeak_wav(bytes: &[u8]) -> Result<Speech, TtsError> {
    let bad = || TtsError::Failed("espeak-ng returned no WAV".into());
    if bytes.len() < 44 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return Err(bad());
    }
    let mut pos = 12;
    let mut rate = 22_050;
    while pos + 8 <= bytes.len() {
        let id = &bytes[pos..pos + 4];
        let size = u32::from_le_bytes(bytes[pos + 4..pos + 8].try_into().expect("4 bytes")) as usize;
        if id == b"fmt " && pos + 16 <= bytes.len() {
            rate = u32::from_le_bytes(bytes[pos + 12..pos + 16].try_into().expect("4 bytes"));
        }
        if id == b"data" {
            let data = &bytes[pos + 8..];
            let samples = data.chunks_exact(2).map(|b| i16::from_le_bytes([b[0], b[1]]) as f32 / 32_768.0).collect();
            return Ok(Speech { samples, rate });
        }
        pos += 8 + size;
    }
    Err(bad())
}

/// The assistant's voices: Piper for English when its files loaded, espeak-ng for every other
/// language, and for English too when Piper is unavailable or fails on a sentence.
pub struct Voices {
    english: Option<Piper>,
    espeak: Espeak,
    name: String,
    /// A Piper failure on a sentence is warned about once, then logged at debug.
    warned: AtomicBool,
}

impl Voices {
    /// espeak-ng for every language.
    pub fn espeak(espeak: Espeak) -> Self {
        Self { english: None, name: espeak.name().to_string(), espeak, warned: AtomicBool::new(false) }
    }

    /// Piper for English when `piper` loaded; otherwise espeak-ng everywhere, with one warning
    /// saying why.
    pub fn new(piper: Result<Piper, TtsError>, espeak: Espeak) -> Self {
        match piper {
            Ok(p) => Self {
                name: format!("{} (en) + {}", p.name(), espeak.name()),
                english: Some(p),
                espeak,
                warned: AtomicBool::new(false),
            },
            Err(e) => {
                tracing::warn!("Piper voice unavailable, English is spoken by espeak-ng: {e}");
                Self::espeak(espeak)
            }
        }
    }

    /// The English Piper voice, when it loaded.
    pub fn piper(&self) -> Option<&Piper> {
        self.english.as_ref()
    }
}

impl Synthesizer for Voices {
    fn name(&self) -> &str {
        &self.name
    }

    fn supports(&self, language: &str) -> bool {
        (language == "en" && self.english.is_some()) || self.espeak.supports(language)
    }

    fn synthesize(&self, text: &str, language: &str) -> Result<Speech, TtsError> {
        if let (Some(piper), "en") = (&self.english, language) {
            match piper.speak(text) {
                Ok(speech) => return Ok(speech),
                Err(e) if !self.warned.swap(true, Ordering::Relaxed) => {
                    tracing::warn!("{} failed, espeak-ng speaks instead: {e}", piper.name())
                }
                Err(e) => tracing::debug!("{} failed, espeak-ng speaks instead: {e}", piper.name()),
            }
        }
        self.espeak.synthesize(text, language)
    }
}

/// Split a reply into sentences for sentence-by-sentence synthesis.
pub fn sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        cur.push(c);
        let end = matches!(c, '.' | '?' | '!') && chars.get(i + 1).is_none_or(|n| n.is_whitespace());
        // "Dec. 17" or "3.50" are not sentence ends: the next character decides above; a
        // single capital before the dot ("J. Carter") is an initial.
        let initial = cur.trim_end_matches('.').chars().rev().take_while(|c| c.is_alphabetic()).count() == 1;
        if end && !initial && cur.trim().len() > 1 {
            out.push(cur.trim().to_string());
            cur.clear();
        }
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_string());
    }
    out
}

/// What to synthesise, in order, for a reply: its sentences, with a long first sentence cut
/// at its first clause ("Before I look at your account, | please tell me ...") so the first
/// audio leaves sooner (a neural voice takes ~5 ms per character here).
pub fn speaking_chunks(texts: &[String]) -> Vec<String> {
    let mut out: Vec<String> = texts.iter().flat_map(|t| sentences(t)).collect();
    if let Some(first) = out.first().cloned() {
        if first.chars().count() >= 50 {
            if let Some(cut) = first.find(", ").filter(|&i| first[..i].chars().count() >= 12) {
                out[0] = first[..=cut].to_string();
                out.insert(1, first[cut + 2..].to_string());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_first_sentence_is_cut_at_its_first_clause() {
        let reply = vec!["Before I look at your account, please tell me your date of birth. Thanks.".to_string()];
        assert_eq!(
            speaking_chunks(&reply),
            vec!["Before I look at your account,", "please tell me your date of birth.", "Thanks."]
        );
        let short = vec!["Thank you, John. Order 4 5 6 7 8 is on its way.".to_string()];
        assert_eq!(speaking_chunks(&short), vec!["Thank you, John.", "Order 4 5 6 7 8 is on its way."]);
    }

    #[test]
    fn sentences_split_at_ends_only() {
        assert_eq!(
            sentences("Your order is on its way. It costs 3.50 dollars! Anything else?"),
            vec!["Your order is on its way.", "It costs 3.50 dollars!", "Anything else?"]
        );
        assert_eq!(sentences("Hello J. Carter, welcome."), vec!["Hello J. Carter, welcome."]);
        assert!(sentences("  ").is_empty());
    }

    #[test]
    fn espeak_speaks_every_served_language() {
        let tts = Espeak::default();
        // scripts/setup installs espeak-ng; without it this test must fail, not pass empty.
        tts.check().expect("espeak-ng is missing: apt-get install espeak-ng (scripts/setup installs it)");
        for (lang, text) in [
            ("en", "Your order is on its way."),
            ("sv", "Din beställning är på väg."),
            ("de", "Ihre Bestellung ist unterwegs."),
        ] {
            let s = tts.synthesize(text, lang).unwrap();
            assert!(s.duration_ms() > 800 && s.duration_ms() < 5_000, "{lang}: {} ms", s.duration_ms());
            assert!(s.samples.iter().map(|x| x.abs()).fold(0.0, f32::max) > 0.1, "{lang}: audible");
        }
        assert!(tts.synthesize("hello", "xx").is_err());
        assert!(tts.synthesize("\u{0}\u{7}", "en").unwrap().samples.len() < 22_050);
        let missing = Espeak { binary: "/nonexistent/espeak-ng".into(), ..Default::default() };
        assert!(matches!(missing.synthesize("hi", "en"), Err(TtsError::Unavailable(_))));
    }
}
