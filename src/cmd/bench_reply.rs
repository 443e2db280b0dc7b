//! `switchboard bench reply`: how long a caller waits for the assistant. The real server runs
//! in this process on a fresh demo back office; the call simulator dials it over SIP, speaks
//! each scenario's turns (Piper voice, G.711 RTP) and times every turn from the end of the
//! caller's speech to the first assistant audio it receives. Prints the turns timed per
//! scenario and p50/p95/max over all of them.

use std::path::PathBuf;
use std::sync::Arc;

use crate::cmd::bench::percentile;
use crate::cmd::bench_sip::bench_config;
use crate::pipeline::Engine;

/// The scenarios timed by default (self-service calls the assistant resolves).
pub const DEFAULT_SCENARIOS: [&str; 3] = ["order_status.toml", "refund.toml", "payment_due.toml"];

/// Run `rounds` rounds of `scenarios` (the service token must already be in the environment:
/// the simulator reads the events with it).
pub async fn run(
    engine: Arc<Engine>,
    listener: Arc<Engine>,
    scenarios: &[PathBuf],
    rounds: usize,
) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("switchboard-bench-reply-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let mut cfg = bench_config(8)?;
    cfg.store.path = dir.join("backoffice.db");
    cfg.assistant.enabled = true;
    crate::cmd::demo_data::seed(&cfg.store.path, 12, false)?;
    let running = crate::server::start(&cfg, engine).await?;
    let sip = running.sip.ok_or_else(|| anyhow::anyhow!("SIP is off"))?;
    let http = format!("http://{}", running.http);
    println!(
        "bench reply: {} scenario(s) x {rounds} round(s) over SIP to {sip}; end of the caller's speech -> first assistant audio",
        scenarios.len()
    );
    let mut all = Vec::new();
    let mut voiced = Vec::new();
    let mut failed = 0usize;
    for round in 1..=rounds {
        for s in scenarios {
            let quiet = crate::cmd::simulate::Print::Quiet;
            match crate::cmd::simulate::run(listener.clone(), s, &http, sip, quiet, false).await {
                Ok(summary) => {
                    let l: Vec<u64> =
                        summary["latencies_ms"].as_array().into_iter().flatten().filter_map(|v| v.as_u64()).collect();
                    println!(
                        "round {round} {:<22} outcome {:<10} turns timed {} ({:?} ms)",
                        s.file_name().and_then(|f| f.to_str()).unwrap_or("?"),
                        summary["outcome"].as_str().unwrap_or("?"),
                        l.len(),
                        l
                    );
                    all.extend(l);
                    voiced.extend(
                        summary["voice_latencies_ms"].as_array().into_iter().flatten().filter_map(|v| v.as_u64()),
                    );
                }
                Err(e) => {
                    failed += 1;
                    println!("round {round} {}: failed: {e:#}", s.display());
                }
            }
        }
    }
    all.sort_unstable();
    voiced.sort_unstable();
    println!(
        "first assistant audio  {} turns timed over {} calls ({failed} failed): p50 {} ms, p95 {} ms, max {} ms",
        all.len(),
        rounds * scenarios.len(),
        percentile(&all, 0.5),
        percentile(&all, 0.95),
        all.last().copied().unwrap_or(0)
    );
    println!(
        "  the same from the caller's last voiced sample (the voice's clip ends in silence): p50 {} ms, p95 {} ms, max {} ms",
        percentile(&voiced, 0.5),
        percentile(&voiced, 0.95),
        voiced.last().copied().unwrap_or(0)
    );
    running.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
