//! `switchboard bench sip`: the real server in this process, N simultaneous sipp callers on
//! loopback each playing a speech fixture as G.711 RTP, then hanging up. Prints calls
//! answered / completed / failed, end-of-speech -> final latency p50/p95, WER, CPU and memory.

use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::cmd::bench::{percentile, proc_cpu_ticks, proc_mem_kb};
use crate::config::ServerConfig;
use crate::eval::wer::{wer, WerCount};
use crate::events::Event;
use crate::media::decode::read_mono_at;
use crate::media::g711::Law;
use crate::pipeline::Engine;
use crate::transport::rtp::pcap::{rtp_stream, write_pcap};

/// The sipp caller scenario (also used by the integration tests).
const SCENARIO: &str = include_str!("../../tests/sipp/caller.xml");

/// A work folder with the caller's audio as an RTP pcap and the sipp scenario.
pub(crate) struct SippSetup {
    pub dir: std::path::PathBuf,
    pub pcap: std::path::PathBuf,
    pub scenario: std::path::PathBuf,
    pub audio_ms: u64,
}

impl SippSetup {
    /// Check sipp is there and write `audio` (8 kHz mono) as the callers' pcap.
    pub fn new(name: &str, audio: &[f32]) -> anyhow::Result<Self> {
        if std::process::Command::new("sipp").arg("-v").stdout(Stdio::null()).stderr(Stdio::null()).status().is_err() {
            anyhow::bail!("sipp is not installed: apt-get install sip-tester");
        }
        let dir = std::env::temp_dir().join(format!("switchboard-bench-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let pcap = dir.join("speech.pcap");
        write_pcap(&pcap, &rtp_stream(audio, Law::Ulaw, ""), "10.0.0.1:6000".parse()?, "10.0.0.2:6000".parse()?)?;
        let scenario = dir.join("caller.xml");
        std::fs::write(&scenario, SCENARIO)?;
        Ok(Self { dir, pcap, scenario, audio_ms: audio.len() as u64 / 8 })
    }

    /// sipp calling `target`: `calls` in all, at most `limit` at once, `rate` new calls per
    /// `rate_period_ms`.
    pub fn sipp(
        &self,
        target: std::net::SocketAddr,
        calls: usize,
        limit: usize,
        rate: usize,
        rate_period_ms: u64,
    ) -> std::io::Result<tokio::process::Child> {
        let (m, l, r) = (calls.to_string(), limit.to_string(), rate.to_string());
        tokio::process::Command::new("sipp")
            .current_dir(&self.dir)
            .arg("-sf")
            .arg(&self.scenario)
            .args(["-i", "127.0.0.1", "-p", "0", "-s", "switchboard", "-m", &m, "-l", &l, "-r", &r])
            .args(["-rp", &rate_period_ms.to_string(), "-nostdin"])
            .args(["-recv_timeout", &(self.audio_ms + 3000).to_string(), "-timeout", "900s", "-timeout_error"])
            .arg("-key")
            .arg("pcap")
            .arg(&self.pcap)
            .arg(target.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
    }
}

impl Drop for SippSetup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The server configuration of the SIP benchmarks: loopback, OS-chosen ports.
pub(crate) fn bench_config(max_calls: usize) -> anyhow::Result<ServerConfig> {
    let mut cfg = ServerConfig::default();
    cfg.http.listen = "127.0.0.1:0".parse()?;
    cfg.sip.listen = "127.0.0.1:0".parse()?;
    cfg.sip.rtp_port_min = 30000;
    cfg.sip.rtp_port_max = 40000;
    cfg.calls.max_calls = max_calls.max(1);
    cfg.validate()?;
    Ok(cfg)
}

/// Run the load: `calls` callers started within one second, each playing `wav`.
pub async fn sip(engine: Arc<Engine>, calls: usize, wav: &Path, reference: &str) -> anyhow::Result<()> {
    let audio = read_mono_at(wav, 8000)?;
    let setup = SippSetup::new("sip", &audio)?;
    let audio_ms = setup.audio_ms;
    let cfg = bench_config(calls)?;
    let workers = engine.pool.stats().workers;
    let model = engine.recognizer.name().to_string();
    let running = crate::server::start(&cfg, engine).await?;
    let sip = running.sip.expect("sip enabled");
    let mut rx = running.services.events.subscribe();
    println!(
        "bench sip: {calls} simultaneous sipp calls to {sip}, each {:.1} s of speech ({}), model {model}, {workers} inference workers",
        audio_ms as f64 / 1000.0,
        wav.display()
    );

    let cpu_before = proc_cpu_ticks();
    let t0 = Instant::now();
    let mut sipp = setup.sipp(sip, calls, calls, calls, 1000)?;

    let (mut started, mut ended, mut failed_reasons) = (0usize, 0usize, Vec::new());
    let mut latencies = Vec::new();
    let mut texts: std::collections::HashMap<String, Vec<String>> = Default::default();
    let deadline = tokio::time::Instant::now() + Duration::from_millis(audio_ms + 120_000);
    let mut sipp_status = None;
    while ended < calls || sipp_status.is_none() {
        tokio::select! {
            ev = rx.recv() => match ev {
                Ok(Event::CallStarted { .. }) => started += 1,
                Ok(Event::TranscriptFinal { call_id, text, latency_ms, .. }) => {
                    latencies.push(latency_ms);
                    texts.entry(call_id.0).or_default().push(text);
                }
                Ok(Event::CallEnded { reason, .. }) => {
                    ended += 1;
                    if reason != "caller_hangup" {
                        failed_reasons.push(reason);
                    }
                }
                Ok(_) => {}
                Err(e) => anyhow::bail!("event bus: {e}"),
            },
            s = sipp.wait(), if sipp_status.is_none() => sipp_status = Some(s?),
            _ = tokio::time::sleep_until(deadline) => {
                println!("gave up waiting: {ended}/{calls} calls ended");
                break;
            }
        }
    }
    let wall = t0.elapsed();
    let cpu_pct = (proc_cpu_ticks() - cpu_before) as f64 * 1000.0 / wall.as_millis().max(1) as f64;
    let mut stderr = String::new();
    if let Some(mut e) = sipp.stderr.take() {
        use tokio::io::AsyncReadExt;
        let _ = e.read_to_string(&mut stderr).await;
    }
    let mut total = WerCount::default();
    for t in texts.values() {
        total.add(wer(reference, &t.join(" ")));
    }
    let missing = calls.saturating_sub(texts.len());
    for _ in 0..missing {
        total.add(wer(reference, ""));
    }
    latencies.sort_unstable();
    let sipp_ok = sipp_status.map(|s| s.success()).unwrap_or(false);
    println!("calls answered      {started}/{calls}");
    println!("calls completed     {}/{calls} (ended by the caller's BYE)", ended - failed_reasons.len());
    println!("calls failed        {} {:?}", failed_reasons.len() + calls.saturating_sub(ended), failed_reasons);
    println!("sipp verdict        {}", if sipp_ok { "all calls successful" } else { "some calls failed (see below)" });
    println!(
        "finals              {} (p50 {} ms, p95 {} ms, max {} ms end of speech -> final)",
        latencies.len(),
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.95),
        latencies.last().copied().unwrap_or(0)
    );
    println!("WER over all calls  {total}");
    println!(
        "CPU                 {cpu_pct:.0}% of one core over {:.1} s (server process; {} cores)",
        wall.as_secs_f64(),
        crate::pipeline::default_workers()
    );
    println!("memory              peak RSS {} MB", proc_mem_kb("VmHWM:") / 1024);
    if !sipp_ok && !stderr.trim().is_empty() {
        println!("sipp said:\n{}", stderr.trim());
    }
    running.shutdown().await;
    Ok(())
}
