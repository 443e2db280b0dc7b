//! The assistant's work as a job off the call task.
//!
//! A turn's assistant work (intent, back-office tools, an LLM turn, and at hand-over the
//! account look-up for the case file) can take seconds when a backend is slow. It runs as a
//! spawned job that owns the call's [`Assistant`] while it works and hands it back with the
//! reply, so the call task keeps serving media, hang-ups and control the whole time.
//!
//! - One job at a time per call, in order: inputs that arrive meanwhile (the caller's next
//!   turn, keyed digits) wait in a queue, so no tool call's outcome is lost or reordered.
//! - Hang-up, shutdown and an agent taking the call cancel the job in flight: it stops at its
//!   next await (an HTTP request in flight is dropped), gives the assistant back, and its
//!   reply, if any, is ignored.
//! - A job that panics ends the assistant for this call, not the call.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::transcript::HeardTurn;
use super::Actor;
use crate::assistant::dialogue::{Assistant, CardEnded, Input, Reply};
use crate::assistant::AssistantServices;
use crate::call::state::AssistantSaid;
use crate::pipeline::analysis::state::TurnState;
use crate::store::model::{Interaction, Order, Payment, Refund};

/// How long the account look-up at hand-over may take before the file goes out without it.
const ACCOUNT_TIMEOUT: Duration = Duration::from_secs(2);
/// How long the call's end waits for a cancelled job to hand the assistant back.
const RECOVER_TIMEOUT: Duration = Duration::from_secs(1);
/// How long a caller may stay silent after the assistant finished speaking.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(8);

/// What the assistant is asked to handle (an owned [`Input`], so it can wait in the queue and
/// travel into the job).
#[derive(Debug, Clone)]
pub(super) enum AssistInput {
    Start,
    Turn {
        text: String,
        language: String,
        state: Option<TurnState>,
        trend: f32,
        confidence: Option<f32>,
    },
    Digits(String),
    Silence,
    /// How a card entry the assistant asked for ended (the card itself when captured).
    Card {
        payment_id: i64,
        ended: CardEnded,
    },
}

impl AssistInput {
    fn as_input(&self) -> Input<'_> {
        match self {
            AssistInput::Start => Input::Start,
            AssistInput::Turn { text, language, state, trend, confidence } => {
                Input::Turn { text, language, state: state.as_ref(), trend: *trend, confidence: *confidence }
            }
            AssistInput::Digits(d) => Input::Digits(d),
            AssistInput::Silence => Input::Silence,
            AssistInput::Card { payment_id, ended } => Input::Card { payment_id: *payment_id, ended },
        }
    }
}

/// The account and previous contacts loaded at hand-over, for the case file.
#[derive(Default)]
pub(super) struct Handover {
    pub contacts: Option<Vec<Interaction>>,
    pub account: Option<(Vec<Order>, Vec<Payment>, Vec<Refund>)>,
}

/// What a finished job hands back.
pub(super) struct JobDone {
    assistant: Assistant,
    input: AssistInput,
    /// `None` when the job was cancelled.
    reply: Option<(Reply, Handover)>,
}

/// The call's assistant: with the call, or away in a job.
#[derive(Default)]
pub(super) struct AssistantSlot {
    /// The assistant while no job holds it.
    pub idle: Option<Assistant>,
    job: Option<(JoinHandle<JobDone>, CancellationToken)>,
    queue: VecDeque<AssistInput>,
}

impl AssistantSlot {
    pub fn new(assistant: Option<Assistant>) -> Self {
        Self { idle: assistant, job: None, queue: VecDeque::new() }
    }

    /// Whether this call has an assistant (with the call or in a job; a job that failed
    /// leaves none).
    pub fn on(&self) -> bool {
        self.idle.is_some() || self.job.is_some()
    }

    /// Whether a job is in flight.
    pub fn busy(&self) -> bool {
        self.job.is_some()
    }

    /// The job's result (pending forever when there is none; use in `select!` behind
    /// `if slot.busy()`).
    pub async fn finished(&mut self) -> Result<JobDone, tokio::task::JoinError> {
        match self.job.as_mut() {
            Some((handle, _)) => {
                let done = handle.await;
                self.job = None;
                done
            }
            None => std::future::pending().await,
        }
    }

    /// Cancel the job in flight and drop what waits in the queue.
    pub fn cancel(&mut self) {
        self.queue.clear();
        if let Some((_, cancel)) = &self.job {
            cancel.cancel();
        }
    }

    /// Queue an input.
    pub fn push(&mut self, input: AssistInput) {
        self.queue.push_back(input);
    }

    /// Start the next queued input as a job, unless one is in flight.
    pub fn start_next(&mut self, services: Option<std::sync::Arc<AssistantServices>>) {
        if self.job.is_some() || self.idle.is_none() {
            return;
        }
        let Some(input) = self.queue.pop_front() else { return };
        let assistant = self.idle.take().expect("checked above");
        let cancel = CancellationToken::new();
        let job = tokio::spawn(run_job(assistant, input, services, cancel.clone()));
        self.job = Some((job, cancel));
    }

    /// At the call's end: cancel any job and take the assistant back (for the call's record).
    pub async fn recover(&mut self) {
        self.cancel();
        if let Some((handle, _)) = self.job.take() {
            match tokio::time::timeout(RECOVER_TIMEOUT, handle).await {
                Ok(Ok(done)) => self.idle = Some(done.assistant),
                Ok(Err(e)) => tracing::warn!("assistant job failed: {e}"),
                Err(_) => tracing::warn!("assistant job did not stop within {RECOVER_TIMEOUT:?}"),
            }
        }
    }
}

/// Run one input on the assistant; at hand-over, also load the account for the case file.
async fn run_job(
    mut assistant: Assistant,
    input: AssistInput,
    services: Option<std::sync::Arc<AssistantServices>>,
    cancel: CancellationToken,
) -> JobDone {
    let work = async {
        let reply = assistant.handle(input.as_input()).await;
        let handover = match (&reply.escalate, services) {
            (Some(_), Some(s)) => load_handover(&assistant, &s).await,
            _ => Handover::default(),
        };
        (reply, handover)
    };
    let reply = tokio::select! {
        r = work => Some(r),
        _ = cancel.cancelled() => None,
    };
    JobDone { assistant, input, reply }
}

/// The verified caller's account and everyone's previous contacts, within [`ACCOUNT_TIMEOUT`]
/// (the case file goes out without them when the back office is slower).
async fn load_handover(assistant: &Assistant, services: &AssistantServices) -> Handover {
    let Some(id) = assistant.customer().map(|c| c.id) else { return Handover::default() };
    let who = assistant.verification().cloned();
    let load = async {
        let contacts = {
            let store = services.store.clone();
            tokio::task::spawn_blocking(move || store.interactions(id)).await.ok().and_then(Result::ok)
        };
        let account = match &who {
            Some(w) => {
                let bo = &services.back_office;
                let (o, p, r) = tokio::join!(bo.orders(w), bo.payments(w), bo.refunds(w));
                Some((o.unwrap_or_default(), p.unwrap_or_default(), r.unwrap_or_default()))
            }
            None => None,
        };
        Handover { contacts, account }
    };
    match tokio::time::timeout(ACCOUNT_TIMEOUT, load).await {
        Ok(h) => h,
        Err(_) => {
            tracing::warn!("case file: the account took too long; sent without it");
            Handover::default()
        }
    }
}

impl Actor {
    /// Give a finished turn to the assistant with the call's language and the caller's state.
    pub(super) async fn assist_turn(&mut self, turn: HeardTurn) {
        let HeardTurn { text, state, confidence } = turn;
        if !self.assistant.on() || self.agent.is_some() || self.callback_turn(&text).await {
            return;
        }
        let language = self.analyzer.language().map(|(l, _)| l).unwrap_or_default();
        let trend = self.analyzer.trend();
        self.assist(AssistInput::Turn { text, language, state, trend, confidence });
    }

    /// Queue an input for the assistant; it runs as soon as no other job holds the assistant.
    pub(super) fn assist(&mut self, input: AssistInput) {
        if !self.assistant.on() {
            return;
        }
        self.assistant.push(input);
        self.assistant.start_next(self.svc.assistant.clone());
    }

    /// A job came back: take the assistant back, act on its reply (unless the call moved on),
    /// and start the next queued input. Returns the input it answered, when it did.
    pub(super) fn job_done(&mut self, done: Result<JobDone, tokio::task::JoinError>) -> Option<AssistInput> {
        let done = match done {
            Ok(d) => d,
            Err(e) => {
                tracing::error!(call = %self.id, "the assistant failed ({e}); the call continues without it");
                self.assistant = AssistantSlot::default();
                return None;
            }
        };
        self.assistant.idle = Some(done.assistant);
        let answered = match done.reply {
            // An agent took the call while the assistant worked (or it ended): not said.
            Some(_) if !self.core.wants_reply() || self.agent.is_some() => None,
            Some((reply, handover)) => {
                self.on_reply(reply, handover);
                Some(done.input)
            }
            None => None,
        };
        self.assistant.start_next(self.svc.assistant.clone());
        answered
    }

    /// Report what the assistant did and speak its reply.
    fn on_reply(&mut self, reply: Reply, handover: Handover) {
        let at_ms = self.ms();
        self.case_after_reply(&reply, at_ms, handover);
        let said = AssistantSaid {
            text: reply.say.join(" "),
            language: reply.language.clone(),
            intent: reply.intent,
            actions: reply.actions.clone(),
        };
        self.core.handle_assistant_said(self.core_at(at_ms), said);
        if let Some((reason, intent)) = reply.escalate {
            tracing::info!(call = %self.id, ?reason, "assistant hands over");
            self.core.handle_escalated(self.core_at(at_ms), reason, intent);
        }
        // Wait for an answer: the reply's speaking time (about 70 ms a character at the
        // voice's rate) plus the answer timeout; the caller's next turn cancels it.
        let waiting = reply.escalate.is_none() && !reply.hangup && !reply.say.is_empty() && reply.take_card.is_none();
        let within = waiting.then(|| {
            let chars: usize = reply.say.iter().map(|s| s.chars().count()).sum();
            Duration::from_millis(70 * chars as u64) + ANSWER_TIMEOUT
        });
        self.core.handle_awaiting_answer(self.now(), within);
        let take_card = reply.take_card;
        self.speak(reply.say, reply.language, reply.hangup);
        // The reply asked for the card: the keys go to a secure capture from now on.
        if let Some(payment_id) = take_card {
            self.start_capture("assistant", Some(payment_id));
        }
    }

    /// Synthesise sentence by sentence off the call task and queue each as it is ready, so the
    /// first sentence plays while the next is made. A barge-in (playout cleared) drops the rest.
    pub(super) fn speak(&self, sentences: Vec<String>, language: String, hangup_after: bool) {
        let Some(services) = self.svc.assistant.clone() else {
            // No voice to say it with: a goodbye still ends the call.
            if hangup_after {
                self.hangup.cancel();
            }
            return;
        };
        let playout = self.playout.clone();
        let hangup = self.hangup.clone();
        let call = self.id.clone();
        let generation = playout.generation();
        self.svc.tracker.spawn(async move {
            for sentence in crate::assistant::tts::speaking_chunks(&sentences) {
                let tts = services.tts.clone();
                let lang = language.clone();
                let speech = tokio::task::spawn_blocking(move || tts.synthesize(&sentence, &lang)).await;
                if playout.generation() != generation || hangup.is_cancelled() {
                    return;
                }
                match speech {
                    Ok(Ok(s)) => playout.play(&s.samples, s.rate),
                    Ok(Err(e)) => tracing::warn!(call = %call, "speech synthesis failed: {e}"),
                    Err(e) => tracing::warn!(call = %call, "speech synthesis task failed: {e}"),
                }
            }
            if hangup_after {
                // Let the goodbye play out, then end the call.
                let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
                while playout.pending_ms() > 0 && tokio::time::Instant::now() < deadline {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                hangup.cancel();
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::assistant::intents::NearestExamples;
    use crate::assistant::policy::Policy;
    use crate::assistant::tools::http::{BackOfficeConfig, BackOfficeKind, HttpBackOffice};
    use crate::assistant::tools::sqlite::SqliteBackOffice;
    use crate::assistant::tools::BackOffice;

    fn assistant(bo: Arc<dyn BackOffice>) -> Assistant {
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
        Assistant::new(bo, Arc::new(NearestExamples::default()), Policy::default(), "c-1", "+15550100", today)
    }

    /// An HTTP back office that accepts connections and never answers.
    fn hung_back_office() -> Arc<dyn BackOffice> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for c in listener.incoming().flatten() {
                held.push(c);
            }
        });
        let cfg = BackOfficeConfig {
            kind: BackOfficeKind::Http,
            url: format!("http://{addr}"),
            timeout_ms: 30_000,
            ..Default::default()
        };
        Arc::new(HttpBackOffice::new(&cfg, Policy::default()).unwrap())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_job_answers_and_hands_the_assistant_back() {
        let store = crate::store::Store::open_in_memory().unwrap();
        let mut slot = AssistantSlot::new(Some(assistant(Arc::new(SqliteBackOffice::new(store, Policy::default())))));
        slot.push(AssistInput::Start);
        slot.start_next(None);
        assert!(slot.busy() && slot.idle.is_none(), "the job holds the assistant");
        let done = tokio::time::timeout(Duration::from_secs(10), slot.finished()).await.unwrap().unwrap();
        assert!(!slot.busy());
        assert!(matches!(done.input, AssistInput::Start));
        let (reply, _) = done.reply.expect("answered");
        assert!(!reply.say.is_empty(), "the welcome");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_job_stuck_on_a_hung_back_office_is_cancelled_and_the_assistant_comes_back() {
        let mut slot = AssistantSlot::new(Some(assistant(hung_back_office())));
        slot.push(AssistInput::Start);
        slot.push(AssistInput::Digits("1234".into()));
        slot.start_next(None);
        slot.start_next(None); // one job at a time: the digits wait
        assert!(slot.busy());
        assert_eq!(slot.queue.len(), 1);
        // The back office does not answer: no result yet, and waiting for one is cancel-safe.
        assert!(tokio::time::timeout(Duration::from_millis(300), slot.finished()).await.is_err());
        assert!(slot.busy(), "still in flight after the wait was dropped");
        let t = std::time::Instant::now();
        slot.recover().await;
        assert!(t.elapsed() < RECOVER_TIMEOUT, "cancelled at once: {:?}", t.elapsed());
        assert!(!slot.busy() && slot.idle.is_some() && slot.queue.is_empty());
    }

    #[test]
    fn owned_inputs_lend_the_assistant_the_same_input() {
        let t = AssistInput::Turn {
            text: "where is my order".into(),
            language: "en".into(),
            state: None,
            trend: 0.5,
            confidence: None,
        };
        match t.as_input() {
            Input::Turn { text, language, state, trend, .. } => {
                assert_eq!((text, language, state.is_none(), trend), ("where is my order", "en", true, 0.5));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(AssistInput::Digits("1234".into()).as_input(), Input::Digits("1234")));
        assert!(matches!(AssistInput::Start.as_input(), Input::Start));
        assert!(matches!(AssistInput::Silence.as_input(), Input::Silence));
    }
}
