//! The stream's decodes: which job runs next (a final, a pause decoded ahead, a partial),
//! its request, running it on the inference pool, and what its result becomes.

use super::*;

impl Stream {
    fn prompt_for(&self, turn: &TurnState) -> String {
        if !self.engine.config.prompt_context {
            return turn.trimmed_prompt.clone();
        }
        tail(format!("{} {}", self.context, turn.trimmed_prompt).trim(), 200).to_string()
    }

    /// The decode of a whole turn (a final, or a probe that may become one), and whether it
    /// identifies the language. Its prompt is the expected answer's when the assistant asked
    /// for one with a prompt, else the usual; an answer with a form is re-read held to it.
    fn whole_turn_request(&self, turn: &TurnState, audio: Vec<f32>) -> (DecodeRequest, bool) {
        let expected = if self.analyse_voice { self.answer.get() } else { None };
        let prompt = match expected.as_ref().and_then(|e| e.prompt) {
            Some(p) => p.to_string(),
            None => self.prompt_for(turn),
        };
        let (language, detect) = self.language_choice(turn);
        let fit_window = self.engine.config.fit_window;
        let answer = expected.and_then(|e| e.form).filter(|_| self.engine.config.answer_forms);
        let threads = self.engine.idle_threads();
        let req =
            DecodeRequest { audio, prompt, language, translate: false, fit_window, fallback: true, answer, threads };
        (req, detect)
    }

    fn language_choice(&self, turn: &TurnState) -> (LanguageChoice, bool) {
        let cfg = &self.engine.config;
        if cfg.language != "auto" {
            return (LanguageChoice::Fixed(cfg.language.clone()), false);
        }
        if !self.engine.recognizer.multilingual() {
            return (LanguageChoice::Fixed("en".into()), false);
        }
        match &turn.language {
            Some(g) => (LanguageChoice::Fixed(g.language.clone()), false),
            None => (LanguageChoice::Auto, true),
        }
    }

    /// Start the next job unless one is in flight: finals first, then a due partial.
    pub(super) fn launch(&mut self) {
        if self.inflight.is_some() {
            return;
        }
        let engine = self.engine.clone();
        let cfg = &engine.config;
        let translate = cfg.translate && self.engine.recognizer.multilingual();
        if let Some(mut job) = self.finals.pop_front() {
            let (req, detect) = self.whole_turn_request(&job.turn, std::mem::take(&mut job.audio));
            self.spawn(JobKind::Final(Box::new(job)), req, detect, translate, Priority::High);
            return;
        }
        if let Probe::Wanted(key) = self.probe {
            let current = self.turns.last_speech_end() == Some(key.last_speech_end);
            if current && self.speculating() {
                // A followed call decodes partials every second already, and a decode ahead
                // would queue behind the one in flight and delay its final (measured: 1149 ms
                // to the final instead of 965 at one stream): no speculation there.
                if cfg.partial_interval_ms != 0 && self.partials.get() {
                    self.probe = Probe::None;
                    return;
                }
                // Speculation is optional: it runs only on a worker that is free now and while
                // the workers were less than SPECULATE_BELOW_LOAD busy lately, else it would
                // delay other calls' finals and use CPU a busy machine does not have.
                // A pause offered again late (the early offer was skipped) more often ends its
                // turn, so it may use a busier machine and wait for a busy worker, but not join
                // other jobs waiting (measured at 24 streams: letting it join them made the
                // finals' p95 1784 ms, against 1435 without and 1583 with no late offer).
                let silence = self.now_ms().saturating_sub(key.last_speech_end);
                let late = cfg.turn.late_speculate_ms().is_some_and(|l| silence >= l);
                let below = if late { LATE_SPECULATE_BELOW_LOAD } else { SPECULATE_BELOW_LOAD };
                let pool = self.engine.pool.stats();
                let no_free_worker = pool.running >= pool.workers && !late;
                if pool.queued > 0 || no_free_worker || self.engine.pool.recent_load() >= below {
                    count(&SPECULATIVE.shed);
                    self.probe = Probe::None;
                    return;
                }
                count(&SPECULATIVE.started);
            }
            if let Some(turn) = self.turn.as_ref().filter(|t| t.id == key.turn_id && current) {
                let (req, detect) = self.whole_turn_request(turn, self.slice(turn.buffer_start_ms, self.now_ms()));
                self.probe = Probe::Running(key);
                self.spawn(JobKind::Probe(key), req, detect, translate, Priority::High);
                return;
            }
            self.probe = Probe::None;
        }
        if cfg.partial_interval_ms == 0 || !self.partials.get() {
            return;
        }
        let now = self.now_ms();
        let Some(turn) = self.turn.as_mut() else {
            return;
        };
        // Long turns: forget audio whose words are committed, carry their text as prompt.
        if now.saturating_sub(turn.buffer_start_ms) > cfg.max_buffer_ms
            && turn.la.committed_end_ms() > turn.buffer_start_ms + 1000
        {
            turn.buffer_start_ms = turn.la.committed_end_ms();
            turn.trimmed_prompt = turn.la.committed_text();
        }
        let turn = self.turn.as_ref().expect("checked");
        if let Probe::Ready(k, _) = &self.probe {
            if self.turns.last_speech_end() != Some(k.last_speech_end) {
                self.probe = Probe::None; // the caller went on: that pause's decode is stale
            }
        }
        if !matches!(self.probe, Probe::None) {
            return; // a pause is being judged: its decode is the partial
        }
        let have = now.saturating_sub(turn.buffer_start_ms);
        if have < MIN_PARTIAL_MS || now.saturating_sub(turn.decoded_upto_ms) < cfg.partial_interval_ms {
            return;
        }
        let (lang, detect) = self.language_choice(turn);
        if detect && have < MIN_DETECT_MS {
            return;
        }
        // Load shedding: with a backlog on the pool, a partial would only delay other calls'
        // finals (finals run first, but a started partial is not pre-empted). Skip it; the
        // final of the turn is decoded from the whole turn anyway.
        let pool = self.engine.pool.stats();
        if pool.queued >= pool.workers {
            PARTIALS_SHED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            return;
        }
        let req = DecodeRequest {
            audio: self.slice(turn.buffer_start_ms, now),
            prompt: self.prompt_for(turn),
            language: lang,
            translate: false,
            fit_window: cfg.fit_window,
            fallback: false,
            answer: None,
            threads: 0,
        };
        let kind = JobKind::Partial { turn_id: turn.id, buffer_start_ms: turn.buffer_start_ms };
        if let Some(t) = self.turn.as_mut() {
            t.decoded_upto_ms = now;
        }
        self.spawn(kind, req, detect, false, Priority::Low);
    }

    fn spawn(&mut self, kind: JobKind, mut req: DecodeRequest, detect: bool, translate: bool, prio: Priority) {
        let pool = self.engine.pool.clone();
        let engine = self.engine.clone();
        let whole = matches!(kind, JobKind::Final(_) | JobKind::Probe(_));
        let prosody = self.analyse_voice && whole;
        // Smart Turn's verdict is wanted on probes in smart mode only (a speculative decode
        // in silence mode is judged by the silence rule).
        let end_of_turn = matches!(kind, JobKind::Probe(_)) && !self.speculating();
        let expected = if detect { self.expected.get() } else { None };
        self.inflight = Some(Box::pin(async move {
            let out = pool
                .run(prio, move || {
                    // A session from the shared pool for this decode only.
                    let mut session = match engine.sessions.checkout() {
                        Ok(s) => s,
                        Err(e) => {
                            return JobOutput {
                                language: None,
                                hypothesis: Err(e),
                                translation: None,
                                prosody: None,
                                end_of_turn: None,
                            }
                        }
                    };
                    let mut language = None;
                    if detect {
                        let g = session.detect_language(&req.audio).map(|g| believe_expected(g, expected.as_deref()));
                        if let Ok(g) = &g {
                            req.language = LanguageChoice::Fixed(g.language.clone());
                        }
                        language = Some(g);
                    }
                    let hypothesis = session.decode(&req);
                    let translation = match (&req.language, translate) {
                        (LanguageChoice::Fixed(l), true) if l != "en" => Some(session.decode(&DecodeRequest {
                            translate: true,
                            prompt: String::new(),
                            answer: None,
                            ..req.clone()
                        })),
                        _ => None,
                    };
                    // The Whisper state goes back before the voice analysis, for the next decode.
                    engine.sessions.give_back(session);
                    let prosody = prosody.then(|| analysis::analyse_turn(&req.audio, None, engine.voice.as_deref()));
                    // Smart Turn: from the voice analysis's encoder pass when it ran, else its own.
                    let end_of_turn = match prosody.as_ref().and_then(|p| p.voice.as_ref()) {
                        _ if !end_of_turn => None,
                        Some(v) => Some(v.end_of_turn),
                        None => engine.turn_model.as_ref().and_then(|m| match m.embed(&req.audio) {
                            Ok(e) => Some(e.end_of_turn),
                            Err(e) => {
                                tracing::warn!(error = %e, "end-of-turn model failed on a pause");
                                None
                            }
                        }),
                    };
                    JobOutput { language, hypothesis, translation, prosody, end_of_turn }
                })
                .await
                .ok();
            (kind, out)
        }));
    }

    pub(super) async fn complete(&mut self, kind: JobKind, out: Option<JobOutput>) {
        // A probe that failed (its worker, or its decode) is no final and judges nothing: the
        // pause is probed again (smart mode) or the turn decoded after the rule (silence mode).
        let failed = out.as_ref().is_none_or(|o| o.hypothesis.is_err());
        if let (JobKind::Probe(key), true) = (&kind, failed) {
            if matches!(self.probe, Probe::Running(k) if k == *key) {
                self.probe = Probe::None;
            }
        }
        // A probe whose turn ended while it ran is that turn's final.
        let kind = match kind {
            JobKind::Probe(key) if self.awaiting.as_ref().is_some_and(|(k, _)| *k == key) => {
                let (_, job) = self.awaiting.take().expect("checked");
                if failed {
                    // Decode the turn after all, ahead of any turn that ended since.
                    self.finals.push_front(job);
                    return;
                }
                self.probe_used();
                JobKind::Final(Box::new(FinalJob { audio: Vec::new(), ..job }))
            }
            kind => kind,
        };
        let Some(out) = out else {
            // The worker died with its session (the pool makes a new one); the call goes on.
            self.emit(TranscriptEvent::Error { message: "inference worker failed".into() }).await;
            return;
        };
        let lang_result = match out.language {
            Some(Ok(g)) => Some(g),
            Some(Err(e)) => {
                self.emit(TranscriptEvent::Error { message: e.to_string() }).await;
                None
            }
            None => None,
        };
        match kind {
            JobKind::Probe(key) => {
                if !matches!(self.probe, Probe::Running(k) if k == key) {
                    return;
                }
                // The language found on the probe's decode is the turn's once it had 2 s of
                // speech (shorter, identification is a guess: 1.3 s of German can come back as
                // Thai); a shorter one is kept for the final, should this pause end the turn.
                let Some(turn) = self.turn.as_mut().filter(|t| t.id == key.turn_id) else { return };
                let (announce, keep) = if key.last_speech_end.saturating_sub(turn.start_ms) >= MIN_DETECT_MS {
                    (adopt_language(turn, lang_result), None)
                } else {
                    (None, lang_result.map(Ok))
                };
                if let Some(ev) = announce {
                    self.emit(ev).await;
                }
                self.probe = Probe::Ready(key, Box::new(JobOutput { language: keep, ..out }));
                self.judge_pause().await;
            }
            JobKind::Partial { turn_id, buffer_start_ms } => {
                // The turn may have ended while this partial ran: its final is queued, update it there.
                let turn = match self.turn.as_mut().filter(|t| t.id == turn_id) {
                    Some(t) => t,
                    None => match self.finals.iter_mut().find(|f| f.turn.id == turn_id) {
                        Some(f) => &mut f.turn,
                        None => return,
                    },
                };
                let announce = adopt_language(turn, lang_result);
                let hyp = match out.hypothesis {
                    Ok(h) => h,
                    Err(e) => {
                        self.emit(TranscriptEvent::Error { message: e.to_string() }).await;
                        return;
                    }
                };
                let words = place(hyp.words, buffer_start_ms);
                let end_ms = words.last().map(|w| w.end_ms).unwrap_or(buffer_start_ms);
                turn.la.insert(words);
                let (language, language_prob) = lang_of(turn, &self.engine);
                let (text, committed, start_ms) = (turn.la.text(), turn.la.committed_text(), turn.start_ms);
                if let Some(ev) = announce {
                    self.emit(ev).await;
                }
                if !text.is_empty() {
                    self.emit(TranscriptEvent::Partial { text, committed, start_ms, end_ms, language, language_prob })
                        .await;
                }
            }
            JobKind::Final(job) => {
                let FinalJob { mut turn, end_ms, detected_ms, detected_at, ended_by, .. } = *job;
                if let Some(ev) = adopt_language(&mut turn, lang_result) {
                    self.emit(ev).await;
                }
                let hyp = match out.hypothesis {
                    Ok(h) => h,
                    Err(e) => {
                        self.emit(TranscriptEvent::Error { message: e.to_string() }).await;
                        return;
                    }
                };
                // Untrimmed, the final decode saw the whole turn and is authoritative.
                let whole_turn = turn.trimmed_prompt.is_empty();
                turn.la.finish(place(hyp.words, turn.buffer_start_ms), whole_turn);
                let text = turn.la.committed_text();
                if text.is_empty() {
                    return; // noise or a cough: nothing was said
                }
                let translation = match out.translation {
                    Some(Ok(h)) if !h.text.is_empty() => Some(h.text),
                    Some(Err(e)) => {
                        self.emit(TranscriptEvent::Error { message: e.to_string() }).await;
                        None
                    }
                    _ => None,
                };
                let (language, language_prob) = lang_of(&turn, &self.engine);
                let latency_ms = detected_ms.saturating_sub(end_ms) + detected_at.elapsed().as_millis() as u64;
                if self.engine.config.prompt_context {
                    self.context = format!("{} {text}", tail(&self.context, 500));
                }
                let words = turn.la.committed().to_vec();
                let prosody = out.prosody.map(|mut p| {
                    p.set_words(words.len());
                    p
                });
                self.emit(TranscriptEvent::Final {
                    text,
                    start_ms: turn.start_ms,
                    end_ms,
                    language,
                    language_prob,
                    latency_ms,
                    translation,
                    words,
                    prosody,
                    ended_by: Some(ended_by),
                })
                .await;
            }
        }
    }
}

/// The last `max_bytes` (or fewer, at a character boundary) of `s`.
fn tail(s: &str, max_bytes: usize) -> &str {
    let from = s.len().saturating_sub(max_bytes);
    let cut = s.char_indices().map(|(i, _)| i).find(|&i| i >= from).unwrap_or(s.len());
    &s[cut..]
}

/// Shift words decoded from a buffer starting at `offset_ms` to absolute stream time.
fn place(words: Vec<Word>, offset_ms: u64) -> Vec<Word> {
    words.into_iter().map(|w| Word { start_ms: w.start_ms + offset_ms, end_ms: w.end_ms + offset_ms, ..w }).collect()
}

/// Record a newly identified language on a turn that had none; returns the event announcing it.
fn adopt_language(turn: &mut TurnState, guess: Option<LanguageGuess>) -> Option<TranscriptEvent> {
    let g = guess.filter(|_| turn.language.is_none())?;
    let ev = TranscriptEvent::LanguageDetected {
        language: g.language.clone(),
        language_prob: g.prob,
        start_ms: turn.start_ms,
        top: g.top.clone(),
    };
    turn.language = Some(g);
    Some(ev)
}

fn lang_of(turn: &TurnState, engine: &Engine) -> (String, f32) {
    match &turn.language {
        Some(g) => (g.language.clone(), g.prob),
        None if engine.config.language != "auto" => (engine.config.language.clone(), 1.0),
        None => ("en".into(), if engine.recognizer.multilingual() { 0.0 } else { 1.0 }),
    }
}
