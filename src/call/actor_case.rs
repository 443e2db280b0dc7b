//! Keeping the call's case file current: after every caller turn and assistant reply, and at
//! hand-over with the verified caller's account and previous contacts; and the call's record
//! in the interactions table at the end.

use super::assist::Handover;
use super::{Actor, CallRecord};
use crate::assistant::dialogue::Reply;

impl Actor {
    /// Publish the case file and keep it on the call's record.
    pub(super) fn case_changed(&mut self) {
        self.core.handle_case_file(self.now(), &self.case);
    }

    /// Record what the assistant did; at hand-over, add the account and previous contacts
    /// its job loaded.
    pub(super) fn case_after_reply(&mut self, reply: &Reply, at_ms: u64, handover: Handover) {
        let Some(assistant) = self.assistant.idle.as_ref() else { return };
        self.case.set_identity(assistant.customer(), assistant.verified().is_some());
        self.case.on_assistant(at_ms, &reply.say.join(" "), reply.intent, &reply.actions);
        if let Some(note) = &reply.note {
            self.case.on_note(note);
        }
        if let Some((reason, intent)) = reply.escalate {
            self.case.on_handover(reason, intent, at_ms);
            if let Some(c) = handover.contacts {
                self.case.set_contacts(&c);
            }
            if let Some((o, p, r)) = handover.account {
                self.case.set_account(&o, &p, &r);
            }
        }
        self.case_changed();
        if let (Some((_, intent)), Some(routing)) = (reply.escalate, self.svc.routing.clone()) {
            self.queue_for_agent(&routing, intent, &reply.language, Vec::new());
        }
    }

    /// The call as the router sees it: languages, skill, region, mood, the last agent.
    pub(super) fn waiting_call(
        &self,
        skill: crate::routing::Skill,
        only_agent: Option<crate::routing::AgentId>,
    ) -> crate::routing::WaitingCall {
        use crate::routing::{AgentId, WaitingCall};
        let case = &self.case;
        let mut languages: Vec<String> = case.language.iter().cloned().collect();
        if let Some(l) = case.caller.preferred_language.clone().filter(|l| !languages.contains(l)) {
            languages.push(l);
        }
        WaitingCall {
            call_id: self.id.clone(),
            caller: case.caller.number.clone(),
            customer_id: case.caller.customer_id,
            languages,
            skill,
            region: case.accent.as_ref().and_then(|a| a.region.clone()),
            frustration: case.mood.as_ref().map(|m| m.frustration).unwrap_or(0.0),
            high_value: false,
            previous_agent: case.previous_agent().map(|a| AgentId(a.to_string())),
            only_agent,
            enqueued_at: 0,
        }
    }

    /// Put the call in the agents' queue and tell the caller the expected wait (after the
    /// sentences `before`).
    pub(super) fn queue_for_agent(
        &mut self,
        routing: &crate::routing::service::RoutingService,
        intent: Option<crate::assistant::intents::Intent>,
        language: &str,
        mut before: Vec<String>,
    ) {
        use crate::routing::Skill;
        let call = self.waiting_call(intent.map(Skill::from_intent).unwrap_or(Skill::General), None);
        match routing.enqueue(call) {
            Ok(wait) => {
                let minutes = wait.as_secs().div_ceil(60);
                tracing::info!(call = %self.id, wait_s = wait.as_secs(), "queued for an agent");
                let text = crate::assistant::replies::say(
                    language,
                    &crate::assistant::replies::Msg::EstimatedWait {
                        minutes: if wait.as_secs() < 30 { 0 } else { minutes },
                    },
                );
                before.push(text);
                self.speak(before, language.to_string(), false);
            }
            Err(e) => {
                tracing::warn!(call = %self.id, "could not queue for an agent: {e}");
                self.speak(before, language.to_string(), false);
            }
        }
    }

    /// Record the call and how it went in the interactions table (before `call_ended`, so
    /// whoever follows the events finds it there). A failing database costs the record, not
    /// the call.
    pub(super) async fn save_interaction(&self, rec: &CallRecord) {
        let (Some(assistant), Some(services)) = (self.assistant.idle.as_ref(), self.svc.assistant.as_ref()) else {
            return;
        };
        let o = assistant.outcome();
        // Only a caller verified on this call writes into a customer's history: a number alone
        // (caller ID, a number typed into the web page) can be anyone's.
        let customer = assistant.verified().map(|c| c.id);
        let outcome = match o.escalation {
            Some(reason) => format!("escalated: {}", reason.name()),
            None => o.outcome.to_string(),
        };
        let store = services.store.clone();
        let (call, started_at, agent) = (self.id.0.clone(), rec.info.started_at.clone(), rec.info.agent.clone());
        let channel = crate::store::calls::channel_of(rec.info.transport.as_str());
        let result = outcome.clone();
        let saved = tokio::task::spawn_blocking(move || {
            let id = store.start_interaction(customer, &call, channel, &started_at)?;
            store.finish_interaction(id, customer, &outcome, o.intent.map(|i| i.name()), &o.summary, agent.as_deref())
        })
        .await;
        if let Some(j) = self.svc.registry.journal() {
            j.outcome(&self.id, &result).await;
        }
        match saved {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(call = %self.id, "interaction not saved: {e}"),
            Err(e) => tracing::warn!(call = %self.id, "interaction not saved: {e}"),
        }
    }
}
