//! `switchboard bench peers`: what one turn's transcription costs the project, next to a peer
//! on the same turns: faster-whisper (CTranslate2, int8) with the same Whisper weights, run by
//! `scripts/bench-peers` in its own virtual environment.
//!
//! `--export DIR` writes the turns (16 kHz mono WAVs and `turns.tsv`: file, reference) for the
//! peer; `--peer FILE` reads what the peer made of them (JSON lines: `file`, `text`, `cpu_s`,
//! `wall_s`) and prints both side by side. The cost is CPU time (all threads) per turn, so
//! thread counts do not flatter either side; both WERs use the project's normaliser.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;

use crate::cmd::bench::{load_clips, proc_cpu_ticks, Clip};
use crate::cmd::eval::offline_transcribe;
use crate::cmd::transcribe::{stream_frames, Pace};
use crate::eval::wer::{wer, WerCount};
use crate::media::mono_frames;
use crate::pipeline::Engine;

/// CPU seconds of this process so far (clock ticks are 10 ms: sum over turns, not per turn).
fn cpu_s() -> f64 {
    proc_cpu_ticks() as f64 / 100.0
}

/// Write the turns for the peer.
fn export(clips: &[Clip], dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut tsv = String::from("file\treference\n");
    for (i, c) in clips.iter().enumerate() {
        let file = format!("turn-{i:02}.wav");
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 16_000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(dir.join(&file), spec)?;
        for s in &c.audio {
            w.write_sample((s.clamp(-1.0, 1.0) * 32767.0) as i16)?;
        }
        w.finalize()?;
        tsv.push_str(&format!("{file}\t{}\n", c.reference.replace(['\t', '\n'], " ")));
    }
    std::fs::write(dir.join("turns.tsv"), tsv)?;
    println!("{} turns written to {}", clips.len(), dir.display());
    Ok(())
}

/// One turn as the peer transcribed it.
#[derive(serde::Deserialize)]
struct PeerTurn {
    file: String,
    text: String,
    cpu_s: f64,
    wall_s: f64,
}

/// Totals of one system over the turns.
#[derive(Default)]
struct Side {
    wer: WerCount,
    cpu_s: f64,
    wall_s: f64,
}

impl Side {
    fn add(&mut self, cpu_s: f64, wall_s: f64, reference: &str, text: &str) {
        self.cpu_s += cpu_s;
        self.wall_s += wall_s;
        self.wer.add(wer(reference, text));
    }

    fn row(&self, name: &str, turns: usize) {
        let n = turns.max(1) as f64;
        println!(
            "{name:<50} {:>9.0} {:>9.0} {:>22}",
            self.cpu_s * 1000.0 / n,
            self.wall_s * 1000.0 / n,
            self.wer.to_string()
        );
    }
}

/// One turn through a live stream fed at real time: the CPU the process spent on it (the
/// feeding itself is next to nothing) and, as wall time, only the wait for the final after
/// the turn's audio ended.
async fn live_turn(engine: &Arc<Engine>, c: &Clip, pace: Pace, side: &mut Side) -> anyhow::Result<()> {
    let (cpu0, t0) = (cpu_s(), Instant::now());
    let r = stream_frames(engine, mono_frames(c.audio.clone(), 16_000, 20).map(Ok), pace, |_| {}).await?;
    let wait = (t0.elapsed().as_secs_f64() - c.audio.len() as f64 / 16_000.0).max(0.0);
    side.add(cpu_s() - cpu0, wait, &c.reference, &r.text());
    Ok(())
}

/// Run `switchboard bench peers`.
pub async fn peers(
    engine: Arc<Engine>,
    fixtures: PathBuf,
    dataset: Option<PathBuf>,
    export_dir: Option<PathBuf>,
    peer: Option<PathBuf>,
) -> anyhow::Result<()> {
    let clips = load_clips(&fixtures, dataset.as_deref(), 8)?;
    if let Some(dir) = export_dir {
        return export(&clips, &dir);
    }
    let peer_file =
        peer.context("give --export DIR (write the turns) or --peer FILE (compare); scripts/bench-peers does both")?;
    let text = std::fs::read_to_string(&peer_file).with_context(|| format!("reading {}", peer_file.display()))?;
    let peer_turns: Vec<PeerTurn> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).with_context(|| format!("{}: bad line {l:?}", peer_file.display())))
        .collect::<anyhow::Result<_>>()?;
    if peer_turns.len() != clips.len() {
        anyhow::bail!(
            "{} has {} turns, this run has {}: export the turns again (scripts/bench-peers does)",
            peer_file.display(),
            peer_turns.len(),
            clips.len()
        );
    }
    let audio_s: f64 = clips.iter().map(|c| c.audio.len() as f64 / 16_000.0).sum();
    println!(
        "bench peers: {} turns ({:.1} s of speech, {:.1} s a turn), model {}, {} inference workers",
        clips.len(),
        audio_s,
        audio_s / clips.len() as f64,
        engine.recognizer.name(),
        engine.pool.stats().workers
    );
    // Warm up both paths once (model pages, caches), as the peer does.
    offline_transcribe(&engine, clips[0].audio.clone()).await?;

    let (mut live, mut unwatched, mut fitted, mut whole, mut other): (Side, Side, Side, Side, Side) =
        Default::default();
    for (i, (c, p)) in clips.iter().zip(&peer_turns).enumerate() {
        if p.file != format!("turn-{i:02}.wav") {
            anyhow::bail!("{}: turn {i} is {}, expected turn-{i:02}.wav", peer_file.display(), p.file);
        }
        // Live: fed at real time through the streaming pipeline, as a followed call (partials
        // and all) and as one nobody follows (finals only).
        live_turn(&engine, c, Pace::Realtime, &mut live).await?;
        live_turn(&engine, c, Pace::RealtimeUnwatched, &mut unwatched).await?;
        // Whole turn: one decode of the turn, as the peer does; as a live final decodes it
        // (the encoder window fitted to the audio), and in whisper.cpp's full 30 s window.
        let (cpu0, t0) = (cpu_s(), Instant::now());
        let (e, audio) = (engine.clone(), c.audio.clone());
        let hyp = tokio::task::spawn_blocking(move || e.decode_whole(audio, "")).await??;
        fitted.add(cpu_s() - cpu0, t0.elapsed().as_secs_f64(), &c.reference, &hyp.text);
        let (cpu0, t0) = (cpu_s(), Instant::now());
        let text = offline_transcribe(&engine, c.audio.clone()).await?;
        whole.add(cpu_s() - cpu0, t0.elapsed().as_secs_f64(), &c.reference, &text);
        other.add(p.cpu_s, p.wall_s, &c.reference, &p.text);
    }
    let n = clips.len();
    println!("{:<50} {:>9} {:>9} {:>22}", "per turn", "cpu ms", "wall ms", "WER");
    live.row("switchboard, live call followed (partials, final)*", n);
    unwatched.row("switchboard, live call nobody follows (final)*", n);
    fitted.row("switchboard, whole turn, fitted window", n);
    whole.row("switchboard, whole turn, 30 s window", n);
    other.row("faster-whisper int8, whole turn (greedy)", n);
    let ratio = |s: &Side| s.cpu_s / other.cpu_s.max(1e-9);
    println!(
        "cost ratio (CPU per turn, switchboard / faster-whisper): live followed {:.2}x, nobody following {:.2}x, \
         fitted {:.2}x, 30 s window {:.2}x; WER {} (live) vs {}",
        ratio(&live),
        ratio(&unwatched),
        ratio(&fitted),
        ratio(&whole),
        live.wer,
        other.wer
    );
    println!(
        "* the whole live pipeline: VAD, partial decodes every second (when followed), the final, the voice \
         analysis; wall ms is the wait after the turn's audio ended (end of speech -> final)"
    );
    Ok(())
}
