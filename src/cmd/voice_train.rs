//! `switchboard train emotion|accent` and `switchboard eval emotion|accent`: the project's own
//! voice classifiers, fitted on labelled recordings and judged only on speakers they were not
//! fitted on.
//!
//! * Leave-speakers-out: speakers are shuffled with a fixed seed and dealt into folds; each fold
//!   is predicted by a probe fitted on the other folds' speakers. Every figure below "held-out"
//!   comes from such predictions, on the 16 kHz recordings and on their 8 kHz mu-law copies.
//! * Cross-corpus (eval, with two or more corpora): fitted on all of one corpus, tested on
//!   another.
//! * The probes' temperature is fitted on the held-out predictions, so the written weights'
//!   probabilities are calibrated; the reliability table shows how well.
//!
//! Training rows are the windows of both bands (16 kHz and the telephone copy), so one model
//! serves both.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::cmd::eval_voice::Confusion;
use crate::cmd::voice_data::{self, Band, Clip};
use crate::pipeline::analysis::encoder::{features_of, VoiceEncoder};
use crate::pipeline::analysis::probe::{
    argmax, calibrated, fit_temperature, Probe, Provenance, Reliability, TrainSpec,
};
use crate::pipeline::analysis::voice::{VoiceModels, ACCENT_FILE, EMOTION_FILE};

/// What a probe learns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Task {
    /// Angry vs neutral/calm.
    Anger,
    /// Angry, calm (neutral, calm, sad) or other high arousal (happy, fearful, surprised, disgust).
    Arousal,
    /// Native English speaker or not.
    AccentNative,
    /// A non-native speaker's first-language family.
    AccentFamily,
    /// A native speaker's region.
    AccentRegion,
}

/// The first-language families the accent probe names (others are left out of its training
/// and answered "unknown" by design: too few speakers to learn them).
pub fn l1_family(l1: &str) -> Option<&'static str> {
    Some(match l1.to_lowercase().as_str() {
        "arabic" | "amharic" => "afro_asiatic",
        "dutch" | "danish" | "german" | "swedish" | "norwegian" => "germanic",
        "bulgarian" | "bosnian" | "czech" | "croatian" | "russian" | "polish" | "serbian" => "slavic",
        "cantonese" | "mandarin" => "chinese",
        "bengali" | "hindi" | "urdu" | "punjabi" => "indo_aryan",
        _ => return None,
    })
}

/// A native speaker's region from the country (or VCTK's region) column.
pub fn native_region(country: &str) -> Option<&'static str> {
    let c = country.to_lowercase();
    let words: Vec<&str> = c.split(|ch: char| !ch.is_alphanumeric()).filter(|w| !w.is_empty()).collect();
    let has = |w: &str| words.contains(&w);
    Some(if has("usa") || has("canada") || c.contains("united states") {
        "north_america"
    } else if has("uk") || has("ireland") || has("england") || has("scotland") || has("wales") {
        "british_isles"
    } else if has("australia") || c.contains("new zealand") {
        "oceania"
    } else {
        return None;
    })
}

impl Task {
    pub fn name(self) -> &'static str {
        match self {
            Task::Anger => "anger",
            Task::Arousal => "arousal",
            Task::AccentNative => "accent_native",
            Task::AccentFamily => "accent_family",
            Task::AccentRegion => "accent_region",
        }
    }

    pub fn classes(self) -> Vec<String> {
        let c: &[&str] = match self {
            Task::Anger => &["angry", "calm"],
            Task::Arousal => &["angry", "calm", "aroused"],
            Task::AccentNative => &["native", "non_native"],
            Task::AccentFamily => &["afro_asiatic", "germanic", "slavic", "chinese", "indo_aryan"],
            Task::AccentRegion => &["north_america", "british_isles", "oceania"],
        };
        c.iter().map(|s| s.to_string()).collect()
    }

    /// The embedding blocks it reads (chosen on the training corpora's leave-speakers-out
    /// results, never on a test corpus).
    pub fn features(self) -> Vec<String> {
        ["pool", "l6"].iter().map(|s| s.to_string()).collect()
    }

    pub fn spec(self) -> TrainSpec {
        TrainSpec { l2: 0.5, steps: 300, learning_rate: 0.02, balanced: true }
    }

    /// Below this top probability the probe answers "unknown".
    pub fn floor(self) -> f32 {
        match self {
            Task::Anger | Task::AccentNative => 0.6,
            Task::Arousal | Task::AccentRegion => 0.5,
            Task::AccentFamily => 0.5,
        }
    }

    /// The clip's class for this task (None: not used by it).
    pub fn label(self, c: &Clip) -> Option<String> {
        let s = match self {
            Task::Anger | Task::Arousal => {
                let e = c.get("emotion")?.to_lowercase();
                match (self, e.as_str()) {
                    (_, "angry" | "anger") => "angry",
                    (_, "neutral" | "calm") => "calm",
                    (Task::Arousal, "sad" | "sadness") => "calm",
                    (Task::Arousal, "happy" | "fearful" | "fear" | "surprised" | "surprise" | "disgust") => "aroused",
                    _ => return None,
                }
            }
            Task::AccentNative => match c.get("native_english")? {
                "yes" => "native",
                "no" => "non_native",
                _ => return None,
            },
            Task::AccentFamily => {
                if c.get("native_english") != Some("no") {
                    return None;
                }
                l1_family(c.get("l1")?)?
            }
            Task::AccentRegion => {
                if c.get("native_english") != Some("yes") {
                    return None;
                }
                native_region(c.get("country").or(c.get("region")).or(c.get("accent"))?)?
            }
        };
        Some(s.to_string())
    }
}

impl Task {
    /// The clip's class as an index into `classes()` (None: not used by this task).
    pub fn class_of(self, c: &Clip) -> Option<usize> {
        let l = self.label(c)?;
        Some(self.classes().iter().position(|x| *x == l).expect("labels are classes"))
    }

    /// The speakers with clips this task uses.
    fn speakers<'a>(self, clips: &[&'a Clip]) -> std::collections::BTreeSet<&'a str> {
        clips.iter().filter(|c| self.label(c).is_some()).map(|c| c.speaker.as_str()).collect()
    }
}

/// The tasks of `train emotion` / `train accent`.
pub fn tasks(kind: &str) -> anyhow::Result<Vec<Task>> {
    Ok(match kind {
        "emotion" => vec![Task::Anger, Task::Arousal],
        "accent" => vec![Task::AccentNative, Task::AccentFamily, Task::AccentRegion],
        k => anyhow::bail!("unknown voice model {k:?}: emotion or accent"),
    })
}

/// Rows for training: every window of both bands of the clips with a label.
fn rows(task: Task, clips: &[&Clip]) -> anyhow::Result<(Vec<Vec<f32>>, Vec<usize>)> {
    let feats = task.features();
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for c in clips {
        let Some(k) = task.class_of(c) else { continue };
        for band in [Band::Wide, Band::Phone] {
            for (_, v) in c.windows(band) {
                x.push(features_of(v, &feats).map_err(anyhow::Error::msg)?);
                y.push(k);
            }
        }
    }
    Ok((x, y))
}

/// One held-out prediction: one window of at most 8 s (one turn's worth, as a call scores it).
#[derive(Debug, Clone)]
pub struct Held {
    pub clip: usize,
    pub band: Band,
    pub truth: usize,
    pub logits: Vec<f64>,
}

/// Deterministic shuffle (64-bit LCG, Fisher-Yates).
fn shuffle<T>(v: &mut [T], seed: u64) {
    let mut s = seed ^ 0x9e37_79b9_7f4a_7c15;
    for i in (1..v.len()).rev() {
        s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let j = ((s >> 33) % (i as u64 + 1)) as usize;
        v.swap(i, j);
    }
}

/// Leave-speakers-out predictions for every labelled clip of `clips`, in `folds` folds.
pub fn cross_validate(task: Task, clips: &[&Clip], folds: usize, seed: u64) -> anyhow::Result<Vec<Held>> {
    let mut speakers: Vec<&str> = task.speakers(clips).into_iter().collect();
    if speakers.len() < 2 {
        anyhow::bail!("{}: needs labelled clips from at least 2 speakers, found {}", task.name(), speakers.len());
    }
    shuffle(&mut speakers, seed);
    let folds = folds.clamp(2, speakers.len());
    let fold_of: BTreeMap<&str, usize> = speakers.iter().enumerate().map(|(i, s)| (*s, i % folds)).collect();
    let mut held = Vec::new();
    for f in 0..folds {
        let train: Vec<&Clip> = clips.iter().copied().filter(|c| fold_of.get(c.speaker.as_str()) != Some(&f)).collect();
        let (x, y) = rows(task, &train)?;
        if x.is_empty() {
            continue;
        }
        let p = fit(task, &x, &y);
        for (i, c) in clips.iter().enumerate() {
            if fold_of.get(c.speaker.as_str()) != Some(&f) {
                continue;
            }
            let Some(truth) = task.class_of(c) else { continue };
            held.extend(predict_windows(&p, c, i, truth)?);
        }
    }
    Ok(held)
}

/// A probe for the task fitted on rows.
fn fit(task: Task, x: &[Vec<f32>], y: &[usize]) -> Probe {
    Probe::train(task.name(), task.classes(), task.features(), x, y, task.spec())
}

/// Held-out predictions for every window of both bands of one clip.
fn predict_windows(p: &Probe, c: &Clip, clip: usize, truth: usize) -> anyhow::Result<Vec<Held>> {
    let mut out = Vec::new();
    for band in [Band::Wide, Band::Phone] {
        for (_, v) in c.windows(band) {
            let logits = p.logits(&features_of(v, &p.features).map_err(anyhow::Error::msg)?);
            out.push(Held { clip, band, truth, logits });
        }
    }
    Ok(out)
}

/// The temperature fitted on held-out predictions (1 when there are none).
fn temperature_of(held: &[Held]) -> f32 {
    if held.is_empty() {
        return 1.0;
    }
    let (logits, truth): (Vec<Vec<f64>>, Vec<usize>) = held.iter().map(|h| (h.logits.clone(), h.truth)).unzip();
    fit_temperature(&logits, &truth)
}

/// Figures for one band of held-out predictions.
pub struct Figures {
    pub right: usize,
    pub n: usize,
    /// Mean per-class recall.
    pub balanced: f64,
    /// Answered (not "unknown") and right among those.
    pub answered: usize,
    pub answered_right: usize,
}

/// Print the held-out predictions of one band: per speaker, the confusion matrix, accuracy,
/// balanced accuracy, answer rate above the floor and the reliability table.
pub fn report(task: Task, clips: &[&Clip], held: &[Held], band: Band, temperature: f32, title: &str) -> Figures {
    let classes = task.classes();
    let mut confusion = Confusion::default();
    let mut reliability = Reliability::default();
    let mut per_speaker: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut per_class = vec![(0usize, 0usize); classes.len()];
    let (mut answered, mut answered_right) = (0, 0);
    for h in held.iter().filter(|h| h.band == band) {
        let p = calibrated(&h.logits, temperature);
        let (best, conf) = argmax(&p);
        let right = best == h.truth;
        confusion.add(&classes[h.truth], &classes[best]);
        reliability.add(conf, right);
        let c = clips[h.clip];
        let e = per_speaker.entry(format!("{} ({})", c.speaker, c.corpus)).or_default();
        e.0 += usize::from(right);
        e.1 += 1;
        per_class[h.truth].0 += usize::from(right);
        per_class[h.truth].1 += 1;
        if conf as f32 >= task.floor() {
            answered += 1;
            answered_right += usize::from(right);
        }
    }
    let n: usize = per_class.iter().map(|c| c.1).sum();
    let right: usize = per_class.iter().map(|c| c.0).sum();
    let recalls: Vec<f64> = per_class.iter().filter(|c| c.1 > 0).map(|c| c.0 as f64 / c.1 as f64).collect();
    let balanced = recalls.iter().sum::<f64>() / recalls.len().max(1) as f64;
    println!(
        "\n== {} {title}, {} (one prediction per window of at most 8 s, as a call scores a turn)",
        task.name(),
        band.name()
    );
    let line: Vec<String> = per_speaker.iter().map(|(s, (r, n))| format!("{s} {r}/{n}")).collect();
    for chunk in line.chunks(4) {
        println!("  {}", chunk.join(", "));
    }
    confusion.print("  confusion");
    let class_line: Vec<String> =
        classes.iter().zip(&per_class).filter(|(_, c)| c.1 > 0).map(|(k, c)| format!("{k} {}/{}", c.0, c.1)).collect();
    println!(
        "  accuracy {right}/{n}; balanced accuracy {balanced:.3} (recall {}); answered {answered}/{n} at confidence >= {:.2}, right {answered_right}/{answered}",
        class_line.join(", "),
        task.floor()
    );
    println!("  reliability (temperature {temperature:.2}, expected calibration error {:.3}):", reliability.ece());
    for l in reliability.lines() {
        println!("  {l}");
    }
    Figures { right, n, balanced, answered, answered_right }
}

/// Load the datasets' clips (embedding what the cache lacks).
pub fn load_clips(
    datasets: &[PathBuf],
    manifest: &crate::models::Manifest,
) -> anyhow::Result<(Vec<Clip>, Vec<String>, Vec<String>)> {
    let model = manifest.require(crate::pipeline::analysis::encoder::MODEL)?;
    let lib = manifest.require(crate::onnx::RUNTIME)?;
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).clamp(1, 4);
    let encoder = VoiceEncoder::load(&model, &lib, threads).map_err(anyhow::Error::msg)?;
    let cache = voice_data::default_cache(&manifest.dir);
    let sha = manifest.get(crate::pipeline::analysis::encoder::MODEL)?.accepted_sha256().join(",");
    let (mut clips, mut names, mut licences) = (Vec::new(), Vec::new(), Vec::new());
    for d in datasets {
        let c = voice_data::load(d, &encoder, threads, &sha, &cache)?;
        let corpus = voice_data::corpus_name(d);
        names.push(format!("{corpus}: {} clips, labels.tsv sha256 {}", c.len(), voice_data::labels_hash(d)));
        if let Some(l) = voice_data::licence(d) {
            licences.push(format!("{corpus}: {l}"));
        }
        clips.extend(c);
    }
    Ok((clips, names, licences))
}

/// `switchboard train emotion|accent`: leave-speakers-out results, then the probe fitted on
/// every speaker, with the temperature from the held-out predictions, written to `out`.
pub fn train(
    kind: &str,
    datasets: &[PathBuf],
    hold_out: &[String],
    out: Option<&Path>,
    seed: u64,
    manifest: &crate::models::Manifest,
) -> anyhow::Result<()> {
    let tasks = tasks(kind)?;
    let (clips, names, licences) = load_clips(datasets, manifest)?;
    for h in hold_out {
        if !clips.iter().any(|c| &c.speaker == h) {
            anyhow::bail!("--hold-out {h}: no such speaker in these datasets");
        }
    }
    let refs: Vec<&Clip> = clips.iter().filter(|c| !hold_out.contains(&c.speaker)).collect();
    let mut probes = Vec::new();
    for task in tasks {
        let labelled = refs.iter().filter(|c| task.label(c).is_some()).count();
        if labelled == 0 {
            println!("\n{}: no labelled clips in these datasets, skipped", task.name());
            continue;
        }
        let held = cross_validate(task, &refs, 6, seed)?;
        let temperature = temperature_of(&held);
        for band in [Band::Wide, Band::Phone] {
            report(task, &refs, &held, band, temperature, "held-out speakers (6 folds)");
        }
        let (x, y) = rows(task, &refs)?;
        let mut p = fit(task, &x, &y);
        p.temperature = temperature;
        p.floor = task.floor();
        p.provenance = Provenance {
            // Dataset folders by name (where they live differs between machines).
            command: format!(
                "switchboard train {kind} --seed {seed} {}{}",
                datasets
                    .iter()
                    .map(|d| format!("--dataset .../{}", voice_data::corpus_name(d)))
                    .collect::<Vec<_>>()
                    .join(" "),
                hold_out.iter().map(|h| format!(" --hold-out {h}")).collect::<String>()
            ),
            datasets: names.clone(),
            speakers: task.speakers(&refs).len(),
            samples: x.len(),
            seed,
            licences: licences.clone(),
            cpu: crate::pipeline::analysis::probe::cpu_kind(),
            ..p.provenance
        };
        probes.push(p);
    }
    let out = out.map(Path::to_path_buf).unwrap_or_else(|| {
        VoiceModels::dir(&manifest.dir).join(if kind == "emotion" { EMOTION_FILE } else { ACCENT_FILE })
    });
    if let Some(parent) = out.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&out, serde_json::to_string(&probes)? + "\n")?;
    println!("\nwrote {} ({} probes, {} bytes)", out.display(), probes.len(), std::fs::metadata(&out)?.len());
    Ok(())
}

/// `switchboard eval emotion|accent`: held-out speakers within each dataset, then across
/// corpora (fitted on all of one, tested on another). Prints a TOTAL line per figure.
pub fn eval(kind: &str, datasets: &[PathBuf], seed: u64, manifest: &crate::models::Manifest) -> anyhow::Result<()> {
    let tasks = tasks(kind)?;
    let (clips, _, _) = load_clips(datasets, manifest)?;
    let mut corpora: Vec<String> = clips.iter().map(|c| c.corpus.clone()).collect();
    corpora.dedup();
    let mut totals = Vec::new();
    for task in tasks {
        // Within each corpus (and all together), leave speakers out. Each corpus's temperature
        // serves again below, for the probe fitted on all of it.
        let mut groups: Vec<(String, Vec<&Clip>)> =
            corpora.iter().map(|k| (k.clone(), clips.iter().filter(|c| &c.corpus == k).collect())).collect();
        if corpora.len() > 1 {
            groups.push(("all corpora".into(), clips.iter().collect()));
        }
        let mut temperatures: BTreeMap<&str, f32> = BTreeMap::new();
        for (name, refs) in &groups {
            if task.speakers(refs).len() < 2 {
                continue;
            }
            let held = cross_validate(task, refs, 6, seed)?;
            let t = temperature_of(&held);
            temperatures.insert(name, t);
            for band in [Band::Wide, Band::Phone] {
                let f = report(task, refs, &held, band, t, &format!("{name}, held-out speakers"));
                totals.push(format!(
                    "{} {name} held-out speakers, {}: {}/{} right, balanced accuracy {:.3}, answered {}/{} (right {}/{})",
                    task.name(),
                    band.name(),
                    f.right,
                    f.n,
                    f.balanced,
                    f.answered,
                    f.n,
                    f.answered_right,
                    f.answered
                ));
            }
        }
        // Across corpora: fitted on all of one (once), tested on each other.
        for (a, train) in groups.iter().take(corpora.len()) {
            let (x, y) = rows(task, train)?;
            let classes_seen: std::collections::BTreeSet<usize> = y.iter().copied().collect();
            // A corpus with one class (all native, all Mandarin-L1) teaches nothing alone.
            if classes_seen.len() < 2 {
                continue;
            }
            let p = fit(task, &x, &y);
            let t = temperatures.get(a.as_str()).copied().unwrap_or(1.0);
            for (b, test) in groups.iter().take(corpora.len()).filter(|(b, _)| b != a) {
                let mut held = Vec::new();
                for (i, c) in test.iter().enumerate() {
                    if let Some(truth) = task.class_of(c) {
                        held.extend(predict_windows(&p, c, i, truth)?);
                    }
                }
                if held.is_empty() {
                    continue;
                }
                for band in [Band::Wide, Band::Phone] {
                    let f = report(task, test, &held, band, t, &format!("fitted on {a}, tested on {b}"));
                    totals.push(format!(
                        "{} cross-corpus {a} -> {b}, {}: {}/{} right, balanced accuracy {:.3}",
                        task.name(),
                        band.name(),
                        f.right,
                        f.n,
                        f.balanced
                    ));
                }
            }
        }
    }
    println!();
    for t in totals {
        println!("TOTAL {t}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clip(speaker: &str, fields: &[(&str, &str)]) -> Clip {
        Clip {
            corpus: "c".into(),
            speaker: speaker.into(),
            file: format!("{speaker}.wav"),
            fields: fields.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            wide: vec![],
            phone: vec![],
        }
    }

    #[test]
    fn labels_map_datasets_to_classes() {
        let angry = clip("a", &[("emotion", "angry")]);
        let sad = clip("a", &[("emotion", "sad")]);
        let happy = clip("a", &[("emotion", "happy")]);
        assert_eq!(Task::Anger.label(&angry).as_deref(), Some("angry"));
        assert_eq!(Task::Anger.label(&sad), None, "the anger probe learns angry vs neutral/calm only");
        assert_eq!(Task::Arousal.label(&sad).as_deref(), Some("calm"));
        assert_eq!(Task::Arousal.label(&happy).as_deref(), Some("aroused"));
        let native = clip("n", &[("native_english", "yes"), ("country", "usa"), ("l1", "english")]);
        let cantonese = clip("k", &[("native_english", "no"), ("l1", "cantonese")]);
        let albanian = clip("x", &[("native_english", "no"), ("l1", "albanian")]);
        let vctk = clip("v", &[("native_english", "yes"), ("region", "SW England")]);
        assert_eq!(Task::AccentNative.label(&native).as_deref(), Some("native"));
        assert_eq!(Task::AccentRegion.label(&native).as_deref(), Some("north_america"));
        assert_eq!(Task::AccentRegion.label(&vctk).as_deref(), Some("british_isles"));
        assert_eq!(Task::AccentFamily.label(&native), None);
        assert_eq!(Task::AccentFamily.label(&cantonese).as_deref(), Some("chinese"));
        assert_eq!(Task::AccentFamily.label(&albanian), None, "too few speakers: not a class");
        assert_eq!(Task::AccentNative.label(&albanian).as_deref(), Some("non_native"));
        for t in [Task::Anger, Task::Arousal, Task::AccentNative, Task::AccentFamily, Task::AccentRegion] {
            assert!(t.floor() > 1.0 / t.classes().len() as f32);
        }
    }

    #[test]
    fn speakers_are_dealt_into_folds_reproducibly() {
        let mut a: Vec<u32> = (0..20).collect();
        let mut b = a.clone();
        shuffle(&mut a, 7);
        shuffle(&mut b, 7);
        assert_eq!(a, b);
        assert_ne!(a, (0..20).collect::<Vec<_>>());
        let mut c: Vec<u32> = (0..20).collect();
        shuffle(&mut c, 8);
        assert_ne!(a, c);
    }
}
