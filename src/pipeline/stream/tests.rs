//! The stream task on a fake recogniser and VAD: events, partials, finals and decodes ahead.

use super::super::asr::{RecognizerSession, SpeechRecognizer, Word};
use super::super::pool::InferencePool;
use super::super::vad::FakeVadFactory;
use super::super::PipelineConfig;
use super::*;

#[test]
fn an_expected_language_is_believed_unless_the_recogniser_is_sure_of_another() {
    let guess = |top: &[(&str, f32)]| LanguageGuess {
        language: top[0].0.into(),
        prob: top[0].1,
        top: top.iter().map(|(l, p)| (l.to_string(), *p)).collect(),
    };
    // Swedish over G.711 heard as Thai: the Swedish customer's language wins, weakly.
    let g = believe_expected(guess(&[("th", 0.72), ("en", 0.18), ("sv", 0.01)]), Some("sv"));
    assert_eq!(g.language, "sv");
    assert!((g.prob - 0.28).abs() < 1e-5, "{g:?}");
    assert_eq!(g.top.iter().map(|(l, _)| l.as_str()).collect::<Vec<_>>(), ["sv", "th", "en"]);
    // Its own probability counts when higher than what the winner left.
    assert!((believe_expected(guess(&[("no", 0.5), ("sv", 0.45)]), Some("sv")).prob - 0.5).abs() < 1e-5);
    // A recogniser sure of English overrules a Swedish profile; no expectation, no change.
    assert_eq!(believe_expected(guess(&[("en", 0.95), ("sv", 0.02)]), Some("sv")).language, "en");
    assert_eq!(believe_expected(guess(&[("th", 0.72)]), None).language, "th");
}

/// Recognises "hello" in any audio, "hello world" once it is over two seconds long: partials
/// of a short prefix differ from the whole-turn final, as with a real model.
/// Its first `failures` decodes fail.
#[derive(Default)]
struct FakeRecognizer {
    failures: Arc<std::sync::atomic::AtomicUsize>,
}
struct FakeSession {
    failures: Arc<std::sync::atomic::AtomicUsize>,
}

impl SpeechRecognizer for FakeRecognizer {
    fn name(&self) -> &str {
        "fake"
    }
    fn multilingual(&self) -> bool {
        false
    }
    fn session(&self) -> Result<Box<dyn RecognizerSession>, AsrError> {
        Ok(Box::new(FakeSession { failures: self.failures.clone() }))
    }
}

impl RecognizerSession for FakeSession {
    fn decode(&mut self, req: &DecodeRequest) -> Result<Hypothesis, AsrError> {
        use std::sync::atomic::Ordering::SeqCst;
        if self.failures.fetch_update(SeqCst, SeqCst, |n| n.checked_sub(1)).is_ok() {
            return Err(AsrError::Decode("fake failure".into()));
        }
        let ms = req.audio.len() as u64 / 16;
        let mut words = vec![Word { text: " hello".into(), start_ms: 300, end_ms: 700, prob: 0.9 }];
        if ms > 2000 {
            words.push(Word { text: " world".into(), start_ms: 1500, end_ms: 2000, prob: 0.9 });
        }
        let text = super::super::asr::commit::join(words.iter());
        Ok(Hypothesis { words, text, decode_ms: 1, held: None })
    }
    fn detect_language(&mut self, _audio: &[f32]) -> Result<LanguageGuess, AsrError> {
        Ok(LanguageGuess { language: "en".into(), prob: 1.0, top: vec![] })
    }
}

async fn run(audio: Vec<f32>) -> Vec<TranscriptEvent> {
    run_watched(audio, true).await
}

async fn run_watched(audio: Vec<f32>, watched: bool) -> Vec<TranscriptEvent> {
    run_failing(audio, watched, 0, false).await
}

/// With the first `failures` decodes failing, and the turn decoded ahead at pauses or not.
async fn run_failing(audio: Vec<f32>, watched: bool, failures: usize, speculate: bool) -> Vec<TranscriptEvent> {
    let mut cfg = PipelineConfig::default();
    cfg.turn.speculate = speculate;
    let engine = Engine::new(
        Arc::new(FakeRecognizer { failures: Arc::new(failures.into()) }),
        Arc::new(FakeVadFactory),
        InferencePool::new(1),
        cfg,
    )
    .unwrap();
    let mut h = engine.start_stream().unwrap();
    h.partials.set(move || watched);
    for f in crate::media::mono_frames(audio, 16_000, 20) {
        h.input.send(f).await.unwrap();
        tokio::task::yield_now().await;
    }
    drop(h.input);
    let mut events = Vec::new();
    while let Some(ev) = h.events.recv().await {
        events.push(ev);
    }
    events
}

fn tone(ms: usize) -> Vec<f32> {
    (0..ms * 16).map(|i| 0.3 * (i as f32 * 0.05).sin()).collect()
}

#[tokio::test]
async fn a_turn_gives_started_then_final_then_ended() {
    let mut audio = vec![0.0; 500 * 16];
    audio.extend(tone(2500));
    audio.extend(vec![0.0; 1000 * 16]);
    let events = run(audio).await;
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| match e {
            TranscriptEvent::TurnStarted { .. } => "started",
            TranscriptEvent::Partial { .. } => "partial",
            TranscriptEvent::Final { .. } => "final",
            TranscriptEvent::Ended { .. } => "ended",
            _ => "other",
        })
        .filter(|k| *k != "partial")
        .collect();
    assert_eq!(kinds, vec!["started", "final", "ended"], "{events:?}");
    let TranscriptEvent::Final { text, start_ms, end_ms, latency_ms, .. } = &events[events.len() - 2] else {
        unreachable!()
    };
    // The final carries every word of the turn, not only what partials had committed.
    assert_eq!(text, "hello world");
    assert!((480..=544).contains(start_ms), "start {start_ms}");
    assert!((2960..=3040).contains(end_ms), "end {end_ms}");
    assert!(*latency_ms >= 600, "latency includes the end-of-turn silence: {latency_ms}");
    assert!(matches!(events.last(), Some(TranscriptEvent::Ended { audio_ms: 4000 })), "{events:?}");
}

#[tokio::test]
async fn a_call_nobody_follows_gets_its_finals_without_partials() {
    let mut audio = vec![0.0; 500 * 16];
    audio.extend(tone(4000));
    audio.extend(vec![0.0; 1000 * 16]);
    let partials =
        |events: &[TranscriptEvent]| events.iter().filter(|e| matches!(e, TranscriptEvent::Partial { .. })).count();
    let watched = run_watched(audio.clone(), true).await;
    assert!(partials(&watched) > 0, "{watched:?}");
    let alone = run_watched(audio, false).await;
    assert_eq!(partials(&alone), 0, "{alone:?}");
    let finals: Vec<_> = alone.iter().filter(|e| matches!(e, TranscriptEvent::Final { .. })).collect();
    assert!(matches!(finals[..], [TranscriptEvent::Final { text, .. }] if text == "hello world"), "{alone:?}");
}

#[tokio::test]
async fn a_decode_ahead_of_a_pause_the_caller_talks_through_is_never_the_final() {
    // Silence mode decoding ahead at each pause of 160 ms: the decode at the mid-turn pause
    // hears only "hello" (under 2 s); the turn's final must be the decode of its real end.
    let mut audio = vec![0.0; 500 * 16];
    audio.extend(tone(1200));
    audio.extend(vec![0.0; 320 * 16]);
    audio.extend(tone(1500));
    audio.extend(vec![0.0; 1000 * 16]);
    for watched in [false, true] {
        let events = run_failing(audio.clone(), watched, 0, true).await;
        let finals: Vec<_> = events.iter().filter(|e| matches!(e, TranscriptEvent::Final { .. })).collect();
        assert!(
            matches!(finals[..], [TranscriptEvent::Final { text, latency_ms, .. }] if text == "hello world" && *latency_ms >= 600),
            "{events:?}"
        );
    }
}

#[tokio::test]
async fn a_failed_decode_ahead_does_not_lose_the_turn() {
    // The first decode is the one ahead at the turn's last pause (nobody follows the call,
    // so there are no partials); it fails, and the turn is decoded after the rule.
    let mut audio = vec![0.0; 500 * 16];
    audio.extend(tone(2500));
    audio.extend(vec![0.0; 1000 * 16]);
    let events = run_failing(audio, false, 1, true).await;
    let finals: Vec<_> = events.iter().filter(|e| matches!(e, TranscriptEvent::Final { .. })).collect();
    assert!(matches!(finals[..], [TranscriptEvent::Final { text, .. }] if text == "hello world"), "{events:?}");
}

#[tokio::test]
async fn silence_gives_no_turn() {
    let events = run(vec![0.0; 3000 * 16]).await;
    assert_eq!(events, vec![TranscriptEvent::Ended { audio_ms: 3000 }]);
}
