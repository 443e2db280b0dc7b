//! Router behaviour on a simulated clock (milliseconds; `S` is a second).

use crate::routing::*;
use Proficiency::*;

const S: Millis = 1000;

impl Router {
    /// Every index agrees with the state it is derived from.
    pub(crate) fn check(&self) {
        let mut n = 0;
        for (s, slot) in self.agents.iter().enumerate() {
            let s = s as u32;
            let Some(slot) = slot else {
                assert!(!self.available.get(s) && !self.staffed.get(s));
                continue;
            };
            let st = &slot.state;
            let can =
                st.presence == Presence::Available && st.active_calls < st.agent.max_calls && st.offered.is_none();
            assert_eq!(self.available.get(s), can, "{st:?}");
            n += can as u32;
            assert_eq!(self.staffed.get(s), st.presence.staffed());
            let consulting = self.consults.values().filter(|c| **c == s).count();
            assert_eq!(self.active.values().filter(|a| a.slot == s).count() + consulting, st.active_calls as usize);
            if let Some(c) = &st.offered {
                assert_eq!(self.calls[&self.seq_of[c]].offered.map(|o| o.0), Some(s));
            }
            assert_eq!(self.ids[&st.agent.id], s);
            let p = &self.profiles[s as usize];
            assert_eq!((p.active_calls, p.idle_since), (st.active_calls, st.idle_since));
        }
        assert_eq!(n, self.available_n);
        for (seq, q) in &self.calls {
            assert_eq!(self.seq_of[&q.call.call_id], *seq);
            assert_eq!(self.order.contains(&q.key()), q.offered.is_none());
            if let Some((s, expires)) = q.offered {
                assert!(self.offers.contains(&(expires, *seq)));
                assert_eq!(self.slot(s).state.offered.as_ref(), Some(&q.call.call_id));
            }
            for &d in &q.declined_by {
                assert!(self.slot(d).state.last_offer_declined_for.contains(&q.call.call_id));
            }
        }
        assert_eq!(self.order.len() + self.offers.len(), self.calls.len());
        assert_eq!(self.seq_of.len(), self.calls.len());
    }
}

fn agent(id: &str, langs: &[(&str, Proficiency)], skills: &[Skill], seniority: u8) -> Agent {
    Agent {
        id: id.into(),
        name: id.to_uppercase(),
        languages: langs.iter().map(|(l, p)| (l.to_string(), *p)).collect(),
        skills: skills.to_vec(),
        regions: vec![],
        seniority,
        max_calls: 1,
    }
}

fn call(id: &str, langs: &[&str], skill: Skill) -> WaitingCall {
    WaitingCall {
        call_id: cid(id),
        caller: "+46700000000".into(),
        customer_id: None,
        languages: langs.iter().map(|l| l.to_string()).collect(),
        skill,
        region: None,
        frustration: 0.0,
        high_value: false,
        previous_agent: None,
        only_agent: None,
        enqueued_at: 0,
    }
}

fn cid(s: &str) -> CallId {
    CallId(s.into())
}

fn aid(s: &str) -> AgentId {
    s.into()
}

/// Add an agent and make it available at `now`.
fn online(r: &mut Router, a: Agent, now: Millis) {
    let id = a.id.clone();
    r.add_or_update_agent(a, now);
    r.set_presence(&id, Presence::Available, now).unwrap();
}

fn en(id: &str, skills: &[Skill], seniority: u8) -> Agent {
    agent(id, &[("en", Native)], skills, seniority)
}

/// Offers at `now` as (call, agent) pairs.
fn offers(r: &mut Router, now: Millis) -> Vec<(String, String)> {
    r.tick(now).into_iter().map(|d| (d.call_id.0, d.agent_id.0)).collect()
}

fn pair(c: &str, a: &str) -> (String, String) {
    (c.to_string(), a.to_string())
}

#[test]
fn language_is_a_hard_requirement() {
    let mut r = Router::new(RouterConfig::default());
    online(&mut r, en("senior_en", &[Skill::Refunds], 3), 0);
    online(&mut r, agent("junior_sv", &[("sv", Native), ("en", Fluent)], &[Skill::Refunds], 1), 0);
    let mut c = call("c1", &["sv-SE"], Skill::Refunds);
    c.frustration = 0.9; // seniority would count, but not across a language barrier
    r.enqueue(c, 0).unwrap();
    let d = r.tick(S).remove(0);
    assert_eq!((d.agent_id.0.as_str(), d.translation), ("junior_sv", false));
    assert_eq!(d.candidates.len(), 1, "the English-only agent is not a candidate: {:?}", d.candidates);
}

#[test]
fn exact_skill_beats_general_and_no_skill_is_out() {
    let mut r = Router::new(RouterConfig::default());
    online(&mut r, en("orders", &[Skill::Orders], 2), 0);
    online(&mut r, en("general", &[Skill::General], 2), 0);
    online(&mut r, en("refunds", &[Skill::Refunds], 2), 10 * S); // idle less, still wins
    r.enqueue(call("c1", &["en"], Skill::Refunds), 0).unwrap();
    let d = r.tick(20 * S).remove(0);
    assert_eq!(d.agent_id, aid("refunds"));
    let names: Vec<_> = d.candidates.iter().map(|c| c.agent_id.0.as_str()).collect();
    assert_eq!(names, ["refunds", "general"]);
    r.enqueue(call("c2", &["en"], Skill::Refunds), 20 * S).unwrap();
    assert_eq!(offers(&mut r, 21 * S), [pair("c2", "general")]);
}

#[test]
fn previous_agent_affinity() {
    let mut r = Router::new(RouterConfig::default());
    online(&mut r, en("a1", &[Skill::Orders], 2), 50 * S);
    online(&mut r, en("a2", &[Skill::Orders], 2), 0); // idle longer
    let mut c = call("c1", &["en"], Skill::Orders);
    c.previous_agent = Some(aid("a1"));
    r.enqueue(c, 60 * S).unwrap();
    let d = r.tick(60 * S).remove(0);
    assert_eq!(d.agent_id, aid("a1"));
    assert!(d.candidates[0].breakdown.contains(&("affinity".into(), 4.0)));
}

#[test]
fn seniority_counts_only_for_angry_or_high_value_callers() {
    let pick = |frustration: f32, high_value: bool| {
        let mut r = Router::new(RouterConfig::default());
        online(&mut r, en("senior", &[Skill::Payments], 3), 100 * S);
        online(&mut r, en("junior", &[Skill::Payments], 1), 0); // idle longer
        let mut c = call("c", &["en"], Skill::Payments);
        (c.frustration, c.high_value) = (frustration, high_value);
        r.enqueue(c, 200 * S).unwrap();
        r.tick(200 * S).remove(0).agent_id.0
    };
    assert_eq!(pick(0.2, false), "junior");
    assert_eq!(pick(0.59, false), "junior");
    assert_eq!(pick(0.6, false), "senior");
    assert_eq!(pick(0.0, true), "senior");
}

#[test]
fn fairness_picks_the_longest_idle_among_equals() {
    let mut r = Router::new(RouterConfig::default());
    online(&mut r, en("b", &[Skill::Orders], 2), 10 * S);
    online(&mut r, en("a", &[Skill::Orders], 2), 0);
    online(&mut r, en("c", &[Skill::Orders], 2), 20 * S);
    r.enqueue(call("c1", &["en"], Skill::Orders), 30 * S).unwrap();
    assert_eq!(offers(&mut r, 30 * S), [pair("c1", "a")]);
    r.accept(&cid("c1"), &aid("a"), 31 * S).unwrap();
    // Long past idle_full_s the idle component is equal (saturated); the tie still goes to
    // the agent idle longest.
    r.enqueue(call("c2", &["en"], Skill::Orders), 5000 * S).unwrap();
    assert_eq!(offers(&mut r, 5000 * S), [pair("c2", "b")]);
}

#[test]
fn load_prefers_the_agent_with_fewer_calls() {
    let mut r = Router::new(RouterConfig::default());
    let multi = |id| Agent { max_calls: 3, ..en(id, &[Skill::Orders], 2) };
    online(&mut r, multi("a1"), 0);
    r.enqueue(call("c0", &["en"], Skill::Orders), 0).unwrap();
    assert_eq!(offers(&mut r, 0), [pair("c0", "a1")]);
    r.accept(&cid("c0"), &aid("a1"), 0).unwrap();
    r.set_presence(&aid("a1"), Presence::Away, S).unwrap();
    online(&mut r, multi("a2"), S);
    for c in ["c1", "c2"] {
        r.enqueue(call(c, &["en"], Skill::Orders), S).unwrap();
        assert_eq!(offers(&mut r, S), [pair(c, "a2")]);
        r.accept(&cid(c), &aid("a2"), S).unwrap();
    }
    r.set_presence(&aid("a1"), Presence::Available, 2 * S).unwrap();
    assert_eq!(r.agent(&aid("a2")).unwrap().active_calls, 2);
    r.enqueue(call("c3", &["en"], Skill::Orders), 3 * S).unwrap();
    let d = r.tick(3 * S).remove(0);
    assert_eq!(d.agent_id, aid("a1"));
    let load = |c: &Candidate| c.breakdown.iter().find(|(n, _)| n == "load").unwrap().1;
    assert!(load(&d.candidates[0]) > load(&d.candidates[1]), "{:?}", d.candidates);
}

#[test]
fn frustrated_later_caller_goes_first_but_long_waiters_stay_ahead() {
    let mut r = Router::new(RouterConfig::default());
    r.enqueue(call("calm_old", &["en"], Skill::Orders), 0).unwrap();
    r.enqueue(call("calm_mid", &["en"], Skill::Orders), 60 * S).unwrap();
    let mut angry = call("angry_new", &["en"], Skill::Orders);
    angry.frustration = 0.9; // worth 54 s of waiting
    r.enqueue(angry, 100 * S).unwrap();
    let order: Vec<_> = r.queue(100 * S).into_iter().map(|(c, _)| c.0).collect();
    assert_eq!(order, ["calm_old", "angry_new", "calm_mid"]);
    online(&mut r, en("a", &[Skill::Orders], 2), 100 * S);
    assert_eq!(offers(&mut r, 100 * S), [pair("calm_old", "a")]);
    r.accept(&cid("calm_old"), &aid("a"), 100 * S).unwrap();
    online(&mut r, en("b", &[Skill::Orders], 2), 101 * S);
    assert_eq!(offers(&mut r, 101 * S), [pair("angry_new", "b")]);
    // Frustration learned while waiting moves a call up (enqueue again updates it).
    let mut mid = call("calm_mid", &["en"], Skill::Orders);
    mid.frustration = 1.0;
    r.enqueue(mid, 102 * S).unwrap();
    assert_eq!(r.waiting_call(&cid("calm_mid")).unwrap().enqueued_at, 60 * S);
    assert!((r.queue(102 * S)[0].1 - (42.0 + 60.0)).abs() < 1e-9);
}

#[test]
fn after_language_wait_an_english_agent_takes_the_swedish_call_with_translation() {
    let mut r = Router::new(RouterConfig::default()); // language_wait_s 120
    online(&mut r, en("en1", &[Skill::Orders], 2), 0);
    r.enqueue(call("sv1", &["sv"], Skill::Orders), 0).unwrap();
    assert!(r.tick(119 * S).is_empty());
    let d = r.tick(120 * S).remove(0);
    assert_eq!((d.agent_id.0.as_str(), d.translation), ("en1", true));
    assert!(d.overflow.contains(&"any_language".to_string()), "{:?}", d.overflow);
    // A Swedish speaker, when there is one, still wins after the wait.
    online(&mut r, agent("sv_basic", &[("sv", Basic)], &[Skill::Orders], 1), 130 * S);
    online(&mut r, en("en2", &[Skill::Orders], 3), 0);
    r.enqueue(call("sv2", &["sv"], Skill::Orders), 0).unwrap();
    let d = r.tick(130 * S).remove(0);
    assert_eq!((d.agent_id.0.as_str(), d.translation), ("sv_basic", false));
}

#[test]
fn overflow_relaxes_the_skill_after_its_wait() {
    let mut r = Router::new(RouterConfig::default()); // overflow_any_skill_s 60
    online(&mut r, en("orders", &[Skill::Orders], 2), 0);
    r.enqueue(call("f", &["en"], Skill::Fraud), 0).unwrap();
    assert!(r.tick(59 * S).is_empty());
    let d = r.tick(60 * S).remove(0);
    assert_eq!(d.agent_id, aid("orders"));
    assert_eq!(d.overflow, ["any_skill"]);
    assert!(d.candidates[0].breakdown.contains(&("skill".into(), 0.0)));
}

#[test]
fn declined_or_timed_out_offers_go_to_the_next_agent_never_back() {
    let mut r = Router::new(RouterConfig::default()); // offer_timeout_s 15
    online(&mut r, en("a1", &[Skill::Orders], 2), 0);
    online(&mut r, en("a2", &[Skill::Orders], 2), S);
    online(&mut r, en("a3", &[Skill::Orders], 2), 2 * S);
    r.enqueue(call("c", &["en"], Skill::Orders), 10 * S).unwrap();
    assert_eq!(offers(&mut r, 10 * S), [pair("c", "a1")]);
    r.decline(&cid("c"), &aid("a1")).unwrap();
    assert!(r.agent(&aid("a1")).unwrap().last_offer_declined_for.contains(&cid("c")));
    assert_eq!(offers(&mut r, 11 * S), [pair("c", "a2")]);
    assert!(r.tick(25 * S).is_empty(), "a2 still has until 26 s");
    assert_eq!(offers(&mut r, 26 * S), [pair("c", "a3")], "a2 timed out");
    assert_eq!(r.agent(&aid("a2")).unwrap().presence, Presence::Away);
    r.decline(&cid("c"), &aid("a3")).unwrap();
    r.set_presence(&aid("a2"), Presence::Available, 27 * S).unwrap();
    assert!(r.tick(28 * S).is_empty(), "everyone available has refused it");
    assert_eq!(r.waiting_len(), 1);
    assert_eq!(
        r.accept(&cid("c"), &aid("a1"), 28 * S),
        Err(RouteError::NotOffered { call: cid("c"), agent: aid("a1") })
    );
    online(&mut r, en("a4", &[Skill::Orders], 1), 29 * S);
    assert_eq!(offers(&mut r, 29 * S), [pair("c", "a4")]);
    r.accept(&cid("c"), &aid("a4"), 30 * S).unwrap();
    assert!(r.agents().all(|a| a.last_offer_declined_for.is_empty()), "refusals are forgotten once served");
}

#[test]
fn unanswered_offers_or_a_long_wait_end_in_a_callback_offer() {
    let cfg = RouterConfig { voicemail_after_offers: 2, voicemail_after_s: 120, ..Default::default() };
    let mut r = Router::new(cfg);
    online(&mut r, en("a1", &[Skill::Orders], 1), 0);
    online(&mut r, en("a2", &[Skill::Orders], 1), S);
    r.enqueue(call("c", &["en"], Skill::Orders), 2 * S).unwrap();
    r.enqueue(call("slow", &["de"], Skill::Orders), 2 * S).unwrap();
    assert_eq!(offers(&mut r, 2 * S), [pair("c", "a1")]);
    assert!(r.give_up(3 * S).is_empty(), "on offer: left to its offer");
    assert_eq!(offers(&mut r, 17 * S), [pair("c", "a2")], "a1 let it time out: rolls over");
    assert!(r.give_up(18 * S).is_empty(), "one unanswered offer so far");
    r.decline(&cid("c"), &aid("a2")).unwrap();
    assert_eq!(r.give_up(19 * S), [cid("c")], "two offers unanswered");
    assert_eq!(r.waiting_len(), 1);
    assert!(r.give_up(121 * S).is_empty(), "the German call has waited 119 s");
    assert_eq!(r.give_up(122 * S), [cid("slow")]);
    assert_eq!(r.waiting_len(), 0);
    // A call back in the queue after its agent dropped starts its wait over.
    r.set_presence(&aid("a2"), Presence::Offline, 200 * S).unwrap();
    online(&mut r, en("a3", &[Skill::Orders], 1), 200 * S);
    r.enqueue(call("d", &["en"], Skill::Orders), 200 * S).unwrap();
    assert_eq!(offers(&mut r, 200 * S), [pair("d", "a3")]);
    r.accept(&cid("d"), &aid("a3"), 201 * S).unwrap();
    assert_eq!(r.disconnect(&aid("a3"), 400 * S), Ok(vec![cid("d")]));
    assert!(r.give_up(401 * S).is_empty(), "requeued at 400 s: not given up for its first wait");
    assert_eq!(r.give_up(520 * S), [cid("d")]);
    r.check();
    let mut never = Router::new(RouterConfig { voicemail_after_offers: 0, voicemail_after_s: 0, ..Default::default() });
    never.enqueue(call("c", &["en"], Skill::Orders), 0).unwrap();
    assert!(never.give_up(100_000 * S).is_empty());
}

#[test]
fn a_transfer_to_a_named_colleague_goes_only_to_them_whatever_their_skills() {
    let mut r = Router::new(RouterConfig::default());
    online(&mut r, en("fraud", &[Skill::Fraud], 3), 0);
    online(&mut r, en("orders", &[Skill::Orders], 1), S);
    r.enqueue(call("c", &["sv"], Skill::Fraud), 2 * S).unwrap();
    assert_eq!(offers(&mut r, 2 * S), [], "nobody speaks Swedish yet");
    r.remove_call(&cid("c"));
    let mut c = call("c", &["sv"], Skill::Fraud);
    c.only_agent = Some(aid("orders"));
    r.requeue(c, 3 * S).unwrap();
    assert_eq!(offers(&mut r, 3 * S), [pair("c", "orders")], "a person chose them");
    r.decline(&cid("c"), &aid("orders")).unwrap();
    assert_eq!(offers(&mut r, 4 * S), [], "declined: back to the queue at large, where nobody speaks Swedish");
    assert_eq!(offers(&mut r, 123 * S), [pair("c", "fraud")], "the translation path, to the specialist");
    r.check();
}

#[test]
fn two_accepts_for_one_call_exactly_one_wins() {
    let mut r = Router::new(RouterConfig::default());
    online(&mut r, en("a1", &[Skill::Orders], 2), 0);
    online(&mut r, en("a2", &[Skill::Orders], 2), S);
    r.enqueue(call("c", &["en"], Skill::Orders), 2 * S).unwrap();
    assert_eq!(offers(&mut r, 2 * S), [pair("c", "a1")]);
    let results: Vec<_> = ["a1", "a2", "a1"].iter().map(|a| r.accept(&cid("c"), &aid(a), 3 * S)).collect();
    assert!(results[0].is_ok());
    let taken = Err(RouteError::AlreadyTaken { call: cid("c"), by: aid("a1") });
    assert_eq!((&results[1], &results[2]), (&taken, &taken));
    assert_eq!(r.handled_by(&cid("c")), Some(&aid("a1")));

    // A late accept after the offer rolled over loses to the agent it rolled over to.
    r.enqueue(call("d", &["en"], Skill::Orders), 4 * S).unwrap();
    assert_eq!(offers(&mut r, 4 * S), [pair("d", "a2")]);
    assert_eq!(
        r.accept(&cid("d"), &aid("a2"), 19 * S),
        Err(RouteError::OfferExpired { call: cid("d"), agent: aid("a2") })
    );
    assert_eq!(r.agent(&aid("a2")).unwrap().presence, Presence::Available, "a late accepter is at the desk");
    online(&mut r, en("a3", &[Skill::Orders], 2), 19 * S);
    assert_eq!(offers(&mut r, 20 * S), [pair("d", "a3")]);
    assert!(r.accept(&cid("d"), &aid("a3"), 21 * S).is_ok());
    assert!(matches!(r.accept(&cid("d"), &aid("a2"), 21 * S), Err(RouteError::AlreadyTaken { .. })));
}

#[test]
fn max_calls_is_respected() {
    let mut r = Router::new(RouterConfig::default());
    online(&mut r, Agent { max_calls: 2, ..en("a", &[Skill::Orders], 2) }, 0);
    for c in ["c1", "c2", "c3"] {
        r.enqueue(call(c, &["en"], Skill::Orders), 0).unwrap();
    }
    assert_eq!(offers(&mut r, S), [pair("c1", "a")], "one offer at a time");
    r.accept(&cid("c1"), &aid("a"), S).unwrap();
    assert_eq!(r.agent(&aid("a")).unwrap().presence, Presence::Available);
    assert_eq!(offers(&mut r, 2 * S), [pair("c2", "a")]);
    r.accept(&cid("c2"), &aid("a"), 2 * S).unwrap();
    assert_eq!(r.agent(&aid("a")).unwrap().presence, Presence::OnCall);
    assert!(r.tick(3 * S).is_empty());
    r.set_presence(&aid("a"), Presence::Available, 3 * S).unwrap();
    assert!(r.tick(3 * S).is_empty(), "asking to be available at capacity changes nothing");
    r.call_ended(&aid("a"), &cid("c1"), 4 * S).unwrap();
    assert_eq!(offers(&mut r, 4 * S), [pair("c3", "a")]);
}

#[test]
fn wrap_up_then_available_through_tick() {
    let mut r = Router::new(RouterConfig::default()); // wrap_up_s 30
    online(&mut r, en("a", &[Skill::Orders], 2), 0);
    r.enqueue(call("c1", &["en"], Skill::Orders), 0).unwrap();
    r.tick(0);
    r.accept(&cid("c1"), &aid("a"), 0).unwrap();
    assert_eq!(r.call_ended(&aid("a"), &cid("c1"), 100 * S), Ok(()));
    assert!(r.call_ended(&aid("a"), &cid("c1"), 100 * S).is_err(), "already ended");
    let st = r.agent(&aid("a")).unwrap();
    assert_eq!((st.presence, st.wrap_up_until), (Presence::WrapUp, 130 * S));
    r.enqueue(call("c2", &["en"], Skill::Orders), 101 * S).unwrap();
    assert!(r.tick(129 * S).is_empty());
    assert_eq!(offers(&mut r, 130 * S), [pair("c2", "a")]);
    assert_eq!(r.agent(&aid("a")).unwrap().idle_since, 130 * S);
}

#[test]
fn an_agent_going_offline_is_ignored_and_its_offer_moves_on() {
    let mut r = Router::new(RouterConfig::default());
    online(&mut r, en("a1", &[Skill::Orders], 2), 0);
    r.set_presence(&aid("a1"), Presence::Offline, S).unwrap();
    r.enqueue(call("c", &["en"], Skill::Orders), S).unwrap();
    assert!(r.tick(2 * S).is_empty());
    r.set_presence(&aid("a1"), Presence::Available, 3 * S).unwrap();
    online(&mut r, en("a2", &[Skill::Orders], 2), 4 * S);
    assert_eq!(offers(&mut r, 4 * S), [pair("c", "a1")]);
    r.set_presence(&aid("a1"), Presence::Offline, 5 * S).unwrap();
    assert_eq!(r.agent(&aid("a1")).unwrap().offered, None);
    assert_eq!(offers(&mut r, 5 * S), [pair("c", "a2")]);
    // Offline on a call: the call goes on; when it ends there is no wrap-up and no return.
    r.accept(&cid("c"), &aid("a2"), 6 * S).unwrap();
    r.set_presence(&aid("a2"), Presence::Offline, 7 * S).unwrap();
    r.call_ended(&aid("a2"), &cid("c"), 8 * S).unwrap();
    assert_eq!(r.agent(&aid("a2")).unwrap().presence, Presence::Offline);
}

#[test]
fn estimated_wait_grows_with_queue_position_and_learns_handle_time() {
    let mut r = Router::new(RouterConfig::default()); // AHT starts at 300 s
    for (a, c) in [("a1", "x1"), ("a2", "x2")] {
        online(&mut r, en(a, &[Skill::Orders], 2), 0);
        r.enqueue(call(c, &["en"], Skill::Orders), 0).unwrap();
        r.tick(0);
        r.accept(&cid(c), &aid(a), 0).unwrap();
    }
    for c in ["q1", "q2", "q3"] {
        r.enqueue(call(c, &["en"], Skill::Orders), S).unwrap();
    }
    r.enqueue(call("de", &["de"], Skill::Orders), S).unwrap();
    let ewt = |r: &Router, c| r.estimated_wait(&cid(c), 2 * S).unwrap().as_secs();
    assert_eq!([ewt(&r, "q1"), ewt(&r, "q2"), ewt(&r, "q3")], [150, 300, 450]);
    // Nobody speaks German: the wait runs to language_wait (120 s), then anyone.
    assert_eq!(ewt(&r, "de"), 119 + 150);
    r.call_ended(&aid("a1"), &cid("x1"), 60 * S).unwrap(); // 60 s talk + 30 s wrap-up
    assert_eq!(r.average_handle_time().as_secs(), 300 - 21);
    r.tick(90 * S);
    assert_eq!(r.estimated_wait(&cid("q1"), 90 * S).unwrap(), std::time::Duration::ZERO, "q1 is on offer");
}

#[test]
fn a_dropped_agent_s_call_goes_back_to_the_front() {
    let mut r = Router::new(RouterConfig::default());
    online(&mut r, en("a", &[Skill::Orders], 2), 0);
    r.enqueue(call("c1", &["en"], Skill::Orders), 0).unwrap();
    r.tick(0);
    r.accept(&cid("c1"), &aid("a"), 0).unwrap();
    let mut angry = call("c2", &["en"], Skill::Orders);
    angry.frustration = 1.0;
    r.enqueue(angry, 10 * S).unwrap();
    assert_eq!(r.disconnect(&aid("a"), 20 * S), Ok(vec![cid("c1")]));
    let st = r.agent(&aid("a")).unwrap();
    assert_eq!((st.presence, st.active_calls), (Presence::Offline, 0));
    let queue: Vec<_> = r.queue(20 * S).into_iter().map(|(c, _)| c.0).collect();
    assert_eq!(queue, ["c1", "c2"]);
    assert_eq!(r.waiting_call(&cid("c1")).unwrap().enqueued_at, 0);
}

#[test]
fn removing_an_offered_call_frees_the_agent() {
    let mut r = Router::new(RouterConfig::default());
    online(&mut r, en("a", &[Skill::Orders], 2), 0);
    r.enqueue(call("c1", &["en"], Skill::Orders), 0).unwrap();
    r.enqueue(call("c2", &["en"], Skill::Orders), S).unwrap();
    assert_eq!(offers(&mut r, S), [pair("c1", "a")]);
    assert_eq!(r.remove_call(&cid("c1")).map(|c| c.call_id), Some(cid("c1")));
    assert_eq!(r.remove_call(&cid("c1")), None);
    assert_eq!(offers(&mut r, 2 * S), [pair("c2", "a")]);
    assert!(matches!(r.accept(&cid("c1"), &aid("a"), 2 * S), Err(RouteError::UnknownCall(_))));
}

#[test]
fn a_decision_explains_itself() {
    let mut r = Router::new(RouterConfig::default());
    for (i, id) in ["a", "b", "c", "d"].iter().enumerate() {
        let mut a = agent(id, &[("de", Native), ("en", Fluent)], &[Skill::Account], (i % 3) as u8 + 1);
        a.regions = vec!["de".into()];
        online(&mut r, a, i as Millis * S);
    }
    let mut c = call("c", &["en", "de"], Skill::Account);
    c.region = Some("DE".into());
    r.enqueue(c, 10 * S).unwrap();
    let d = r.tick(10 * S).remove(0);
    assert_eq!(d.candidates.len(), 3);
    assert_eq!(d.score, d.candidates[0].total);
    for c in &d.candidates {
        let names: Vec<_> = c.breakdown.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, COMPONENTS);
        assert!((c.breakdown.iter().map(|(_, v)| v).sum::<f32>() - c.total).abs() < 1e-4);
        assert!(c.breakdown.contains(&("region".into(), 2.0)));
        assert!(c.breakdown.contains(&("language".into(), 10.0 * 0.85)), "fluent en = native de x 0.85");
    }
    assert!(d.candidates.windows(2).all(|w| w[0].total >= w[1].total));
    let json = serde_json::to_string(&d).unwrap();
    assert_eq!(serde_json::from_str::<Decision>(&json).unwrap(), d);
}

#[test]
fn the_index_finds_what_checking_every_agent_finds() {
    let mut rng = fastrand::Rng::with_seed(11);
    let langs = ["en", "sv", "de", "fr"];
    let mut r = Router::new(RouterConfig::default());
    for i in 0..600 {
        let mut ls = vec![(langs[rng.usize(..4)].to_string(), [Basic, Fluent, Native][rng.usize(..3)])];
        if rng.bool() {
            ls.push((langs[rng.usize(..4)].to_string(), Fluent));
        }
        let skills = (0..rng.usize(1..3)).map(|_| Skill::ALL[rng.usize(..7)]).collect();
        let a = Agent {
            id: AgentId(format!("a{i}")),
            name: String::new(),
            languages: ls,
            skills,
            regions: vec![["SE", "IN"][rng.usize(..2)].into()],
            seniority: rng.u8(1..=3),
            max_calls: rng.u32(1..=2),
        };
        r.add_or_update_agent(a, 0);
        if rng.u8(..10) < 7 {
            r.set_presence(&AgentId(format!("a{i}")), Presence::Available, rng.u64(..100) * S).unwrap();
        }
    }
    for i in 0..60 {
        let mut c =
            call(&format!("c{i}"), &[langs[rng.usize(..4)], "pl"][..rng.usize(1..=2)], Skill::ALL[rng.usize(..7)]);
        (c.frustration, c.region) = (rng.f32(), Some("IN".into()));
        r.enqueue(c, rng.u64(..200) * S).unwrap();
    }
    for now in [200 * S, 300 * S, 400 * S] {
        for i in 0..60 {
            let (fast, slow) = (r.rank(&cid(&format!("c{i}")), now, false), r.rank(&cid(&format!("c{i}")), now, true));
            assert_eq!(fast, slow);
        }
    }
    assert!(!r.rank(&cid("c0"), 400 * S, false).unwrap().is_empty());
}

#[test]
fn random_operations_keep_every_index_consistent() {
    let mut rng = fastrand::Rng::with_seed(5);
    let langs = ["en", "sv", "de"];
    let mut r = Router::new(RouterConfig { wrap_up_s: 5, ..RouterConfig::default() });
    let (mut now, mut offered, mut next_call) = (0, Vec::<Decision>::new(), 0);
    let (mut accepted, mut ended, mut on_calls) = (0, 0, Vec::new());
    let presences = [Presence::Available, Presence::Away, Presence::Offline, Presence::WrapUp, Presence::OnCall];
    for _ in 0..5000 {
        now += rng.u64(0..4) * S;
        let a = AgentId(format!("a{}", rng.u32(..25)));
        match rng.u8(..10) {
            0 => {
                let l = langs[rng.usize(..3)];
                let ag = Agent {
                    max_calls: rng.u32(1..=2),
                    ..agent(&a.0, &[(l, Native)], &[Skill::ALL[rng.usize(..7)]], 2)
                };
                r.add_or_update_agent(ag, now);
            }
            1 => {
                let _ = r.set_presence(&a, presences[rng.usize(..5)], now);
            }
            2 | 3 => {
                next_call += 1;
                let c = call(&format!("c{next_call}"), &[langs[rng.usize(..3)]], Skill::ALL[rng.usize(..7)]);
                r.enqueue(WaitingCall { frustration: rng.f32(), ..c }, now).unwrap();
            }
            4 => {
                let _ = r.remove_call(&cid(&format!("c{}", rng.u32(..=next_call))));
            }
            5 => offered.extend(r.tick(now)),
            6 if !offered.is_empty() => {
                let d = offered.swap_remove(rng.usize(..offered.len()));
                if rng.bool() {
                    if r.accept(&d.call_id, &d.agent_id, now).is_ok() {
                        accepted += 1;
                        on_calls.push((d.call_id, d.agent_id));
                    }
                } else {
                    let _ = r.decline(&d.call_id, &d.agent_id);
                }
            }
            7 if !on_calls.is_empty() => {
                let (c, by) = on_calls.swap_remove(rng.usize(..on_calls.len()));
                if r.handled_by(&c) == Some(&by) {
                    r.call_ended(&by, &c, now).unwrap();
                    ended += 1;
                }
            }
            8 if rng.u8(..10) == 0 => {
                let _ = if rng.bool() { r.disconnect(&a, now).map(drop) } else { r.remove_agent(&a).map(drop) };
            }
            _ => {}
        }
        r.check();
    }
    assert!(r.agents().count() > 0 && next_call > 1000);
    assert!(accepted > 40 && ended > 30, "accepted {accepted}, ended {ended}");
}

/// Alex has call c1; Bea is available (10 s wrap-up).
fn consult_setup() -> (Router, CallId, AgentId, AgentId) {
    let mut r = Router::new(RouterConfig { wrap_up_s: 10, ..RouterConfig::default() });
    online(&mut r, en("alex", &[], 2), 0);
    r.enqueue(call("c1", &["en"], Skill::General), 0).unwrap();
    assert_eq!(offers(&mut r, S), vec![("c1".to_string(), "alex".to_string())]);
    r.accept(&cid("c1"), &aid("alex"), 2 * S).unwrap();
    online(&mut r, en("bea", &[], 2), 3 * S);
    r.check();
    (r, cid("c1"), aid("alex"), aid("bea"))
}

#[test]
fn a_consulted_colleague_is_busy_and_then_free_again() {
    let (mut r, c, a, b) = consult_setup();
    r.consult(&c, &a, &b, 10 * S).unwrap();
    r.check();
    assert_eq!(r.agent(&b).unwrap().presence, Presence::OnCall);
    // Nothing is offered to Bea while she consults.
    r.enqueue(call("c2", &["en"], Skill::General), 11 * S).unwrap();
    assert!(offers(&mut r, 12 * S).is_empty());
    // A second consult on the call, or of a busy colleague, is refused.
    assert!(matches!(r.consult(&c, &a, &b, 13 * S), Err(RouteError::NotAvailable { .. })));
    assert_eq!(r.end_consult(&c, 20 * S), Some(b.clone()));
    r.check();
    assert_eq!(r.agent(&b).unwrap().presence, Presence::Available);
    assert_eq!(r.handled_by(&c), Some(&a), "the call stays with Alex");
    assert_eq!(offers(&mut r, 21 * S), vec![("c2".to_string(), "bea".to_string())]);
}

#[test]
fn a_consult_transfer_hands_the_call_over() {
    let (mut r, c, a, b) = consult_setup();
    assert!(matches!(r.consult(&c, &b, &a, 5 * S), Err(RouteError::NotOnCall { .. })), "only the call's agent");
    r.consult(&c, &a, &b, 10 * S).unwrap();
    assert_eq!(r.hand_over(&c, &a, 30 * S).unwrap(), b);
    r.check();
    assert_eq!(r.handled_by(&c), Some(&b));
    assert_eq!(r.agent(&a).unwrap().presence, Presence::WrapUp);
    assert_eq!(r.agent(&b).unwrap().active_calls, 1);
    assert_eq!(r.end_consult(&c, 31 * S), None, "the consult is over");
    r.call_ended(&b, &c, 60 * S).unwrap();
    r.check();
    assert_eq!(r.agent(&b).unwrap().active_calls, 0);
}

#[test]
fn a_colleague_away_or_gone_is_not_consulted() {
    let (mut r, c, a, b) = consult_setup();
    r.set_presence(&b, Presence::Away, 5 * S).unwrap();
    let e = r.consult(&c, &a, &b, 6 * S).unwrap_err();
    assert_eq!(e.to_string(), "bea is away: choose an available colleague");
    assert!(matches!(r.hand_over(&c, &a, 7 * S), Err(RouteError::NoConsult(_))));
    // A colleague who drops mid-consult leaves it; the call stays with Alex.
    r.set_presence(&b, Presence::Available, 8 * S).unwrap();
    r.consult(&c, &a, &b, 9 * S).unwrap();
    assert!(r.disconnect(&b, 10 * S).unwrap().is_empty());
    r.check();
    assert_eq!(r.end_consult(&c, 11 * S), None);
    assert_eq!(r.handled_by(&c), Some(&a));
}
