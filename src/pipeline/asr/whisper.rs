//! The Whisper backend (whisper-rs / whisper.cpp): one model per process, one state per call.

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use whisper_rs::{FullParams, SamplingStrategy, WhisperContext, WhisperContextParameters, WhisperState};

use super::form::AnswerForm;
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
    vocab: Arc<OnceLock<Vocab>>,
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
        Ok(Self { ctx: Arc::new(ctx), name: name.to_string(), opts, vocab: Arc::default() })
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
        Ok(Box::new(WhisperSession {
            ctx: self.ctx.clone(),
            state,
            opts: self.opts.clone(),
            vocab: self.vocab.clone(),
        }))
    }
}

/// Per-call Whisper state.
pub struct WhisperSession {
    ctx: Arc<WhisperContext>,
    state: WhisperState,
    opts: WhisperOptions,
    vocab: Arc<OnceLock<Vocab>>,
}

/// The model's text tokens as bytes (what a decode held to an answer's form walks), read once
/// per model on the first such decode.
struct Vocab {
    tokens: Vec<Vec<u8>>,
    n_vocab: usize,
}

impl Vocab {
    fn of(ctx: &WhisperContext) -> Self {
        let eot = ctx.token_eot();
        let tokens = (0..eot).map(|id| ctx.token_to_bytes(id).map(|b| b.to_vec()).unwrap_or_default()).collect();
        Self { tokens, n_vocab: ctx.n_vocab().max(0) as usize }
    }
}

/// What the logits filter of a decode held to a form reads (see [`hold_to_form`]).
struct Holder<'a> {
    form: &'a AnswerForm,
    vocab: &'a Vocab,
}

/// whisper.cpp's logits filter for a decode held to an answer's form: every text token that
/// would take the text so far off the form is ruled out, and the end of text is ruled out until
/// the answer is whole (the held decode runs without timestamps, so nothing else ends it early).
/// Never panics (it runs inside C).
unsafe extern "C" fn hold_to_form(
    _ctx: *mut whisper_rs::whisper_rs_sys::whisper_context,
    _state: *mut whisper_rs::whisper_rs_sys::whisper_state,
    tokens: *const whisper_rs::whisper_rs_sys::whisper_token_data,
    n_tokens: std::os::raw::c_int,
    logits: *mut f32,
    user_data: *mut std::ffi::c_void,
) {
    if user_data.is_null() || logits.is_null() {
        return;
    }
    // SAFETY: user_data is the Holder that outlives the `full` call it was set for; whisper.cpp
    // passes its sequence so far and a logits vector of the vocabulary's length.
    let holder = unsafe { &*(user_data as *const Holder<'_>) };
    let so_far: &[whisper_rs::whisper_rs_sys::whisper_token_data] = if tokens.is_null() || n_tokens <= 0 {
        &[]
    } else {
        unsafe { std::slice::from_raw_parts(tokens, n_tokens as usize) }
    };
    let logits = unsafe { std::slice::from_raw_parts_mut(logits, holder.vocab.n_vocab) };
    let eot = holder.vocab.tokens.len();
    let mut state = holder.form.start();
    for t in so_far {
        let Some(bytes) = usize::try_from(t.id).ok().and_then(|id| holder.vocab.tokens.get(id)) else {
            continue; // a timestamp or special token: no text
        };
        match holder.form.step(state, bytes) {
            Some(s) => state = s,
            None => return, // off the form already (cannot happen once held): leave it be
        }
    }
    for (id, bytes) in holder.vocab.tokens.iter().enumerate() {
        if logits[id] != f32::NEG_INFINITY && (bytes.is_empty() || holder.form.step(state, bytes).is_none()) {
            logits[id] = f32::NEG_INFINITY;
        }
    }
    if !holder.form.is_whole(state) && eot < logits.len() {
        logits[eot] = f32::NEG_INFINITY;
    }
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
        let free = self.decode_once(req, None)?;
        let Some(form) = req.answer.as_deref().filter(|f| f.attempted(&free.text)) else {
            return Ok(free);
        };
        let vocab = self.vocab.clone();
        let vocab = vocab.get_or_init(|| Vocab::of(&self.ctx));
        match self.decode_once(req, Some(&Holder { form, vocab })) {
            Ok(held) => Ok(super::form::settle(form, free, held)),
            // The re-read is a second opinion: without it the free reading stands.
            Err(e) => {
                tracing::warn!(error = %e, form = form.what(), "re-reading an answer held to its form failed");
                Ok(free)
            }
        }
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

impl WhisperSession {
    /// One decode: free, or held to an answer's form.
    fn decode_once(&mut self, req: &DecodeRequest, held: Option<&Holder<'_>>) -> Result<Hypothesis, AsrError> {
        let started = Instant::now();
        let audio = padded(&req.audio);
        let strategy = if self.opts.beam_size > 1 {
            SamplingStrategy::BeamSearch { beam_size: self.opts.beam_size as i32, patience: -1.0 }
        } else {
            SamplingStrategy::Greedy { best_of: 1 }
        };
        let mut params = FullParams::new(strategy);
        let threads = if req.threads > 0 { req.threads } else { self.opts.threads };
        params.set_n_threads(threads as i32);
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
        // A decode held to a form is greedy only: sampling at a higher temperature would pick
        // a random answer of the form, not a better reading.
        if !req.fallback || held.is_some() {
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
        if let Some(h) = held {
            // Without timestamps: a timestamp token would otherwise end the decode before the
            // answer is whole (the form rules out only the end of text).
            params.set_no_timestamps(true);
            // SAFETY: the holder outlives this `full` call, and the filter only reads it.
            unsafe {
                params.set_filter_logits_callback(Some(hold_to_form));
                params.set_filter_logits_callback_user_data(h as *const Holder<'_> as *mut std::ffi::c_void);
            }
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
        // A decode held to a form cannot loop, and a PIN may well be "1, 1, 1, 1".
        let mut words = if held.is_some() { words } else { collapse_repeats(words) };
        // Words cannot extend past the real (unpadded) audio.
        let real_ms = (req.audio.len() as u64 * 1000) / 16_000;
        for w in &mut words {
            w.start_ms = w.start_ms.min(real_ms);
            w.end_ms = w.end_ms.min(real_ms).max(w.start_ms);
        }
        let decode_ms = started.elapsed().as_millis() as u64;
        tracing::debug!(audio_ms = real_ms, decode_ms, fit = req.fit_window, words = words.len(), "whisper decode");
        let text = super::commit::join(words.iter());
        Ok(Hypothesis { words, text, decode_ms, ..Hypothesis::default() })
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
