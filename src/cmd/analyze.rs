//! `switchboard analyze FILE`: the live pipeline plus the voice analytics (caller state,
//! call language, accent), per turn, and a summary for the whole file.

use std::path::Path;
use std::sync::Arc;

use crate::cmd::transcribe::{stream_file, Pace};
use crate::pipeline::analysis::accent::Accent;
use crate::pipeline::analysis::state::State;
use crate::pipeline::analysis::{CallAnalyzer, TurnAnalysis};
use crate::pipeline::{Engine, TranscriptEvent};

/// One analysed turn of a file.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AnalyzedTurn {
    pub text: String,
    pub start_ms: u64,
    pub end_ms: u64,
    pub language: String,
    pub language_prob: f32,
    /// The recogniser's (language, probability) list for this turn, best first (empty when
    /// the language is fixed or the model is English-only).
    pub language_probs: Vec<(String, f32)>,
    #[serde(flatten)]
    pub analysis: TurnAnalysis,
}

/// A whole file's analysis.
#[derive(Debug, Clone)]
pub struct FileAnalysis {
    pub turns: Vec<AnalyzedTurn>,
    /// The call-level language and its confidence.
    pub language: Option<(String, f32)>,
    pub accent: Accent,
}

impl FileAnalysis {
    /// The last turn's verdict, if any turn was heard.
    pub fn last_state(&self) -> State {
        self.turns.last().map(|t| t.analysis.verdict.state).unwrap_or(State::Unknown)
    }

    /// The JSON summary line.
    pub fn summary(&self) -> serde_json::Value {
        let last = self.turns.last().map(|t| &t.analysis.verdict);
        let peak = self.turns.iter().map(|t| t.analysis.verdict.frustration).fold(0.0f32, f32::max);
        let (lang, prob) = self.language.clone().unwrap_or(("unknown".into(), 0.0));
        let cost: Vec<u64> = self.turns.iter().map(|t| t.analysis.prosody.compute_us).collect();
        serde_json::json!({
            "type": "summary",
            "turns": self.turns.len(),
            "language": lang,
            "language_prob": prob,
            "accent": self.accent,
            "caller_state": self.last_state(),
            "caller_state_confidence": last.map(|v| v.confidence).unwrap_or(0.0),
            "frustration": last.map(|v| v.frustration).unwrap_or(0.0),
            "peak_frustration": peak,
            "trend": self.turns.last().map(|t| t.analysis.trend).unwrap_or(0.0),
            "analysis_us_per_turn": if cost.is_empty() { 0 } else { cost.iter().sum::<u64>() / cost.len() as u64 },
        })
    }
}

/// Stream `path` through the pipeline (as fast as it runs) and analyse every final turn, as a
/// call does.
pub async fn analyze_file(engine: &Arc<Engine>, path: &Path) -> anyhow::Result<FileAnalysis> {
    let result = stream_file(engine, path, Pace::Fast, |_| {}).await?;
    let mut analyzer = CallAnalyzer::default();
    let mut turns = Vec::new();
    let mut probs = Vec::new();
    for ev in &result.events {
        match ev {
            TranscriptEvent::LanguageDetected { top, .. } => {
                probs = top.clone();
                analyzer.language_probs(top.clone());
            }
            TranscriptEvent::Final { text, start_ms, end_ms, language, language_prob, prosody: Some(p), .. }
                if !text.trim().is_empty() =>
            {
                turns.push(AnalyzedTurn {
                    text: text.clone(),
                    start_ms: *start_ms,
                    end_ms: *end_ms,
                    language: language.clone(),
                    language_prob: *language_prob,
                    language_probs: std::mem::take(&mut probs),
                    analysis: analyzer.turn(text, p.clone(), language, *language_prob),
                });
            }
            _ => {}
        }
    }
    Ok(FileAnalysis { turns, language: analyzer.language(), accent: analyzer.accent() })
}

fn opt(v: Option<f32>, digits: usize) -> String {
    v.map(|x| format!("{x:.digits$}")).unwrap_or_else(|| "-".into())
}

/// Run `switchboard analyze`.
pub async fn run(engine: Arc<Engine>, path: &Path, json: bool) -> anyhow::Result<()> {
    let fa = analyze_file(&engine, path).await?;
    for t in &fa.turns {
        if json {
            let mut v = serde_json::to_value(t)?;
            v["type"] = "turn".into();
            println!("{v}");
            continue;
        }
        let a = &t.analysis;
        let (v, p) = (&a.verdict, &a.prosody);
        println!("[{:>6} -> {:>6} ms] {}", t.start_ms, t.end_ms, t.text);
        let call_lang = a.call_language.as_ref().map(|(l, c)| format!("{l} ({c:.2})")).unwrap_or("-".into());
        println!(
            "    language: turn {} ({:.2}), call {call_lang}{}",
            t.language,
            t.language_prob,
            a.language_event.as_ref().map(|e| format!("  [{e:?}]")).unwrap_or_default()
        );
        println!(
            "    accent: {} (confidence {:.2}, p(en) {:.2})",
            a.accent.label, a.accent.confidence, a.accent.english_prob
        );
        println!("    state: {:?} (confidence {:.2}), frustration {:.2}", v.state, v.confidence, v.frustration);
        println!(
            "    pitch {} Hz, range {} st, level {:.1} dBFS, rate {} words/s, pauses {:.0}%, analysis {} us",
            opt(p.pitch_hz, 0),
            opt(p.pitch_range_st, 1),
            p.level_db,
            opt(p.words_per_s, 1),
            p.pause_ratio * 100.0,
            p.compute_us
        );
        if !v.evidence.is_empty() {
            println!("    evidence: {}", v.evidence.join("; "));
        }
    }
    let s = fa.summary();
    if json {
        println!("{s}");
    } else {
        println!(
            "-- {} turns; language {} ({:.2}); accent {} ({:.2}); caller state {} (confidence {:.2}), frustration {:.2} (peak {:.2})",
            fa.turns.len(),
            s["language"].as_str().unwrap_or("-"),
            s["language_prob"].as_f64().unwrap_or(0.0),
            fa.accent.label,
            fa.accent.confidence,
            s["caller_state"].as_str().unwrap_or("-"),
            s["caller_state_confidence"].as_f64().unwrap_or(0.0),
            s["frustration"].as_f64().unwrap_or(0.0),
            s["peak_frustration"].as_f64().unwrap_or(0.0),
        );
    }
    Ok(())
}
