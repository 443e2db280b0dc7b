//! Voice embeddings: the Whisper-tiny encoder inside Pipecat's Smart Turn v3.2 (ONNX, int8).
//!
//! Smart Turn is a Whisper-tiny encoder fine-tuned on conversational speech, an attention pool
//! over its 400 frames, and an end-of-turn head. Its pooled encoder states are a general speech
//! representation the project's own emotion and accent classifiers ([`super::probe`]) learn
//! from, so one inference per turn gives the voice features and the end-of-turn probability.
//!
//! The graph's outputs are only the end-of-turn probability; the pooled state (`sum_1`) and
//! three layer norms of the encoder's residual stream ([`LAYERS`]) are added as outputs in
//! memory when the model is loaded ([`with_outputs`]), so the file on disk stays Pipecat's,
//! byte for byte.
//!
//! Features follow Pipecat's `_whisper_features.py` (Whisper's feature extractor at 8 s): the
//! last 8 s of 16 kHz audio, zero-padded at the front, normalised to zero mean and unit
//! variance, 80 Slaney mel bands (Whisper's filterbank in f64, as Hugging Face builds it,
//! [`crate::models::ggml::mel_filters_f64`]) of a 400-point periodic-Hann STFT with hop 160, log10, floor at max - 8, then (x + 4) / 4.

use std::path::Path;
use std::sync::{Mutex, OnceLock};

use ort::session::builder::GraphOptimizationLevel;
use ort::session::Session;
use ort::value::Tensor;
use realfft::RealFftPlanner;

/// Samples in one window: 8 s at 16 kHz.
pub const WINDOW: usize = 128_000;
const N_FFT: usize = 400;
const HOP: usize = 160;
const N_MELS: usize = 80;
const FRAMES: usize = 800;
/// Encoder frames per window (two mel frames each): 20 ms each.
const ENC_FRAMES: usize = 400;
const SAMPLES_PER_ENC_FRAME: usize = WINDOW / ENC_FRAMES;
/// Width of the encoder's states.
pub const WIDTH: usize = 384;

/// The embedding's blocks, in the order they are stored: Smart Turn's attention-pooled state,
/// then the mean and standard deviation over the frames that hold audio of the encoder's
/// residual stream after layers 2, 3 and 4 (the layer norms ahead of layers 3, 4 and the final
/// one; middle layers carry more of how something is said, the last more of what).
pub const BLOCKS: [(&str, usize); 4] = [("pool", WIDTH), ("l4", 2 * WIDTH), ("l6", 2 * WIDTH), ("l8", 2 * WIDTH)];
/// Length of a whole embedding.
pub const DIM: usize = 7 * WIDTH;

/// Changes whenever what an embedding holds changes (blocks, layers, features): caches of
/// embeddings are keyed by it.
pub const LAYOUT: &str = "smart-turn-v3.2/pool+l4+l6+l8/mean-sd/v3";

/// The encoder's manifest entry.
pub const MODEL: &str = "smart-turn-v3.2";
const POOLED: &str = "sum_1";
const LAYERS: [&str; 3] = ["layer_norm_4", "layer_norm_6", "layer_norm_8"];

/// One turn's (or recording's) voice features.
#[derive(Debug, Clone, PartialEq)]
pub struct Embedding {
    /// All blocks ([`BLOCKS`]) end to end.
    pub vector: Vec<f32>,
    /// Smart Turn's probability that the speaker finished their turn.
    pub end_of_turn: f32,
}

impl Embedding {
    /// The named blocks, concatenated in the order given (a probe's `features`). Unknown names
    /// are an error, so a weights file for another layout is refused rather than misread.
    pub fn features(&self, names: &[String]) -> Result<Vec<f32>, String> {
        features_of(&self.vector, names)
    }
}

/// Where a named block sits in an embedding.
fn block(name: &str) -> Result<std::ops::Range<usize>, String> {
    let mut at = 0;
    for (b, len) in BLOCKS {
        if b == name {
            return Ok(at..at + len);
        }
        at += len;
    }
    Err(format!("unknown embedding block {name:?} (known: pool, l4, l6, l8)"))
}

/// How many values the named blocks hold together.
pub fn features_len(names: &[String]) -> Result<usize, String> {
    names.iter().map(|n| block(n).map(|r| r.len())).sum()
}

/// [`Embedding::features`] on a stored vector.
pub fn features_of(vector: &[f32], names: &[String]) -> Result<Vec<f32>, String> {
    if vector.len() != DIM {
        return Err(format!("embedding has {} values, not {DIM}", vector.len()));
    }
    let mut out = Vec::with_capacity(features_len(names)?);
    for name in names {
        out.extend_from_slice(&vector[block(name)?]);
    }
    Ok(out)
}

/// The encoder, loaded once per process, with one ONNX session per inference worker (a
/// session runs one inference at a time; two workers would otherwise queue on one).
pub struct VoiceEncoder {
    sessions: Vec<Mutex<Session>>,
    next: std::sync::atomic::AtomicUsize,
}

impl std::fmt::Debug for VoiceEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VoiceEncoder")
    }
}

impl VoiceEncoder {
    /// Load `smart-turn-v3.2-cpu.onnx` with ONNX Runtime from `onnxruntime_lib`, with
    /// `sessions` sessions (at least one).
    pub fn load(model: &Path, onnxruntime_lib: &Path, sessions: usize) -> Result<VoiceEncoder, String> {
        for (what, p) in [("Smart Turn model", model), ("ONNX Runtime", onnxruntime_lib)] {
            if !p.is_file() {
                return Err(format!("{what} {} is missing: run `switchboard models fetch`", p.display()));
            }
        }
        let bytes = std::fs::read(model).map_err(|e| format!("{}: {e}", model.display()))?;
        let mut extra = vec![POOLED];
        extra.extend(LAYERS);
        let bytes = with_outputs(&bytes, &extra).map_err(|e| format!("{}: not an ONNX model: {e}", model.display()))?;
        let env = crate::onnx::environment(onnxruntime_lib)?;
        let err = |e: ort::Error| format!("{}: {e}", model.display());
        let berr = |e: ort::Error<_>| err(e.into());
        let mut all = Vec::new();
        for _ in 0..sessions.max(1) {
            let session = Session::builder(&env)
                .map_err(err)?
                .with_intra_threads(1)
                .map_err(berr)?
                .with_inter_threads(1)
                .map_err(berr)?
                .with_optimization_level(GraphOptimizationLevel::Level3)
                .map_err(berr)?
                .commit_from_memory(&bytes)
                .map_err(err)?;
            let outputs: Vec<&str> = session.outputs().iter().map(|o| o.name()).collect();
            if !extra.iter().all(|o| outputs.contains(o)) {
                return Err(format!("{}: has outputs {outputs:?}, not Smart Turn v3.2", model.display()));
            }
            all.push(Mutex::new(session));
        }
        Ok(VoiceEncoder { sessions: all, next: Default::default() })
    }

    /// Embed the last 8 s of 16 kHz mono audio (one inference: a live turn's cost; longer
    /// recordings are cut into windows by the caller, `cmd::voice_data::windows`).
    pub fn embed(&self, audio: &[f32]) -> Result<Embedding, String> {
        if audio.is_empty() {
            return Err("no audio".into());
        }
        let (vector, end_of_turn) = self.window(&audio[audio.len().saturating_sub(WINDOW)..])?;
        Ok(Embedding { vector, end_of_turn })
    }

    /// One window of at most 8 s.
    fn window(&self, audio: &[f32]) -> Result<(Vec<f32>, f32), String> {
        let n = audio.len().min(WINDOW);
        let mut padded = vec![0f32; WINDOW - n];
        padded.extend_from_slice(&audio[audio.len() - n..]);
        let mel = log_mel(&padded);
        let err = |e: ort::Error| format!("voice encoder: {e}");
        let input = Tensor::from_array(([1usize, N_MELS, FRAMES], mel)).map_err(err)?;
        // A free session if there is one, else wait for one in turn.
        let mut session = match self.sessions.iter().find_map(|m| m.try_lock().ok()) {
            Some(s) => s,
            None => {
                let i = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % self.sessions.len();
                self.sessions[i].lock().unwrap_or_else(|e| e.into_inner())
            }
        };
        let out = session.run(ort::inputs!["input_features" => input]).map_err(err)?;
        let (_, eot) = out["logits"].try_extract_tensor::<f32>().map_err(err)?;
        let (_, pooled) = out[POOLED].try_extract_tensor::<f32>().map_err(err)?;
        if pooled.len() != WIDTH {
            return Err(format!("voice encoder: pooled state has {} values, not {WIDTH}", pooled.len()));
        }
        let mut v = pooled.to_vec();
        // The frames that hold audio (it is at the end of the window).
        let k = (n / SAMPLES_PER_ENC_FRAME).clamp(1, ENC_FRAMES);
        for layer in LAYERS {
            let (_, frames) = out[layer].try_extract_tensor::<f32>().map_err(err)?;
            if frames.len() != ENC_FRAMES * WIDTH {
                return Err(format!("voice encoder: {layer} has {} values", frames.len()));
            }
            let held = &frames[(ENC_FRAMES - k) * WIDTH..];
            let mut mean = vec![0f32; WIDTH];
            for f in held.chunks(WIDTH) {
                for (m, x) in mean.iter_mut().zip(f) {
                    *m += x / k as f32;
                }
            }
            let mut var = vec![0f32; WIDTH];
            for f in held.chunks(WIDTH) {
                for ((s, x), m) in var.iter_mut().zip(f).zip(&mean) {
                    *s += (x - m) * (x - m) / k as f32;
                }
            }
            v.extend_from_slice(&mean);
            v.extend(var.iter().map(|s| s.sqrt()));
        }
        Ok((v, eot.first().copied().unwrap_or(0.0)))
    }
}

/// The process's encoder (one session per inference worker), loaded on first use: shared by
/// the voice classifiers and the end-of-turn decision. `None`, with the reason logged once,
/// when the model or ONNX Runtime is missing.
pub fn shared(manifest: &crate::models::Manifest) -> Option<std::sync::Arc<VoiceEncoder>> {
    static SHARED: OnceLock<Option<std::sync::Arc<VoiceEncoder>>> = OnceLock::new();
    SHARED
        .get_or_init(|| {
            let load = || -> Result<VoiceEncoder, String> {
                let model = manifest.require(MODEL).map_err(|e| e.to_string())?;
                let lib = manifest.require(crate::onnx::RUNTIME).map_err(|e| e.to_string())?;
                VoiceEncoder::load(&model, &lib, crate::pipeline::default_workers())
            };
            match load() {
                Ok(e) => Some(std::sync::Arc::new(e)),
                Err(e) => {
                    tracing::warn!(error = %e, "Smart Turn encoder not loaded: turns end on silence, no learned voice classifiers");
                    None
                }
            }
        })
        .clone()
}

/// Whisper-style log-mel features of exactly one 8 s window, mel-major `[80][800]`.
pub fn log_mel(window: &[f32]) -> Vec<f32> {
    let mut x = window.to_vec();
    x.resize(WINDOW, 0.0);
    let n = x.len() as f32;
    let mean = x.iter().sum::<f32>() / n;
    let var = x.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / n;
    let sd = (var + 1e-7).sqrt();
    // Reflect-padded by half a frame on each side (centred frames), in f64 as the reference.
    let pad = N_FFT / 2;
    let at = |i: isize| -> f64 {
        let len = x.len() as isize;
        let j = if i < 0 {
            -i
        } else if i >= len {
            2 * (len - 1) - i
        } else {
            i
        };
        ((x[j as usize] - mean) / sd) as f64
    };
    let (hann, spans) = analysis_tables();
    let mut planner = RealFftPlanner::<f64>::new();
    let fft = planner.plan_fft_forward(N_FFT);
    let mut frame = fft.make_input_vec();
    let mut spec = fft.make_output_vec();
    let bins = N_FFT / 2 + 1;
    let mut out = vec![0f64; N_MELS * FRAMES];
    let mut power = vec![0f64; bins];
    for t in 0..FRAMES {
        let start = (t * HOP) as isize - pad as isize;
        for (i, f) in frame.iter_mut().enumerate() {
            *f = at(start + i as isize) * hann[i];
        }
        fft.process(&mut frame, &mut spec).expect("FFT sizes match the plan");
        for (p, c) in power.iter_mut().zip(&spec) {
            *p = c.norm_sqr();
        }
        for m in 0..N_MELS {
            let (first, w) = &spans[m];
            let e: f64 = w.iter().zip(&power[*first..]).map(|(w, p)| w * p).sum();
            out[m * FRAMES + t] = e.max(1e-10).log10();
        }
    }
    let max = out.iter().cloned().fold(f64::MIN, f64::max);
    out.iter().map(|v| ((v.max(max - 8.0) + 4.0) / 4.0) as f32).collect()
}

/// The periodic Hann window and, per mel band, its non-zero span of FFT bins (first bin,
/// weights) from Whisper's own Slaney filterbank: made once per process.
#[allow(clippy::type_complexity)]
fn analysis_tables() -> &'static (Vec<f64>, Vec<(usize, Vec<f64>)>) {
    static T: OnceLock<(Vec<f64>, Vec<(usize, Vec<f64>)>)> = OnceLock::new();
    T.get_or_init(|| {
        let hann =
            (0..N_FFT).map(|i| 0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / N_FFT as f64).cos()).collect();
        let bins = N_FFT / 2 + 1;
        let filters = crate::models::ggml::mel_filters_f64(16_000.0, N_FFT, N_MELS);
        let spans = filters
            .chunks(bins)
            .map(|band| {
                let first = band.iter().position(|w| *w > 0.0).unwrap_or(0);
                let last = band.iter().rposition(|w| *w > 0.0).unwrap_or(0).max(first);
                (first, band[first..=last].to_vec())
            })
            .collect();
        (hann, spans)
    })
}

/// An ONNX model (`ModelProto` bytes) with `names` added to its graph's outputs (float tensors
/// of unknown shape). Protobuf lets a repeated field be appended to the end of a message, so
/// the graph is copied unchanged and the new `GraphProto.output` entries (field 12) follow it.
pub fn with_outputs(model: &[u8], names: &[&str]) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(model.len() + 256);
    let mut pos = 0;
    let mut found = false;
    while pos < model.len() {
        let field_start = pos;
        let key = varint(model, &mut pos)?;
        let (field, wire) = (key >> 3, key & 7);
        let value_start = pos;
        match wire {
            0 => {
                varint(model, &mut pos)?;
            }
            1 => pos += 8,
            5 => pos += 4,
            2 => {
                let len = varint(model, &mut pos)? as usize;
                let value_start = pos;
                pos = pos.checked_add(len).filter(|&p| p <= model.len()).ok_or("truncated field")?;
                if field == 7 {
                    // ModelProto.graph
                    let mut graph = model[value_start..pos].to_vec();
                    for name in names {
                        // ValueInfoProto { name: 1, type: 2 { tensor_type: 1 { elem_type: 1 = FLOAT } } }
                        let tensor = [0x08u8, 0x01];
                        let mut ty = vec![0x0a];
                        put_varint(&mut ty, tensor.len() as u64);
                        ty.extend_from_slice(&tensor);
                        let mut info = vec![0x0a];
                        put_varint(&mut info, name.len() as u64);
                        info.extend_from_slice(name.as_bytes());
                        info.push(0x12);
                        put_varint(&mut info, ty.len() as u64);
                        info.extend_from_slice(&ty);
                        graph.push((12 << 3) | 2);
                        put_varint(&mut graph, info.len() as u64);
                        graph.extend_from_slice(&info);
                    }
                    put_varint(&mut out, key);
                    put_varint(&mut out, graph.len() as u64);
                    out.extend_from_slice(&graph);
                    found = true;
                    continue;
                }
            }
            w => return Err(format!("unsupported wire type {w}")),
        }
        let _ = value_start;
        if pos > model.len() {
            return Err("truncated field".into());
        }
        out.extend_from_slice(&model[field_start..pos]);
    }
    if !found {
        return Err("no graph".into());
    }
    Ok(out)
}

fn varint(b: &[u8], pos: &mut usize) -> Result<u64, String> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *b.get(*pos).ok_or("truncated varint")?;
        *pos += 1;
        v |= ((byte & 0x7f) as u64) << shift;
        if byte & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err("varint too long".into())
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mel_band_covers_some_bins_of_the_spectrum() {
        let (hann, spans) = analysis_tables();
        assert_eq!((hann.len(), spans.len()), (400, 80));
        // Every band has weight somewhere, inside the 201 bins.
        assert!(spans.iter().all(|(first, w)| w.iter().any(|x| *x > 0.0) && first + w.len() <= 201));
    }

    #[test]
    fn log_mel_of_a_tone_peaks_in_its_band_and_is_scaled_like_whisper() {
        let tone: Vec<f32> =
            (0..WINDOW).map(|i| (2.0 * std::f32::consts::PI * 1000.0 * i as f32 / 16000.0).sin()).collect();
        let mel = log_mel(&tone);
        assert_eq!(mel.len(), 80 * 800);
        let frame = 400;
        let band = (0..80).max_by(|&a, &b| mel[a * 800 + frame].total_cmp(&mel[b * 800 + frame])).unwrap();
        // A band's centre: its filter's peak bin (40 Hz per bin).
        let centre = |m: usize| {
            let (first, w) = &analysis_tables().1[m];
            (first + (0..w.len()).max_by(|&a, &b| w[a].total_cmp(&w[b])).unwrap()) as f64 * 40.0
        };
        assert!((centre(band) - 1000.0).abs() < 120.0, "band {band} at {} Hz", centre(band));
        let max = mel.iter().cloned().fold(f32::MIN, f32::max);
        let min = mel.iter().cloned().fold(f32::MAX, f32::min);
        assert!((max - min - 2.0).abs() < 1e-4, "8 decades floor -> a range of 2 after /4: {min}..{max}");
    }

    #[test]
    fn outputs_are_appended_to_the_graph_and_other_fields_are_kept() {
        // ModelProto { ir_version: 8 (field 1), graph: 7 { name: 2 "g" }, opset_import: 8 {} }
        let model = [0x08, 0x08, 0x3a, 0x03, 0x12, 0x01, b'g', 0x42, 0x00];
        let out = with_outputs(&model, &["x"]).unwrap();
        assert_eq!(&out[..2], &[0x08, 0x08]);
        assert_eq!(out[2], 0x3a);
        let len = out[3] as usize;
        let graph = &out[4..4 + len];
        assert_eq!(&graph[..3], &[0x12, 0x01, b'g']);
        assert_eq!(graph[3], (12 << 3) | 2);
        assert!(graph.windows(1).any(|w| w == b"x"));
        assert_eq!(&out[4 + len..], &[0x42, 0x00]);
        assert!(with_outputs(&[0x08], &["x"]).is_err());
        assert!(with_outputs(&[0x08, 0x01], &["x"]).unwrap_err().contains("no graph"));
    }
}
