//! The Whisper backend (whisper-rs / whisper.cpp): one model per process, one state per call.

use std::sync::Arc;
use std::time::Instant;

use whisper_rs::{FullParams, SamplingStrategy, WhisperContext, WhisperContextParameters, WhisperState};

use super::{
    AsrError, DecodeRequest, Hypothesis, LanguageChoice, LanguageGuess, RecognizerSession, SpeechRecognizer, Word,
};

/// Whisper needs at least a second of audio; shorter turns are padded with silence.
const MIN_SAMPLES: usize = 16_000 + 1_600;
/// Encoder frames (20 ms each) added after the audio when the window is fitted.
const FIT_PAD_FRAMES: usize = 64;
/// Smallest fitted encoder window: tiny windows make Whisper loop on repeated words.
const FIT_MIN_FRAMES: usize = 256;

/// Tuning for Whisper decoding.
#[derive(Debug, Clone)]
pub struct WhisperOptions {
    /// Threads per inference (1 keeps 2-core machines steady under load; parallelism comes
    /// from running several calls at once).
    pub threads: usize,
    /// Beam size; 1 = greedy.
    pub beam_size: usize,
}

impl Default for WhisperOptions {
    fn default() -> Self {
        Self { threads: 1, beam_size: 1 }
    }
}

/// A loaded Whisper model.
pub struct WhisperRecognizer {
    ctx: Arc<WhisperContext>,
    name: String,
    opts: WhisperOptions,
}

impl WhisperRecognizer {
    /// Load a ggml model file.
    pub fn load(path: &std::path::Path, name: &str, opts: WhisperOptions) -> Result<Self, AsrError> {
        install_log_hook();
        let p = path.display().to_string();
        if !path.is_file() {
            return Err(AsrError::Load { path: p, reason: "file not found (run `switchboard models fetch`)".into() });
        }
        let ctx = WhisperContext::new_with_params(&p, WhisperContextParameters::default())
            .map_err(|e| AsrError::Load { path: p.clone(), reason: e.to_string() })?;
        Ok(Self { ctx: Arc::new(ctx), name: name.to_string(), opts })
    }
}

/// Route whisper.cpp's own logging into `tracing` once per process.
pub fn install_log_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(whisper_rs::install_logging_hooks);
}

impl SpeechRecognizer for WhisperRecognizer {
    fn name(&self) -> &str {
        &self.name
    }

    fn multilingual(&self) -> bool {
        self.ctx.is_multilingual()
    }

    fn session(&self) -> Result<Box<dyn RecognizerSession>, AsrError> {
        let load_err = |e: whisper_rs::WhisperError| AsrError::Load { path: self.name.clone(), reason: e.to_string() };
        let mut state = self.ctx.create_state().map_err(load_err)?;
        if self.ctx.is_multilingual() {
            // whisper.cpp identifies language with the encoder window of the state's previous
            // decode (30 s on a fresh state). One cheap decode of silence with a 5 s window
            // makes every later identification cost a fraction of that.
            let mut params = FullParams::new(SamplingStrategy::Greedy { best_of: 1 });
            params.set_n_threads(self.opts.threads as i32);
            params.set_audio_ctx(FIT_MIN_FRAMES as i32);
            params.set_language(Some("en"));
            params.set_max_tokens(1);
            params.set_print_progress(false);
            state.full(params, &vec![0.0; MIN_SAMPLES]).map_err(load_err)?;
        }
        Ok(Box::new(WhisperSession { ctx: self.ctx.clone(), state, opts: self.opts.clone() }))
    }
}

/// Per-call Whisper state.
pub struct WhisperSession {
    ctx: Arc<WhisperContext>,
    state: WhisperState,
    opts: WhisperOptions,
}

/// Annotations Whisper writes for non-speech ("[BLANK_AUDIO]", "(music)", "*sigh*").
fn is_annotation(text: &str) -> bool {
    let t = text.trim();
    t.is_empty()
        || (t.starts_with('[') && t.ends_with(']'))
        || (t.starts_with('(') && t.ends_with(')'))
        || (t.starts_with('*') && t.ends_with('*') && t.len() > 1)
}

fn padded(audio: &[f32]) -> std::borrow::Cow<'_, [f32]> {
    if audio.len() >= MIN_SAMPLES {
        std::borrow::Cow::Borrowed(audio)
    } else {
        let mut v = audio.to_vec();
        v.resize(MIN_SAMPLES, 0.0);
        std::borrow::Cow::Owned(v)
    }
}

/// Encoder frames covering `samples` plus padding, capped at the model's 1500.
pub fn fitted_audio_ctx(samples: usize) -> i32 {
    ((samples.div_ceil(320) + FIT_PAD_FRAMES).clamp(FIT_MIN_FRAMES, 1500)) as i32
}

impl RecognizerSession for WhisperSession {
    fn decode(&mut self, req: &DecodeRequest) -> Result<Hypothesis, AsrError> {
        let started = Instant::now();
        let audio = padded(&req.audio);
        let strategy = if self.opts.beam_size > 1 {
            SamplingStrategy::BeamSearch { beam_size: self.opts.beam_size as i32, patience: -1.0 }
        } else {
            SamplingStrategy::Greedy { best_of: 1 }
        };
        let mut params = FullParams::new(strategy);
        params.set_n_threads(self.opts.threads as i32);
        params.set_print_progress(false);
        params.set_print_realtime(false);
        params.set_print_special(false);
        params.set_print_timestamps(false);
        params.set_token_timestamps(true);
        params.set_suppress_blank(true);
        params.set_suppress_nst(true);
        params.set_no_context(true);
        // People say at most ~4 words (~6 tokens) a second; a decode far beyond that is a
        // repetition loop, so cap it (and with it the worst-case cost of one decode).
        let secs = req.audio.len() as f32 / 16_000.0;
        if secs <= 30.0 {
            params.set_max_tokens((12.0 + secs * 8.0) as i32);
        }
        if !req.fallback {
            params.set_temperature_inc(0.0);
        }
        if req.fit_window && audio.len() < 30 * 16_000 {
            params.set_audio_ctx(fitted_audio_ctx(audio.len()));
        }
        if req.translate {
            if !self.ctx.is_multilingual() {
                return Err(AsrError::Unsupported("translation needs a multilingual model".into()));
            }
            params.set_translate(true);
        }
        let lang_owned;
        match &req.language {
            LanguageChoice::Fixed(code) => {
                lang_owned = code.clone();
                params.set_language(Some(lang_owned.as_str()));
            }
            LanguageChoice::Auto => params.set_language(if self.ctx.is_multilingual() { None } else { Some("en") }),
        }
        if !req.prompt.is_empty() {
            params.set_initial_prompt(&req.prompt);
        }
        self.state.full(params, &audio).map_err(|e| AsrError::Decode(e.to_string()))?;
        let eot = self.ctx.token_eot();
        let mut words: Vec<Word> = Vec::new();
        for seg in self.state.as_iter() {
            let seg_text = seg.to_str_lossy().map(|s| s.into_owned()).unwrap_or_default();
            if is_annotation(&seg_text) || seg.no_speech_probability() > 0.8 {
                continue;
            }
            // Assemble words from tokens: a token starting with a space opens a new word.
            let mut cur: Option<(Vec<u8>, i64, i64, f32, u32)> = None;
            let flush = |cur: &mut Option<(Vec<u8>, i64, i64, f32, u32)>, words: &mut Vec<Word>| {
                if let Some((bytes, t0, t1, psum, n)) = cur.take() {
                    let w = String::from_utf8_lossy(&bytes).into_owned();
                    if !is_annotation(&w) {
                        words.push(Word {
                            text: w,
                            start_ms: (t0.max(0) as u64) * 10,
                            end_ms: (t1.max(t0).max(0) as u64) * 10,
                            prob: psum / n.max(1) as f32,
                        });
                    }
                }
            };
            for i in 0..seg.n_tokens() {
                let Some(tok) = seg.get_token(i) else {
                    continue;
                };
                if tok.token_id() >= eot {
                    continue;
                }
                let data = tok.token_data();
                let bytes = tok.to_bytes().map(|b| b.to_vec()).unwrap_or_default();
                let starts_word = bytes.first() == Some(&b' ') || cur.is_none();
                if starts_word {
                    flush(&mut cur, &mut words);
                    cur = Some((bytes, data.t0, data.t1, data.p, 1));
                } else if let Some(c) = cur.as_mut() {
                    c.0.extend_from_slice(&bytes);
                    c.2 = data.t1.max(c.2);
                    c.3 += data.p;
                    c.4 += 1;
                }
            }
            flush(&mut cur, &mut words);
        }
        let mut words = collapse_repeats(words);
        // Words cannot extend past the real (unpadded) audio.
        let real_ms = (req.audio.len() as u64 * 1000) / 16_000;
        for w in &mut words {
            w.start_ms = w.start_ms.min(real_ms);
            w.end_ms = w.end_ms.min(real_ms).max(w.start_ms);
        }
        let decode_ms = started.elapsed().as_millis() as u64;
        tracing::debug!(audio_ms = real_ms, decode_ms, fit = req.fit_window, words = words.len(), "whisper decode");
        let text = super::commit::join(words.iter());
        Ok(Hypothesis { words, text, decode_ms })
    }

    fn detect_language(&mut self, audio: &[f32]) -> Result<LanguageGuess, AsrError> {
        if !self.ctx.is_multilingual() {
            return Ok(LanguageGuess { language: "en".into(), prob: 1.0, top: vec![("en".into(), 1.0)] });
        }
        let audio = padded(audio);
        let threads = self.opts.threads;
        let t = Instant::now();
        self.state.pcm_to_mel(&audio, threads).map_err(|e| AsrError::Decode(e.to_string()))?;
        let (_, probs) = self.state.lang_detect(0, threads).map_err(|e| AsrError::Decode(e.to_string()))?;
        let mut ranked: Vec<(String, f32)> = probs
            .iter()
            .enumerate()
            .filter_map(|(i, p)| whisper_rs::get_lang_str(i as i32).map(|s| (s.to_string(), *p)))
            .collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
        ranked.truncate(5);
        tracing::debug!(ms = t.elapsed().as_millis() as u64, "language identification");
        let (language, prob) =
            ranked.first().cloned().ok_or_else(|| AsrError::Decode("no language probabilities".into()))?;
        Ok(LanguageGuess { language, prob, top: ranked })
    }
}

/// Remove a word sequence that immediately repeats itself: Whisper's failure mode on short or
/// padded audio ("will we ever forget it? will we ever forget it? ..."). A repeated run of two
/// or more words is kept once; a single word is kept at most twice ("no, no" is speech).
pub fn collapse_repeats(mut words: Vec<Word>) -> Vec<Word> {
    let key =
        |w: &Word| w.text.chars().filter(|c| c.is_alphanumeric()).flat_map(|c| c.to_lowercase()).collect::<String>();
    let mut changed = true;
    while changed {
        changed = false;
        let keys: Vec<String> = words.iter().map(key).collect();
        'outer: for n in (1..=keys.len() / 2).rev() {
            for i in 0..=keys.len() - 2 * n {
                if keys[i..i + n] != keys[i + n..i + 2 * n] || keys[i..i + n].iter().all(|k| k.is_empty()) {
                    continue;
                }
                if n == 1 && !(i + 2 < keys.len() && keys[i + 2] == keys[i]) {
                    continue;
                }
                words.drain(i + n..i + 2 * n);
                changed = true;
                break 'outer;
            }
        }
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ws(text: &str) -> Vec<Word> {
        text.split_whitespace().map(|t| Word { text: format!(" {t}"), start_ms: 0, end_ms: 0, prob: 1.0 }).collect()
    }

    #[test]
    fn repetition_loops_are_collapsed() {
        let j = |t: &str| super::super::commit::join(collapse_repeats(ws(t)).iter());
        assert_eq!(
            j("will we ever forget it? will we ever forget it? will we ever forget it? will we"),
            "will we ever forget it? will we"
        );
        assert_eq!(j("by a similar process, by a similar process."), "by a similar process,");
        assert_eq!(j("no, no I said no"), "no, no I said no");
        assert_eq!(j("the the the cat"), "the the cat");
        assert_eq!(j("four five six seven"), "four five six seven");
    }

    #[test]
    fn annotations_are_recognised() {
        for a in ["[BLANK_AUDIO]", " (upbeat music)", "*sighs*", "  "] {
            assert!(is_annotation(a), "{a}");
        }
        for t in [" hello", " [sic] words", "(555) 123"] {
            assert!(!is_annotation(t), "{t}");
        }
    }

    #[test]
    fn fitted_window_covers_audio_and_caps() {
        assert_eq!(fitted_audio_ctx(16_000), 256);
        assert_eq!(fitted_audio_ctx(16_000 * 10), 500 + 64);
        assert_eq!(fitted_audio_ctx(16_000 * 10 + 1), 501 + 64);
        assert_eq!(fitted_audio_ctx(16_000 * 40), 1500);
    }
}
