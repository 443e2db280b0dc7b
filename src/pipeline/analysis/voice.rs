//! The project's learned voice classifiers at run time: one voice-encoder inference per turn
//! ([`super::encoder`]), then the small probes ([`super::probe`]) for anger, arousal and accent.
//! The weights are committed in `models/voice/` (written by `switchboard train emotion|accent`);
//! the encoder comes with `switchboard models fetch`. When either is missing the classifiers are
//! off and the analysis falls back to prosody against the caller's baseline and words.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use super::encoder::VoiceEncoder;
use super::probe::{Prediction, Probe};

/// The emotion probes' file in `models/voice/`.
pub const EMOTION_FILE: &str = "emotion.json";
/// The accent probes' file in `models/voice/`.
pub const ACCENT_FILE: &str = "accent.json";

/// What the classifiers say about one turn.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct VoiceScores {
    /// Angry vs calm.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub anger: Option<Prediction>,
    /// Angry, calm or other high arousal.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arousal: Option<Prediction>,
    /// Native English speaker or not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub native: Option<Prediction>,
    /// A non-native speaker's first-language family.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family: Option<Prediction>,
    /// A native speaker's region.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<Prediction>,
    /// Smart Turn's end-of-turn probability for the turn's last 8 s.
    pub end_of_turn: f32,
    /// Time spent (encoder and probes), microseconds.
    pub compute_us: u64,
}

impl VoiceScores {
    /// The anger probe's p(angry), if it ran.
    pub fn p_angry(&self) -> Option<f32> {
        self.anger.as_ref().map(|p| p.prob("angry"))
    }
}

/// The encoder and the probes.
pub struct VoiceModels {
    encoder: Arc<VoiceEncoder>,
    probes: Vec<Probe>,
}

impl std::fmt::Debug for VoiceModels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let tasks: Vec<&str> = self.probes.iter().map(|p| p.task.as_str()).collect();
        write!(f, "VoiceModels({tasks:?})")
    }
}

fn read_probes(path: &Path) -> Result<Vec<Probe>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let probes: Vec<Probe> =
        serde_json::from_str(&text).map_err(|e| format!("{}: not a probe file: {e}", path.display()))?;
    for p in &probes {
        let dim = super::encoder::features_len(&p.features)
            .map_err(|e| format!("{}: probe {}: {e}", path.display(), p.task))?;
        if p.mean.len() != dim || p.scale.len() != dim || p.weights.iter().any(|w| w.len() != dim) {
            return Err(format!("{}: probe {} has the wrong size for its features", path.display(), p.task));
        }
        if p.classes.len() < 2 || p.weights.len() != p.classes.len() || p.bias.len() != p.classes.len() {
            return Err(format!("{}: probe {} has the wrong number of classes", path.display(), p.task));
        }
        if !p.temperature.is_finite() || p.temperature <= 0.0 || !(0.0..=1.0).contains(&p.floor) {
            return Err(format!("{}: probe {} has a bad temperature or floor", path.display(), p.task));
        }
        let finite = |v: &[f32]| v.iter().all(|x| x.is_finite());
        if !finite(&p.mean)
            || !p.scale.iter().all(|x| x.is_finite() && *x > 0.0)
            || !finite(&p.bias)
            || !p.weights.iter().all(|w| finite(w))
        {
            return Err(format!("{}: probe {} holds values that are not finite", path.display(), p.task));
        }
    }
    Ok(probes)
}

impl VoiceModels {
    /// The committed weights' folder beside the manifest: `models/voice/`.
    pub fn dir(models_dir: &Path) -> PathBuf {
        models_dir.join("voice")
    }

    /// Load the encoder and every probe file that exists in `models/voice/`.
    pub fn load(encoder: Arc<VoiceEncoder>, dir: &Path) -> Result<VoiceModels, String> {
        let mut probes = Vec::new();
        for f in [EMOTION_FILE, ACCENT_FILE] {
            let path = dir.join(f);
            if path.is_file() {
                probes.extend(read_probes(&path)?);
            }
        }
        if probes.is_empty() {
            return Err(format!(
                "no voice classifiers in {} (switchboard train emotion|accent writes them)",
                dir.display()
            ));
        }
        Ok(VoiceModels { encoder, probes })
    }

    /// The process's classifiers: the encoder (one session per inference worker) and the
    /// weights, loaded on first use; `None`, with the reason logged once, when the encoder or
    /// the weights are missing.
    pub fn shared(manifest: &crate::models::Manifest) -> Option<Arc<VoiceModels>> {
        static SHARED: OnceLock<Option<Arc<VoiceModels>>> = OnceLock::new();
        SHARED
            .get_or_init(|| {
                let load = || -> Result<VoiceModels, String> {
                    let encoder = super::encoder::shared(manifest).ok_or("the voice encoder is not loaded")?;
                    VoiceModels::load(encoder, &VoiceModels::dir(&manifest.dir))
                };
                match load() {
                    Ok(m) => Some(Arc::new(m)),
                    Err(e) => {
                        tracing::warn!(error = %e, "voice classifiers off");
                        None
                    }
                }
            })
            .clone()
    }

    fn probe(&self, task: &str) -> Option<&Probe> {
        self.probes.iter().find(|p| p.task == task)
    }

    /// Score one turn of 16 kHz audio (its last 8 s: one encoder inference).
    pub fn score(&self, audio16: &[f32]) -> Result<VoiceScores, String> {
        let started = Instant::now();
        let e = self.encoder.embed(audio16)?;
        let run = |task: &str| -> Result<Option<Prediction>, String> {
            match self.probe(task) {
                Some(p) => Ok(Some(p.predict(&e.features(&p.features)?))),
                None => Ok(None),
            }
        };
        Ok(VoiceScores {
            anger: run("anger")?,
            arousal: run("arousal")?,
            native: run("accent_native")?,
            family: run("accent_family")?,
            region: run("accent_region")?,
            end_of_turn: e.end_of_turn,
            compute_us: started.elapsed().as_micros() as u64,
        })
    }
}
