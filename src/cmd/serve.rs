//! `switchboard serve`: load and validate the config, load the models, bind, print where
//! the server listens, and run until SIGINT/SIGTERM.

use std::net::SocketAddr;
use std::path::Path;

use crate::config::ServerConfig;
use crate::pipeline::{self, Engine};

/// Command-line overrides (highest precedence).
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub http: Option<SocketAddr>,
    pub sip: Option<SocketAddr>,
    pub model: Option<String>,
}

/// Config file + environment + flags, validated (nothing is bound yet).
pub fn resolve_config(path: Option<&Path>, o: &Overrides) -> anyhow::Result<ServerConfig> {
    let mut cfg = ServerConfig::load(path)?;
    if let Some(a) = o.http {
        cfg.http.listen = a;
    }
    if let Some(a) = o.sip {
        cfg.sip.listen = a;
    }
    if let Some(m) = &o.model {
        cfg.asr.model = m.clone();
    }
    cfg.validate()?;
    Ok(cfg)
}

/// Load the configured models.
pub fn load_engine(cfg: &ServerConfig) -> anyhow::Result<std::sync::Arc<Engine>> {
    let manifest = cfg.models()?;
    let workers = if cfg.asr.workers == 0 { pipeline::default_workers() } else { cfg.asr.workers };
    Ok(Engine::load(&manifest, &cfg.asr.model, cfg.pipeline.clone(), workers)?)
}

/// Run the server until a signal arrives.
pub async fn run(cfg: ServerConfig, engine: std::sync::Arc<Engine>) -> anyhow::Result<()> {
    // The back office opens (and migrates) in `start` before any port is bound: a bad path or
    // a newer schema stops the start with a clear error instead of failing the first call.
    let running = crate::server::start(&cfg, engine).await?;
    match running.customers {
        Some(n) => eprintln!(
            "back office {} ({n} customers), assistant on, voice {}",
            cfg.store.path.display(),
            running.voice.as_deref().unwrap_or("-")
        ),
        None => eprintln!("assistant off"),
    }
    let sip = running.sip.map(|a| format!("sip:switchboard@{a} (UDP)")).unwrap_or_else(|| "SIP off".into());
    let media = if cfg.media_stream.enabled {
        format!("  media streams ws://{}{}", running.http, cfg.media_stream.path)
    } else {
        String::new()
    };
    let page = if cfg.webrtc.enabled { format!("  caller page http://{}/call", running.http) } else { String::new() };
    println!("Switchboard ready  http://{}  {sip}{media}{page}", running.http);
    crate::server::shutdown_signal().await;
    eprintln!("shutting down: ending calls");
    running.shutdown().await;
    eprintln!("stopped");
    Ok(())
}
