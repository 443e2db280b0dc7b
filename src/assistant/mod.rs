//! The AI assistant: back-office tools behind a trait, the self-service policy, and (next)
//! intents, dialogue, speech output and hand-over.

pub mod dialogue;
pub mod entities;
pub mod expect;
pub mod intents;
pub mod llm;
pub mod lockout;
pub mod policy;
pub mod replies;
pub mod tools;
pub mod tts;

use std::sync::Arc;

/// What every call's assistant shares: the back office, the understanding, the voice and the
/// policy. Built once at start-up.
pub struct AssistantServices {
    pub back_office: Arc<dyn tools::BackOffice>,
    pub classifier: Arc<dyn intents::IntentClassifier>,
    pub tts: Arc<dyn tts::Synthesizer>,
    pub policy: policy::Policy,
    /// The optional LLM backend (`[llm]`); the built-in engine when `None`.
    pub llm: Option<Arc<dyn llm::LanguageModel>>,
    /// Switchboard's own records (every call's interaction), whatever the back office is.
    pub store: crate::store::Store,
    /// The AI notice in the greeting (`[assistant] notice`): None when switched off, else
    /// the centre's own wording per language (the built-in text for the rest).
    pub notice: Option<std::collections::BTreeMap<String, String>>,
}

impl AssistantServices {
    /// A new assistant for one call.
    pub fn for_call(&self, call_id: &str, caller: &str) -> dialogue::Assistant {
        dialogue::Assistant::new(
            self.back_office.clone(),
            self.classifier.clone(),
            self.policy.clone(),
            call_id,
            caller,
            chrono::Local::now().date_naive(),
        )
        .with_llm(self.llm.clone())
        .with_notice(self.notice.clone())
        .with_lock(lockout::VerificationLock::new(self.store.clone(), &self.policy).map(Arc::new))
    }
}
