//! `switchboard eval accent|emotion --dataset DIR`: the voice analytics on labelled recordings,
//! per file, as a confusion matrix, and as accuracy with counts. `--json` prints one object per
//! file (with the features) for `scripts/calibrate-analytics`.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use crate::cmd::analyze::{analyze_file, FileAnalysis};
use crate::eval::dataset;
use crate::pipeline::analysis::accent::{language_name, AccentEstimator};
use crate::pipeline::analysis::lexical;
use crate::pipeline::analysis::prosody::Prosody;
use crate::pipeline::analysis::state::{CallerStateTracker, State};
use crate::pipeline::Engine;

/// A confusion matrix over string labels, with counts.
#[derive(Debug, Default)]
pub struct Confusion {
    cells: BTreeMap<(String, String), usize>,
    rows: Vec<String>,
    cols: Vec<String>,
}

impl Confusion {
    pub fn add(&mut self, expected: &str, predicted: &str) {
        *self.cells.entry((expected.into(), predicted.into())).or_default() += 1;
        for (list, v) in [(&mut self.rows, expected), (&mut self.cols, predicted)] {
            if !list.iter().any(|x| x == v) {
                list.push(v.into());
            }
        }
    }

    /// Print with expected labels as rows and predictions as columns.
    pub fn print(&self, title: &str) {
        println!("\n{title} (rows: expected, columns: predicted)");
        let w = self.cols.iter().map(|c| c.len()).max().unwrap_or(4).max(5);
        let rw = self.rows.iter().map(|r| r.len()).max().unwrap_or(8).max(8);
        print!("{:rw$}", "");
        for c in &self.cols {
            print!(" {c:>w$}");
        }
        println!();
        for r in &self.rows {
            print!("{r:rw$}");
            for c in &self.cols {
                let n = self.cells.get(&(r.clone(), c.clone())).copied().unwrap_or(0);
                print!(" {:>w$}", if n == 0 { ".".to_string() } else { n.to_string() });
            }
            println!();
        }
    }
}

/// The accent class a dataset label names: "native English", "Indian English",
/// "German-accented English", ... (the same labels the estimator prints).
pub fn expected_accent(label: &str) -> String {
    let l = label.to_lowercase();
    let native =
        ["us english", "usa/", "american", "british", "england", "scottish", "canadian", "australian", "native"];
    if native.iter().any(|n| l.contains(n)) {
        return "native English".into();
    }
    if l.contains("indian") || l.starts_with("ind/") {
        return "Indian English".into();
    }
    // "DEU/German", "BEL/French", "GRC/Greek", "Spanish-accented English".
    let lang = l.rsplit('/').next().unwrap_or(&l).split(['-', ' ']).next().unwrap_or("").trim().to_string();
    let code = match lang.as_str() {
        "german" => "de",
        "french" => "fr",
        "greek" => "el",
        "spanish" => "es",
        "italian" => "it",
        "chinese" | "mandarin" => "zh",
        "korean" => "ko",
        "japanese" => "ja",
        "arabic" => "ar",
        "russian" => "ru",
        "swedish" => "sv",
        "hindi" => return "Indian English".into(),
        _ => return format!("non-native English ({label})"),
    };
    format!("{}-accented English", language_name(code))
}

/// Run `eval accent`: per file and per speaker (all of a speaker's files as one call).
pub async fn accent(engine: Arc<Engine>, dir: &Path, json: bool) -> anyhow::Result<(usize, usize, usize)> {
    if !engine.recognizer.multilingual() {
        anyhow::bail!("accent estimation needs the multilingual model's language probabilities: use --model base");
    }
    let rows = dataset::read(dir)?;
    let mut per_file = Confusion::default();
    let mut speakers: BTreeMap<String, (String, AccentEstimator)> = BTreeMap::new();
    let (mut ok, mut native_ok, mut decided, mut n) = (0, 0, 0, 0);
    if !json {
        println!("{:<26} {:<34} {:>6} {:>5}  file", "expected", "predicted", "p(en)", "conf");
    }
    for row in &rows {
        let Some(label) = row.get(&["accent_label", "speaker_accent", "accent"]) else {
            anyhow::bail!("{}: labels.tsv needs an accent_label (or speaker_accent) column", dir.display());
        };
        let expected = expected_accent(label);
        let fa = match analyze_file(&engine, &row.path).await {
            Ok(fa) => fa,
            Err(e) => {
                eprintln!("skipping {}: {e}", row.path.display());
                continue;
            }
        };
        let speaker = row.get(&["speaker"]).unwrap_or("").to_string();
        let est =
            &mut speakers.entry(speaker.clone()).or_insert_with(|| (expected.clone(), AccentEstimator::default())).1;
        for t in &fa.turns {
            // As a call counts them: turns heard as English (by the recogniser or the words).
            let english = t
                .analysis
                .turn_language
                .as_ref()
                .is_some_and(|l| l.language == "en" || l.text_hint.as_ref().is_some_and(|(h, _)| h == "en"));
            if english {
                est.add(&t.language_probs, t.analysis.prosody.speech_ms);
            }
        }
        let a = &fa.accent;
        n += 1;
        per_file.add(&expected, &a.label);
        if a.is_known() {
            decided += 1;
            ok += usize::from(a.label == expected);
            native_ok += usize::from(a.native == Some(expected == "native English"));
        }
        let name = row.path.strip_prefix(dir).unwrap_or(&row.path).display().to_string();
        if json {
            let probs: Vec<_> = fa.turns.iter().map(|t| (&t.language_probs, t.analysis.prosody.speech_ms)).collect();
            println!(
                "{}",
                serde_json::json!({"type": "file", "file": name, "speaker": speaker, "expected": expected,
                    "accent": a, "turn_probs": probs})
            );
        } else {
            let mark = if a.is_known() && a.label != expected { " X" } else { "" };
            println!(
                "{expected:<26} {:<34} {:>6.2} {:>5.2}  {name}",
                format!("{}{mark}", a.label),
                a.english_prob,
                a.confidence
            );
        }
    }
    let mut per_speaker = Confusion::default();
    let (mut sp_ok, mut sp_n) = (0, 0);
    for (speaker, (expected, est)) in &speakers {
        let a = est.estimate();
        sp_n += 1;
        sp_ok += usize::from(a.label == *expected);
        per_speaker.add(expected, &a.label);
        if !json {
            println!(
                "speaker {speaker:<10} expected {expected:<24} predicted {} (p(en) {:.2}, confidence {:.2}, {:.1} s)",
                a.label,
                a.english_prob,
                a.confidence,
                a.speech_ms as f64 / 1000.0
            );
        }
    }
    if json {
        println!(
            "{}",
            serde_json::json!({"type": "summary", "files": n, "decided": decided, "correct": ok, "native_correct": native_ok,
                "speakers": sp_n, "speakers_correct": sp_ok})
        );
    } else {
        per_file.print("Per file");
        per_speaker.print("Per speaker (all of a speaker's files as one call)");
        println!(
            "\nTOTAL accent, model {}: per file {ok}/{n} correct ({decided}/{n} decided, {} said unknown); \
             native vs non-native {native_ok}/{decided} of the decided; per speaker {sp_ok}/{sp_n}",
            engine.recognizer.name(),
            n - decided
        );
    }
    Ok((ok, decided, n))
}

/// What a dataset's emotion label means for our states: (multi-class target, binary class).
/// The binary task is angry vs neutral/calm; other emotions are shown but not scored there.
pub fn emotion_target(emotion: &str) -> (Option<State>, Option<bool>) {
    match emotion.to_lowercase().as_str() {
        "neutral" | "calm" => (Some(State::Calm), Some(false)),
        "angry" | "anger" => (Some(State::Angry), Some(true)),
        "disgust" | "frustrated" => (Some(State::Frustrated), None),
        "confused" => (Some(State::Confused), None),
        _ => (None, None),
    }
}

fn state_name(s: State) -> String {
    serde_json::to_value(s).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

/// The per-feature lower quartile of a speaker's turns: the speaker's calmer self, standing in
/// for the baseline a call learns from its first turns, estimated without labels from all of
/// the speaker's recordings. (The median would sit between the classes of a set that is half
/// angry, and make "as usual" mean "half angry".)
fn baseline_prosody(all: &[&Prosody]) -> Prosody {
    fn med(mut v: Vec<f32>) -> Option<f32> {
        if v.is_empty() {
            return None;
        }
        v.sort_by(|a, b| a.total_cmp(b));
        Some(v[(v.len() - 1) / 4])
    }
    Prosody {
        pitch_hz: med(all.iter().filter_map(|p| p.pitch_hz).collect()),
        pitch_range_st: med(all.iter().filter_map(|p| p.pitch_range_st).collect()),
        level_db: med(all.iter().map(|p| p.level_db).collect()).unwrap_or(-30.0),
        words_per_s: med(all.iter().filter_map(|p| p.words_per_s).collect()),
        ..Default::default()
    }
}

/// Run `eval emotion`. Each file is one turn judged against its speaker's baseline (the
/// per-feature lower quartile of the speaker's files: no labels used).
pub async fn emotion(engine: Arc<Engine>, dir: &Path, json: bool) -> anyhow::Result<((usize, usize), (usize, usize))> {
    let rows = dataset::read(dir)?;
    struct Item {
        name: String,
        speaker: String,
        emotion: String,
        text: String,
        prosody: Option<Prosody>,
    }
    let mut items = Vec::new();
    for row in &rows {
        let Some(emotion) = row.get(&["emotion"]) else {
            anyhow::bail!("{}: labels.tsv needs an emotion column", dir.display());
        };
        let fa: FileAnalysis = match analyze_file(&engine, &row.path).await {
            Ok(fa) => fa,
            Err(e) => {
                eprintln!("skipping {}: {e}", row.path.display());
                continue;
            }
        };
        // The file's main turn: the longest (acted clips are one sentence).
        let main = fa.turns.iter().max_by_key(|t| t.analysis.prosody.speech_ms);
        let name = row.path.strip_prefix(dir).unwrap_or(&row.path).display().to_string();
        let intensity = row.get(&["intensity"]).map(|i| format!(" ({i})")).unwrap_or_default();
        items.push(Item {
            name,
            speaker: row.get(&["speaker"]).unwrap_or("").to_string(),
            emotion: format!("{emotion}{intensity}"),
            text: main.map(|t| t.text.clone()).unwrap_or_default(),
            prosody: main.map(|t| t.analysis.prosody.clone()),
        });
    }
    let mut baselines = BTreeMap::new();
    for sp in items.iter().map(|i| i.speaker.clone()).collect::<HashSet<_>>() {
        let ps: Vec<&Prosody> = items
            .iter()
            .filter(|i| i.speaker == sp)
            .filter_map(|i| i.prosody.as_ref())
            .filter(|p| p.has_voice())
            .collect();
        baselines.insert(sp, baseline_prosody(&ps));
    }
    let mut matrix = Confusion::default();
    let (mut multi_ok, mut multi_n, mut bin_ok, mut bin_n) = (0, 0, 0, 0);
    if !json {
        println!("{:<20} {:<12} {:>5} {:>7}  file / evidence", "expected", "predicted", "frust", "arousal");
    }
    for it in &items {
        let emotion = it.emotion.split(" (").next().unwrap_or("").to_string();
        let verdict = it.prosody.as_ref().map(|p| {
            let mut tracker = CallerStateTracker::default();
            tracker.seed_baseline(&baselines[&it.speaker]);
            tracker.turn(p, &lexical::cues(&it.text, &HashSet::new()))
        });
        let state = verdict.as_ref().map(|v| v.state).unwrap_or(State::Unknown);
        matrix.add(&emotion, &state_name(state));
        let (target, binary) = emotion_target(&emotion);
        if let Some(t) = target {
            multi_n += 1;
            multi_ok += usize::from(t == state);
        }
        if let Some(b) = binary {
            bin_n += 1;
            bin_ok += usize::from(b == matches!(state, State::Angry | State::Frustrated));
        }
        if json {
            println!(
                "{}",
                serde_json::json!({"type": "file", "file": it.name, "speaker": it.speaker, "emotion": emotion,
                    "text": it.text, "prosody": it.prosody, "baseline": baselines.get(&it.speaker),
                    "verdict": verdict})
            );
        } else {
            let (f, a) = verdict.as_ref().map(|v| (v.frustration, v.arousal)).unwrap_or((0.0, 0.0));
            let mark = match target {
                Some(t) if t != state => " X",
                _ => "",
            };
            println!(
                "{:<20} {:<12} {f:>5.2} {a:>+7.2}  {}",
                it.emotion,
                format!("{}{mark}", state_name(state)),
                it.name
            );
            if let Some(v) = verdict.as_ref().filter(|v| !v.evidence.is_empty()) {
                println!("{:>49}{}", "", v.evidence.join("; "));
            }
        }
    }
    if json {
        println!(
            "{}",
            serde_json::json!({"type": "summary", "multi_correct": multi_ok, "multi_n": multi_n,
                "binary_correct": bin_ok, "binary_n": bin_n})
        );
    } else {
        matrix.print("Emotion vs caller state");
        println!(
            "\nTOTAL emotion: binary angry vs neutral/calm {bin_ok}/{bin_n} correct; \
             multi-class (neutral/calm->calm, angry->angry, disgust->frustrated) {multi_ok}/{multi_n} correct; \
             {} files, speaker baseline = lower quartile of the speaker's files",
            items.len()
        );
    }
    Ok(((bin_ok, bin_n), (multi_ok, multi_n)))
}
