//! One mixer per call: every 20 ms it takes a frame from each leg that has audio, and gives
//! each leg the sum of the legs it hears ([`Matrix::hears`]), at that leg's own rate. It is
//! the call's only clock for outbound audio: one pacer task ticks it and every transport (SIP
//! RTP, WebRTC, media streams) sends what it is given, when it is given it.
//!
//! Every link (listener, speaker) has a gain that moves to 1 or 0 over one frame when the
//! matrix changes, and a leg that leaves fades out over its last frame: joining, leaving and
//! changing modes never cut anybody's audio mid-sample.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::mix::{LegId, Matrix, MixError, Mode, Role};
use super::Playout;
use crate::media::resample::StreamResampler;

/// Most live audio queued for a leg; beyond it the oldest goes (a late packet burst must not
/// turn into a growing delay in a live conversation).
const LIVE_MAX_MS: u64 = 240;

/// Outbound frames a leg's transport may fall behind by before frames are dropped.
const SINK_FRAMES: usize = 10;

/// What the caller heard, kept for the recording (drained every caller frame): 2 s.
const HEARD_MAX_S: usize = 2;

/// One 20 ms frame for a leg's transport.
#[derive(Debug, Clone)]
pub struct OutFrame {
    /// The mix at the leg's rate; `None` when nobody it hears had audio (the transport may
    /// send silence or nothing).
    pub samples: Option<Vec<f32>>,
    /// Bumps when the assistant's queued speech is dropped (barge-in): a media stream tells
    /// its provider to drop what it buffered.
    pub cleared: u64,
}

/// The transport's end of a leg's outbound audio.
pub struct Outbound {
    rx: mpsc::Receiver<OutFrame>,
    ready: Arc<AtomicBool>,
}

impl Outbound {
    /// The next frame (one every 20 ms while the call runs; `None` once it is over).
    pub async fn recv(&mut self) -> Option<OutFrame> {
        self.rx.recv().await
    }

    /// A frame if one is waiting (benchmarks and tests drain with it).
    pub fn try_recv(&mut self) -> Option<OutFrame> {
        self.rx.try_recv().ok()
    }

    /// The transport can play audio now (a caller's leg: the call's prompts start only then).
    pub fn ready(&self) {
        self.ready.store(true, Ordering::Relaxed);
    }
}

/// The mixer's end of a leg's outbound audio (made by [`outbound`]).
pub struct Sink {
    tx: mpsc::Sender<OutFrame>,
    ready: Arc<AtomicBool>,
}

/// A new leg's outbound channel: the sink goes to the mixer, the [`Outbound`] to the transport.
pub fn outbound() -> (Sink, Outbound) {
    let (tx, rx) = mpsc::channel(SINK_FRAMES);
    let ready = Arc::new(AtomicBool::new(false));
    (Sink { tx, ready: ready.clone() }, Outbound { rx, ready })
}

/// Where a leg's audio comes from.
enum Source {
    /// Pushed by its transport (a person's microphone).
    Live,
    /// A queue of clips (the assistant's voice, the call's prompts), at the mixer's rate.
    Queue(Arc<Playout>),
    /// Generated hold audio.
    Hold(HoldTone),
}

/// Soft hold audio: a two-note chime every 4 s, quiet enough to talk over.
struct HoldTone {
    t: u64,
}

impl HoldTone {
    fn next(&mut self, rate: u32, n: usize) -> Vec<f32> {
        let period = 4 * rate as u64;
        (0..n)
            .map(|_| {
                let i = self.t % period;
                self.t += 1;
                let secs = i as f32 / rate as f32;
                let (f, start) = if secs < 0.4 { (523.25, 0.0) } else { (659.25, 0.4) };
                if secs >= 0.8 {
                    return 0.0;
                }
                let local = secs - start;
                let env = (local / 0.4 * std::f32::consts::PI).sin();
                0.08 * env * (2.0 * std::f32::consts::PI * f * secs).sin()
            })
            .collect()
    }
}

/// The next `n` samples of `q`, padded with silence.
fn take_frame(q: &mut VecDeque<f32>, n: usize) -> Vec<f32> {
    let k = n.min(q.len());
    let mut f: Vec<f32> = q.drain(..k).collect();
    f.resize(n, 0.0);
    f
}

/// Drop the oldest of `q` beyond `max` samples.
fn keep_last(q: &mut VecDeque<f32>, max: usize) {
    if q.len() > max {
        let extra = q.len() - max;
        q.drain(..extra);
    }
}

/// A converter from `from` to `to` Hz; `None` when the rates are equal (or the resampler cannot
/// be made, and the audio passes as it is).
fn converter(from: u32, to: u32) -> Option<StreamResampler> {
    (from != to).then(|| StreamResampler::new(from, to).ok()).flatten()
}

struct Leg {
    source: Source,
    rate: u32,
    /// Live audio at the mixer's rate.
    input: VecDeque<f32>,
    in_rs: Option<StreamResampler>,
    out_rs: Option<StreamResampler>,
    /// Converted output waiting for the next frames (leg rate).
    out_fifo: VecDeque<f32>,
    sink: Option<Sink>,
    /// Leaving: it fades out over this tick and is then removed.
    leaving: bool,
    /// Frames its transport could not take.
    dropped: u64,
}

/// A call's mixer (see the module docs). Shared by the call's actor (legs, modes, live audio
/// in) and its pacer (ticks).
pub struct Mixer {
    rate: u32,
    matrix: Matrix,
    legs: HashMap<LegId, Leg>,
    /// Current gain of each (listener, speaker) link.
    gains: HashMap<(LegId, LegId), f32>,
    /// The caller's leg: the mixer waits for its transport before it plays anything.
    caller: Option<LegId>,
    /// The assistant's queue, whose clears reach the media streams.
    assistant: Option<Arc<Playout>>,
    /// What the caller heard, when the call is recorded.
    heard: Option<VecDeque<f32>>,
    /// Scratch: this tick's frame of each speaking leg.
    frames: Vec<(LegId, Vec<f32>)>,
}

impl Mixer {
    /// A mixer at `rate` Hz (the caller's transport rate, so a call with the assistant only
    /// converts nothing).
    pub fn new(rate: u32) -> Self {
        Self {
            rate,
            matrix: Matrix::default(),
            legs: HashMap::new(),
            gains: HashMap::new(),
            caller: None,
            assistant: None,
            heard: None,
            frames: Vec::new(),
        }
    }

    /// Keep what the caller hears, for [`Mixer::take_heard`] (recorded calls only).
    pub fn record_heard(&mut self) {
        self.heard = Some(VecDeque::new());
    }

    /// What the caller heard since the last call, at the mixer's rate (silence included).
    pub fn take_heard(&mut self) -> Vec<f32> {
        self.heard.as_mut().map(|h| h.drain(..).collect()).unwrap_or_default()
    }

    pub fn matrix(&self) -> &Matrix {
        &self.matrix
    }

    /// Samples per 20 ms frame at `rate`.
    fn frame_len(rate: u32) -> usize {
        rate as usize / 50
    }

    /// A leg whose audio comes from `source` and, with a sink, goes out at `rate`.
    fn add(&mut self, role: Role, mode: Mode, source: Source, rate: u32, sink: Option<Sink>) -> LegId {
        let id = self.matrix.add(role, mode);
        let leg = Leg {
            source,
            rate,
            input: VecDeque::new(),
            in_rs: converter(rate, self.rate),
            out_rs: converter(self.rate, rate),
            out_fifo: VecDeque::new(),
            sink,
            leaving: false,
            dropped: 0,
        };
        self.legs.insert(id, leg);
        id
    }

    /// The caller's leg: what they say is pushed with [`Mixer::push`]; what they hear goes to
    /// the returned [`Outbound`] at `rate`.
    pub fn add_caller(&mut self, rate: u32) -> (LegId, Outbound) {
        let (sink, out) = outbound();
        let id = self.add(Role::Caller, Mode::Talk, Source::Live, rate, Some(sink));
        self.caller = Some(id);
        (id, out)
    }

    /// The assistant's voice (and the call's prompts): clips queued on `playout`, at the
    /// mixer's rate.
    pub fn add_assistant(&mut self, playout: Arc<Playout>) -> LegId {
        self.assistant = Some(playout.clone());
        self.add(Role::Assistant, Mode::Talk, Source::Queue(playout), self.rate, None)
    }

    /// A person (agent or supervisor) whose transport runs at `rate`.
    pub fn add_person(&mut self, role: Role, mode: Mode, rate: u32) -> (LegId, Outbound) {
        let (sink, out) = outbound();
        (self.add_person_with(role, mode, rate, sink), out)
    }

    /// A person whose transport made its own channel (an agent's browser, set up before the
    /// call takes them on).
    pub fn add_person_with(&mut self, role: Role, mode: Mode, rate: u32, sink: Sink) -> LegId {
        self.add(role, mode, Source::Live, rate, Some(sink))
    }

    /// Hold audio, heard by held legs.
    pub fn add_hold(&mut self) -> LegId {
        self.add(Role::Hold, Mode::Talk, Source::Hold(HoldTone { t: 0 }), self.rate, None)
    }

    /// Take a leg off the call: it fades out over the next tick, then goes (its transport's
    /// [`Outbound`] then ends).
    pub fn remove(&mut self, id: LegId) {
        if let Some(l) = self.legs.get_mut(&id) {
            l.leaving = true;
        }
    }

    pub fn set_mode(&mut self, id: LegId, mode: Mode) -> Result<(), MixError> {
        self.matrix.set_mode(id, mode)
    }

    /// Change the matrix with one of its operations (take over, consult...).
    pub fn with_matrix<T>(&mut self, f: impl FnOnce(&mut Matrix) -> T) -> T {
        f(&mut self.matrix)
    }

    /// Live audio from a leg's transport, at `rate`. Dropped unless somebody hears the leg
    /// (a caller talking only to the assistant costs nothing here).
    pub fn push(&mut self, id: LegId, samples: &[f32], rate: u32) {
        let m = &self.matrix;
        if !self.legs.iter().any(|(l, leg)| leg.sink.is_some() && !leg.leaving && m.hears(*l, id)) {
            return;
        }
        let Some(leg) = self.legs.get_mut(&id) else { return };
        if rate != leg.rate {
            // A transport changed its rate mid-call (none does): start the conversion afresh.
            leg.rate = rate;
            leg.in_rs = converter(rate, self.rate);
        }
        match leg.in_rs.as_mut() {
            Some(rs) => leg.input.extend(rs.push(samples)),
            None => leg.input.extend(samples.iter().copied()),
        }
        keep_last(&mut leg.input, (LIVE_MAX_MS * self.rate as u64 / 1000) as usize);
    }

    /// Whether the caller's transport is ready to play (before it, nothing is taken from any
    /// queue: the greeting waits for the caller).
    fn caller_ready(&self) -> bool {
        let Some(c) = self.caller else { return true };
        self.legs.get(&c).and_then(|l| l.sink.as_ref()).is_none_or(|s| s.ready.load(Ordering::Relaxed))
    }

    /// One 20 ms step: every leg's frame in, every leg's mix out.
    pub fn tick(&mut self) {
        if !self.caller_ready() {
            return;
        }
        let n = Self::frame_len(self.rate);
        let rate = self.rate;
        let mut frames = std::mem::take(&mut self.frames);
        frames.clear();
        for (&id, leg) in self.legs.iter_mut() {
            let frame = match &mut leg.source {
                Source::Live if leg.input.is_empty() => None,
                Source::Live => Some(take_frame(&mut leg.input, n)),
                Source::Queue(p) => p.take(n),
                Source::Hold(h) => Some(h.next(rate, n)),
            };
            if let Some(f) = frame {
                frames.push((id, f));
            }
        }
        let cleared = self.assistant.as_ref().map(|p| p.generation()).unwrap_or(0);
        let listeners: Vec<LegId> = self.legs.iter().filter(|(_, l)| l.sink.is_some()).map(|(id, _)| *id).collect();
        for l in listeners {
            let mix = self.mix_for(l, &frames, n);
            if Some(l) == self.caller {
                if let Some(h) = self.heard.as_mut() {
                    match &mix {
                        Some(m) => h.extend(m.iter().copied()),
                        None => h.extend(std::iter::repeat_n(0.0, n)),
                    }
                    keep_last(h, HEARD_MAX_S * rate as usize);
                }
            }
            let leg = self.legs.get_mut(&l).expect("listener");
            let samples = match (mix, leg.out_rs.as_mut()) {
                (None, _) => {
                    leg.out_fifo.clear();
                    None
                }
                (Some(m), None) => Some(m),
                (Some(m), Some(rs)) => {
                    leg.out_fifo.extend(rs.push(&m));
                    Some(take_frame(&mut leg.out_fifo, Self::frame_len(leg.rate)))
                }
            };
            let Some(sink) = leg.sink.as_ref() else { continue };
            if sink.tx.try_send(OutFrame { samples, cleared }).is_err() {
                leg.dropped += 1;
            }
        }
        // Legs that faded out this tick go now.
        let gone: Vec<LegId> = self.legs.iter().filter(|(_, l)| l.leaving).map(|(id, _)| *id).collect();
        for id in gone {
            if let Some(l) = self.legs.remove(&id) {
                if l.dropped > 0 {
                    tracing::debug!(leg = id, dropped = l.dropped, "leg's transport fell behind");
                }
            }
            self.matrix.remove(id);
            self.gains.retain(|(a, b), _| *a != id && *b != id);
        }
        self.frames = frames;
    }

    /// The sum of what `listener` hears this tick, each link ramped from its last gain to its
    /// new one; `None` when nothing it hears (or fades from) had audio.
    fn mix_for(&mut self, listener: LegId, frames: &[(LegId, Vec<f32>)], n: usize) -> Option<Vec<f32>> {
        let mut out: Option<Vec<f32>> = None;
        let listener_leaving = self.legs.get(&listener).is_some_and(|l| l.leaving);
        for (&speaker, leg) in &self.legs {
            let hears = !listener_leaving && !leg.leaving && self.matrix.hears(listener, speaker);
            let target = if hears { 1.0 } else { 0.0 };
            let g = self.gains.entry((listener, speaker)).or_insert(0.0);
            let from = *g;
            let Some((_, f)) = frames.iter().find(|(id, _)| *id == speaker) else {
                // A silent speaker keeps its gain while heard (nothing to fade), and a link
                // that turned off while silent has nothing to fade either.
                if !hears {
                    *g = 0.0;
                }
                continue;
            };
            *g = target;
            if from == 0.0 && target == 0.0 {
                continue;
            }
            let o = out.get_or_insert_with(|| vec![0.0; n]);
            if from == target {
                for (o, s) in o.iter_mut().zip(f) {
                    *o += s;
                }
            } else {
                let step = (target - from) / n as f32;
                for (i, (o, s)) in o.iter_mut().zip(f).enumerate() {
                    *o += s * (from + step * (i + 1) as f32);
                }
            }
        }
        if let Some(o) = out.as_mut() {
            for x in o.iter_mut() {
                *x = x.clamp(-1.0, 1.0);
            }
        }
        out
    }
}

/// A call's mixer behind its lock, with the pacer that ticks it.
pub type SharedMixer = Arc<Mutex<Mixer>>;

/// Tick `mixer` every 20 ms until `stop`: the call's one outbound clock.
pub async fn pace(mixer: SharedMixer, stop: CancellationToken) {
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    loop {
        tokio::select! {
            biased;
            _ = stop.cancelled() => break,
            _ = tick.tick() => mixer.lock().unwrap_or_else(|e| e.into_inner()).tick(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(f: f32, rate: u32, start: usize, n: usize) -> Vec<f32> {
        (start..start + n).map(|i| 0.25 * (2.0 * std::f32::consts::PI * f * i as f32 / rate as f32).sin()).collect()
    }

    fn drain(o: &mut Outbound) -> Vec<Option<Vec<f32>>> {
        let mut v = Vec::new();
        while let Ok(f) = o.rx.try_recv() {
            v.push(f.samples);
        }
        v
    }

    #[test]
    fn nothing_plays_until_the_callers_transport_is_ready() {
        let mut m = Mixer::new(8000);
        let (_, mut out) = m.add_caller(8000);
        let p = Arc::new(Playout::new(8000));
        m.add_assistant(p.clone());
        p.play(&[0.5; 1600], 8000);
        m.tick();
        assert!(drain(&mut out).is_empty());
        assert_eq!(p.pending_ms(), 200, "the greeting waits");
        out.ready();
        m.tick();
        let got = drain(&mut out);
        assert_eq!(got.len(), 1);
        let f = got[0].as_ref().unwrap();
        assert_eq!(f.len(), 160);
        assert!(f[0] < 0.01 && (f[159] - 0.5).abs() < 1e-6, "a new link ramps in over its first frame");
        m.tick();
        assert_eq!(drain(&mut out)[0].as_deref(), Some(&[0.5; 160][..]));
    }

    #[test]
    fn each_leg_hears_the_others_at_its_own_rate() {
        let mut m = Mixer::new(8000);
        let (caller, mut c_out) = m.add_caller(8000);
        let (agent, mut a_out) = m.add_person(Role::Agent, Mode::Talk, 48_000);
        c_out.ready();
        a_out.ready();
        for i in 0..10 {
            m.push(caller, &tone(400.0, 8000, i * 160, 160), 8000);
            m.push(agent, &tone(600.0, 48_000, i * 960, 960), 48_000);
            m.tick();
        }
        let to_agent = drain(&mut a_out);
        let to_caller = drain(&mut c_out);
        assert_eq!(to_agent.len(), 10);
        assert!(to_agent.iter().all(|f| f.as_ref().is_some_and(|f| f.len() == 960)));
        assert!(to_caller.iter().all(|f| f.as_ref().is_some_and(|f| f.len() == 160)));
        let energy = |fs: &[Option<Vec<f32>>]| fs[5..].iter().flatten().flatten().map(|x| x * x).sum::<f32>();
        assert!(energy(&to_agent) > 1.0 && energy(&to_caller) > 1.0);
    }

    #[test]
    fn a_leg_nobody_hears_takes_no_audio_in() {
        let mut m = Mixer::new(8000);
        let (caller, out) = m.add_caller(8000);
        out.ready();
        m.add_assistant(Arc::new(Playout::new(8000)));
        m.push(caller, &[0.1; 160], 8000);
        assert!(m.legs[&caller].input.is_empty(), "the assistant hears the caller through the pipeline, not here");
        let (agent, _out) = m.add_person(Role::Agent, Mode::Listen, 8000);
        m.push(caller, &[0.1; 160], 8000);
        assert_eq!(m.legs[&caller].input.len(), 160);
        m.remove(agent);
        m.tick();
        m.push(caller, &[0.1; 160], 8000);
        assert!(m.legs[&caller].input.is_empty());
    }

    /// The caller hears the agent's tone without a gap or a click while a supervisor joins,
    /// listens, barges (then is heard, ramped in) and leaves.
    #[test]
    fn joining_and_leaving_never_glitches_the_others() {
        let mut m = Mixer::new(8000);
        let (_, mut c_out) = m.add_caller(8000);
        let (agent, a_out) = m.add_person(Role::Agent, Mode::Talk, 8000);
        c_out.ready();
        a_out.ready();
        let mut sup = None;
        let mut heard = Vec::new();
        for i in 0..60 {
            match i {
                10 => sup = Some(m.add_person(Role::Supervisor, Mode::Listen, 48_000)),
                20 => m.set_mode(sup.as_ref().unwrap().0, Mode::Talk).unwrap(),
                40 => m.remove(sup.as_ref().unwrap().0),
                _ => {}
            }
            m.push(agent, &tone(440.0, 8000, i * 160, 160), 8000);
            if let Some((s, _)) = sup.as_ref().filter(|_| (20..40).contains(&i)) {
                m.push(*s, &tone(700.0, 48_000, i * 960, 960), 48_000);
            }
            m.tick();
            heard.extend(drain(&mut c_out).into_iter().map(|f| f.unwrap_or_else(|| vec![0.0; 160])));
        }
        let heard: Vec<f32> = heard.into_iter().flatten().collect();
        let agent_alone = tone(440.0, 8000, 0, 60 * 160);
        // Before the barge and after the supervisor left: exactly the agent's tone, after its
        // first ramped frame.
        for i in (160..20 * 160).chain(42 * 160..60 * 160) {
            assert!((heard[i] - agent_alone[i]).abs() < 1e-4, "sample {i}: {} vs {}", heard[i], agent_alone[i]);
        }
        // No click anywhere: the largest step between samples stays that of two summed tones.
        let max_step = heard.windows(2).map(|w| (w[1] - w[0]).abs()).fold(0.0, f32::max);
        let tone_step = 0.25 * 2.0 * std::f32::consts::PI * (440.0 + 700.0) / 8000.0;
        assert!(max_step <= tone_step * 1.1, "max step {max_step} > {tone_step}");
        // The barge was heard.
        let barge = &heard[22 * 160..38 * 160];
        let diff: f32 = barge.iter().zip(&agent_alone[22 * 160..38 * 160]).map(|(a, b)| (a - b).abs()).sum();
        assert!(diff > 10.0, "the supervisor was not heard: {diff}");
        assert!(!m.matrix().contains(sup.unwrap().0), "the supervisor's leg is gone");
    }

    /// Secure card capture puts the caller in `Listen`: their key tones reach no other leg,
    /// while they still hear the agent.
    #[test]
    fn a_listening_caller_is_heard_by_nobody_and_still_hears() {
        let mut m = Mixer::new(8000);
        let (caller, mut c_out) = m.add_caller(8000);
        let (agent, mut a_out) = m.add_person(Role::Agent, Mode::Talk, 48_000);
        let (_, mut s_out) = m.add_person(Role::Supervisor, Mode::Listen, 48_000);
        for o in [&c_out, &a_out, &s_out] {
            o.ready();
        }
        m.set_mode(caller, Mode::Listen).unwrap();
        let energy = |o: &mut Outbound| drain(o).into_iter().flatten().flatten().map(|x| x * x).sum::<f32>();
        let (mut to_agent, mut to_sup, mut to_caller) = (0.0, 0.0, 0.0);
        for i in 0..25 {
            m.push(caller, &tone(941.0, 8000, i * 160, 160), 8000);
            m.push(agent, &tone(300.0, 48_000, i * 960, 960), 48_000);
            m.tick();
            to_agent += energy(&mut a_out);
            to_sup += energy(&mut s_out);
            to_caller += energy(&mut c_out);
        }
        assert_eq!((to_agent, m.legs[&caller].input.len()), (0.0, 0), "no caller audio reaches the agent");
        assert!(to_sup > 100.0, "the supervisor hears the agent: {to_sup}");
        assert!(to_caller > 10.0, "the caller hears the agent: {to_caller}");
    }

    #[test]
    fn held_legs_hear_the_hold_audio_during_a_consult() {
        let mut m = Mixer::new(8000);
        let (caller, mut c_out) = m.add_caller(8000);
        let (a, mut a_out) = m.add_person(Role::Agent, Mode::Talk, 8000);
        let (b, mut b_out) = m.add_person(Role::Agent, Mode::Out, 8000);
        for o in [&c_out, &a_out, &b_out] {
            o.ready();
        }
        m.add_hold();
        m.with_matrix(|x| x.consult(a, b)).unwrap();
        let energy = |o: &mut Outbound| drain(o).into_iter().flatten().flatten().map(|x| x * x).sum::<f32>();
        let (mut to_caller, mut to_b, mut to_a) = (0.0, 0.0, 0.0);
        for i in 0..50 {
            m.push(a, &tone(440.0, 8000, i * 160, 160), 8000);
            m.push(caller, &tone(300.0, 8000, i * 160, 160), 8000);
            m.tick();
            (to_caller, to_b, to_a) =
                (to_caller + energy(&mut c_out), to_b + energy(&mut b_out), to_a + energy(&mut a_out));
        }
        // The caller hears only the quiet chime; B hears A's tone; A hears neither caller nor chime.
        assert!(to_caller > 1.0 && to_caller < 0.1 * to_b, "{to_caller} vs {to_b}");
        assert!(to_b > 200.0, "{to_b}");
        assert_eq!(to_a, 0.0);
    }
}
