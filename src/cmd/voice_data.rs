//! Labelled recordings as voice embeddings, for `switchboard train` and `eval emotion|accent`:
//! each clip is read at 16 kHz and also passed through the telephone path (8 kHz, G.711 mu-law,
//! back to 16 kHz), cut into windows of at most 8 s, and embedded by the voice encoder. The
//! embeddings are cached under `target/voice-cache/` (keyed by the labels file, the audio
//! files' sizes, the encoder file's sha256 and the embedding layout), so a second run reads
//! them in a second.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressStyle};
use sha2::{Digest, Sha256};

use crate::eval::dataset;
use crate::media::g711::Law;
use crate::media::resample::resample_all;
use crate::pipeline::analysis::encoder::{VoiceEncoder, DIM, WINDOW};

/// One band's embedded windows of a clip, by clip index.
type Windows = Vec<(usize, Vec<f32>)>;

/// The audio band a clip was embedded from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Band {
    /// 16 kHz as recorded.
    Wide,
    /// Through 8 kHz G.711 mu-law, as a phone call.
    Phone,
}

impl Band {
    pub fn name(self) -> &'static str {
        match self {
            Band::Wide => "16 kHz",
            Band::Phone => "8 kHz mu-law",
        }
    }
}

/// One labelled clip with its embeddings.
#[derive(Debug, Clone)]
pub struct Clip {
    /// The dataset folder's name ("emotion-ravdess").
    pub corpus: String,
    pub speaker: String,
    pub file: String,
    /// labels.tsv's columns.
    pub fields: std::collections::BTreeMap<String, String>,
    /// Per window: (samples of audio it holds, embedding), 16 kHz.
    pub wide: Vec<(usize, Vec<f32>)>,
    /// The same through the telephone path.
    pub phone: Vec<(usize, Vec<f32>)>,
}

impl Clip {
    pub fn get(&self, col: &str) -> Option<&str> {
        self.fields.get(col).map(|s| s.as_str()).filter(|s| !s.is_empty())
    }

    pub fn windows(&self, band: Band) -> &[(usize, Vec<f32>)] {
        match band {
            Band::Wide => &self.wide,
            Band::Phone => &self.phone,
        }
    }
}

/// A dataset's licence line from its SOURCE.md ("- Licence: ..."), for the weights' provenance.
pub fn licence(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join("SOURCE.md")).ok()?;
    let line = text.lines().find(|l| l.trim_start().starts_with("- Licence:"))?;
    Some(line.trim_start().trim_start_matches("- Licence:").trim().chars().take(160).collect())
}

/// 16 kHz audio through the telephone path: 8 kHz, mu-law, back to 16 kHz.
pub fn phone_band(audio16: &[f32]) -> anyhow::Result<Vec<f32>> {
    let narrow = resample_all(audio16, 16_000, 8_000)?;
    let coded = Law::Ulaw.decode(&Law::Ulaw.encode(&narrow));
    Ok(resample_all(&coded, 8_000, 16_000)?)
}

/// The embedding windows of 16 kHz audio: 8 s each from the end backwards, the first one
/// kept even when short, later ones only with 2 s or more.
pub fn windows(encoder: &VoiceEncoder, audio: &[f32]) -> Result<Vec<(usize, Vec<f32>)>, String> {
    let mut out = Vec::new();
    let mut end = audio.len();
    loop {
        let start = end.saturating_sub(WINDOW);
        if end - start < 1_600 {
            break;
        }
        let e = encoder.embed(&audio[start..end])?;
        out.push((end - start, e.vector));
        if start < 32_000 {
            break;
        }
        end = start;
    }
    if out.is_empty() {
        return Err("less than 0.1 s of audio".into());
    }
    Ok(out)
}

const CACHE_MAGIC: &[u8; 8] = b"SBVOICE2";

fn cache_key(dir: &Path, rows: &[dataset::Row], encoder_sha256: &str) -> anyhow::Result<String> {
    let mut h = Sha256::new();
    h.update(CACHE_MAGIC);
    h.update(crate::pipeline::analysis::encoder::LAYOUT.as_bytes());
    h.update(encoder_sha256.as_bytes());
    h.update(crate::models::sha256_file(&dir.join("labels.tsv"))?.as_bytes());
    for r in rows {
        let len = std::fs::metadata(&r.path).map(|m| m.len()).unwrap_or(0);
        h.update(r.path.to_string_lossy().as_bytes());
        h.update(len.to_le_bytes());
    }
    Ok(format!("{:x}", h.finalize())[..16].to_string())
}

/// The short hash of a dataset's labels.tsv (for the weights' provenance).
pub fn labels_hash(dir: &Path) -> String {
    crate::models::sha256_file(&dir.join("labels.tsv")).map(|h| h[..12].to_string()).unwrap_or_default()
}

/// A dataset's name: its folder's ("emotion-ravdess").
pub fn corpus_name(dir: &Path) -> String {
    dir.canonicalize()
        .unwrap_or_else(|_| dir.to_path_buf())
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "dataset".into())
}

fn write_windows(out: &mut Vec<u8>, ws: &[(usize, Vec<f32>)]) {
    out.extend((ws.len() as u32).to_le_bytes());
    for (n, v) in ws {
        out.extend((*n as u32).to_le_bytes());
        for x in v {
            out.extend(x.to_le_bytes());
        }
    }
}

fn read_windows(r: &mut impl Read) -> std::io::Result<Vec<(usize, Vec<f32>)>> {
    let mut b4 = [0u8; 4];
    r.read_exact(&mut b4)?;
    let n = u32::from_le_bytes(b4) as usize;
    if n > 1_000 {
        return Err(std::io::Error::other("corrupt cache"));
    }
    let mut out = Vec::with_capacity(n);
    let mut buf = vec![0u8; DIM * 4];
    for _ in 0..n {
        r.read_exact(&mut b4)?;
        let samples = u32::from_le_bytes(b4) as usize;
        r.read_exact(&mut buf)?;
        out.push((samples, buf.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()));
    }
    Ok(out)
}

/// The clips of one dataset folder, embedded (from the cache when it is current: same labels,
/// audio files of the same sizes, the same encoder file by sha256 and the same embedding
/// layout). Clips that cannot be read are skipped with a message (and the cache is then not
/// written, so they are tried again). `threads` threads share the encoder (give it as many
/// sessions).
pub fn load(
    dir: &Path,
    encoder: &VoiceEncoder,
    threads: usize,
    encoder_sha256: &str,
    cache_dir: &Path,
) -> anyhow::Result<Vec<Clip>> {
    let rows = dataset::read(dir)?;
    let corpus = corpus_name(dir);
    let key = cache_key(dir, &rows, encoder_sha256)?;
    let cache = cache_dir.join(format!("{corpus}-{key}.bin"));
    let speaker_of =
        |r: &dataset::Row| r.get(&["speaker"]).map(str::to_string).unwrap_or_else(|| r.path.display().to_string());
    let name_of = |r: &dataset::Row| r.path.strip_prefix(dir).unwrap_or(&r.path).display().to_string();
    let clip_of = |r: &dataset::Row, wide, phone| Clip {
        corpus: corpus.clone(),
        speaker: speaker_of(r),
        file: name_of(r),
        fields: r.fields.clone(),
        wide,
        phone,
    };
    if let Ok(mut f) = std::fs::File::open(&cache).map(std::io::BufReader::new) {
        let mut magic = [0u8; 8];
        let mut clips = Vec::new();
        let ok = f.read_exact(&mut magic).is_ok()
            && &magic == CACHE_MAGIC
            && rows.iter().all(|r| match (read_windows(&mut f), read_windows(&mut f)) {
                (Ok(wide), Ok(phone)) => {
                    clips.push(clip_of(r, wide, phone));
                    true
                }
                _ => false,
            });
        if ok {
            eprintln!("{corpus}: {} clips from the cache {}", clips.len(), cache.display());
            return Ok(clips);
        }
    }
    let bar = ProgressBar::new(rows.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{msg:>28} [{bar:30}] {pos}/{len} clips, eta {eta}")
            .expect("template")
            .progress_chars("=> "),
    );
    bar.set_message(format!("embedding {corpus}"));
    let threads = threads.max(1);
    let results: Vec<Option<(Windows, Windows)>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let rows = &rows;
                let bar = bar.clone();
                s.spawn(move || {
                    let mut out = Vec::new();
                    for (i, r) in rows.iter().enumerate().filter(|(i, _)| i % threads == t) {
                        let one = || -> anyhow::Result<_> {
                            let audio = crate::media::decode::read_mono_at(&r.path, 16_000)?;
                            let wide = windows(encoder, &audio).map_err(anyhow::Error::msg)?;
                            let phone = windows(encoder, &phone_band(&audio)?).map_err(anyhow::Error::msg)?;
                            Ok((wide, phone))
                        };
                        let res = match one() {
                            Ok(v) => Some(v),
                            Err(e) => {
                                bar.suspend(|| eprintln!("skipping {}: {e}", r.path.display()));
                                None
                            }
                        };
                        out.push((i, res));
                        bar.inc(1);
                    }
                    out
                })
            })
            .collect();
        let mut all: Vec<(usize, _)> = handles.into_iter().flat_map(|h| h.join().expect("embedding thread")).collect();
        all.sort_by_key(|(i, _)| *i);
        all.into_iter().map(|(_, r)| r).collect()
    });
    bar.finish_and_clear();
    let clips: Vec<Clip> = rows.iter().zip(results).filter_map(|(r, res)| res.map(|(w, p)| clip_of(r, w, p))).collect();
    // Only a complete set is cached: a clip that failed is tried again next time.
    if clips.len() == rows.len() && std::fs::create_dir_all(cache_dir).is_ok() {
        let mut bytes = CACHE_MAGIC.to_vec();
        for c in &clips {
            write_windows(&mut bytes, &c.wide);
            write_windows(&mut bytes, &c.phone);
        }
        let tmp = cache.with_extension("partial");
        if std::fs::File::create(&tmp).and_then(|mut f| f.write_all(&bytes)).is_ok() {
            let _ = std::fs::rename(&tmp, &cache);
        }
    }
    eprintln!("{corpus}: {} clips embedded", clips.len());
    Ok(clips)
}

/// The default cache folder: `target/voice-cache` beside the models folder.
pub fn default_cache(models_dir: &Path) -> PathBuf {
    models_dir.parent().unwrap_or(Path::new(".")).join("target").join("voice-cache")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_band_keeps_speech_band_and_removes_the_top() {
        let sr = 16_000.0;
        let tone = |f: f32| -> Vec<f32> {
            (0..16_000).map(|i| 0.3 * (2.0 * std::f32::consts::PI * f * i as f32 / sr).sin()).collect()
        };
        let rms = |v: &[f32]| (v[2000..14000].iter().map(|x| x * x).sum::<f32>() / 12000.0).sqrt();
        let low = phone_band(&tone(500.0)).unwrap();
        let high = phone_band(&tone(6000.0)).unwrap();
        assert!((rms(&low) - 0.212).abs() < 0.03, "500 Hz passes: {}", rms(&low));
        assert!(rms(&high) < 0.03, "6 kHz is cut: {}", rms(&high));
    }

    #[test]
    fn window_cache_round_trips() {
        let ws = vec![(100usize, vec![0.5f32; DIM]), (7, vec![-1.0; DIM])];
        let mut b = Vec::new();
        write_windows(&mut b, &ws);
        assert_eq!(read_windows(&mut b.as_slice()).unwrap(), ws);
        assert!(read_windows(&mut &b[..10]).is_err());
    }
}
