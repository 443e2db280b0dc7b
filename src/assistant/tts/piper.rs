//! Piper neural voices (VITS exported to ONNX, <https://github.com/rhasspy/piper>) run with
//! ONNX Runtime through `ort`, the runtime library loaded from the models folder at start.
//!
//! Text becomes phonemes the way Piper's own phonemizer does it: espeak-ng's IPA for the voice's
//! espeak language, clause by clause, with the clause's closing punctuation (`.` `?` `!` `,` `:`
//! `;`) kept as a phoneme; then each character becomes its id from the voice's
//! `phoneme_id_map`: BOS `^`, a pad `_` after BOS and after every phoneme, EOS `$`. Each
//! sentence is one inference; sentences are joined with a short pause.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Mutex;

use ort::session::builder::GraphOptimizationLevel;
use ort::session::Session;
use ort::value::Tensor;
use serde::Deserialize;

use super::{Speech, TtsError};
use crate::models::Manifest;

/// The English voice Switchboard ships (its manifest name; files `<voice>.onnx` + `.onnx.json`).
pub const ENGLISH_VOICE: &str = "en_US-joe-medium";
/// The manifest name of the ONNX Runtime library.
pub const ONNXRUNTIME: &str = crate::onnx::RUNTIME;
/// Pause between two sentences of one text (Piper's default sentence silence).
const SENTENCE_SILENCE_S: f32 = 0.2;
/// Peak level each sentence is normalised to (Piper normalises to full scale; a little
/// headroom keeps resampling to the phone rate from clipping).
const PEAK: f32 = 0.9;

/// The parts of a voice's `.onnx.json` that synthesis needs.
#[derive(Debug, Clone, Deserialize)]
pub struct VoiceConfig {
    pub audio: AudioConfig,
    pub espeak: EspeakConfig,
    pub inference: InferenceConfig,
    #[serde(default)]
    pub phoneme_type: Option<String>,
    pub phoneme_id_map: HashMap<String, Vec<i64>>,
    #[serde(default)]
    pub num_speakers: Option<u32>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AudioConfig {
    pub sample_rate: u32,
}

#[derive(Debug, Clone, Deserialize)]
pub struct EspeakConfig {
    pub voice: String,
}

#[derive(Debug, Clone, Copy, Deserialize)]
pub struct InferenceConfig {
    pub noise_scale: f32,
    pub length_scale: f32,
    pub noise_w: f32,
}

/// Phoneme (one Unicode scalar) -> ids, plus the special symbols' ids.
#[derive(Debug, Clone)]
pub struct PhonemeIds {
    map: HashMap<char, Vec<i64>>,
    pad: Vec<i64>,
    bos: Vec<i64>,
    eos: Vec<i64>,
}

impl PhonemeIds {
    /// From a voice's `phoneme_id_map` (keys are single characters).
    pub fn new(map: &HashMap<String, Vec<i64>>) -> Result<Self, String> {
        let mut by_char = HashMap::new();
        for (k, v) in map {
            let mut chars = k.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => {
                    by_char.insert(c, v.clone());
                }
                _ => return Err(format!("phoneme_id_map key {k:?} is not one character")),
            }
        }
        let special = |c: char| by_char.get(&c).cloned().ok_or_else(|| format!("phoneme_id_map has no {c:?}"));
        Ok(Self { pad: special('_')?, bos: special('^')?, eos: special('$')?, map: by_char })
    }

    /// Piper's `phonemes_to_ids` with interspersed pad: `^ _ (p _)* $`. Characters the map
    /// lacks are skipped and returned in `missing`.
    pub fn ids(&self, phonemes: &str, missing: &mut Vec<char>) -> Vec<i64> {
        let mut ids = Vec::with_capacity(2 * phonemes.chars().count() + 3);
        ids.extend(&self.bos);
        ids.extend(&self.pad);
        for c in phonemes.chars() {
            match self.map.get(&c) {
                Some(v) => {
                    ids.extend(v);
                    ids.extend(&self.pad);
                }
                None => missing.push(c),
            }
        }
        ids.extend(&self.eos);
        ids
    }
}

/// One clause of a sentence and the punctuation that closed it (if any).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Clause {
    text: String,
    terminator: Option<char>,
}

/// Cut a sentence where espeak-ng ends a clause: `. , ? ! : ;` followed by white space or the
/// end. A run of punctuation ("?!", "...") counts by its first character, as in Piper.
fn clauses(sentence: &str) -> Vec<Clause> {
    let chars: Vec<char> = sentence.chars().collect();
    let mut out = Vec::new();
    let mut cur = String::new();
    for (i, &c) in chars.iter().enumerate() {
        cur.push(c);
        let punct = matches!(c, '.' | ',' | '?' | '!' | ':' | ';');
        let next = chars.get(i + 1);
        let closes =
            punct && next.is_none_or(|n| n.is_whitespace()) && !cur.trim_end_matches(is_clause_punct).trim().is_empty();
        if closes {
            // The run's first mark counts: Piper reads "really?!" as a question.
            let run = cur.chars().rev().take_while(|&p| is_clause_punct(p)).last();
            out.push(Clause { text: cur.trim().to_string(), terminator: run });
            cur.clear();
        }
    }
    if !cur.trim().trim_matches(is_clause_punct).trim().is_empty() {
        out.push(Clause { text: cur.trim().to_string(), terminator: None });
    }
    out
}

fn is_clause_punct(c: char) -> bool {
    matches!(c, '.' | ',' | '?' | '!' | ':' | ';')
}

/// What Piper appends after a clause for its terminator.
fn terminator_phonemes(t: Option<char>) -> &'static str {
    match t {
        Some('.') => ".",
        Some('?') => "?",
        Some('!') => "!",
        Some(',') => ", ",
        Some(':') => ": ",
        Some(';') => "; ",
        _ => "",
    }
}

/// Turn espeak-ng's IPA for one clause (one line per espeak clause) into Piper's phoneme
/// string: lines joined by a space, `(lang)` switch flags removed, and the few precomposed
/// letters espeak emits decomposed (Piper applies NFD; its maps hold the combining marks).
fn clean_ipa(raw: &str) -> String {
    let joined = raw.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" ");
    let mut out = String::with_capacity(joined.len());
    let mut in_flag = false;
    for c in joined.chars() {
        match c {
            '(' if !in_flag => in_flag = true,
            ')' if in_flag => in_flag = false,
            _ if in_flag => {}
            'ç' => out.push_str("c\u{327}"),
            'ã' => out.push_str("a\u{303}"),
            'õ' => out.push_str("o\u{303}"),
            'ẽ' => out.push_str("e\u{303}"),
            'ĩ' => out.push_str("i\u{303}"),
            'ũ' => out.push_str("u\u{303}"),
            _ => out.push(c),
        }
    }
    out
}

/// espeak-ng as Piper's phonemizer (the `espeak-ng` program, IPA without tie characters).
#[derive(Debug, Clone)]
pub struct Phonemizer {
    binary: String,
    voice: String,
}

impl Phonemizer {
    pub fn new(voice: &str) -> Self {
        Self { binary: "espeak-ng".into(), voice: voice.into() }
    }

    /// Phonemes of one clause, as espeak-ng gives them.
    fn clause_ipa(&self, text: &str) -> Result<String, TtsError> {
        let mut child = Command::new(&self.binary)
            .args(["-q", "-v", &self.voice, "--ipa"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| {
                TtsError::Unavailable(format!("{} ({e}); install it: apt-get install espeak-ng", self.binary))
            })?;
        child
            .stdin
            .take()
            .expect("piped")
            .write_all(text.as_bytes())
            .map_err(|e| TtsError::Failed(format!("writing to espeak-ng: {e}")))?;
        let out = child.wait_with_output().map_err(|e| TtsError::Failed(e.to_string()))?;
        if !out.status.success() {
            return Err(TtsError::Failed(format!("espeak-ng: {}", String::from_utf8_lossy(&out.stderr).trim())));
        }
        Ok(clean_ipa(&String::from_utf8_lossy(&out.stdout)))
    }

    /// Phonemes of one sentence: every clause's IPA followed by its punctuation.
    pub fn sentence(&self, sentence: &str) -> Result<String, TtsError> {
        let mut phonemes = String::new();
        for clause in clauses(sentence) {
            if phonemes.ends_with(['.', '?', '!']) {
                phonemes.push(' '); // "J. Carter": Piper would start a new sentence here
            }
            phonemes.push_str(&self.clause_ipa(&clause.text)?);
            phonemes.push_str(terminator_phonemes(clause.terminator));
        }
        Ok(phonemes.trim_end().to_string())
    }
}

/// A Piper voice, ready to speak. One ONNX session with one intra-op thread, used by one
/// sentence at a time (the machine's cores belong to speech recognition first).
pub struct Piper {
    name: String,
    config: VoiceConfig,
    ids: PhonemeIds,
    phonemizer: Phonemizer,
    session: Mutex<Session>,
    /// Phonemes the voice has no id for, logged once each.
    unknown: Mutex<HashSet<char>>,
}

impl std::fmt::Debug for Piper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Piper").field("name", &self.name).finish_non_exhaustive()
    }
}

fn missing(what: &str, path: &Path) -> TtsError {
    TtsError::Unavailable(format!("{what} {} is missing: run `switchboard models fetch`", path.display()))
}

impl Piper {
    /// Load a voice from its `.onnx` file (the `.onnx.json` beside it, as Piper keeps them) and
    /// ONNX Runtime from `onnxruntime_lib` (`libonnxruntime.so.1.31.1`).
    pub fn load(model: &Path, onnxruntime_lib: &Path) -> Result<Piper, TtsError> {
        let mut json = model.as_os_str().to_owned();
        json.push(".json");
        Self::load_files(model, Path::new(&json), onnxruntime_lib)
    }

    /// Load a voice from explicit model, config and runtime paths.
    pub fn load_files(model: &Path, config: &Path, onnxruntime_lib: &Path) -> Result<Piper, TtsError> {
        for (what, p) in [("Piper voice", model), ("Piper voice config", config), ("ONNX Runtime", onnxruntime_lib)] {
            if !p.is_file() {
                return Err(missing(what, p));
            }
        }
        let text =
            std::fs::read_to_string(config).map_err(|e| TtsError::Unavailable(format!("{}: {e}", config.display())))?;
        let cfg: VoiceConfig = serde_json::from_str(&text)
            .map_err(|e| TtsError::Unavailable(format!("{}: not a Piper voice config: {e}", config.display())))?;
        if cfg.phoneme_type.as_deref().is_some_and(|t| t != "espeak") {
            return Err(TtsError::Unavailable(format!(
                "{}: phoneme_type {:?} is not supported (only espeak)",
                config.display(),
                cfg.phoneme_type
            )));
        }
        if cfg.num_speakers.unwrap_or(1) > 1 {
            return Err(TtsError::Unavailable(format!("{}: multi-speaker voices are not supported", config.display())));
        }
        let ids = PhonemeIds::new(&cfg.phoneme_id_map)
            .map_err(|e| TtsError::Unavailable(format!("{}: {e}", config.display())))?;
        let env = crate::onnx::environment(onnxruntime_lib).map_err(TtsError::Unavailable)?;
        let ort_err = |e: ort::Error| TtsError::Unavailable(format!("{}: {e}", model.display()));
        let builder_err = |e: ort::Error<_>| ort_err(e.into());
        let session = Session::builder(&env)
            .map_err(ort_err)?
            .with_intra_threads(1)
            .map_err(builder_err)?
            .with_inter_threads(1)
            .map_err(builder_err)?
            .with_optimization_level(GraphOptimizationLevel::Level3)
            .map_err(builder_err)?
            .commit_from_file(model)
            .map_err(ort_err)?;
        let inputs: Vec<&str> = session.inputs().iter().map(|i| i.name()).collect();
        for want in ["input", "input_lengths", "scales"] {
            if !inputs.contains(&want) {
                return Err(TtsError::Unavailable(format!(
                    "{}: model has inputs {inputs:?}, not a Piper voice (needs input, input_lengths, scales)",
                    model.display()
                )));
            }
        }
        let stem = model.file_stem().and_then(|s| s.to_str()).unwrap_or("voice");
        Ok(Piper {
            name: format!("piper:{stem}"),
            phonemizer: Phonemizer::new(&cfg.espeak.voice),
            ids,
            config: cfg,
            session: Mutex::new(session),
            unknown: Mutex::new(HashSet::new()),
        })
    }

    /// Load `voice` and ONNX Runtime from a models folder's manifest entries.
    pub fn from_manifest(manifest: &Manifest, voice: &str) -> Result<Piper, TtsError> {
        let unavailable = |e: crate::models::ModelError| TtsError::Unavailable(e.to_string());
        let model = manifest.require(voice).map_err(unavailable)?;
        let config = manifest.require(&format!("{voice}.json")).map_err(unavailable)?;
        let lib = manifest.require(ONNXRUNTIME).map_err(unavailable)?;
        Self::load_files(&model, &config, &lib)
    }

    /// "piper:en_US-joe-medium".
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The voice's language as espeak-ng names it ("en-us").
    pub fn espeak_voice(&self) -> &str {
        &self.config.espeak.voice
    }

    pub fn sample_rate(&self) -> u32 {
        self.config.audio.sample_rate
    }

    /// Phonemes and ids of one sentence (for tests and diagnostics).
    pub fn phoneme_ids(&self, sentence: &str) -> Result<(String, Vec<i64>), TtsError> {
        let phonemes = self.phonemizer.sentence(sentence)?;
        let mut unknown = Vec::new();
        let ids = self.ids.ids(&phonemes, &mut unknown);
        if !unknown.is_empty() {
            let mut seen = self.unknown.lock().expect("unknown phonemes");
            for c in unknown {
                if seen.insert(c) {
                    tracing::debug!(voice = %self.name, "phoneme {c:?} (U+{:04X}) has no id; skipped", c as u32);
                }
            }
        }
        Ok((phonemes, ids))
    }

    /// Speak `text` with the voice's own settings.
    pub fn speak(&self, text: &str) -> Result<Speech, TtsError> {
        self.speak_with(text, 1.0, 1.0)
    }

    /// Speak `text`, stretching the voice's length scale by `slower` (2.0 = half speed) and
    /// scaling its level by `volume`.
    pub fn speak_with(&self, text: &str, slower: f32, volume: f32) -> Result<Speech, TtsError> {
        let rate = self.sample_rate();
        let clean: String =
            text.chars().map(|c| if c.is_control() || c == '<' || c == '>' { ' ' } else { c }).collect();
        let mut samples = Vec::new();
        for sentence in super::sentences(&clean) {
            let (_, ids) = self.phoneme_ids(&sentence)?;
            if ids.len() <= 3 {
                continue; // nothing speakable (BOS, pad, EOS only)
            }
            let audio = self.infer(ids, slower)?;
            if !samples.is_empty() {
                samples.resize(samples.len() + (SENTENCE_SILENCE_S * rate as f32) as usize, 0.0);
            }
            let peak = audio.iter().fold(0.0f32, |m, x| m.max(x.abs()));
            let gain = if peak > 1e-4 { PEAK * volume / peak } else { 0.0 };
            samples.extend(audio.iter().map(|x| (x * gain).clamp(-1.0, 1.0)));
        }
        Ok(Speech { samples, rate })
    }

    /// One inference: ids of one sentence -> audio at the voice's rate.
    fn infer(&self, ids: Vec<i64>, slower: f32) -> Result<Vec<f32>, TtsError> {
        let inf = self.config.inference;
        let n = ids.len();
        let failed = |e: ort::Error| TtsError::Failed(format!("{}: {e}", self.name));
        let input = Tensor::from_array(([1usize, n], ids)).map_err(failed)?;
        let lengths = Tensor::from_array(([1usize], vec![n as i64])).map_err(failed)?;
        let scales = Tensor::from_array(([3usize], vec![inf.noise_scale, inf.length_scale * slower, inf.noise_w]))
            .map_err(failed)?;
        let mut session = self.session.lock().map_err(|_| TtsError::Failed(format!("{}: poisoned", self.name)))?;
        let outputs = session
            .run(ort::inputs!["input" => input, "input_lengths" => lengths, "scales" => scales])
            .map_err(failed)?;
        let (_, audio) = outputs[0].try_extract_tensor::<f32>().map_err(failed)?;
        Ok(audio.to_vec())
    }
}

impl super::Synthesizer for Piper {
    fn name(&self) -> &str {
        &self.name
    }

    /// The voice's own language ("en" for en-us).
    fn supports(&self, language: &str) -> bool {
        self.config.espeak.voice.split('-').next() == Some(language)
    }

    fn synthesize(&self, text: &str, language: &str) -> Result<Speech, TtsError> {
        if !self.supports(language) {
            return Err(TtsError::Failed(format!("{} does not speak {language:?}", self.name)));
        }
        self.speak(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map() -> HashMap<String, Vec<i64>> {
        [("_", 0), ("^", 1), ("$", 2), (" ", 3), (".", 10), (",", 8), ("h", 20), ("ə", 59), ("ˈ", 120)]
            .iter()
            .map(|(k, v)| (k.to_string(), vec![*v]))
            .collect()
    }

    #[test]
    fn ids_are_bos_pad_interspersed_eos_and_unknowns_are_skipped() {
        let ids = PhonemeIds::new(&map()).unwrap();
        let mut missing = Vec::new();
        assert_eq!(ids.ids("hˈə.", &mut missing), vec![1, 0, 20, 0, 120, 0, 59, 0, 10, 0, 2]);
        assert!(missing.is_empty());
        assert_eq!(ids.ids("h\u{361}ə", &mut missing), vec![1, 0, 20, 0, 59, 0, 2]);
        assert_eq!(missing, vec!['\u{361}']);
        assert_eq!(ids.ids("", &mut missing), vec![1, 0, 2]);
        let mut bad = map();
        bad.remove("$");
        assert!(PhonemeIds::new(&bad).unwrap_err().contains("'$'"));
    }

    #[test]
    fn clauses_end_at_punctuation_before_space_only() {
        let c = clauses("Hello, it costs 3.50 dollars: 1,000 in all; really?! Yes");
        let got: Vec<(&str, Option<char>)> = c.iter().map(|c| (c.text.as_str(), c.terminator)).collect();
        assert_eq!(
            got,
            vec![
                ("Hello,", Some(',')),
                ("it costs 3.50 dollars:", Some(':')),
                ("1,000 in all;", Some(';')),
                ("really?!", Some('?')),
                ("Yes", None)
            ]
        );
        assert!(clauses("  ... ").is_empty());
    }

    #[test]
    fn ipa_lines_join_and_language_flags_go() {
        assert_eq!(clean_ipa("həlˈoʊ\nwˈɜːld\n"), "həlˈoʊ wˈɜːld");
        assert_eq!(clean_ipa("(fr)bɔ̃ʒˈuʁ(en) fɹˈɛnd"), "bɔ̃ʒˈuʁ fɹˈɛnd");
        assert_eq!(clean_ipa("ç"), "c\u{327}");
        assert_eq!(terminator_phonemes(Some(',')), ", ");
    }

    /// espeak-ng gives Piper's phonemes (no tie bars or separators), punctuation kept.
    #[test]
    fn espeak_phonemes_match_what_piper_expects() {
        let p = Phonemizer::new("en-us");
        let s = p.sentence("Hello, world. Anything else?").expect("espeak-ng is installed by scripts/setup");
        assert_eq!(s, "həlˈoʊ, wˈɜːld. ˈɛnɪθˌɪŋ ˈɛls?");
    }
}
