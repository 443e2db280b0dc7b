//! Converting a CTranslate2 Whisper model to the whisper.cpp ggml file format.
//!
//! Layout written (as whisper.cpp's `convert-pt-to-ggml.py`): magic, 11 hyper-parameters,
//! the 80-bin Slaney mel filterbank, the byte-level vocabulary, then every tensor with its
//! whisper.cpp name. 1-D tensors, conv biases and positional embeddings stay f32; the conv
//! weights f16; the matrices (attention, MLP, token embedding) f16, or 8-bit blocks
//! ([`Weights::Q8_0`], as whisper.cpp's own `quantize` tool writes them).

use std::collections::HashMap;
use std::io::Write;

use super::ct2::{Ct2Model, Variable};
use super::ModelError;

const GGML_MAGIC: u32 = 0x6767_6d6c;

/// How the model's matrices are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weights {
    /// 16-bit floats, as OpenAI's weights are published.
    F16,
    /// ggml's Q8_0: blocks of 32 values, each an f16 scale and 32 signed bytes (8.5 bits a
    /// value). whisper.cpp multiplies them with 8-bit integer dot products, so the same decode
    /// costs less CPU; the values differ from f16 by at most half a step of 1/127 of their
    /// block's largest magnitude.
    Q8_0,
}

impl Weights {
    /// whisper.cpp's `ftype` for the file: the ggml file type plus, for quantized files,
    /// 1000 x the quantization format's version (2 since ggml's 2023 block layout).
    fn ftype(self) -> i32 {
        match self {
            Weights::F16 => 1,
            Weights::Q8_0 => 2 * 1000 + 7,
        }
    }
}

/// Values per Q8_0 block.
const QK8_0: usize = 32;

/// Hyper-parameters of a Whisper model as whisper.cpp stores them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hparams {
    pub n_vocab: i32,
    pub n_audio_ctx: i32,
    pub n_audio_state: i32,
    pub n_audio_head: i32,
    pub n_audio_layer: i32,
    pub n_text_ctx: i32,
    pub n_text_state: i32,
    pub n_text_head: i32,
    pub n_text_layer: i32,
    pub n_mels: i32,
    pub ftype: i32,
}

fn count_layers(m: &Ct2Model, prefix: &str) -> i32 {
    (0..).take_while(|i| m.variables.contains_key(&format!("{prefix}/layer_{i}/ffn/linear_0/weight"))).count() as i32
}

impl Hparams {
    /// Derive the hyper-parameters from the tensors' shapes and the stored head counts.
    pub fn from_ct2(m: &Ct2Model, weights: Weights) -> Result<Self, ModelError> {
        let emb = m.get("decoder/embeddings/weight")?;
        let conv1 = m.get("encoder/conv1/weight")?;
        let enc_pos = m.get("encoder/position_encodings/encodings")?;
        let dec_pos = m.get("decoder/position_encodings/encodings")?;
        let head = |name: &str| -> Result<i32, ModelError> {
            m.get(name)?
                .scalar_i64()
                .map(|v| v as i32)
                .ok_or_else(|| ModelError::Format(format!("{name} is not a scalar")))
        };
        if emb.dims.len() != 2 || conv1.dims.len() != 3 || enc_pos.dims.len() != 2 || dec_pos.dims.len() != 2 {
            return Err(ModelError::Format("unexpected tensor ranks for a Whisper model".into()));
        }
        Ok(Self {
            n_vocab: emb.dims[0] as i32,
            n_audio_ctx: enc_pos.dims[0] as i32,
            n_audio_state: enc_pos.dims[1] as i32,
            n_audio_head: head("encoder/num_heads")?,
            n_audio_layer: count_layers(m, "encoder"),
            n_text_ctx: dec_pos.dims[0] as i32,
            n_text_state: dec_pos.dims[1] as i32,
            n_text_head: head("decoder/num_heads")?,
            n_text_layer: count_layers(m, "decoder"),
            n_mels: conv1.dims[1] as i32,
            ftype: weights.ftype(),
        })
    }
}

/// The Slaney-style mel filterbank (librosa `filters.mel(sr, n_fft, n_mels)`, htk=False,
/// norm="slaney"), computed in f64 with librosa's f32 rounding so it matches OpenAI's `mel_80`.
pub fn mel_filters(sr: f64, n_fft: usize, n_mels: usize) -> Vec<f32> {
    slaney_filterbank(sr, n_fft, n_mels, true).into_iter().map(|v| v as f32).collect()
}

/// The same filterbank in f64 without the rounding, as Hugging Face's Whisper feature
/// extractor (and Pipecat's copy of it) builds it: `[n_mels][n_fft / 2 + 1]`, row-major.
pub fn mel_filters_f64(sr: f64, n_fft: usize, n_mels: usize) -> Vec<f64> {
    slaney_filterbank(sr, n_fft, n_mels, false)
}

fn slaney_filterbank(sr: f64, n_fft: usize, n_mels: usize, f32_rounding: bool) -> Vec<f64> {
    const F_SP: f64 = 200.0 / 3.0;
    const MIN_LOG_HZ: f64 = 1000.0;
    let min_log_mel = MIN_LOG_HZ / F_SP;
    let logstep = (6.4f64).ln() / 27.0;
    let hz_to_mel = |f: f64| {
        if f >= MIN_LOG_HZ {
            min_log_mel + (f / MIN_LOG_HZ).ln() / logstep
        } else {
            f / F_SP
        }
    };
    let mel_to_hz = |m: f64| {
        if m >= min_log_mel {
            MIN_LOG_HZ * (logstep * (m - min_log_mel)).exp()
        } else {
            F_SP * m
        }
    };
    let n_bins = 1 + n_fft / 2;
    let bin_hz = 1.0 / (n_fft as f64 * (1.0 / sr));
    let fftfreqs: Vec<f64> = (0..n_bins).map(|i| i as f64 * bin_hz).collect();
    let (lo, hi) = (hz_to_mel(0.0), hz_to_mel(sr / 2.0));
    let n_pts = n_mels + 2;
    let step = (hi - lo) / (n_pts - 1) as f64;
    let mel_f: Vec<f64> =
        (0..n_pts).map(|i| if i == n_pts - 1 { hi } else { lo + i as f64 * step }).map(mel_to_hz).collect();
    let round = |v: f64| if f32_rounding { v as f32 as f64 } else { v };
    let mut w = vec![0f64; n_mels * n_bins];
    for i in 0..n_mels {
        let fdiff_lo = mel_f[i + 1] - mel_f[i];
        let fdiff_hi = mel_f[i + 2] - mel_f[i + 1];
        let enorm = 2.0 / (mel_f[i + 2] - mel_f[i]);
        for (j, &f) in fftfreqs.iter().enumerate() {
            let lower = -(mel_f[i] - f) / fdiff_lo;
            let upper = (mel_f[i + 2] - f) / fdiff_hi;
            let v = round(0f64.max(lower.min(upper)));
            w[i * n_bins + j] = round(v * enorm);
        }
    }
    w
}

/// GPT-2's byte <-> printable-unicode mapping, as a char -> byte table.
fn gpt2_byte_decoder() -> HashMap<char, u8> {
    let mut bs: Vec<u32> = (b'!' as u32..=b'~' as u32).chain(0xA1..=0xAC).chain(0xAE..=0xFF).collect();
    let mut cs = bs.clone();
    let mut n = 0;
    for b in 0..256u32 {
        if !bs.contains(&b) {
            bs.push(b);
            cs.push(256 + n);
            n += 1;
        }
    }
    bs.into_iter().zip(cs).map(|(b, c)| (char::from_u32(c).expect("valid code point"), b as u8)).collect()
}

/// Decode CT2's `vocabulary.txt` into the byte strings whisper.cpp expects: every token
/// before `<|endoftext|>` (whisper.cpp adds the special tokens itself).
pub fn decode_vocabulary(text: &str) -> Result<Vec<Vec<u8>>, ModelError> {
    let dec = gpt2_byte_decoder();
    let mut out = Vec::new();
    for line in text.split('\n') {
        if line == "<|endoftext|>" {
            return Ok(out);
        }
        let bytes: Option<Vec<u8>> = line.chars().map(|c| dec.get(&c).copied()).collect();
        out.push(
            bytes.ok_or_else(|| ModelError::Format(format!("vocabulary token {line:?} is not GPT-2 byte-encoded")))?,
        );
    }
    Err(ModelError::Format("vocabulary has no <|endoftext|> token".into()))
}

/// Tensor storage in the ggml file.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Out {
    F32,
    F16,
    Q8_0,
}

impl Out {
    /// The tensor's ggml type id in the file.
    fn ggml_type(self) -> i32 {
        match self {
            Out::F32 => 0,
            Out::F16 => 1,
            Out::Q8_0 => 8,
        }
    }
}

/// ggml's `quantize_row_q8_0_ref`: per block of 32, scale d = max|x| / 127 (stored as f16),
/// values round(x / d) as signed bytes.
fn quantize_q8_0(values: &[f32], buf: &mut Vec<u8>) {
    for block in values.chunks(QK8_0) {
        let amax = block.iter().fold(0f32, |m, v| m.max(v.abs()));
        let d = amax / 127.0;
        let id = if d != 0.0 { 1.0 / d } else { 0.0 };
        buf.extend(half::f16::from_f32(d).to_le_bytes());
        buf.extend(block.iter().map(|v| (v * id).round() as i8 as u8));
    }
}

/// One output tensor: whisper.cpp name, row-major dims, values.
struct Tensor {
    name: String,
    dims: Vec<usize>,
    values: Vec<f32>,
    kind: Out,
}

fn split_rows(v: &Variable, parts: usize) -> Result<Vec<Vec<f32>>, ModelError> {
    let all = v.to_f32();
    if v.dims.is_empty() || v.dims[0] % parts != 0 {
        return Err(ModelError::Format(format!("cannot split shape {:?} into {parts}", v.dims)));
    }
    let chunk = all.len() / parts;
    Ok(all.chunks(chunk).map(|c| c.to_vec()).collect())
}

fn tensors_for(m: &Ct2Model, hp: &Hparams, weights: Weights) -> Result<Vec<Tensor>, ModelError> {
    let mut out = Vec::new();
    // whisper.cpp creates the matrices with the file's weight type and the conv weights (3-D)
    // with f16 unless the file is f32; the rest is f32.
    let kind_for = |name: &str, ndim: usize| {
        if ndim < 2
            || name.ends_with("conv1.bias")
            || name.ends_with("conv2.bias")
            || name.ends_with("positional_embedding")
        {
            Out::F32
        } else if ndim == 2 && weights == Weights::Q8_0 {
            Out::Q8_0
        } else {
            Out::F16
        }
    };
    let mut push = |name: String, dims: Vec<usize>, values: Vec<f32>| {
        let kind = kind_for(&name, dims.len());
        out.push(Tensor { name, dims, values, kind });
    };
    let copy = |push: &mut dyn FnMut(String, Vec<usize>, Vec<f32>), src: &str, dst: &str| -> Result<(), ModelError> {
        let v = m.get(src)?;
        push(dst.to_string(), v.dims.clone(), v.to_f32());
        Ok(())
    };
    // A linear layer: weight [out, in] and bias [out].
    let linear = |push: &mut dyn FnMut(String, Vec<usize>, Vec<f32>),
                  src: &str,
                  dst: &str,
                  bias: bool|
     -> Result<(), ModelError> {
        copy(push, &format!("{src}/weight"), &format!("{dst}.weight"))?;
        if bias {
            copy(push, &format!("{src}/bias"), &format!("{dst}.bias"))?;
        }
        Ok(())
    };
    let norm = |push: &mut dyn FnMut(String, Vec<usize>, Vec<f32>), src: &str, dst: &str| -> Result<(), ModelError> {
        copy(push, &format!("{src}/gamma"), &format!("{dst}.weight"))?;
        copy(push, &format!("{src}/beta"), &format!("{dst}.bias"))
    };
    // Fused projections are split into query/key/value; whisper.cpp's key has no bias.
    let fused =
        |push: &mut dyn FnMut(String, Vec<usize>, Vec<f32>), src: &str, names: &[&str]| -> Result<(), ModelError> {
            let w = m.get(&format!("{src}/weight"))?;
            let b = m.get(&format!("{src}/bias"))?;
            let ws = split_rows(w, names.len())?;
            let bs = split_rows(b, names.len())?;
            let rows = w.dims[0] / names.len();
            for ((name, wv), bv) in names.iter().zip(ws).zip(bs) {
                push(format!("{name}.weight"), vec![rows, w.dims[1]], wv);
                if !name.ends_with(".key") {
                    push(format!("{name}.bias"), vec![rows], bv);
                }
            }
            Ok(())
        };
    let p = &mut push;
    copy(p, "encoder/position_encodings/encodings", "encoder.positional_embedding")?;
    for conv in ["conv1", "conv2"] {
        copy(p, &format!("encoder/{conv}/weight"), &format!("encoder.{conv}.weight"))?;
        let b = m.get(&format!("encoder/{conv}/bias"))?;
        p(format!("encoder.{conv}.bias"), vec![b.dims[0], 1], b.to_f32());
    }
    for i in 0..hp.n_audio_layer {
        let (s, d) = (format!("encoder/layer_{i}"), format!("encoder.blocks.{i}"));
        norm(p, &format!("{s}/self_attention/layer_norm"), &format!("{d}.attn_ln"))?;
        fused(
            p,
            &format!("{s}/self_attention/linear_0"),
            &[&format!("{d}.attn.query"), &format!("{d}.attn.key"), &format!("{d}.attn.value")],
        )?;
        linear(p, &format!("{s}/self_attention/linear_1"), &format!("{d}.attn.out"), true)?;
        norm(p, &format!("{s}/ffn/layer_norm"), &format!("{d}.mlp_ln"))?;
        linear(p, &format!("{s}/ffn/linear_0"), &format!("{d}.mlp.0"), true)?;
        linear(p, &format!("{s}/ffn/linear_1"), &format!("{d}.mlp.2"), true)?;
    }
    norm(p, "encoder/layer_norm", "encoder.ln_post")?;
    copy(p, "decoder/position_encodings/encodings", "decoder.positional_embedding")?;
    copy(p, "decoder/embeddings/weight", "decoder.token_embedding.weight")?;
    for i in 0..hp.n_text_layer {
        let (s, d) = (format!("decoder/layer_{i}"), format!("decoder.blocks.{i}"));
        norm(p, &format!("{s}/self_attention/layer_norm"), &format!("{d}.attn_ln"))?;
        fused(
            p,
            &format!("{s}/self_attention/linear_0"),
            &[&format!("{d}.attn.query"), &format!("{d}.attn.key"), &format!("{d}.attn.value")],
        )?;
        linear(p, &format!("{s}/self_attention/linear_1"), &format!("{d}.attn.out"), true)?;
        norm(p, &format!("{s}/attention/layer_norm"), &format!("{d}.cross_attn_ln"))?;
        linear(p, &format!("{s}/attention/linear_0"), &format!("{d}.cross_attn.query"), true)?;
        fused(
            p,
            &format!("{s}/attention/linear_1"),
            &[&format!("{d}.cross_attn.key"), &format!("{d}.cross_attn.value")],
        )?;
        linear(p, &format!("{s}/attention/linear_2"), &format!("{d}.cross_attn.out"), true)?;
        norm(p, &format!("{s}/ffn/layer_norm"), &format!("{d}.mlp_ln"))?;
        linear(p, &format!("{s}/ffn/linear_0"), &format!("{d}.mlp.0"), true)?;
        linear(p, &format!("{s}/ffn/linear_1"), &format!("{d}.mlp.2"), true)?;
    }
    norm(p, "decoder/layer_norm", "decoder.ln")?;
    Ok(out)
}

/// Write a ggml model from a parsed CT2 model and its vocabulary, its matrices stored as
/// `weights` says.
pub fn write_ggml(
    m: &Ct2Model,
    vocab: &[Vec<u8>],
    weights: Weights,
    w: &mut impl Write,
) -> Result<Hparams, ModelError> {
    if m.spec != "WhisperSpec" {
        return Err(ModelError::Format(format!("CT2 spec {} is not a Whisper model", m.spec)));
    }
    let hp = Hparams::from_ct2(m, weights)?;
    let tensors = tensors_for(m, &hp, weights)?;
    let io = |e: std::io::Error| ModelError::Io(e.to_string());
    w.write_all(&GGML_MAGIC.to_le_bytes()).map_err(io)?;
    for v in [
        hp.n_vocab,
        hp.n_audio_ctx,
        hp.n_audio_state,
        hp.n_audio_head,
        hp.n_audio_layer,
        hp.n_text_ctx,
        hp.n_text_state,
        hp.n_text_head,
        hp.n_text_layer,
        hp.n_mels,
        hp.ftype,
    ] {
        w.write_all(&v.to_le_bytes()).map_err(io)?;
    }
    let n_fft = 400;
    let filters = mel_filters(16_000.0, n_fft, hp.n_mels as usize);
    w.write_all(&hp.n_mels.to_le_bytes()).map_err(io)?;
    w.write_all(&((1 + n_fft / 2) as i32).to_le_bytes()).map_err(io)?;
    for f in &filters {
        w.write_all(&f.to_le_bytes()).map_err(io)?;
    }
    w.write_all(&(vocab.len() as i32).to_le_bytes()).map_err(io)?;
    for tok in vocab {
        w.write_all(&(tok.len() as i32).to_le_bytes()).map_err(io)?;
        w.write_all(tok).map_err(io)?;
    }
    for t in &tensors {
        let expect: usize = t.dims.iter().product();
        if expect != t.values.len() {
            return Err(ModelError::Format(format!("{}: {} values for {:?}", t.name, t.values.len(), t.dims)));
        }
        if t.kind == Out::Q8_0 && t.dims.last().is_none_or(|n| n % QK8_0 != 0) {
            return Err(ModelError::Format(format!(
                "{}: rows of {:?} values cannot be cut into blocks of {QK8_0} for Q8_0",
                t.name,
                t.dims.last()
            )));
        }
        let ftype = t.kind.ggml_type();
        w.write_all(&(t.dims.len() as i32).to_le_bytes()).map_err(io)?;
        w.write_all(&(t.name.len() as i32).to_le_bytes()).map_err(io)?;
        w.write_all(&ftype.to_le_bytes()).map_err(io)?;
        for d in t.dims.iter().rev() {
            w.write_all(&(*d as i32).to_le_bytes()).map_err(io)?;
        }
        w.write_all(t.name.as_bytes()).map_err(io)?;
        let mut buf = Vec::with_capacity(t.values.len() * 4);
        match t.kind {
            Out::F32 => t.values.iter().for_each(|v| buf.extend(v.to_le_bytes())),
            Out::F16 => t.values.iter().for_each(|v| buf.extend(half::f16::from_f32(*v).to_le_bytes())),
            Out::Q8_0 => quantize_q8_0(&t.values, &mut buf),
        }
        w.write_all(&buf).map_err(io)?;
    }
    Ok(hp)
}

#[cfg(test)]
mod tests {
    use super::super::ct2::tests::write_ct2;
    use super::super::ct2::DType;
    use super::*;

    #[test]
    fn mel_filters_match_openai_reference_values() {
        let f = mel_filters(16_000.0, 400, 80);
        assert_eq!(f.len(), 80 * 201);
        // Reference: librosa.filters.mel(sr=16000, n_fft=400, n_mels=80); the whole bank was
        // checked bit-identical to librosa's output when this converter was written.
        assert_eq!(f[1], 0.024_862_595_f32);
        assert_eq!(f[201 + 2], 0.022_871_772_f32);
        // Every filter has some weight; the last ones are the widest and flattest.
        for i in 0..80 {
            assert!(f[i * 201..(i + 1) * 201].iter().any(|&v| v > 0.0), "filter {i} empty");
        }
    }

    #[test]
    fn vocabulary_decodes_gpt2_bytes() {
        let text = "!\n\u{120}the\n\u{10a}\n\n<|endoftext|>\n<|startoftranscript|>\n";
        let v = decode_vocabulary(text).unwrap();
        assert_eq!(v, vec![b"!".to_vec(), b" the".to_vec(), b"\n".to_vec(), vec![]]);
        assert!(decode_vocabulary("a\nb\n").is_err());
    }

    fn f16(vals: &[f32]) -> Vec<u8> {
        vals.iter().flat_map(|v| half::f16::from_f32(*v).to_le_bytes()).collect()
    }

    /// A miniature Whisper (width d, 1+1 layers, vocab 3) in CT2 layout.
    fn tiny_model(d: usize) -> Vec<u8> {
        let mut vars: Vec<(String, Vec<usize>, DType, Vec<u8>)> = Vec::new();
        let mut t = |name: &str, dims: Vec<usize>| {
            let n: usize = dims.iter().product();
            let vals: Vec<f32> = (0..n).map(|i| i as f32 / 8.0).collect();
            vars.push((name.to_string(), dims, DType::F16, f16(&vals)));
        };
        t("encoder/conv1/weight", vec![d, 80, 3]);
        t("encoder/conv1/bias", vec![d]);
        t("encoder/conv2/weight", vec![d, d, 3]);
        t("encoder/conv2/bias", vec![d]);
        t("encoder/position_encodings/encodings", vec![6, d]);
        for pre in ["encoder/layer_0", "decoder/layer_0"] {
            for ln in ["self_attention/layer_norm", "ffn/layer_norm"] {
                t(&format!("{pre}/{ln}/gamma"), vec![d]);
                t(&format!("{pre}/{ln}/beta"), vec![d]);
            }
            t(&format!("{pre}/self_attention/linear_0/weight"), vec![3 * d, d]);
            t(&format!("{pre}/self_attention/linear_0/bias"), vec![3 * d]);
            t(&format!("{pre}/self_attention/linear_1/weight"), vec![d, d]);
            t(&format!("{pre}/self_attention/linear_1/bias"), vec![d]);
            t(&format!("{pre}/ffn/linear_0/weight"), vec![2 * d, d]);
            t(&format!("{pre}/ffn/linear_0/bias"), vec![2 * d]);
            t(&format!("{pre}/ffn/linear_1/weight"), vec![d, 2 * d]);
            t(&format!("{pre}/ffn/linear_1/bias"), vec![d]);
        }
        t("decoder/layer_0/attention/layer_norm/gamma", vec![d]);
        t("decoder/layer_0/attention/layer_norm/beta", vec![d]);
        t("decoder/layer_0/attention/linear_0/weight", vec![d, d]);
        t("decoder/layer_0/attention/linear_0/bias", vec![d]);
        t("decoder/layer_0/attention/linear_1/weight", vec![2 * d, d]);
        t("decoder/layer_0/attention/linear_1/bias", vec![2 * d]);
        t("decoder/layer_0/attention/linear_2/weight", vec![d, d]);
        t("decoder/layer_0/attention/linear_2/bias", vec![d]);
        for ln in ["encoder/layer_norm", "decoder/layer_norm"] {
            t(&format!("{ln}/gamma"), vec![d]);
            t(&format!("{ln}/beta"), vec![d]);
        }
        t("decoder/embeddings/weight", vec![3, d]);
        t("decoder/position_encodings/encodings", vec![5, d]);
        vars.push(("encoder/num_heads".into(), vec![], DType::I16, 2i16.to_le_bytes().to_vec()));
        vars.push(("decoder/num_heads".into(), vec![], DType::I16, 2i16.to_le_bytes().to_vec()));
        let refs: Vec<(&str, Vec<usize>, DType, Vec<u8>)> =
            vars.iter().map(|(n, d, t, b)| (n.as_str(), d.clone(), *t, b.clone())).collect();
        write_ct2(&refs, &[("decoder/projection/weight", "decoder/embeddings/weight")])
    }

    fn read_i32(b: &[u8], at: usize) -> i32 {
        i32::from_le_bytes(b[at..at + 4].try_into().unwrap())
    }

    /// Walk a written file's tensors: (name, dims as stored, ggml type), checking sizes.
    fn tensors_in(out: &[u8], n_mels: usize, n_vocab: usize) -> Vec<(String, Vec<usize>, i32)> {
        let mel_at = 4 + 11 * 4;
        let vocab_at = mel_at + 8 + n_mels * 201 * 4;
        assert_eq!(read_i32(out, vocab_at) as usize, n_vocab);
        let mut pos = vocab_at + 4;
        for _ in 0..n_vocab {
            pos += 4 + read_i32(out, pos) as usize;
        }
        let mut all = Vec::new();
        while pos < out.len() {
            let ndim = read_i32(out, pos) as usize;
            let nlen = read_i32(out, pos + 4) as usize;
            let ftype = read_i32(out, pos + 8);
            let dims: Vec<usize> = (0..ndim).map(|i| read_i32(out, pos + 12 + 4 * i) as usize).collect();
            let name_at = pos + 12 + 4 * ndim;
            let name = String::from_utf8(out[name_at..name_at + nlen].to_vec()).unwrap();
            let n: usize = dims.iter().product();
            let bytes = match ftype {
                0 => n * 4,
                1 => n * 2,
                8 => n / 32 * 34,
                t => panic!("{name}: unexpected type {t}"),
            };
            pos = name_at + nlen + bytes;
            all.push((name, dims, ftype));
        }
        assert_eq!(pos, out.len());
        all
    }

    #[test]
    fn q8_0_blocks_are_an_f16_scale_and_rounded_bytes() {
        let mut vals: Vec<f32> = (0..32).map(|i| i as f32 / 31.0 - 0.5).collect();
        vals[5] = 2.54; // the block's largest magnitude: scale 0.02
        let mut buf = Vec::new();
        quantize_q8_0(&vals, &mut buf);
        quantize_q8_0(&[0.0; 32], &mut buf);
        assert_eq!(buf.len(), 2 * 34);
        let d = half::f16::from_le_bytes([buf[0], buf[1]]).to_f32();
        assert!((d - 0.02).abs() < 1e-5, "{d}");
        assert_eq!(buf[2 + 5] as i8, 127);
        assert_eq!(buf[2] as i8, -25); // -0.5 / 0.02
        for (q, v) in buf[2..34].iter().zip(&vals) {
            assert!((*q as i8 as f32 * d - v).abs() <= d / 2.0 + 1e-4);
        }
        // An all-zero block has scale 0 and zero bytes, not NaN.
        assert!(buf[34..].iter().all(|b| *b == 0));
    }

    #[test]
    fn a_q8_0_conversion_quantizes_the_matrices_only() {
        let m = Ct2Model::parse(&tiny_model(32)).unwrap();
        let mut out = Vec::new();
        let hp = write_ggml(&m, &[b"a".to_vec(), b" b".to_vec()], Weights::Q8_0, &mut out).unwrap();
        assert_eq!(hp.ftype, 2007);
        assert_eq!(read_i32(&out, 4 + 10 * 4), 2007);
        let tensors = tensors_in(&out, 80, 2);
        for (name, dims, t) in &tensors {
            let want = if name.ends_with("positional_embedding")
                || name.ends_with("conv1.bias")
                || name.ends_with("conv2.bias")
                || dims.len() == 1
            {
                0
            } else if dims.len() == 3 {
                1
            } else {
                8
            };
            assert_eq!(*t, want, "{name} {dims:?}");
        }
        assert!(tensors.iter().any(|(n, _, t)| n == "decoder.token_embedding.weight" && *t == 8));
        // Rows that are not whole blocks are refused with the tensor's name.
        let m = Ct2Model::parse(&tiny_model(4)).unwrap();
        let err = write_ggml(&m, &[], Weights::Q8_0, &mut Vec::new()).unwrap_err().to_string();
        assert!(err.contains("blocks of 32"), "{err}");
    }

    #[test]
    fn converts_a_miniature_model_with_whisper_cpp_layout() {
        let m = Ct2Model::parse(&tiny_model(4)).unwrap();
        let vocab = vec![b"a".to_vec(), b" b".to_vec()];
        let mut out = Vec::new();
        let hp = write_ggml(&m, &vocab, Weights::F16, &mut out).unwrap();
        assert_eq!(
            hp,
            Hparams {
                n_vocab: 3,
                n_audio_ctx: 6,
                n_audio_state: 4,
                n_audio_head: 2,
                n_audio_layer: 1,
                n_text_ctx: 5,
                n_text_state: 4,
                n_text_head: 2,
                n_text_layer: 1,
                n_mels: 80,
                ftype: 1,
            }
        );
        assert_eq!(u32::from_le_bytes(out[0..4].try_into().unwrap()), GGML_MAGIC);
        assert_eq!(read_i32(&out, 4), 3);
        // Mel header after 11 hparams.
        let mel_at = 4 + 11 * 4;
        assert_eq!((read_i32(&out, mel_at), read_i32(&out, mel_at + 4)), (80, 201));
        // Walk the tensors and check names, types and sizes.
        let tensors = tensors_in(&out, 80, 2);
        for (name, dims, ftype) in &tensors {
            if name == "encoder.conv1.bias" {
                assert_eq!((dims.clone(), *ftype), (vec![1, 4], 0));
            }
            if name == "encoder.conv1.weight" {
                assert_eq!((dims.clone(), *ftype), (vec![3, 80, 4], 1));
            }
            if name.ends_with("positional_embedding") || dims.len() == 1 {
                assert_eq!(*ftype, 0, "{name}");
            }
        }
        let names: Vec<String> = tensors.into_iter().map(|(n, _, _)| n).collect();
        assert!(names.contains(&"decoder.blocks.0.cross_attn.key.weight".to_string()));
        assert!(!names.iter().any(|n| n.ends_with("key.bias")));
        // whisper.cpp's tensor count for 1+1 layers: 7 + 15 (encoder) + 4 + 24 (decoder).
        assert_eq!(names.len(), 7 + 15 + 4 + 24);
    }

    #[test]
    fn non_whisper_model_is_rejected() {
        let mut m = Ct2Model::parse(&tiny_model(4)).unwrap();
        m.spec = "TransformerSpec".into();
        let err = write_ggml(&m, &[], Weights::F16, &mut Vec::new()).unwrap_err().to_string();
        assert!(err.contains("not a Whisper model"), "{err}");
    }
}
