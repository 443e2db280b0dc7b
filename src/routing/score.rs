//! Scoring one agent for one call: hard requirements first (language, skill, each relaxed by
//! its overflow wait), then weighted components. Pure functions over compact, interned
//! profiles, so scoring an agent costs a few dozen nanoseconds.

use std::cmp::Ordering;

use super::config::Weights;
use super::model::{Millis, Skill};

/// Names of the score components, in `Scored::parts` order.
pub const COMPONENTS: [&str; 7] = ["language", "skill", "region", "affinity", "seniority", "idle", "load"];

/// Languages and regions per agent that count (more are ignored; see `Agent`).
pub(crate) const MAX_LANGS: usize = 6;
pub(crate) const MAX_REGIONS: usize = 6;

/// What scoring reads of an agent, interned and inline (no pointers), kept in one dense array
/// by slot so a decision streams through memory: ~80 bytes an agent.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Profile {
    /// (language id, proficiency factor).
    langs: [(u16, f32); MAX_LANGS],
    n_langs: u8,
    regions: [u16; MAX_REGIONS],
    n_regions: u8,
    /// Bit `Skill::index()` per skill.
    pub skills: u8,
    /// 1..=3.
    pub seniority: u8,
    pub max_calls: u32,
    /// Mirrors of the live state (`Router::refresh` keeps them current).
    pub active_calls: u32,
    pub idle_since: Millis,
}

impl Profile {
    pub fn new(langs: &[(u16, f32)], regions: &[u16], skills: u8, seniority: u8, max_calls: u32) -> Self {
        let mut p = Profile { skills, seniority, max_calls, ..Default::default() };
        for (slot, l) in p.langs.iter_mut().zip(langs) {
            *slot = *l;
            p.n_langs += 1;
        }
        for (slot, r) in p.regions.iter_mut().zip(regions) {
            *slot = *r;
            p.n_regions += 1;
        }
        p
    }

    pub fn langs(&self) -> &[(u16, f32)] {
        &self.langs[..self.n_langs as usize]
    }

    pub fn regions(&self) -> &[u16] {
        &self.regions[..self.n_regions as usize]
    }

    pub fn has(&self, skill: Skill) -> bool {
        self.skills & (1 << skill.index()) != 0
    }
}

/// A waiting call as scoring sees it, with the overflow rules in effect at this moment.
#[derive(Debug, Clone)]
pub(crate) struct CallCtx<'a> {
    /// Caller's languages (interned), preferred first. Empty: unknown, no requirement.
    pub langs: &'a [u16],
    pub skill: Skill,
    pub region: Option<u16>,
    /// Slot of the previous agent.
    pub previous: Option<u32>,
    /// Seniority counts (angry or high-value, and before `overflow_no_preferences_s`).
    pub seniority_counts: bool,
    /// Region counts (before `overflow_no_preferences_s`).
    pub region_counts: bool,
    /// Past `overflow_any_skill_s`.
    pub any_skill: bool,
    /// Past `language_wait_s`.
    pub any_language: bool,
}

/// An eligible agent's score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Scored {
    pub slot: u32,
    pub total: f32,
    pub parts: [f32; 7],
    /// Speaks none of the caller's languages.
    pub translation: bool,
    pub idle_since: Millis,
}

/// Weight of the caller's n-th language: the preferred one counts fully.
fn preference(n: usize) -> f32 {
    match n {
        0 => 1.0,
        1 => 0.85,
        _ => 0.7,
    }
}

/// 0..=1: how well the agent speaks the caller's best-served language.
pub(crate) fn language_fit(p: &Profile, caller: &[u16]) -> f32 {
    let mut best = 0.0f32;
    for (n, l) in caller.iter().enumerate() {
        if let Some(&(_, f)) = p.langs().iter().find(|(al, _)| al == l) {
            best = best.max(f * preference(n));
        }
    }
    best
}

/// 0..=1 skill fit; `None`: the agent may not take this call yet.
pub(crate) fn skill_fit(p: &Profile, c: &CallCtx) -> Option<f32> {
    if p.has(c.skill) {
        Some(1.0)
    } else if c.skill == Skill::General || p.has(Skill::General) {
        Some(0.5)
    } else if c.any_skill {
        Some(0.0)
    } else {
        None
    }
}

/// Score `p` (the agent in slot `slot`) for `c`, or `None` when a hard requirement rules it
/// out. Capacity and presence are the caller's check.
pub(crate) fn score(
    p: &Profile,
    slot: u32,
    c: &CallCtx,
    w: &Weights,
    idle_full_ms: Millis,
    now: Millis,
) -> Option<Scored> {
    let (active_calls, idle_since) = (p.active_calls, p.idle_since);
    let lang = if c.langs.is_empty() { 1.0 } else { language_fit(p, c.langs) };
    if lang == 0.0 && !c.any_language {
        return None;
    }
    let skill = skill_fit(p, c)?;
    let region = match c.region {
        Some(r) if c.region_counts && p.regions().contains(&r) => 1.0,
        _ => 0.0,
    };
    let affinity = if c.previous == Some(slot) { 1.0 } else { 0.0 };
    let seniority = if c.seniority_counts { (p.seniority.clamp(1, 3) - 1) as f32 / 2.0 } else { 0.0 };
    let idle = if active_calls == 0 {
        (now.saturating_sub(idle_since) as f32 / idle_full_ms.max(1) as f32).min(1.0)
    } else {
        0.0
    };
    let load = 1.0 - active_calls as f32 / p.max_calls.max(1) as f32;
    let parts = [
        w.language * lang,
        w.skill * skill,
        w.region * region,
        w.affinity * affinity,
        w.seniority * seniority,
        w.idle * idle,
        w.load * load,
    ];
    Some(Scored { slot, total: parts.iter().sum(), parts, translation: lang == 0.0, idle_since })
}

/// Ranking: higher total first; among equals the agent idle longest, then the lower slot (so
/// ties are deterministic).
pub(crate) fn better(a: &Scored, b: &Scored) -> bool {
    match a.total.total_cmp(&b.total) {
        Ordering::Greater => true,
        Ordering::Less => false,
        Ordering::Equal => (a.idle_since, a.slot) < (b.idle_since, b.slot),
    }
}

/// The best `N` scored agents, best first (insertion into a tiny sorted array).
#[derive(Debug, Clone)]
pub(crate) struct Top<const N: usize> {
    items: [Option<Scored>; N],
}

impl<const N: usize> Default for Top<N> {
    fn default() -> Self {
        Self { items: [None; N] }
    }
}

impl<const N: usize> Top<N> {
    pub fn push(&mut self, s: Scored) {
        let mut cur = s;
        for item in self.items.iter_mut() {
            match item {
                None => {
                    *item = Some(cur);
                    return;
                }
                Some(existing) if better(&cur, existing) => std::mem::swap(existing, &mut cur),
                Some(_) => {}
            }
        }
    }

    pub fn consider(&mut self, s: Option<Scored>) {
        if let Some(s) = s {
            self.push(s);
        }
    }

    pub fn best(&self) -> Option<&Scored> {
        self.items[0].as_ref()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Scored> {
        self.items.iter().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routing::config::Weights;

    fn profile(langs: &[(u16, f32)], skills: &[Skill], seniority: u8, active_calls: u32) -> Profile {
        let skills = skills.iter().fold(0, |m, s| m | 1 << s.index());
        Profile { active_calls, ..Profile::new(langs, &[7], skills, seniority, 2) }
    }

    fn ctx(langs: &[u16], skill: Skill) -> CallCtx<'_> {
        CallCtx {
            langs,
            skill,
            region: Some(7),
            previous: None,
            seniority_counts: false,
            region_counts: true,
            any_skill: false,
            any_language: false,
        }
    }

    #[test]
    fn components_add_up_and_requirements_exclude() {
        let w = Weights::default();
        let p = profile(&[(1, 0.85)], &[Skill::Refunds], 3, 1);
        let s = score(&p, 0, &ctx(&[2, 1], Skill::Refunds), &w, 600_000, 300_000).unwrap();
        // language: fluent in the second language 0.85 x 0.85; idle 0 (on a call); load 1/2.
        let expect = [10.0 * 0.85 * 0.85, 6.0, 2.0, 0.0, 0.0, 0.0, 0.5];
        for (got, want) in s.parts.iter().zip(expect) {
            assert!((got - want).abs() < 1e-5, "{:?}", s.parts);
        }
        assert!((s.total - expect.iter().sum::<f32>()).abs() < 1e-5);
        assert!(!s.translation);
        // No shared language, no skill: out until the overflow rules say otherwise.
        assert!(score(&p, 0, &ctx(&[2], Skill::Refunds), &w, 1, 0).is_none());
        assert!(score(&p, 0, &ctx(&[1], Skill::Fraud), &w, 1, 0).is_none());
        let relaxed = CallCtx { any_skill: true, any_language: true, ..ctx(&[2], Skill::Fraud) };
        let s = score(&p, 0, &relaxed, &w, 1, 0).unwrap();
        assert!(s.translation && s.parts[0] == 0.0 && s.parts[1] == 0.0);
    }

    #[test]
    fn top_keeps_the_best_three_in_order_with_idle_tiebreak() {
        let mk = |slot, total, idle_since| Scored { slot, total, parts: [0.0; 7], translation: false, idle_since };
        let mut top = Top::<3>::default();
        for s in [mk(0, 1.0, 0), mk(1, 5.0, 50), mk(2, 3.0, 0), mk(3, 5.0, 10), mk(4, 4.0, 0)] {
            top.push(s);
        }
        assert_eq!(top.iter().map(|s| s.slot).collect::<Vec<_>>(), vec![3, 1, 4]);
    }
}
