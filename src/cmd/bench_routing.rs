//! `switchboard bench routing`: what routing decisions cost with a large floor. A deterministic
//! population (fastrand, fixed seed) of agents and callers with a realistic language skew
//! (en de fr es it sv pl nl), skills, regions and seniority, then three phases on a simulated
//! clock:
//!
//! 1. score: every agent available, N calls waiting; rank each call through the index and by
//!    checking every agent (what one decision would cost without the index);
//! 2. burst: one tick offers the N calls at once;
//! 3. drain: every agent busy, N new calls queued; calls end at random (mean talk 240 s, 30 s
//!    wrap-up), and a tick every 100 ms offers calls to agents as they free up (5% of offers
//!    declined) until the queue is empty. Each tick is timed.

use std::time::Instant;

use crate::cmd::bench::percentile;
use crate::routing::{Agent, AgentId, CallId, Millis, Presence, Proficiency, Router, RouterConfig, Skill, WaitingCall};

const LANGS: [(&str, f64, &str); 8] = [
    ("en", 0.40, "GB"),
    ("de", 0.14, "DE"),
    ("fr", 0.12, "FR"),
    ("es", 0.12, "ES"),
    ("it", 0.07, "IT"),
    ("sv", 0.06, "SE"),
    ("pl", 0.05, "PL"),
    ("nl", 0.04, "NL"),
];

/// Callers' intent families, by share.
const CALL_SKILLS: [(Skill, f64); 7] = [
    (Skill::Orders, 0.30),
    (Skill::Refunds, 0.20),
    (Skill::Payments, 0.20),
    (Skill::Account, 0.12),
    (Skill::Complaints, 0.08),
    (Skill::Fraud, 0.05),
    (Skill::General, 0.05),
];

fn pick<T: Copy>(rng: &mut fastrand::Rng, items: &[(T, f64)]) -> T {
    let mut x = rng.f64() * items.iter().map(|(_, w)| w).sum::<f64>();
    for &(t, w) in items {
        if x < w {
            return t;
        }
        x -= w;
    }
    items[items.len() - 1].0
}

fn lang(rng: &mut fastrand::Rng) -> (&'static str, &'static str) {
    let i = pick(rng, &LANGS.iter().enumerate().map(|(i, l)| (i, l.1)).collect::<Vec<_>>());
    (LANGS[i].0, LANGS[i].2)
}

fn make_agent(rng: &mut fastrand::Rng, i: usize) -> Agent {
    let (first, region) = lang(rng);
    let mut languages = vec![(first.to_string(), Proficiency::Native)];
    let mut regions = vec![region.to_string()];
    if first != "en" && rng.f64() < 0.6 {
        languages.push(("en".into(), if rng.bool() { Proficiency::Fluent } else { Proficiency::Basic }));
    } else if first == "en" && rng.f64() < 0.25 {
        let (second, r2) = lang(rng);
        if second != "en" {
            languages.push((second.into(), Proficiency::Fluent));
            regions.push(r2.into());
        }
    }
    if rng.f64() < 0.15 {
        regions.push(["IN", "US", "PK", "NG"][rng.usize(..4)].into());
    }
    let mut skills: Vec<Skill> = (0..rng.usize(1..=3)).map(|_| Skill::ALL[rng.usize(..6)]).collect();
    if rng.f64() < 0.15 {
        skills.push(Skill::General);
    }
    skills.sort();
    skills.dedup();
    let seniority = pick(rng, &[(1u8, 0.5), (2, 0.35), (3, 0.15)]);
    Agent {
        id: AgentId(format!("a{i:05}")),
        name: format!("Agent {i}"),
        languages,
        skills,
        regions,
        seniority,
        max_calls: 1,
    }
}

fn make_call(rng: &mut fastrand::Rng, i: usize, agents: usize) -> WaitingCall {
    let (first, region) = lang(rng);
    let mut languages = vec![first.to_string()];
    if first != "en" && rng.f64() < 0.3 {
        languages.push("en".into());
    }
    let region = match first {
        "en" if rng.f64() < 0.1 => Some("IN".to_string()),
        _ if rng.f64() < 0.7 => Some(region.to_string()),
        _ => None,
    };
    WaitingCall {
        call_id: CallId(format!("c{i:06}")),
        caller: format!("+4670{i:07}"),
        customer_id: Some(i as i64),
        languages,
        skill: pick(rng, &CALL_SKILLS),
        region,
        frustration: rng.f32().powi(2),
        high_value: rng.f64() < 0.1,
        previous_agent: (rng.f64() < 0.15).then(|| AgentId(format!("a{:05}", rng.usize(..agents)))),
        only_agent: None,
        enqueued_at: 0,
    }
}

fn us(sorted_ns: &[u64], p: f64) -> f64 {
    percentile(sorted_ns, p) as f64 / 1e3
}

fn line(name: &str, mut ns: Vec<u64>, note: &str) {
    ns.sort_unstable();
    println!(
        "{name:<28} p50 {:>8.1} us  p99 {:>8.1} us  max {:>8.1} us  ({} samples{note})",
        us(&ns, 0.5),
        us(&ns, 0.99),
        us(&ns, 1.0),
        ns.len()
    );
}

fn ns_since(t: Instant) -> u64 {
    t.elapsed().as_nanos() as u64
}

/// Run the benchmark with `agents` agents and `calls` waiting calls.
pub fn run(agents: usize, calls: usize, seed: u64) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut rng = fastrand::Rng::with_seed(seed);
    let cfg = RouterConfig::default();
    let wrap_up_ms = cfg.wrap_up_s * 1000;
    let mut r = Router::new(cfg);
    let t = Instant::now();
    for i in 0..agents {
        let a = make_agent(&mut rng, i);
        let id = a.id.clone();
        r.add_or_update_agent(a, 0);
        r.set_presence(&id, Presence::Available, rng.u64(..600_000))?;
    }
    println!("population                   {agents} agents, {calls} waiting calls, seed {seed}");
    println!(
        "setup                        {:.1} ms (add + set available, all agents)",
        t.elapsed().as_secs_f64() * 1e3
    );

    // 1. score: each call against the floor, all agents available.
    let mut now: Millis = 600_000;
    let mut next = 0usize;
    let mut ids = Vec::new();
    for _ in 0..calls {
        let c = make_call(&mut rng, next, agents);
        next += 1;
        ids.push((c.call_id.clone(), c.languages[0].clone()));
        r.enqueue(c, now - rng.u64(..50_000))?;
    }
    let (mut indexed, mut brute, mut considered) = (Vec::new(), Vec::new(), 0usize);
    let mut by_lang: Vec<(&str, Vec<u64>)> = LANGS.iter().map(|l| (l.0, Vec::new())).collect();
    for (id, lang) in &ids {
        let t = Instant::now();
        let fast = r.rank(id, now, false)?;
        let ns = ns_since(t);
        indexed.push(ns);
        if let Some((_, v)) = by_lang.iter_mut().find(|(l, _)| l == lang) {
            v.push(ns);
        }
        let t = Instant::now();
        let slow = r.rank(id, now, true)?;
        brute.push(ns_since(t));
        anyhow::ensure!(fast == slow, "index and full scan disagree on {id}");
        considered += usize::from(!fast.is_empty());
    }
    line("score one call (index)", indexed, ", all agents available");
    line("score one call (all agents)", brute, ", same answers");
    let per_lang: Vec<String> = by_lang
        .iter_mut()
        .filter(|(_, v)| !v.is_empty())
        .map(|(l, v)| {
            v.sort_unstable();
            format!("{l} {:.0}", us(v, 0.5))
        })
        .collect();
    println!("  index p50 by caller language (us): {}", per_lang.join(", "));
    println!("calls with a candidate       {considered}/{calls}");

    // 2. burst: one tick offers them all.
    let t = Instant::now();
    let burst = r.tick(now);
    let burst_ns = ns_since(t);
    println!(
        "burst tick                   {:.2} ms for {} offers ({:.1} us per decision)",
        burst_ns as f64 / 1e6,
        burst.len(),
        burst_ns as f64 / 1e3 / burst.len().max(1) as f64
    );
    now += 1000;
    let mut on_call: Vec<(CallId, AgentId)> = Vec::new();
    for d in burst {
        r.accept(&d.call_id, &d.agent_id, now)?;
        on_call.push((d.call_id, d.agent_id));
    }

    // 3. drain: fill the floor, queue N calls, free agents as calls end.
    for _ in 0..3 {
        for _ in 0..agents {
            let c = make_call(&mut rng, next, agents);
            next += 1;
            r.enqueue(c, now)?;
        }
        for d in r.tick(now) {
            r.accept(&d.call_id, &d.agent_id, now)?;
            on_call.push((d.call_id, d.agent_id));
        }
    }
    let leftovers: Vec<CallId> = r.queue(now).into_iter().map(|(c, _)| c).collect();
    for c in &leftovers {
        r.remove_call(c);
    }
    let idle: Vec<AgentId> =
        r.agents().filter(|a| a.presence == Presence::Available).map(|a| a.agent.id.clone()).collect();
    for a in &idle {
        r.set_presence(a, Presence::Away, now)?;
    }
    for _ in 0..calls {
        let c = make_call(&mut rng, next, agents);
        next += 1;
        r.enqueue(c, now)?;
    }
    println!(
        "drain start                  {} agents on calls, {} away, {} calls queued",
        on_call.len(),
        idle.len(),
        r.waiting_len()
    );
    let (mut ticks, mut per_decision, mut decisions, mut declined) = (Vec::new(), Vec::new(), 0usize, 0usize);
    let drain_start = now;
    let step: Millis = 100;
    let p_end = step as f64 / 240_000.0;
    while r.waiting_len() > 0 && now < drain_start + 3_600_000 {
        now += step;
        let mut i = 0;
        while i < on_call.len() {
            if rng.f64() < p_end {
                let (c, a) = on_call.swap_remove(i);
                r.call_ended(&a, &c, now)?;
            } else {
                i += 1;
            }
        }
        let t = Instant::now();
        let offers = r.tick(now);
        let ns = ns_since(t);
        ticks.push(ns);
        if !offers.is_empty() {
            per_decision.push(ns / offers.len() as u64);
        }
        for d in offers {
            decisions += 1;
            if rng.f64() < 0.05 {
                r.decline(&d.call_id, &d.agent_id)?;
                declined += 1;
            } else {
                r.accept(&d.call_id, &d.agent_id, now)?;
                on_call.push((d.call_id, d.agent_id));
            }
        }
    }
    let ticks_with = per_decision.len();
    line("drain tick (100 ms step)", ticks, &format!(", {ticks_with} with offers"));
    line("drain per decision", per_decision, ", tick time / offers in it");
    println!(
        "drain                        {decisions} offers ({declined} declined), queue empty after {:.1} s simulated, \
         wrap-up {} s",
        (now - drain_start) as f64 / 1e3,
        wrap_up_ms / 1000
    );
    println!("average handle time learned  {:.0} s", r.average_handle_time().as_secs_f64());
    println!("total                        {:.2} s wall", started.elapsed().as_secs_f64());
    Ok(())
}
