//! The scenario file (its format is in the parent module's documentation) and the caller's
//! audio for each turn: espeak-ng, the Piper voice or a recording, at 8 kHz.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::assistant::tts::{Espeak, Piper};
use crate::media::decode::read_mono_at;

/// A scenario file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub caller: String,
    #[serde(default)]
    pub description: String,
    pub turns: Vec<Turn>,
    pub handover: Option<Handover>,
}

/// What the caller does once handed over.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Handover {
    pub stay_s: u64,
    /// Stay and follow the steps even if the assistant did not hand the call over.
    #[serde(default)]
    pub always: bool,
    #[serde(default)]
    pub steps: Vec<Step>,
}

/// One action after the hand-over, when an event arrives: keys or speech as in a turn.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub wait_for: String,
    #[serde(default)]
    pub after_ms: u64,
    pub say: Option<String>,
    pub voice: Option<String>,
    pub wav: Option<PathBuf>,
    pub dtmf: Option<String>,
}

impl Step {
    /// The step's audio or keys as a turn.
    pub(super) fn turn(&self) -> Turn {
        Turn {
            say: self.say.clone(),
            voice: self.voice.clone(),
            rate: None,
            pitch: None,
            amplitude: None,
            wav: self.wav.clone(),
            dtmf: self.dtmf.clone(),
            barge_in: false,
            pause_ms: None,
            if_said: None,
        }
    }
}

/// One caller turn.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Turn {
    pub say: Option<String>,
    pub voice: Option<String>,
    pub rate: Option<u32>,
    pub pitch: Option<u32>,
    pub amplitude: Option<u32>,
    pub wav: Option<PathBuf>,
    pub dtmf: Option<String>,
    #[serde(default)]
    pub barge_in: bool,
    /// Silence for each " | " in `say`: the caller pauses there mid-sentence (default 700 ms).
    pub pause_ms: Option<u64>,
    /// Play this turn only if the assistant's last reply contains this text (a caller answers
    /// a question only when it is asked: "Is that right?" after a read-back).
    pub if_said: Option<String>,
}

impl Scenario {
    pub fn load(path: &Path) -> anyhow::Result<Scenario> {
        let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        let s: Scenario = toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        for (i, t) in s.turns.iter().enumerate() {
            let kinds = [t.say.is_some(), t.wav.is_some(), t.dtmf.is_some()].iter().filter(|x| **x).count();
            if kinds != 1 {
                anyhow::bail!("{} turn {}: give exactly one of say, wav or dtmf", path.display(), i + 1);
            }
        }
        for (i, t) in s.handover.iter().flat_map(|h| &h.steps).enumerate() {
            let kinds = [t.say.is_some(), t.wav.is_some(), t.dtmf.is_some()].iter().filter(|x| **x).count();
            if kinds != 1 {
                anyhow::bail!("{} handover step {}: give exactly one of say, wav or dtmf", path.display(), i + 1);
            }
        }
        Ok(s)
    }
}

/// Piper voices the scenario uses, loaded once each.
#[derive(Default)]
pub(super) struct PiperVoices(Vec<(String, Piper)>);

impl PiperVoices {
    pub(super) fn get(&mut self, name: &str) -> anyhow::Result<&Piper> {
        if let Some(i) = self.0.iter().position(|(n, _)| n == name) {
            return Ok(&self.0[i].1);
        }
        let manifest = crate::models::Manifest::load_default()?;
        let piper = Piper::from_manifest(&manifest, name).map_err(|e| anyhow::anyhow!("voice piper:{name}: {e}"))?;
        self.0.push((name.to_string(), piper));
        Ok(&self.0.last().expect("pushed").1)
    }
}

/// The caller's audio for a turn, 8 kHz.
pub(super) fn turn_audio(t: &Turn, base: &Path, pipers: &mut PiperVoices) -> anyhow::Result<Vec<f32>> {
    if let Some(w) = &t.wav {
        let p = if w.is_absolute() { w.clone() } else { base.join(w) };
        return Ok(read_mono_at(&p, 8000)?);
    }
    let text = t.say.as_deref().unwrap_or_default();
    if text.contains(" | ") {
        // Each part on its own, joined by the caller's pause.
        let pause = vec![0.0f32; t.pause_ms.unwrap_or(700) as usize * 8];
        let mut out = Vec::new();
        for (i, part) in text.split(" | ").enumerate() {
            if i > 0 {
                out.extend_from_slice(&pause);
            }
            let one = Turn { say: Some(part.to_string()), ..t.clone() };
            out.extend(turn_audio(&one, base, pipers)?);
        }
        return Ok(out);
    }
    let voice = t.voice.as_deref().unwrap_or("espeak:en-us");
    if let Some(name) = voice.strip_prefix("piper:") {
        let slower = 150.0 / t.rate.unwrap_or(150).max(1) as f32;
        let volume = t.amplitude.unwrap_or(100) as f32 / 100.0;
        let speech = pipers.get(name)?.speak_with(text, slower, volume)?;
        return Ok(crate::media::resample::resample_all(&speech.samples, speech.rate, 8000)?);
    }
    let Some(v) = voice.strip_prefix("espeak:") else {
        anyhow::bail!("voice {voice:?}: use espeak:<voice> or piper:<voice> (piper:en_US-joe-medium)");
    };
    let mut tts = Espeak::default();
    tts.rate_wpm = t.rate.unwrap_or(150);
    tts.pitch = t.pitch.unwrap_or(45);
    tts.amplitude = t.amplitude.unwrap_or(100);
    let speech = tts.speak_with(text, v)?;
    Ok(crate::media::resample::resample_all(&speech.samples, speech.rate, 8000)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handover_steps_parse_and_refuse_unknown_keys() {
        let text = "caller = \"+1\"\n[[turns]]\ndtmf = \"1\"\n[handover]\nstay_s = 5\n[[handover.steps]]\nwait_for = \"agent_joined\"\nafter_ms = 10\nsay = \"hi\"\n";
        let s: Scenario = toml::from_str(text).unwrap();
        let h = s.handover.unwrap();
        assert_eq!((h.stay_s, h.steps[0].wait_for.as_str(), h.steps[0].after_ms), (5, "agent_joined", 10));
        assert_eq!(h.steps[0].say.as_deref(), Some("hi"));
        assert!(toml::from_str::<Scenario>(&text.replace("after_ms", "aftr_ms")).is_err());
    }

    fn turn(voice: &str) -> Turn {
        let text = format!("say = \"Where is my order?\"\nvoice = \"{voice}\"\n");
        toml::from_str(&text).unwrap()
    }

    #[test]
    fn piper_voice_turns_speak_at_the_phone_rate_and_unknown_engines_are_refused() {
        let base = Path::new(".");
        let mut pipers = PiperVoices::default();
        let err = turn_audio(&turn("festival:kal"), base, &mut pipers).unwrap_err().to_string();
        assert!(err.contains("piper:<voice>"), "{err}");
        let manifest = crate::models::Manifest::load_default().unwrap();
        if let Err(e) = manifest.require("en_US-joe-medium").and_then(|_| manifest.require("onnxruntime")) {
            eprintln!("skipping the piper: caller voice: {e}");
            return;
        }
        let audio = turn_audio(&turn("piper:en_US-joe-medium"), base, &mut pipers).unwrap();
        let secs = audio.len() as f32 / 8000.0;
        assert!((0.6..4.0).contains(&secs), "{secs} s at 8 kHz");
        assert!(audio.iter().fold(0.0f32, |m, x| m.max(x.abs())) > 0.3);
        let err = turn_audio(&turn("piper:no-such-voice"), base, &mut pipers).unwrap_err().to_string();
        assert!(err.contains("unknown model \"no-such-voice\""), "{err}");
    }
}
