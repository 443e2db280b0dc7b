//! The router's knobs, with the defaults it ships with (TOML/JSON through serde; every field
//! optional).

use serde::{Deserialize, Serialize};

/// Weights of the score components. Each component is a value in 0..=1 (language: proficiency
/// x preference of the caller's language) multiplied by its weight; the agent with the highest
/// sum gets the offer, ties going to the agent idle longest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Weights {
    /// Speaking the caller's language: 10 (native, preferred language) down to 3.5 (basic in
    /// a third language). Zero on the translation path.
    pub language: f32,
    /// Exact skill 1, a generalist on a specialised call 0.5, a specialist on a general call
    /// 0.5, no skill (after `overflow_any_skill_s`) 0.
    pub skill: f32,
    /// The agent knows the caller's accent region.
    pub region: f32,
    /// The agent handled this customer last.
    pub affinity: f32,
    /// (seniority - 1) / 2, only for angry (frustration >= `angry_frustration`) or high-value
    /// callers.
    pub seniority: f32,
    /// Idle time / `idle_full_s` (capped at 1): fairness; kept small so it only separates
    /// near-equals.
    pub idle: f32,
    /// 1 - active_calls / max_calls: spread load over multi-call agents.
    pub load: f32,
}

impl Default for Weights {
    fn default() -> Self {
        Self { language: 10.0, skill: 6.0, region: 2.0, affinity: 4.0, seniority: 3.0, idle: 1.0, load: 1.0 }
    }
}

/// Queue priority = `base` (+ `high_value`) (+ `requeued`) + waited seconds x `per_wait_s` +
/// frustration x `per_frustration`. Because every call gains priority at the same rate, the
/// order of two waiting calls never changes while they wait: a frustrated caller jumps ahead of
/// calmer callers who have waited less than frustration x `per_frustration` / `per_wait_s`
/// seconds longer (54 s for frustration 0.9 with the defaults), and long waiters stay ahead.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PriorityConfig {
    pub base: f64,
    pub per_wait_s: f64,
    pub per_frustration: f64,
    pub high_value: f64,
    /// A call whose agent dropped goes back to the front of the queue.
    pub requeued: f64,
}

impl Default for PriorityConfig {
    fn default() -> Self {
        Self { base: 0.0, per_wait_s: 1.0, per_frustration: 60.0, high_value: 30.0, requeued: 600.0 }
    }
}

/// Everything the router can be told.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RouterConfig {
    pub weights: Weights,
    pub priority: PriorityConfig,
    /// Until a call has waited this long only agents speaking one of the caller's languages
    /// may take it; after, any agent may (the translation path, flagged in the decision),
    /// though a speaker still scores `weights.language` higher. Default 120 s.
    pub language_wait_s: u64,
    /// After this wait the skill requirement goes: any agent with the language may take the
    /// call (an agent with the skill still scores higher). Default 60 s.
    pub overflow_any_skill_s: u64,
    /// After this wait region familiarity and seniority no longer count, so the call goes to
    /// the first suitable agent rather than waiting for a better one. Default 90 s.
    pub overflow_no_preferences_s: u64,
    /// Frustration at which a caller counts as angry (seniority then counts). Default 0.6.
    pub angry_frustration: f32,
    /// Wrap-up after an agent's last call ends before it is offered calls again. Default 30 s.
    pub wrap_up_s: u64,
    /// An offer not accepted within this time goes to the next agent. Default 15 s.
    pub offer_timeout_s: u64,
    /// An agent who lets an offer time out is set `Away` (it is likely not at the desk).
    /// Default true.
    pub away_on_missed_offer: bool,
    /// An agent who accepted but whose audio has not connected after this long is treated as
    /// dropped (the call goes back to the front of the queue). Default 20 s.
    pub agent_connect_timeout_s: u64,
    /// After this many offers of a call went unanswered or were declined, the caller is offered
    /// a callback or a voice message instead of waiting on (0: never). Default 3.
    pub voicemail_after_offers: u32,
    /// ... or after waiting this long in the queue (0: never). Default 300 s.
    pub voicemail_after_s: u64,
    /// Idle time at which the fairness component is full. Default 600 s.
    pub idle_full_s: u64,
    /// Average handle time (talk + wrap-up) assumed before any call has ended. Default 300 s.
    pub initial_handle_time_s: u64,
    /// Weight of each ended call in the moving average of handle time. Default 0.1.
    pub handle_time_smoothing: f64,
    /// The service-level threshold: a queued call answered within this many seconds counts
    /// as answered in time (the queue board's service level; a longer wait raises the
    /// `long_wait` alert). Default 20 s.
    pub service_level_s: u64,
    /// The share of queued calls to answer within `service_level_s` (the board shows the
    /// service level against it). Default 0.8 (80/20).
    pub service_level_target: f64,
    /// A resolved call counts as resolved at first contact when the same customer does not
    /// call again within this many days. Default 7.
    pub first_contact_days: u64,
}

impl Default for RouterConfig {
    fn default() -> Self {
        Self {
            weights: Weights::default(),
            priority: PriorityConfig::default(),
            language_wait_s: 120,
            overflow_any_skill_s: 60,
            overflow_no_preferences_s: 90,
            angry_frustration: 0.6,
            wrap_up_s: 30,
            offer_timeout_s: 15,
            away_on_missed_offer: true,
            agent_connect_timeout_s: 20,
            voicemail_after_offers: 3,
            voicemail_after_s: 300,
            idle_full_s: 600,
            initial_handle_time_s: 300,
            handle_time_smoothing: 0.1,
            service_level_s: 20,
            service_level_target: 0.8,
            first_contact_days: 7,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_toml_keeps_the_other_defaults() {
        let c: RouterConfig = toml::from_str("language_wait_s = 30\n[weights]\nregion = 5.0\n").unwrap();
        assert_eq!(c.language_wait_s, 30);
        assert_eq!(c.weights.region, 5.0);
        assert_eq!(c.weights.language, Weights::default().language);
        assert_eq!(c.offer_timeout_s, 15);
        assert!(toml::from_str::<RouterConfig>("langauge_wait_s = 30").is_err());
    }
}
