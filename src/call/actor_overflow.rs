//! A call answered while the lines were full (`[calls.overflow]`): it is not transcribed and
//! the assistant does not take it (they are what is full). The caller hears why, then goes
//! to the next free person (`queue`), or is booked a callback and hung up on (`callback`).

use super::Actor;
use crate::assistant::dialogue::EscalationReason;
use crate::assistant::replies::{say, Msg};
use crate::call::admission::OverflowAction;

impl Actor {
    /// The overflow call's start: the message, then the queue or a callback.
    pub(super) async fn lines_full(&mut self) {
        let lang = self.caller_language();
        match (self.svc.settings.overflow.action, self.svc.routing.clone()) {
            (OverflowAction::Queue, Some(routing)) => {
                self.core.handle_escalated(self.now(), EscalationReason::LinesFull, None);
                self.case.on_handover(EscalationReason::LinesFull, None, self.ms());
                self.case_changed();
                let before = vec![say(&lang, &Msg::LinesFull)];
                self.queue_for_agent(&routing, None, &lang, before);
            }
            // A callback, also when there is nobody to queue for.
            _ => match super::e164(&self.case.caller.number) {
                Some(number) => {
                    self.save_callback("callback", &number, "").await;
                    self.speak(vec![say(&lang, &Msg::LinesFullCallback { number })], lang, true);
                }
                None => self.speak(vec![say(&lang, &Msg::LinesFullTryLater)], lang, true),
            },
        }
    }
}
