//! `switchboard bench mixer`: what a call's mixer costs per 20 ms tick as legs join. A phone
//! caller (8 kHz), the assistant's voice and N-2 browser legs (48 kHz: agents, supervisors)
//! all talking at once, everyone hearing everyone (the most work the matrix can ask for):
//! each tick pushes 20 ms of audio from every person, mixes, converts to each leg's rate and
//! hands each transport its frame. Prints CPU time per tick and per leg, and the share of
//! one core that many such calls would take.

use std::sync::Arc;
use std::time::Instant;

use crate::call::mix::{Mode, Role};
use crate::call::mixer::Mixer;
use crate::call::Playout;

/// Time `ticks` ticks of a call with each of `legs` legs (at least 2: caller and assistant).
pub fn run(legs: &[usize], ticks: usize) -> anyhow::Result<()> {
    println!("bench mixer: {ticks} ticks (20 ms each) per call size; caller 8 kHz + assistant + browsers at 48 kHz, all talking");
    println!("{:>5} {:>12} {:>12} {:>12} {:>16}", "legs", "us/tick p50", "us/tick p99", "us/leg", "calls per core");
    for &n in legs {
        let n = n.max(2);
        let mut m = Mixer::new(8000);
        let (caller, caller_out) = m.add_caller(8000);
        caller_out.ready();
        let mut outs = vec![caller_out];
        let voice = Arc::new(Playout::new(8000));
        m.add_assistant(voice.clone());
        let mut people = Vec::new();
        for i in 0..n - 2 {
            let role = if i == 0 { Role::Agent } else { Role::Supervisor };
            let (id, out) = m.add_person(role, Mode::Talk, 48_000);
            out.ready();
            people.push(id);
            outs.push(out);
        }
        let speech8: Vec<f32> = (0..160).map(|i| 0.2 * (i as f32 * 0.31).sin()).collect();
        let speech48: Vec<f32> = (0..960).map(|i| 0.2 * (i as f32 * 0.052).sin()).collect();
        let mut times = Vec::with_capacity(ticks);
        for t in 0..ticks + 50 {
            if voice.pending_ms() < 100 {
                voice.play(&vec![0.1; 8000], 8000);
            }
            let start = Instant::now();
            m.push(caller, &speech8, 8000);
            for &p in &people {
                m.push(p, &speech48, 48_000);
            }
            m.tick();
            let took = start.elapsed();
            for o in outs.iter_mut() {
                while o.try_recv().is_some() {}
            }
            if t >= 50 {
                times.push(took.as_nanos() as u64);
            }
        }
        times.sort_unstable();
        let p50 = crate::cmd::bench::percentile(&times, 0.5) as f64 / 1000.0;
        let p99 = crate::cmd::bench::percentile(&times, 0.99) as f64 / 1000.0;
        let mean = times.iter().sum::<u64>() as f64 / times.len().max(1) as f64 / 1000.0;
        println!("{n:>5} {p50:>12.1} {p99:>12.1} {:>12.1} {:>16.0}", mean / n as f64, 20_000.0 / mean);
    }
    Ok(())
}
