//! Choosing agents: `tick` (expire offers, end wrap-ups, offer waiting calls in priority order
//! to their best available agent), `rank` (explain a call's candidates without offering) and
//! `estimated_wait`.
//!
//! Finding candidates does not scan every agent. Agents are indexed by (language, skill) in
//! bitsets over agent slots and available agents form one more bitset, so the agents who may
//! take a call are `OR over the caller's languages of (lang, skill) | (lang, general)`, ANDed
//! with `available`, 64 agents per instruction; only those are scored. When few agents are
//! free (at most `SMALL_AVAILABLE`), a tick scores the free ones directly instead, so a long
//! queue with one free agent costs one score per call.

use std::time::Duration;

use super::model::{CallId, Candidate, Decision, Millis, RouteError, Skill};
use super::router::{Queued, Router};
use super::score::{score, CallCtx, Scored, Top, COMPONENTS};

/// At or below this many available agents a tick scores them directly.
const SMALL_AVAILABLE: u32 = 64;

/// Decisions carry the best three candidates.
const TOP: usize = 3;

impl Router {
    /// The call as scoring sees it at `now`, with the overflow rules in effect (also returned
    /// by name for the decision).
    fn ctx<'a>(&self, q: &'a Queued, now: Millis) -> (CallCtx<'a>, Vec<String>) {
        let waited = now.saturating_sub(q.call.enqueued_at);
        let past = |s: u64| waited >= s * 1000;
        let cfg = &self.cfg;
        let ctx = CallCtx {
            langs: &q.langs,
            skill: q.call.skill,
            region: q.region,
            previous: q.call.previous_agent.as_ref().and_then(|p| self.ids.get(p).copied()),
            seniority_counts: (q.call.frustration >= cfg.angry_frustration || q.call.high_value)
                && !past(cfg.overflow_no_preferences_s),
            region_counts: !past(cfg.overflow_no_preferences_s),
            any_skill: past(cfg.overflow_any_skill_s) || q.call.only_agent.is_some(),
            any_language: past(cfg.language_wait_s) || q.call.only_agent.is_some(),
        };
        let overflow = [
            (ctx.any_skill, "any_skill"),
            (!ctx.region_counts, "no_preferences"),
            (ctx.any_language && !q.langs.is_empty(), "any_language"),
        ];
        (ctx, overflow.iter().filter(|(on, _)| *on).map(|(_, n)| n.to_string()).collect())
    }

    /// Word `i` of the set of agents who meet the call's hard requirements (presence aside).
    fn eligible_word(&self, ctx: &CallCtx, i: usize) -> u64 {
        let (skill, general) = (ctx.skill.index(), Skill::General.index());
        let by_skill = !ctx.any_skill && ctx.skill != Skill::General;
        if ctx.langs.is_empty() || ctx.any_language {
            return if by_skill { self.by_skill[skill].word(i) | self.by_skill[general].word(i) } else { u64::MAX };
        }
        let mut m = 0;
        for &l in ctx.langs {
            m |= if by_skill {
                self.by_lang_skill.get(l as usize).map_or(0, |b| b[skill].word(i) | b[general].word(i))
            } else {
                self.by_lang.get(l as usize).map_or(0, |b| b.word(i))
            };
        }
        m
    }

    fn score_slot(&self, s: u32, q: &Queued, ctx: &CallCtx, now: Millis) -> Option<Scored> {
        if q.declined_by.contains(&s) {
            return None;
        }
        score(&self.profiles[s as usize], s, ctx, &self.cfg.weights, self.cfg.idle_full_s * 1000, now)
    }

    /// The best available agents for a call: through the index, from a short list of the free
    /// agents, or (`brute_force`, for the benchmark and tests) by checking every agent.
    fn search(&self, q: &Queued, ctx: &CallCtx, now: Millis, free: Option<&[u32]>, brute_force: bool) -> Top<TOP> {
        let mut top = Top::default();
        if let Some(target) = &q.call.only_agent {
            if let Some(&s) = self.ids.get(target).filter(|&&s| self.available.get(s)) {
                top.consider(self.score_slot(s, q, ctx, now));
            }
            return top;
        }
        if brute_force {
            for s in (0..self.agents.len() as u32).filter(|&s| self.available.get(s)) {
                top.consider(self.score_slot(s, q, ctx, now));
            }
        } else if let Some(free) = free {
            for &s in free {
                top.consider(self.score_slot(s, q, ctx, now));
            }
        } else {
            for i in 0..self.available.len_words() {
                let avail = self.available.word(i);
                if avail == 0 {
                    continue;
                }
                for s in super::bits::ones(avail & self.eligible_word(ctx, i), i) {
                    top.consider(self.score_slot(s, q, ctx, now));
                }
            }
        }
        top
    }

    fn candidates(&self, top: &Top<TOP>) -> Vec<Candidate> {
        top.iter()
            .map(|s| Candidate {
                agent_id: self.slot(s.slot).state.agent.id.clone(),
                total: s.total,
                breakdown: COMPONENTS.iter().zip(s.parts).map(|(n, v)| (n.to_string(), v)).collect(),
            })
            .collect()
    }

    fn offer(&mut self, seq: u64, s: u32, now: Millis) {
        let expires = now + self.cfg.offer_timeout_s.max(1) * 1000;
        let q = self.calls.get_mut(&seq).expect("waiting call");
        let key = q.key();
        q.offered = Some((s, expires));
        let id = q.call.call_id.clone();
        self.order.remove(&key);
        self.offers.insert((expires, seq));
        self.slot_mut(s).state.offered = Some(id);
        self.refresh(s);
    }

    /// Advance to `now`: offers past their timeout go back to the queue (the agent never gets
    /// that call again), finished wrap-ups make agents available, then waiting calls are
    /// offered in priority order, each to its best eligible available agent. A call no
    /// available agent may take stays queued and the next one is tried. Each decision is an
    /// offer, to be settled by `accept` or `decline` (or the timeout).
    pub fn tick(&mut self, now: Millis) -> Vec<Decision> {
        while let Some((_, seq)) = self.offers.first().copied().filter(|(t, _)| *t <= now) {
            self.offers.pop_first();
            self.time_out(seq);
        }
        self.finish_wrap_ups(now);
        let mut out = Vec::new();
        if self.available_n == 0 || self.order.is_empty() {
            return out;
        }
        let mut free: Option<Vec<u32>> = (self.available_n <= SMALL_AVAILABLE).then(|| self.available.iter().collect());
        let keys: Vec<_> = self.order.iter().copied().collect();
        for (_, seq) in keys {
            if self.available_n == 0 {
                break;
            }
            let q = &self.calls[&seq];
            let (ctx, overflow) = self.ctx(q, now);
            let top = self.search(q, &ctx, now, free.as_deref(), false);
            let Some(best) = top.best().copied() else { continue };
            let decision = Decision {
                call_id: q.call.call_id.clone(),
                agent_id: self.slot(best.slot).state.agent.id.clone(),
                score: best.total,
                translation: best.translation,
                overflow,
                waited_ms: now.saturating_sub(q.call.enqueued_at),
                priority: self.priority_at(q, now),
                candidates: self.candidates(&top),
            };
            self.offer(seq, best.slot, now);
            if let Some(free) = free.as_mut() {
                free.retain(|&s| s != best.slot);
            }
            out.push(decision);
        }
        out
    }

    /// Calls that waited too long (`voicemail_after_s`) or whose offers went unanswered too
    /// often (`voicemail_after_offers`) leave the queue: the caller is offered a callback or a
    /// voice message. Calls on offer are left to their offer.
    pub fn give_up(&mut self, now: Millis) -> Vec<CallId> {
        let (offers, wait_ms) = (self.cfg.voicemail_after_offers as usize, self.cfg.voicemail_after_s * 1000);
        let due: Vec<CallId> = self
            .calls
            .values()
            .filter(|q| q.offered.is_none())
            .filter(|q| {
                (offers > 0 && q.declined_by.len() >= offers)
                    || (wait_ms > 0 && now.saturating_sub(q.queued_since) >= wait_ms)
            })
            .map(|q| q.call.call_id.clone())
            .collect();
        for c in &due {
            self.remove_call(c);
        }
        due
    }

    /// The best (up to 3) available agents for a waiting call at `now`, with their score
    /// breakdowns, without offering it. `brute_force` checks every agent instead of using the
    /// index (same answer; for the benchmark).
    pub fn rank(&self, call: &CallId, now: Millis, brute_force: bool) -> Result<Vec<Candidate>, RouteError> {
        let seq = self.seq_of.get(call).ok_or_else(|| RouteError::UnknownCall(call.clone()))?;
        let q = &self.calls[seq];
        let (ctx, _) = self.ctx(q, now);
        Ok(self.candidates(&self.search(q, &ctx, now, None, brute_force)))
    }

    /// Calls waiting for an offer, highest priority first, with their priority at `now`.
    pub fn queue(&self, now: Millis) -> Vec<(CallId, f64)> {
        self.order
            .iter()
            .map(|(_, seq)| &self.calls[seq])
            .map(|q| (q.call.call_id.clone(), self.priority_at(q, now)))
            .collect()
    }

    /// Estimated time until the call is offered, to announce to the caller.
    ///
    /// Model: the call is at `position` among waiting calls with the same preferred language
    /// (calls in other languages mostly need other agents). `capable` agents are logged in
    /// (available, on a call or wrapping up) and may take it now; `free` of them are available.
    /// Busy agents free up one every `average handle time / capable` on average, so the wait is
    /// `(position - free) x AHT / capable`, zero when `position <= free`. If no logged-in agent
    /// speaks the caller's language the wait runs to `language_wait_s` and then the estimate
    /// counts every agent (the translation path); with nobody logged in it assumes one agent.
    /// AHT is a moving average of talk time + wrap-up over ended calls (`handle_time_smoothing`),
    /// starting from `initial_handle_time_s`.
    pub fn estimated_wait(&self, call: &CallId, now: Millis) -> Result<Duration, RouteError> {
        let seq = self.seq_of.get(call).ok_or_else(|| RouteError::UnknownCall(call.clone()))?;
        let q = &self.calls[seq];
        if q.offered.is_some() {
            return Ok(Duration::ZERO);
        }
        let (mut ctx, _) = self.ctx(q, now);
        let count = |ctx: &CallCtx| {
            let (mut capable, mut free) = (0u64, 0u64);
            for i in 0..self.staffed.len_words() {
                let staffed = self.staffed.word(i);
                if staffed != 0 {
                    let m = self.eligible_word(ctx, i);
                    capable += (m & staffed).count_ones() as u64;
                    free += (m & self.available.word(i)).count_ones() as u64;
                }
            }
            (capable, free)
        };
        let (mut capable, mut free) = count(&ctx);
        let mut extra_ms = 0.0;
        if capable == 0 && !ctx.any_language && !ctx.langs.is_empty() {
            extra_ms = (self.cfg.language_wait_s * 1000).saturating_sub(now.saturating_sub(q.call.enqueued_at)) as f64;
            ctx.any_language = true;
            (capable, free) = count(&ctx);
        }
        let preferred = q.langs.first();
        let ahead =
            self.order.range(..q.key()).filter(|(_, s)| self.calls[s].langs.first() == preferred).count() as u64;
        let position = ahead + 1;
        let queue_ms =
            if position <= free { 0.0 } else { (position - free) as f64 * self.aht_ms / capable.max(1) as f64 };
        Ok(Duration::from_millis((extra_ms + queue_ms) as u64))
    }
}
