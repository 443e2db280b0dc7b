//! Model provisioning: the manifest in `models/`, fetching, verification and CT2 -> ggml conversion.

pub mod ct2;
pub mod fetch;
pub mod ggml;

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Errors while finding, fetching, verifying or converting model files.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The manifest is missing or malformed (fix the file; retrying will not help).
    #[error("model manifest {path}: {reason}")]
    Manifest { path: String, reason: String },
    /// No model of that name in the manifest.
    #[error("unknown model {0:?}; known models: {1}")]
    Unknown(String, String),
    /// The model file is not installed.
    #[error("model {name} is not installed at {path}. Run `switchboard models fetch --only {name}`")]
    Missing { name: String, path: String },
    /// A downloaded or converted file did not match its checksum (the source changed or the
    /// download was damaged; retrying may help).
    #[error("checksum mismatch for {what}: expected sha256 {expected}, got {actual}")]
    Checksum { what: String, expected: String, actual: String },
    /// Every source for the model failed.
    #[error("could not obtain model {name}: {reasons}")]
    Unavailable { name: String, reasons: String },
    /// A model file's contents are not in the expected format.
    #[error("model format: {0}")]
    Format(String),
    /// Reading or writing a file failed.
    #[error("model i/o: {0}")]
    Io(String),
}

/// One package of a registry source: name, version, files taken from it and their sha256.
#[derive(Debug, Clone, Deserialize)]
pub struct PackageSource {
    pub name: String,
    pub version: String,
    pub files: Vec<String>,
    pub sha256: Vec<String>,
    /// Path of `vocabulary.txt` inside the package (CT2 models).
    pub vocabulary: Option<String>,
}

/// How a registry download becomes the final file.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Convert {
    /// The package holds the final file.
    None,
    /// The package holds a CTranslate2 Whisper model to convert to ggml.
    Ct2,
    /// The same, with the matrices stored as 8-bit blocks (`ggml::Weights::Q8_0`).
    #[serde(rename = "ct2-q8_0")]
    Ct2Q8_0,
}

impl Convert {
    /// How a CT2 conversion stores the matrices (`None`: no conversion).
    pub fn weights(self) -> Option<ggml::Weights> {
        match self {
            Convert::None => None,
            Convert::Ct2 => Some(ggml::Weights::F16),
            Convert::Ct2Q8_0 => Some(ggml::Weights::Q8_0),
        }
    }
}

/// What the model is for.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    Whisper,
    Vad,
    /// A text-to-speech voice (Piper: the `.onnx` model and its `.onnx.json` config).
    Voice,
    /// A runtime library a model needs (ONNX Runtime for Piper).
    Runtime,
    /// A speech encoder for turn-taking and the voice classifiers (Smart Turn v3.2, ONNX).
    Encoder,
}

/// A manifest entry.
#[derive(Debug, Clone, Deserialize)]
pub struct ModelSpec {
    pub name: String,
    pub file: String,
    pub kind: ModelKind,
    pub description: String,
    /// Where the file is published on its own; none for files only a package ships.
    #[serde(default)]
    pub public_url: Option<String>,
    /// sha256 of the installed file (as published, or as taken out of a package).
    #[serde(alias = "sha256")]
    pub public_sha256: String,
    pub convert: Convert,
    /// sha256 of our own conversion's output (deterministic).
    pub converted_sha256: Option<String>,
    #[serde(rename = "package")]
    pub packages: Vec<PackageSource>,
}

impl ModelSpec {
    /// Checksums an installed file may have (published file or our conversion).
    pub fn accepted_sha256(&self) -> Vec<&str> {
        let mut v = vec![self.public_sha256.as_str()];
        if let Some(c) = &self.converted_sha256 {
            v.push(c.as_str());
        }
        v
    }
}

#[derive(Debug, Deserialize)]
struct ManifestFile {
    model: Vec<ModelSpec>,
}

/// The parsed manifest plus the folder the weights live in.
#[derive(Debug, Clone)]
pub struct Manifest {
    pub dir: PathBuf,
    pub models: Vec<ModelSpec>,
}

/// The manifest compiled into the binary, so an installed binary still knows its models.
pub const BUILTIN_MANIFEST: &str = include_str!("../../models/manifest.toml");

impl Manifest {
    /// Parse manifest text; `dir` is where model files are installed.
    pub fn parse(text: &str, dir: impl Into<PathBuf>, origin: &str) -> Result<Self, ModelError> {
        let f: ManifestFile = toml::from_str(text)
            .map_err(|e| ModelError::Manifest { path: origin.to_string(), reason: e.to_string() })?;
        for m in &f.model {
            for p in &m.packages {
                if p.files.len() != p.sha256.len() {
                    return Err(ModelError::Manifest {
                        path: origin.to_string(),
                        reason: format!(
                            "{}: package {} lists {} files but {} checksums",
                            m.name,
                            p.name,
                            p.files.len(),
                            p.sha256.len()
                        ),
                    });
                }
            }
        }
        Ok(Self { dir: dir.into(), models: f.model })
    }

    /// The manifest for the models folder: `$SWITCHBOARD_MODELS` or `./models`, using the
    /// folder's `manifest.toml` when present and the built-in one otherwise.
    pub fn load_default() -> Result<Self, ModelError> {
        Self::load_dir(default_models_dir())
    }

    /// The manifest for a given models folder (its `manifest.toml`, else the built-in one).
    pub fn load_dir(dir: PathBuf) -> Result<Self, ModelError> {
        let path = dir.join("manifest.toml");
        match std::fs::read_to_string(&path) {
            Ok(text) => Self::parse(&text, dir, &path.display().to_string()),
            Err(_) => Self::parse(BUILTIN_MANIFEST, dir, "built-in manifest"),
        }
    }

    /// Look up a model by name.
    pub fn get(&self, name: &str) -> Result<&ModelSpec, ModelError> {
        self.models.iter().find(|m| m.name == name).ok_or_else(|| {
            ModelError::Unknown(
                name.to_string(),
                self.models.iter().map(|m| m.name.as_str()).collect::<Vec<_>>().join(", "),
            )
        })
    }

    /// Where a model's file lives (installed or not).
    pub fn path_of(&self, spec: &ModelSpec) -> PathBuf {
        self.dir.join(&spec.file)
    }

    /// The installed file for a model, or an error telling how to install it.
    pub fn require(&self, name: &str) -> Result<PathBuf, ModelError> {
        let spec = self.get(name)?;
        let path = self.path_of(spec);
        if path.is_file() {
            Ok(path)
        } else {
            Err(ModelError::Missing { name: name.to_string(), path: path.display().to_string() })
        }
    }
}

/// `$SWITCHBOARD_MODELS`, else `models/` under the current directory, else next to the executable's repo.
pub fn default_models_dir() -> PathBuf {
    if let Ok(d) = std::env::var("SWITCHBOARD_MODELS") {
        return PathBuf::from(d);
    }
    let local = PathBuf::from("models");
    if local.join("manifest.toml").is_file() {
        return local;
    }
    // target/release/switchboard -> repo root/models
    if let Ok(exe) = std::env::current_exe() {
        for anc in exe.ancestors().skip(1) {
            if anc.join("models/manifest.toml").is_file() {
                return anc.join("models");
            }
        }
    }
    local
}

/// Hex sha256 of a file, streaming.
pub fn sha256_file(path: &Path) -> Result<String, ModelError> {
    use sha2::{Digest, Sha256};
    use std::io::Read;
    let mut f = std::fs::File::open(path).map_err(|e| ModelError::Io(format!("{}: {e}", path.display())))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(|e| ModelError::Io(format!("{}: {e}", path.display())))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_manifest_parses_and_lists_required_models() {
        let m = Manifest::parse(BUILTIN_MANIFEST, "models", "built-in").unwrap();
        for name in ["tiny.en", "base", "silero-vad", "en_US-joe-medium", "en_US-joe-medium.json", "onnxruntime"] {
            let s = m.get(name).unwrap();
            assert!(!s.packages.is_empty(), "{name} has a registry fallback");
            assert_eq!(s.public_sha256.len(), 64);
        }
        assert_eq!(m.get("en_US-joe-medium").unwrap().kind, ModelKind::Voice);
        assert!(m.get("onnxruntime").unwrap().public_url.is_none(), "only the PyPI wheel ships the library");
        assert!(m.get("large").unwrap_err().to_string().contains("known models: tiny.en, base, silero-vad, en_US"));
    }

    #[test]
    fn mismatched_checksum_lists_are_rejected() {
        let text = r#"
[[model]]
name = "x"
file = "x.bin"
kind = "vad"
description = "d"
public_url = "http://127.0.0.1:9/x"
public_sha256 = "00"
convert = "none"
[[model.package]]
name = "p"
version = "1"
files = ["a", "b"]
sha256 = ["00"]
"#;
        let err = Manifest::parse(text, "m", "test").unwrap_err().to_string();
        assert!(err.contains("lists 2 files but 1 checksums"), "{err}");
    }

    #[test]
    fn missing_model_error_says_how_to_fetch() {
        let m = Manifest::parse(BUILTIN_MANIFEST, "/nonexistent-models", "built-in").unwrap();
        let err = m.require("tiny.en").unwrap_err().to_string();
        assert!(err.contains("switchboard models fetch --only tiny.en"), "{err}");
    }
}
