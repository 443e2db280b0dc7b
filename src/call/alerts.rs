//! Alert rules for one call, sans-IO: what should make a supervisor look at a call now. The
//! call core feeds the watch what it learns (each turn's analysis, the caller's words, the
//! assistant's replies, hand-overs, the call's state) with the time since the call started;
//! the watch answers with the alerts that fire, and says when its next timer is due. The core
//! turns each into an `alert_raised` event on the call's record.
//!
//! Rules (`[alerts]` in the config; each can be switched off):
//! - `caller_angry`: the caller's state turns angry (again, after it had calmed down);
//! - `frustration_rising`: frustration rises by `frustration_rise` or more within
//!   `frustration_window_s` (once per window);
//! - `not_understood`: the assistant failed to understand the caller `not_understood` times;
//! - `long_wait`: the caller waited for a person longer than the service-level threshold
//!   (`[routing] service_level_s`), once per wait;
//! - `long_call`: the call runs longer than `long_call_minutes`;
//! - `phrase`: the caller said one of `phrases` (every served language's list is checked, and
//!   the English one against the translation as well);
//! - `policy_refusal`: the assistant refused an action because a business rule forbids it.
//!
//! Only the caller is watched: nothing here looks at staff speech (EU AI Act, Article 5(1)(f)).

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::state::At;
use super::CallState;
use crate::assistant::dialogue::{ActionRecord, EscalationReason};
use crate::assistant::intents::Intent;
use crate::pipeline::analysis::state::State;

/// `[alerts]`
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertConfig {
    /// All rules off when false.
    pub enabled: bool,
    pub caller_angry: bool,
    /// Rise in frustration (0..1) that raises `frustration_rising`; 0 turns the rule off.
    pub frustration_rise: f32,
    pub frustration_window_s: u64,
    /// Turns the assistant did not understand before `not_understood`; 0 turns it off.
    pub not_understood: u32,
    /// Whether a wait longer than `[routing] service_level_s` raises `long_wait`.
    pub long_wait: bool,
    /// Minutes after which a call raises `long_call`; 0 turns it off.
    pub long_call_minutes: u64,
    /// Phrases per language (ISO 639-1) that raise `phrase` when the caller says them.
    pub phrases: BTreeMap<String, Vec<String>>,
    pub policy_refusal: bool,
}

impl Default for AlertConfig {
    fn default() -> Self {
        let list = |p: &[&str]| p.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let phrases = BTreeMap::from([
            (
                "en".to_string(),
                list(&["cancel my account", "close my account", "lawyer", "attorney", "complaint", "sue you"]),
            ),
            ("de".to_string(), list(&["konto kündigen", "anwalt", "beschwerde"])),
            ("es".to_string(), list(&["cancelar mi cuenta", "abogado", "queja", "reclamación"])),
            ("fr".to_string(), list(&["résilier mon compte", "avocat", "plainte", "réclamation"])),
            ("sv".to_string(), list(&["säga upp mitt konto", "advokat", "klagomål"])),
        ]);
        Self {
            enabled: true,
            caller_angry: true,
            frustration_rise: 0.3,
            frustration_window_s: 60,
            not_understood: 2,
            long_wait: true,
            long_call_minutes: 15,
            phrases,
            policy_refusal: true,
        }
    }
}

impl AlertConfig {
    pub fn validate(&self) -> Result<(), String> {
        if !(0.0..=1.0).contains(&self.frustration_rise) {
            return Err(format!("alerts.frustration_rise = {} (0 to 1; 0 is off)", self.frustration_rise));
        }
        if self.frustration_rise > 0.0 && !(5..=3600).contains(&self.frustration_window_s) {
            return Err(format!("alerts.frustration_window_s = {} (5 to 3600)", self.frustration_window_s));
        }
        if self.long_call_minutes > 24 * 60 {
            return Err(format!("alerts.long_call_minutes = {} (at most 1440; 0 is off)", self.long_call_minutes));
        }
        let served = crate::assistant::replies::SERVED;
        if let Some(l) = self.phrases.keys().find(|l| !served.contains(&l.as_str())) {
            return Err(format!("alerts.phrases.{l}: not a served language ({})", served.join(", ")));
        }
        if let Some((l, _)) = self.phrases.iter().find(|(_, p)| p.iter().any(|p| normalize(p).trim().is_empty())) {
            return Err(format!("alerts.phrases.{l}: an empty phrase would match everything"));
        }
        Ok(())
    }
}

/// Which rule fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertRule {
    CallerAngry,
    FrustrationRising,
    NotUnderstood,
    LongWait,
    LongCall,
    Phrase,
    PolicyRefusal,
}

/// An alert that fired, with what a supervisor should read about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Fired {
    pub rule: AlertRule,
    pub detail: String,
}

/// An alert on the call's record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertOnCall {
    /// `a1`, `a2`, ... in the call's order.
    pub id: String,
    pub rule: AlertRule,
    pub detail: String,
    /// When it fired, ms into the call.
    pub at_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledged_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledged_at_ms: Option<u64>,
}

/// Lower case, words separated by single spaces, padded: " cancel my account ".
fn normalize(s: &str) -> String {
    let words: Vec<String> = s
        .split(|c: char| !c.is_alphanumeric() && c != '\'')
        .filter(|w| !w.is_empty())
        .map(|w| w.to_lowercase())
        .collect();
    format!(" {} ", words.join(" "))
}

/// The alert rules' state for one call.
#[derive(Debug)]
pub struct Watch {
    cfg: std::sync::Arc<AlertConfig>,
    /// The service-level threshold: a longer wait raises `long_wait`.
    queue_wait: Duration,
    angry: bool,
    /// Recent (time, frustration) of the caller's turns, within the window.
    frustration: VecDeque<(At, f32)>,
    /// No `frustration_rising` again before this.
    rise_quiet_until: Option<At>,
    not_understood: u32,
    not_understood_fired: bool,
    /// When the current wait for a person raises `long_wait` (None: not waiting, or fired).
    wait_alert_at: Option<At>,
    long_call_fired: bool,
    phrases_said: HashSet<String>,
    refused: HashSet<String>,
}

impl Watch {
    pub fn new(cfg: std::sync::Arc<AlertConfig>, queue_wait: Duration) -> Self {
        Self {
            cfg,
            queue_wait,
            angry: false,
            frustration: VecDeque::new(),
            rise_quiet_until: None,
            not_understood: 0,
            not_understood_fired: false,
            wait_alert_at: None,
            long_call_fired: false,
            phrases_said: HashSet::new(),
            refused: HashSet::new(),
        }
    }

    fn long_call(&self) -> Option<At> {
        let on = self.cfg.enabled && self.cfg.long_call_minutes > 0 && !self.long_call_fired;
        on.then(|| Duration::from_secs(self.cfg.long_call_minutes * 60))
    }

    /// When [`Watch::on_timeout`] is next due.
    pub fn next_timeout(&self) -> Option<At> {
        [self.wait_alert_at, self.long_call()].into_iter().flatten().min()
    }

    /// Timers due at `now`.
    pub fn on_timeout(&mut self, now: At) -> Vec<Fired> {
        let mut out = Vec::new();
        if self.wait_alert_at.is_some_and(|t| now >= t) {
            self.wait_alert_at = None;
            let detail = format!("waiting for a person longer than {} s", self.queue_wait.as_secs());
            out.push(Fired { rule: AlertRule::LongWait, detail });
        }
        if self.long_call().is_some_and(|t| now >= t) {
            self.long_call_fired = true;
            let detail = format!("the call has run longer than {} minutes", self.cfg.long_call_minutes);
            out.push(Fired { rule: AlertRule::LongCall, detail });
        }
        out
    }

    /// The call's state changed: a wait for a person starts (or ends) the `long_wait` timer.
    pub fn on_state(&mut self, now: At, state: CallState) {
        let on = self.cfg.enabled && self.cfg.long_wait;
        match state {
            CallState::WaitingForAgent if on => {
                if self.wait_alert_at.is_none() {
                    self.wait_alert_at = Some(now + self.queue_wait);
                }
            }
            CallState::OnHold => {}
            _ => self.wait_alert_at = None,
        }
    }

    /// The analysis of a caller's turn that ended at `now`.
    pub fn on_turn(&mut self, now: At, state: State, frustration: f32) -> Vec<Fired> {
        let mut out = Vec::new();
        if !self.cfg.enabled {
            return out;
        }
        let angry = state == State::Angry;
        if angry && !self.angry && self.cfg.caller_angry {
            out.push(Fired { rule: AlertRule::CallerAngry, detail: format!("frustration {frustration:.2}") });
        }
        if state != State::Unknown {
            self.angry = angry;
        }
        // An unjudged turn (too short, no voice) says nothing about frustration.
        if self.cfg.frustration_rise > 0.0 && state != State::Unknown {
            let window = Duration::from_secs(self.cfg.frustration_window_s);
            while self.frustration.front().is_some_and(|(t, _)| now.saturating_sub(*t) > window) {
                self.frustration.pop_front();
            }
            let low = self.frustration.iter().map(|(_, f)| *f).fold(f32::INFINITY, f32::min);
            self.frustration.push_back((now, frustration));
            let quiet = self.rise_quiet_until.is_some_and(|t| now < t);
            if low.is_finite() && frustration - low >= self.cfg.frustration_rise && !quiet {
                self.rise_quiet_until = Some(now + window);
                let detail = format!("frustration {low:.2} → {frustration:.2} within {} s", window.as_secs());
                out.push(Fired { rule: AlertRule::FrustrationRising, detail });
            }
        }
        out
    }

    /// A finished turn of the caller (and its English translation, when there is one).
    pub fn on_words(&mut self, text: &str, translation: Option<&str>) -> Vec<Fired> {
        let mut out = Vec::new();
        if !self.cfg.enabled {
            return out;
        }
        let said = normalize(text);
        let english = translation.map(normalize);
        for (lang, phrases) in &self.cfg.phrases {
            for p in phrases {
                let p = normalize(p);
                let heard = said.contains(&p) || (lang == "en" && english.as_ref().is_some_and(|e| e.contains(&p)));
                if heard && self.phrases_said.insert(p.clone()) {
                    out.push(Fired { rule: AlertRule::Phrase, detail: format!("the caller said \"{}\"", p.trim()) });
                }
            }
        }
        out
    }

    /// The assistant answered: what it understood, and what it did or was refused.
    pub fn on_reply(&mut self, intent: Option<Intent>, actions: &[ActionRecord]) -> Vec<Fired> {
        let mut out = Vec::new();
        if !self.cfg.enabled {
            return out;
        }
        if intent == Some(Intent::Unknown) {
            self.not_understood += 1;
            out.extend(self.not_understood_check());
        }
        if self.cfg.policy_refusal {
            for a in actions.iter().filter(|a| a.refused) {
                if self.refused.insert(format!("{}: {}", a.tool, a.detail)) {
                    out.push(Fired { rule: AlertRule::PolicyRefusal, detail: format!("{}: {}", a.tool, a.detail) });
                }
            }
        }
        out
    }

    /// The assistant handed the call over: when it was because it could not understand the
    /// caller, that counts as the rule's last failure.
    pub fn on_escalated(&mut self, reason: EscalationReason) -> Vec<Fired> {
        if !self.cfg.enabled || reason != EscalationReason::NotUnderstood {
            return Vec::new();
        }
        self.not_understood = self.not_understood.max(self.cfg.not_understood);
        self.not_understood_check().into_iter().collect()
    }

    fn not_understood_check(&mut self) -> Option<Fired> {
        let n = self.cfg.not_understood;
        if n == 0 || self.not_understood < n || self.not_understood_fired {
            return None;
        }
        self.not_understood_fired = true;
        Some(Fired { rule: AlertRule::NotUnderstood, detail: format!("the assistant did not understand {n} times") })
    }
}

#[cfg(test)]
#[path = "alerts_tests.rs"]
mod tests;
