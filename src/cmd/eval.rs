//! `switchboard eval asr|language --dataset DIR`: accuracy on labelled recordings.

use std::path::Path;
use std::sync::Arc;

use crate::cmd::transcribe::{stream_file, Pace};
use crate::eval::dataset;
use crate::eval::wer::{wer, WerCount};
use crate::media::decode::read_mono_at;
use crate::pipeline::asr::{DecodeRequest, LanguageChoice, LanguageGuess};
use crate::pipeline::pool::Priority;
use crate::pipeline::Engine;

/// Whole-file decode, as whisper.cpp's own CLI would do it (30 s windows, no streaming).
pub async fn offline_transcribe(engine: &Arc<Engine>, audio: Vec<f32>) -> anyhow::Result<String> {
    let mut session = engine.recognizer.session()?;
    let language = match engine.config.language.as_str() {
        "auto" if engine.recognizer.multilingual() => LanguageChoice::Auto,
        "auto" => LanguageChoice::Fixed("en".into()),
        l => LanguageChoice::Fixed(l.into()),
    };
    let req = DecodeRequest {
        audio,
        prompt: String::new(),
        language,
        translate: false,
        fit_window: false,
        fallback: true,
        answer: None,
        threads: 0,
    };
    let hyp = engine.pool.run(Priority::High, move || session.decode(&req)).await??;
    Ok(hyp.text)
}

/// Spoken-language identification on (up to) the first 30 s of a whole file.
pub async fn offline_language(engine: &Arc<Engine>, mut audio: Vec<f32>) -> anyhow::Result<LanguageGuess> {
    audio.truncate(30 * 16_000);
    let mut session = engine.recognizer.session()?;
    Ok(engine.pool.run(Priority::High, move || session.detect_language(&audio)).await??)
}

/// Totals of an ASR evaluation.
#[derive(Debug, Default, Clone, Copy)]
pub struct AsrTotals {
    pub streaming: WerCount,
    pub offline: WerCount,
    pub files: usize,
}

/// Run `eval asr`: streaming and offline WER per file and in total.
pub async fn asr(engine: Arc<Engine>, dir: &Path, limit: Option<usize>) -> anyhow::Result<AsrTotals> {
    let rows = dataset::read(dir)?;
    let mut totals = AsrTotals::default();
    println!("{:>22} {:>22}  file", "streaming WER", "offline WER");
    for row in rows.iter().take(limit.unwrap_or(usize::MAX)) {
        let Some(reference) = row.get(&["normalized_transcript", "transcript"]) else {
            anyhow::bail!("{}: labels.tsv needs a transcript or normalized_transcript column", dir.display());
        };
        let streamed = match stream_file(&engine, &row.path, Pace::Fast, |_| {}).await {
            Ok(r) => r.text(),
            Err(e) => {
                eprintln!("skipping {}: {e}", row.path.display());
                continue;
            }
        };
        let audio = read_mono_at(&row.path, 16_000)?;
        let offline = offline_transcribe(&engine, audio).await?;
        let (s, o) = (wer(reference, &streamed), wer(reference, &offline));
        totals.streaming.add(s);
        totals.offline.add(o);
        totals.files += 1;
        let name = row.path.strip_prefix(dir).unwrap_or(&row.path).display();
        println!("{:>22} {:>22}  {name}", s.to_string(), o.to_string());
        if s.errors > 0 || o.errors > 0 {
            println!(
                "{:>46}  ref:     {reference}\n{:>46}  stream:  {streamed}\n{:>46}  offline: {offline}",
                "", "", ""
            );
        }
    }
    println!(
        "TOTAL {} files, model {}: streaming WER {}, offline WER {}, difference {:+.1} points",
        totals.files,
        engine.recognizer.name(),
        totals.streaming,
        totals.offline,
        (totals.streaming.rate() - totals.offline.rate()) * 100.0
    );
    Ok(totals)
}

/// Run `eval language`: call-level language from the live pipeline, and whole-file identification.
pub async fn language(engine: Arc<Engine>, dir: &Path) -> anyhow::Result<(usize, usize, usize)> {
    if !engine.recognizer.multilingual() {
        anyhow::bail!("language identification needs a multilingual model: use --model base");
    }
    let rows = dataset::read(dir)?;
    let (mut ok_stream, mut ok_offline, mut n) = (0, 0, 0);
    println!("{:<8} {:<16} {:<16} file", "expected", "pipeline", "whole file");
    for row in &rows {
        let Some(expected) = row.get(&["language"]) else {
            anyhow::bail!("{}: labels.tsv needs a language column", dir.display());
        };
        let streamed = stream_file(&engine, &row.path, Pace::Fast, |_| {}).await?;
        let (lang, prob) = streamed.language().unwrap_or(("-".into(), 0.0));
        let whole = offline_language(&engine, read_mono_at(&row.path, 16_000)?).await?;
        n += 1;
        ok_stream += usize::from(lang == expected);
        ok_offline += usize::from(whole.language == expected);
        let name = row.path.strip_prefix(dir).unwrap_or(&row.path).display();
        println!(
            "{expected:<8} {:<16} {:<16} {name}",
            format!("{lang} {prob:.2}{}", if lang == expected { "" } else { " X" }),
            format!("{} {:.2}{}", whole.language, whole.prob, if whole.language == expected { "" } else { " X" })
        );
    }
    println!("TOTAL language accuracy: pipeline {ok_stream}/{n}, whole file {ok_offline}/{n}");
    Ok((ok_stream, ok_offline, n))
}
