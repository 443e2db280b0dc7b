//! The core's side of alerts: the rules (`alerts.rs`) say what fired; the core numbers each
//! alert, puts it on the call's record and publishes `alert_raised`; a supervisor's
//! acknowledgement goes on the record and out as `alert_acknowledged`.

use super::{ms, At, CallCore, Change, Output};
use crate::call::alerts::{AlertOnCall, Fired, Watch};
use crate::events::Event;

impl CallCore {
    /// Watch the call with these alert rules.
    pub fn with_alerts(mut self, watch: Watch) -> Self {
        self.watch = Some(watch);
        self
    }

    /// The alerts raised on the call so far.
    pub fn alerts(&self) -> &[AlertOnCall] {
        &self.alerts
    }

    pub(super) fn raise(&mut self, now: At, fired: Vec<Fired>) {
        if self.ended || fired.is_empty() {
            return;
        }
        for f in fired {
            let id = format!("a{}", self.alerts.len() + 1);
            let at_ms = ms(now);
            self.alerts.push(AlertOnCall {
                id: id.clone(),
                rule: f.rule,
                detail: f.detail.clone(),
                at_ms,
                acknowledged_by: None,
                acknowledged_at_ms: None,
            });
            self.out.push_back(Output::Record(Change::Alerts(self.alerts.clone())));
            let call_id = self.id.clone();
            self.publish(Event::AlertRaised { call_id, alert_id: id, rule: f.rule, detail: f.detail, at_ms });
        }
    }

    /// A supervisor acknowledged alert `id` ("I am on it"). Err if there is no such alert or
    /// someone already did.
    pub fn handle_alert_acknowledged(&mut self, now: At, id: &str, by: &str) -> Result<(), String> {
        let Some(a) = self.alerts.iter_mut().find(|a| a.id == id) else {
            return Err(format!("no alert {id} on this call"));
        };
        if let Some(who) = &a.acknowledged_by {
            return Err(format!("alert {id} was already acknowledged by {who}"));
        }
        a.acknowledged_by = Some(by.to_string());
        a.acknowledged_at_ms = Some(ms(now));
        let rule = a.rule;
        self.out.push_back(Output::Record(Change::Alerts(self.alerts.clone())));
        let (call_id, alert_id, by) = (self.id.clone(), id.to_string(), by.to_string());
        self.publish(Event::AlertAcknowledged { call_id, alert_id, rule, by, at_ms: ms(now) });
        Ok(())
    }
}
