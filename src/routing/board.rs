//! The supervisor's queue and agent boards: what waits in each queue (a queue is a skill),
//! how long, the estimated wait for the next caller, and the service level now; and each
//! agent's presence, since when, their current calls and the calls they handled today.
//!
//! Service level (the usual definition with short abandons excluded): of the calls that left
//! a queue in the last hour, answered within the threshold / (answered + abandoned after the
//! threshold). A caller who hangs up within the threshold counts for neither.

use std::collections::{HashMap, VecDeque};

use serde::Serialize;

use super::model::{AgentId, Millis, Presence, Skill};

/// How far back the service level looks.
pub const SERVICE_LEVEL_WINDOW: Millis = 60 * 60 * 1000;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Left {
    Answered { in_time: bool },
    Abandoned { counted: bool },
}

/// Calls that left the queues, for the service level.
#[derive(Debug)]
pub struct Tally {
    /// The service-level threshold, ms.
    threshold: Millis,
    left: VecDeque<(Millis, Skill, Left)>,
}

/// One queue's line on the board.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueueRow {
    pub skill: Skill,
    pub waiting: usize,
    /// The longest current wait, seconds.
    pub longest_wait_s: u64,
    /// What the caller at the back of this queue was told to expect, seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub estimated_wait_s: Option<u64>,
    /// Answered in the last hour, and how many within the threshold.
    pub answered: usize,
    pub answered_in_time: usize,
    /// Abandoned after the threshold in the last hour.
    pub abandoned: usize,
    /// 0..1; None before any call counted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_level: Option<f64>,
}

/// One agent's line on the board.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentRow {
    pub agent_id: AgentId,
    pub name: String,
    pub presence: Presence,
    /// Seconds in this presence (since the server noticed the change).
    pub in_state_s: u64,
    /// The calls the agent has now.
    pub calls: Vec<String>,
    pub handled_today: u64,
}

impl Tally {
    /// Counting answers within `threshold` ms as in time.
    pub fn new(threshold: Millis) -> Self {
        Self { threshold, left: VecDeque::new() }
    }

    fn prune(&mut self, now: Millis) {
        while self.left.front().is_some_and(|(t, _, _)| now.saturating_sub(*t) > SERVICE_LEVEL_WINDOW) {
            self.left.pop_front();
        }
    }

    /// A queued call was answered after `waited`.
    pub fn answered(&mut self, now: Millis, skill: Skill, waited: Millis) {
        self.prune(now);
        self.left.push_back((now, skill, Left::Answered { in_time: waited <= self.threshold }));
    }

    /// A queued caller hung up (or left the queue unserved) after `waited`.
    pub fn abandoned(&mut self, now: Millis, skill: Skill, waited: Millis) {
        self.prune(now);
        self.left.push_back((now, skill, Left::Abandoned { counted: waited > self.threshold }));
    }

    /// (answered, answered in time, abandoned after the threshold) of `skill` (None: all).
    pub fn counts(&mut self, now: Millis, skill: Option<Skill>) -> (usize, usize, usize) {
        self.prune(now);
        let mut c = (0, 0, 0);
        for (_, _, l) in self.left.iter().filter(|(_, s, _)| skill.is_none_or(|k| k == *s)) {
            match l {
                Left::Answered { in_time } => {
                    c.0 += 1;
                    c.1 += *in_time as usize;
                }
                Left::Abandoned { counted } => c.2 += *counted as usize,
            }
        }
        c
    }
}

/// The service level from (answered, in time, abandoned late); None with nothing counted.
pub fn service_level((answered, in_time, abandoned): (usize, usize, usize)) -> Option<f64> {
    let n = answered + abandoned;
    (n > 0).then(|| in_time as f64 / n as f64)
}

/// When each agent's presence last changed, as the service sees it every tick.
#[derive(Debug, Default)]
pub struct PresenceClock {
    since: HashMap<AgentId, (Presence, Millis)>,
}

impl PresenceClock {
    /// Note the agents' presences at `now` (a change starts a new period); returns the
    /// changes (every agent the first time it is seen), for the presence log.
    pub fn observe<'a>(
        &mut self,
        now: Millis,
        agents: impl Iterator<Item = (&'a AgentId, Presence)>,
    ) -> Vec<(AgentId, Presence)> {
        let mut changed = Vec::new();
        for (id, p) in agents {
            match self.since.get_mut(id) {
                Some((was, at)) if *was != p => {
                    (*was, *at) = (p, now);
                    changed.push((id.clone(), p));
                }
                Some(_) => {}
                None => {
                    self.since.insert(id.clone(), (p, now));
                    changed.push((id.clone(), p));
                }
            }
        }
        changed
    }

    /// Since when `id` has been in its current presence.
    pub fn since(&self, id: &AgentId) -> Option<Millis> {
        self.since.get(id).map(|(_, at)| *at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_level_counts_answers_in_time_and_late_abandons_over_the_last_hour() {
        let mut t = Tally::new(20_000);
        t.answered(1_000, Skill::Orders, 5_000);
        t.answered(2_000, Skill::Orders, 25_000);
        t.abandoned(3_000, Skill::Orders, 30_000);
        t.abandoned(4_000, Skill::Orders, 3_000); // a short abandon: not counted
        t.answered(5_000, Skill::Refunds, 1_000);
        assert_eq!(t.counts(6_000, Some(Skill::Orders)), (2, 1, 1));
        assert_eq!(service_level(t.counts(6_000, Some(Skill::Orders))), Some(1.0 / 3.0));
        assert_eq!(t.counts(6_000, None), (3, 2, 1));
        assert_eq!(service_level(t.counts(6_000, Some(Skill::Fraud))), None);
        // An hour later the first ones have left the window.
        assert_eq!(t.counts(SERVICE_LEVEL_WINDOW + 2_500, None), (1, 1, 1));
    }

    #[test]
    fn presence_periods_start_at_a_change() {
        let mut c = PresenceClock::default();
        let (a, b) = (AgentId("a".into()), AgentId("b".into()));
        c.observe(100, [(&a, Presence::Available), (&b, Presence::Offline)].into_iter());
        c.observe(200, [(&a, Presence::Available), (&b, Presence::Offline)].into_iter());
        assert_eq!((c.since(&a), c.since(&b)), (Some(100), Some(100)));
        c.observe(300, [(&a, Presence::OnCall), (&b, Presence::Offline)].into_iter());
        assert_eq!((c.since(&a), c.since(&b)), (Some(300), Some(100)));
    }
}
