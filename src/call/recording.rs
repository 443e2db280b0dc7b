//! Opt-in call recording: a two-channel 16-bit WAV at the transport's rate, the caller on the
//! left, everything the caller heard on the right (the assistant's voice, the agent's, hold
//! audio), and the call record with its transcript as JSON next to it
//! (`<dir>/<call id>.wav|.json`).
//!
//! The two sides run on the same 20 ms clock: the caller's frames as the transport delivers
//! them, and the call mixer's output for the caller each tick (silence included,
//! [`super::mixer::Mixer::take_heard`]). They are written side by side as both arrive; a side
//! that falls more than [`SKEW_S`] behind (a mixer that stopped ticking) is padded with silence.
//! A recording that cannot be written is logged and dropped; it never ends the call.
//!
//! Crash-safe: the WAV header is brought up to date every second of audio (a file cut short
//! by a crash still plays up to there), and on start-up `repair` sets the header of each call
//! the crash left open (the journal knows them) to the audio actually in its file and writes
//! the missing JSON from the call's journalled record.

use std::collections::VecDeque;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use super::{CallId, CallRecord};
use crate::media::{f32_to_i16, AudioFrame};

/// A recording in progress.
pub struct Recorder {
    dir: PathBuf,
    id: CallId,
    wav: Option<(u32, hound::WavWriter<BufWriter<File>>)>,
    failed: bool,
    /// Frames written since the header was last brought up to date.
    unflushed: u32,
    /// Each side's audio not yet written (waiting for the other side's).
    caller: VecDeque<f32>,
    heard: VecDeque<f32>,
}

/// How far one side may run ahead of the other before the other is padded with silence.
const SKEW_S: usize = 2;

impl Recorder {
    /// Record call `id` into `dir` (created if needed).
    pub fn new(dir: &Path, id: &CallId) -> Self {
        Self {
            dir: dir.to_path_buf(),
            id: id.clone(),
            wav: None,
            failed: false,
            unflushed: 0,
            caller: VecDeque::new(),
            heard: VecDeque::new(),
        }
    }

    fn path(&self, ext: &str) -> PathBuf {
        self.dir.join(format!("{}.{ext}", self.id))
    }

    /// Append the caller's audio and what the caller heard meanwhile (at the same rate). The
    /// first frame fixes the file's rate; frames at other rates (which no transport produces)
    /// are skipped.
    pub fn push(&mut self, frame: &AudioFrame, heard: Vec<f32>) {
        if self.failed {
            return;
        }
        if self.wav.is_none() {
            let spec = hound::WavSpec {
                channels: 2,
                sample_rate: frame.sample_rate,
                bits_per_sample: 16,
                sample_format: hound::SampleFormat::Int,
            };
            let opened = std::fs::create_dir_all(&self.dir)
                .map_err(hound::Error::IoError)
                .and_then(|_| hound::WavWriter::create(self.path("wav"), spec));
            match opened {
                Ok(w) => self.wav = Some((frame.sample_rate, w)),
                Err(e) => {
                    tracing::warn!(call = %self.id, "recording disabled for this call: {e}");
                    self.failed = true;
                    return;
                }
            }
        }
        let Some((rate, _)) = self.wav.as_ref() else { return };
        if *rate != frame.sample_rate {
            return;
        }
        let rate = *rate;
        self.caller.extend(frame.clone().into_mono());
        self.heard.extend(heard);
        // Both sides as far as both have audio; a side too far behind gets silence.
        let max = SKEW_S * rate as usize;
        let pad = |ahead: &VecDeque<f32>, behind: &mut VecDeque<f32>| {
            if ahead.len() > max + behind.len() {
                let n = ahead.len() - max - behind.len();
                behind.extend(std::iter::repeat_n(0.0, n));
            }
        };
        pad(&self.caller, &mut self.heard);
        pad(&self.heard, &mut self.caller);
        let n = self.caller.len().min(self.heard.len());
        self.write(n);
        let Some((_, w)) = self.wav.as_mut() else { return };
        // Every second of audio: the sizes in the header, and the data to the OS (a kill then
        // loses at most the last second; `repair` recovers even that).
        if self.unflushed >= rate {
            self.unflushed = 0;
            if let Err(e) = w.flush() {
                tracing::warn!(call = %self.id, "recording stopped: {e}");
                self.failed = true;
            }
        }
    }

    /// Write `n` frames from both sides.
    fn write(&mut self, n: usize) {
        let Some((_, w)) = self.wav.as_mut() else { return };
        self.unflushed += n as u32;
        for (l, r) in self.caller.drain(..n).zip(self.heard.drain(..n)) {
            if let Err(e) = w.write_sample(f32_to_i16(l)).and_then(|_| w.write_sample(f32_to_i16(r))) {
                tracing::warn!(call = %self.id, "recording stopped: {e}");
                self.failed = true;
                return;
            }
        }
    }

    /// Close the WAV and write the JSON record. Returns the WAV path if one was written.
    pub fn finish(mut self, record: &CallRecord) -> Option<PathBuf> {
        // The side that is ahead, with silence on the other.
        let n = self.caller.len().max(self.heard.len());
        self.caller.resize(n, 0.0);
        self.heard.resize(n, 0.0);
        if !self.failed {
            self.write(n);
        }
        let wav = self.wav.take().and_then(|(_, w)| match w.finalize() {
            Ok(()) => Some(self.path("wav")),
            Err(e) => {
                tracing::warn!(call = %self.id, "recording not finalised: {e}");
                None
            }
        });
        let json = serde_json::to_vec_pretty(record).expect("record serialises");
        if let Err(e) = std::fs::create_dir_all(&self.dir).and_then(|_| std::fs::write(self.path("json"), json)) {
            tracing::warn!(call = %self.id, "transcript not written: {e}");
        }
        wav
    }
}

/// Where a WAV file's sizes disagree with its length, what they should be: (offset of the
/// data chunk's size field, data bytes actually there). None for a consistent file or one
/// that is not a RIFF/WAVE this can read.
fn wav_fix(head: &[u8], file_len: u64) -> Option<(u64, u32)> {
    let u32_at = |i: usize| head.get(i..i + 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    if head.get(0..4) != Some(b"RIFF") || head.get(8..12) != Some(b"WAVE") {
        return None;
    }
    let (mut at, mut align) = (12usize, 2u64);
    while let (Some(id), Some(size)) = (head.get(at..at + 4), u32_at(at + 4)) {
        let body = at + 8;
        match id {
            b"fmt " => {
                let block = head.get(body + 12..body + 14).map(|b| u16::from_le_bytes([b[0], b[1]]));
                align = block.filter(|b| *b > 0).unwrap_or(2) as u64;
            }
            b"data" => {
                let present = file_len.checked_sub(body as u64)?;
                let present = (present - present % align).min(u32::MAX as u64 - body as u64) as u32;
                let riff_ok = u32_at(4) == Some(body as u32 - 8 + present);
                return (size != present || !riff_ok).then_some((at as u64 + 4, present));
            }
            _ => {}
        }
        at = body + size as usize + (size as usize & 1);
    }
    None
}

/// Set a recording's header to the audio in the file; true if it needed it.
fn repair_wav(path: &Path) -> std::io::Result<bool> {
    use std::io::{Read, Seek, SeekFrom, Write};
    let mut f = std::fs::OpenOptions::new().read(true).write(true).open(path)?;
    let len = f.metadata()?.len();
    let mut head = vec![0u8; 512.min(len as usize)];
    f.read_exact(&mut head)?;
    let Some((size_at, present)) = wav_fix(&head, len) else { return Ok(false) };
    let data_start = size_at + 4;
    f.set_len(data_start + present as u64)?;
    f.seek(SeekFrom::Start(4))?;
    f.write_all(&((data_start - 8) as u32 + present).to_le_bytes())?;
    f.seek(SeekFrom::Start(size_at))?;
    f.write_all(&present.to_le_bytes())?;
    f.sync_all()?;
    Ok(true)
}

/// On start-up, before any call: for each call a crash left open (`crashed`, from the
/// journal), fix its WAV's header and write its missing JSON. Only those files are read, not
/// the whole archive. Returns how many files were repaired or written.
pub fn repair(dir: &Path, crashed: &[CallRecord]) -> usize {
    let mut fixed = 0;
    for rec in crashed {
        let (wav, json) = (dir.join(format!("{}.wav", rec.info.id)), dir.join(format!("{}.json", rec.info.id)));
        if !wav.exists() {
            continue;
        }
        match repair_wav(&wav) {
            Ok(true) => {
                tracing::warn!(file = %wav.display(), "recording cut short by a crash: header repaired");
                fixed += 1;
            }
            Ok(false) => {}
            Err(err) => tracing::warn!(file = %wav.display(), "recording not repaired: {err}"),
        }
        if !json.exists() {
            let body = serde_json::to_vec_pretty(rec).expect("record serialises");
            match std::fs::write(&json, body) {
                Ok(()) => fixed += 1,
                Err(err) => tracing::warn!(file = %json.display(), "transcript not written: {err}"),
            }
        }
    }
    fixed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recording_killed_mid_call_plays_after_repair() {
        let dir = std::env::temp_dir().join(format!("switchboard-rec-{}-{}", std::process::id(), fastrand::u32(..)));
        let id = CallId("c-00000000abcd".into());
        let mut r = Recorder::new(&dir, &id);
        // 2.9 s at 8 kHz in 20 ms frames (the header is current at 2 s, some of the rest reaches
        // the file); then the process "dies" (no finish).
        for i in 0..145 {
            let samples: Vec<f32> = (0..160).map(|k| ((i * 160 + k) as f32 * 0.05).sin() * 0.3).collect();
            r.push(&AudioFrame::mono(samples, 8000, std::time::Duration::ZERO), vec![0.1; 160]);
        }
        std::mem::forget(r);
        let wav = dir.join(format!("{id}.wav"));
        let flushed = hound::WavReader::open(&wav).expect("valid up to the last flush").len();
        assert!(flushed >= 16_000, "{flushed} samples readable before repair");
        let mut rec = CallRecord::new(id.clone(), "+1".into(), crate::call::Transport::Sip, "t".into());
        rec.transcript.push(crate::call::Segment {
            text: "hi".into(),
            start_ms: 0,
            end_ms: 1,
            language: "en".into(),
            speaker: crate::call::Speaker::Caller,
        });
        assert_eq!(repair(&dir, &[rec.clone()]), 2, "the header and the JSON");
        let reader = hound::WavReader::open(&wav).unwrap();
        assert!(reader.len() > flushed, "{} > {flushed}: the audio after the last header update", reader.len());
        assert_eq!(reader.len() as usize * 2 + 44, std::fs::metadata(&wav).unwrap().len() as usize);
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join(format!("{id}.json"))).unwrap()).unwrap();
        assert_eq!(json["transcript"][0]["text"], "hi");
        // A consistent file is left alone; a second repair changes nothing.
        assert_eq!(repair(&dir, &[rec]), 0);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn the_caller_and_what_they_heard_are_recorded_side_by_side() {
        let dir = std::env::temp_dir().join(format!("switchboard-rec-{}-{}", std::process::id(), fastrand::u32(..)));
        let id = CallId("c-00000000beef".into());
        let mut r = Recorder::new(&dir, &id);
        let frame = || AudioFrame::mono(vec![0.5; 160], 8000, std::time::Duration::ZERO);
        // 1 s in step; then heard arrives a tick late for 1 s (jitter between the two sides).
        for _ in 0..50 {
            r.push(&frame(), vec![-0.5; 160]);
        }
        r.push(&frame(), Vec::new());
        for _ in 0..49 {
            r.push(&frame(), vec![-0.25; 160]);
        }
        // Then the transport stops taking (3 s of caller audio, nothing heard): past the skew
        // limit, the heard side is padded with silence.
        for _ in 0..150 {
            r.push(&frame(), Vec::new());
        }
        let rec = CallRecord::new(id.clone(), "+1".into(), crate::call::Transport::Sip, "t".into());
        let wav = r.finish(&rec).expect("written");
        let mut reader = hound::WavReader::open(&wav).unwrap();
        assert_eq!((reader.spec().channels, reader.spec().sample_rate), (2, 8000));
        let s: Vec<i16> = reader.samples::<i16>().map(Result::unwrap).collect();
        let (left, right): (Vec<i16>, Vec<i16>) = s.chunks(2).map(|c| (c[0], c[1])).unzip();
        assert_eq!(left.len(), 250 * 160, "every caller sample, once");
        assert!(left.iter().all(|&x| x == f32_to_i16(0.5)));
        assert!(right[..8000].iter().all(|&x| x == f32_to_i16(-0.5)), "in step");
        assert!(right[8000..8000 + 49 * 160].iter().all(|&x| x == f32_to_i16(-0.25)), "a tick late, then in order");
        assert_eq!(right.iter().filter(|&&x| x == 0).count(), 150 * 160 + 160, "silence where nothing was heard");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn headers_are_read_not_trusted() {
        let mut h = Vec::new();
        h.extend_from_slice(b"RIFF");
        h.extend_from_slice(&36u32.to_le_bytes());
        h.extend_from_slice(b"WAVEfmt ");
        h.extend_from_slice(&16u32.to_le_bytes());
        h.extend_from_slice(&[1, 0, 1, 0, 0x40, 0x1f, 0, 0, 0x80, 0x3e, 0, 0, 2, 0, 16, 0]);
        h.extend_from_slice(b"data");
        h.extend_from_slice(&0u32.to_le_bytes());
        assert_eq!(wav_fix(&h, 44 + 1001), Some((40, 1000)), "zero size, 1001 bytes there: 500 samples");
        assert_eq!(wav_fix(&h, 44), None, "empty and consistent");
        assert_eq!(wav_fix(b"not a wav at all", 1000), None);
        assert_eq!(wav_fix(&h[..30], 1000), None, "no data chunk in the head");
    }
}
