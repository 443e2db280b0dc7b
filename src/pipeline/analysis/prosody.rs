//! Prosodic features of one turn, computed from 16 kHz audio: pitch by YIN (de Cheveigné &
//! Kawahara 2002), its level, range and variability in semitones; loudness and its dynamics;
//! the share of pauses; and, given the recogniser's words, the speaking rate.

/// Analysis frame and hop at 16 kHz.
const RATE: f32 = 16_000.0;
const FRAME: usize = 640; // 40 ms: two periods of a 50 Hz voice
const HOP: usize = 320; // 20 ms
const F_MIN: f32 = 60.0;
const F_MAX: f32 = 450.0;
/// YIN absolute threshold on the cumulative mean normalised difference.
const YIN_THRESHOLD: f32 = 0.15;
/// Frames quieter than this (dBFS) are pauses, not speech, on a normally levelled line ...
const SILENCE_DB: f32 = -45.0;
/// ... or, on a quiet one, frames this far below the turn's speech level (its 90th percentile
/// frame), down to digital silence.
const PAUSE_BELOW_SPEECH_DB: f32 = 25.0;
const ABSOLUTE_SILENCE_DB: f32 = -70.0;

/// Features of one turn. Pitch values are `None` when too few frames were voiced.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Prosody {
    pub duration_ms: u64,
    /// Frames analysed (20 ms hop).
    pub frames: usize,
    /// Share of frames with a pitch.
    pub voiced_ratio: f32,
    /// Median pitch (Hz) of voiced frames.
    pub pitch_hz: Option<f32>,
    /// 10th-90th percentile pitch range, semitones.
    pub pitch_range_st: Option<f32>,
    /// Standard deviation of pitch, semitones.
    pub pitch_sd_st: Option<f32>,
    /// Mean level of non-silent frames, dBFS.
    pub level_db: f32,
    /// Standard deviation of that level, dB.
    pub level_sd_db: f32,
    /// Loudest frame, dBFS.
    pub peak_db: f32,
    /// Share of frames below the silence floor.
    pub pause_ratio: f32,
    /// Share of samples at full scale (clipping).
    pub clipped_ratio: f32,
    /// Words per second of speech, when words are known.
    pub words_per_s: Option<f32>,
    /// Non-silent audio, ms (for the speaking rate once the words are known).
    pub speech_ms: u64,
    /// Time spent computing these features, microseconds.
    pub compute_us: u64,
    /// The learned classifiers' verdicts on the turn (when they are installed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub voice: Option<super::voice::VoiceScores>,
}

impl Prosody {
    /// Whether the turn held enough voiced speech (a pitch on 15+ frames, 0.3 s) for prosody
    /// and language evidence to mean anything. Noise, hiss and clicks do not.
    pub fn has_voice(&self) -> bool {
        self.voiced_ratio * self.frames as f32 >= 15.0 && self.pitch_hz.is_some()
    }

    /// Fill in the speaking rate from the recognised word count.
    pub fn set_words(&mut self, words: usize) {
        self.words_per_s = (self.speech_ms >= 500).then(|| words as f32 * 1000.0 / self.speech_ms as f32);
    }
}

/// YIN pitch of one frame, or `None` if unvoiced.
pub fn yin(frame: &[f32]) -> Option<f32> {
    let tau_min = (RATE / F_MAX) as usize;
    let tau_max = ((RATE / F_MIN) as usize).min(frame.len() / 2);
    if tau_max <= tau_min + 2 {
        return None;
    }
    let w = frame.len() - tau_max;
    let mut d = vec![0.0f32; tau_max + 1];
    for (tau, dt) in d.iter_mut().enumerate().skip(1) {
        let mut s = 0.0;
        for j in 0..w {
            let x = frame[j] - frame[j + tau];
            s += x * x;
        }
        *dt = s;
    }
    // Cumulative mean normalised difference.
    let mut cmnd = vec![1.0f32; tau_max + 1];
    let mut running = 0.0;
    for tau in 1..=tau_max {
        running += d[tau];
        cmnd[tau] = if running > 0.0 { d[tau] * tau as f32 / running } else { 1.0 };
    }
    let mut tau = tau_min;
    while tau < tau_max {
        if cmnd[tau] < YIN_THRESHOLD {
            while tau + 1 < tau_max && cmnd[tau + 1] < cmnd[tau] {
                tau += 1;
            }
            // Parabolic interpolation around the minimum.
            let (a, b, c) = (cmnd[tau - 1], cmnd[tau], cmnd[tau + 1]);
            let denom = a - 2.0 * b + c;
            let shift = if denom.abs() > 1e-9 { 0.5 * (a - c) / denom } else { 0.0 };
            let t = tau as f32 + shift.clamp(-1.0, 1.0);
            return Some(RATE / t);
        }
        tau += 1;
    }
    None
}

fn db(rms: f32) -> f32 {
    20.0 * rms.max(1e-6).log10()
}

fn semitones(hz: f32, reference: f32) -> f32 {
    12.0 * (hz / reference).log2()
}

fn percentile(sorted: &[f32], p: f32) -> f32 {
    let i = ((sorted.len() - 1) as f32 * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn mean_sd(v: &[f32]) -> (f32, f32) {
    if v.is_empty() {
        return (0.0, 0.0);
    }
    let m = v.iter().sum::<f32>() / v.len() as f32;
    let var = v.iter().map(|x| (x - m) * (x - m)).sum::<f32>() / v.len() as f32;
    (m, var.sqrt())
}

/// Analyse a turn of 16 kHz mono audio; `words` is the recognised word count.
pub fn analyse(audio: &[f32], words: Option<usize>) -> Prosody {
    let started = std::time::Instant::now();
    let duration_ms = (audio.len() as f32 / RATE * 1000.0) as u64;
    let mut levels = Vec::new();
    let mut pitches = Vec::new();
    let mut frames = 0usize;
    let mut silent = 0usize;
    let frame_levels: Vec<f32> = (0..)
        .map(|i| i * HOP)
        .take_while(|start| start + FRAME <= audio.len())
        .map(|start| db((audio[start..start + FRAME].iter().map(|x| x * x).sum::<f32>() / FRAME as f32).sqrt()))
        .collect();
    // Pauses are judged against the turn's own speech level (its loud frames), so a quiet line
    // or a soft-spoken caller is not all "pause"; digital silence is a pause whatever the level.
    let floor = {
        let mut sorted = frame_levels.clone();
        sorted.sort_by(|a, b| a.total_cmp(b));
        let speech_level = if sorted.is_empty() { SILENCE_DB } else { percentile(&sorted, 0.9) };
        (speech_level - PAUSE_BELOW_SPEECH_DB).clamp(ABSOLUTE_SILENCE_DB, SILENCE_DB)
    };
    for (i, &level) in frame_levels.iter().enumerate() {
        frames += 1;
        if level < floor {
            silent += 1;
        } else {
            levels.push(level);
            if let Some(p) = yin(&audio[i * HOP..i * HOP + FRAME]) {
                pitches.push(p);
            }
        }
    }
    let clipped = audio.iter().filter(|x| x.abs() >= 0.999).count();
    let (level_db, level_sd_db) = mean_sd(&levels);
    let peak_db = levels.iter().copied().fold(f32::MIN, f32::max).max(-120.0);
    let voiced_ratio = if frames == 0 { 0.0 } else { pitches.len() as f32 / frames as f32 };
    let (pitch_hz, pitch_range_st, pitch_sd_st) = if pitches.len() >= 10 {
        pitches.sort_by(|a, b| a.total_cmp(b));
        let median = percentile(&pitches, 0.5);
        let st: Vec<f32> = pitches.iter().map(|&p| semitones(p, median)).collect();
        let range = semitones(percentile(&pitches, 0.9), percentile(&pitches, 0.1));
        (Some(median), Some(range), Some(mean_sd(&st).1))
    } else {
        (None, None, None)
    };
    let speech_s = (frames - silent) as f32 * HOP as f32 / RATE;
    let mut p = Prosody {
        duration_ms,
        frames,
        voiced_ratio,
        pitch_hz,
        pitch_range_st,
        pitch_sd_st,
        level_db: if levels.is_empty() { -120.0 } else { level_db },
        level_sd_db,
        peak_db,
        pause_ratio: if frames == 0 { 1.0 } else { silent as f32 / frames as f32 },
        clipped_ratio: if audio.is_empty() { 0.0 } else { clipped as f32 / audio.len() as f32 },
        words_per_s: None,
        speech_ms: (speech_s * 1000.0) as u64,
        compute_us: 0,
        voice: None,
    };
    if let Some(w) = words {
        p.set_words(w);
    }
    p.compute_us = started.elapsed().as_micros() as u64;
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(hz: f32, secs: f32, amp: f32) -> Vec<f32> {
        // A voice-like harmonic tone: fundamental plus two overtones.
        (0..(secs * RATE) as usize)
            .map(|i| {
                let t = i as f32 / RATE;
                let w = std::f32::consts::TAU * hz * t;
                amp * (w.sin() + 0.5 * (2.0 * w).sin() + 0.25 * (3.0 * w).sin()) / 1.75
            })
            .collect()
    }

    #[test]
    fn yin_finds_the_fundamental() {
        for hz in [85.0, 120.0, 210.0, 330.0] {
            let p = yin(&tone(hz, 0.04, 0.5)).unwrap();
            assert!((p - hz).abs() / hz < 0.02, "{hz} -> {p}");
        }
        let noise: Vec<f32> = (0..FRAME).map(|_| fastrand::f32() - 0.5).collect();
        assert!(yin(&noise).is_none(), "white noise has no pitch");
    }

    #[test]
    fn features_separate_level_pitch_and_pauses() {
        let mut audio = tone(120.0, 1.0, 0.1);
        audio.extend(vec![0.0; 16_000]);
        audio.extend(tone(240.0, 1.0, 0.5));
        let p = analyse(&audio, Some(6));
        assert!((p.pause_ratio - 0.33).abs() < 0.05, "{p:?}");
        // Pitch spans one octave: 12 semitones from the 10th to the 90th percentile.
        assert!((p.pitch_range_st.unwrap() - 12.0).abs() < 1.0, "{p:?}");
        assert!(p.level_sd_db > 5.0, "{p:?}");
        assert!((p.words_per_s.unwrap() - 3.0).abs() < 0.3, "{p:?}");
        let silence = analyse(&vec![0.0; 16_000], Some(0));
        assert_eq!((silence.pitch_hz, silence.words_per_s), (None, None));
        assert_eq!(silence.pause_ratio, 1.0);
        assert!(analyse(&[], None).frames == 0);
    }
}
