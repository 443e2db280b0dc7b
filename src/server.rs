//! Assembling and running the server: bind the ports, start the SIP driver and the web
//! server, and on shutdown end every call cleanly (BYE, last transcripts, recordings) before
//! exiting.

use std::io::Cursor;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, UdpSocket};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::call::actor::{CallServices, CallSettings};
use crate::call::Registry;
use crate::config::ServerConfig;
use crate::events::EventBus;
use crate::pipeline::Engine;
use crate::transport::sip::SipDriver;
use crate::transport::webrtc::WebRtcService;

/// The greeting played by default ("Thank you for calling..."), 16 kHz mono.
const BUILTIN_GREETING: &[u8] = include_bytes!("../audio-fixtures/greeting.wav");
/// Longest wait for calls to finish at shutdown.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// A port could not be bound.
    #[error("cannot listen on {what} {addr}: {source}")]
    Bind { what: &'static str, addr: SocketAddr, source: std::io::Error },
    /// The greeting file is unusable.
    #[error("greeting: {0}")]
    Greeting(String),
    /// The assistant's database or voice is unusable ([store] path, espeak-ng).
    #[error("assistant: {0}")]
    Assistant(String),
}

/// A recorded greeting: mono samples and their rate.
pub type Greeting = Arc<(Vec<f32>, u32)>;

/// Decode a WAV greeting to mono f32.
pub fn load_greeting(setting: &str) -> Result<Option<Greeting>, ServerError> {
    let reader = match setting {
        "none" | "" => return Ok(None),
        "builtin" => hound::WavReader::new(Cursor::new(BUILTIN_GREETING.to_vec()))
            .map_err(|e| ServerError::Greeting(e.to_string()))?,
        path => {
            let f = std::fs::File::open(path).map_err(|e| ServerError::Greeting(format!("{path}: {e}")))?;
            let r = hound::WavReader::new(std::io::BufReader::new(f))
                .map_err(|e| ServerError::Greeting(format!("{path}: {e}")))?;
            let samples = read_wav(r).map_err(|e| ServerError::Greeting(format!("{path}: {e}")))?;
            return Ok(Some(Arc::new(samples)));
        }
    };
    Ok(Some(Arc::new(read_wav(reader).map_err(|e| ServerError::Greeting(e.to_string()))?)))
}

fn read_wav<R: std::io::Read>(r: hound::WavReader<R>) -> Result<(Vec<f32>, u32), hound::Error> {
    let spec = r.spec();
    let ch = spec.channels.max(1) as usize;
    let all: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Int => {
            let scale = (1i64 << (spec.bits_per_sample - 1)) as f32;
            r.into_samples::<i32>().map(|s| s.map(|v| v as f32 / scale)).collect::<Result<_, _>>()?
        }
        hound::SampleFormat::Float => r.into_samples::<f32>().collect::<Result<_, _>>()?,
    };
    Ok((crate::media::downmix(&all, ch as u16), spec.sample_rate))
}

/// The assistant's back office (the configured database), understanding and voice.
/// Also returns how many customers the database holds (for the start-up line).
fn assistant_services(
    config: &ServerConfig,
    store: crate::store::Store,
) -> Result<(crate::assistant::AssistantServices, i64), ServerError> {
    use crate::assistant::tools::http::{BackOfficeKind, HttpBackOffice};
    use crate::assistant::tools::sqlite::SqliteBackOffice;
    let err = |e: crate::store::StoreError| ServerError::Assistant(e.to_string());
    let customers = store.customer_count().map_err(err)?;
    let tts = voices(config)?;
    let services = crate::assistant::AssistantServices {
        back_office: match config.back_office.kind {
            BackOfficeKind::Database => Arc::new(SqliteBackOffice::new(store.clone(), config.assistant.policy.clone())),
            BackOfficeKind::Http => Arc::new(
                HttpBackOffice::new(&config.back_office, config.assistant.policy.clone())
                    .map_err(ServerError::Assistant)?,
            ),
        },
        classifier: Arc::new(
            crate::review::retrain::serving_classifier(&config.learned(&config.learning.intent_model, "intents.json"))
                .map_err(|e| ServerError::Assistant(e.to_string()))?,
        ),
        // Generic prompts are synthesised once (64 MB of them at most), not on every call.
        tts: Arc::new(crate::assistant::tts::cache::Cached::new(tts, 64 << 20)),
        policy: config.assistant.policy.clone(),
        llm: config.llm.enabled.then(|| {
            tracing::info!(model = %config.llm.model, url = %config.llm.base_url, "assistant uses a language model");
            Arc::new(crate::assistant::llm::OpenAiCompatible::new(&config.llm))
                as Arc<dyn crate::assistant::llm::LanguageModel>
        }),
        store,
        notice: config.assistant.notice.then(|| config.assistant.notice_text.clone()),
    };
    Ok((services, customers))
}

/// The assistant's voices per `[assistant] voice`: espeak-ng must work (it speaks every
/// language); the Piper English voice is optional and its absence is a warning, not an error.
fn voices(config: &ServerConfig) -> Result<crate::assistant::tts::Voices, ServerError> {
    use crate::assistant::tts::{piper::ENGLISH_VOICE, Espeak, Piper, Synthesizer, TtsError, Voices};
    let espeak = Espeak::default();
    espeak.check().map_err(|e| ServerError::Assistant(e.to_string()))?;
    let voices = match config.assistant.voice.as_str() {
        "espeak" => Voices::espeak(espeak),
        _ => {
            let piper = config
                .models()
                .map_err(|e| TtsError::Unavailable(e.to_string()))
                .and_then(|m| Piper::from_manifest(&m, ENGLISH_VOICE));
            Voices::new(piper, espeak)
        }
    };
    tracing::info!(voice = voices.name(), "assistant voice");
    Ok(voices)
}

/// Before any call: close the calls a crash left open in the database (`server_crash`, with
/// their interaction records) and repair the recordings it cut short.
fn recover_from_crash(store: &crate::store::Store, recordings: Option<&std::path::Path>) -> Result<(), ServerError> {
    let crashed = store.close_crashed_calls().map_err(|e| ServerError::Assistant(e.to_string()))?;
    if !crashed.is_empty() {
        tracing::warn!(calls = crashed.len(), "calls left open by a crash closed as server_crash");
    }
    if let Some(dir) = recordings {
        let records: Vec<_> = crashed.into_iter().filter_map(crate::call::journal::record_of).collect();
        let repaired = crate::call::recording::repair(dir, &records);
        if repaired > 0 {
            tracing::warn!(files = repaired, dir = %dir.display(), "recordings repaired after a crash");
        }
    }
    Ok(())
}

/// A running server.
pub struct Running {
    pub http: SocketAddr,
    pub sip: Option<SocketAddr>,
    pub services: Arc<CallServices>,
    /// Customers in the assistant's database (None with the assistant off).
    pub customers: Option<i64>,
    /// The assistant's voice (None with the assistant off).
    pub voice: Option<String>,
    sip_task: Option<JoinHandle<()>>,
    http_task: JoinHandle<()>,
}

/// Bind the ports and start serving. `config` must already be validated.
pub async fn start(config: &ServerConfig, engine: Arc<Engine>) -> Result<Running, ServerError> {
    let greeting = load_greeting(&config.calls.greeting)?;
    // Switchboard's database: staff, sessions, interactions (and the built-in back office).
    let store = crate::store::Store::open(&config.store.path).map_err(|e| ServerError::Assistant(e.to_string()))?;
    let recording_dir = config.recording.enabled.then(|| config.recording.dir.clone());
    recover_from_crash(&store, recording_dir.as_deref())?;
    let auth = crate::auth::Auth::new(store.clone(), Duration::from_secs(config.auth.session_hours * 3600))
        .and_then(|a| a.with_service_token(std::env::var("SWITCHBOARD_API_TOKEN").ok().filter(|t| !t.is_empty())))
        .map_err(|e| ServerError::Assistant(e.to_string()))?;
    let events = EventBus::default();
    let controls = Arc::new(crate::call::Controls::default());
    let routing = crate::routing::service::RoutingService::new(
        config.routing.clone(),
        store.clone(),
        events.clone(),
        controls.clone(),
    )
    .map_err(|e| ServerError::Assistant(e.to_string()))?;
    let cookies =
        crate::web::auth::CookiePolicy { ttl_s: config.auth.session_hours * 3600, secure: config.auth.secure_cookies };
    let (assistant, customers) = match config.assistant.enabled {
        true => assistant_services(config, store.clone()).map(|(a, n)| (Some(Arc::new(a)), Some(n)))?,
        false => (None, None),
    };
    crate::review::retrain::install_caller_state(
        &config.learned(&config.learning.caller_state_model, "caller-state.json"),
    )
    .map_err(|e| ServerError::Assistant(e.to_string()))?;
    let voice = assistant.as_ref().map(|a| a.tts.name().to_string());
    let registry = Registry::new(200);
    registry.set_journal(crate::call::journal::Journal::start(store.clone()));
    crate::metrics::follow::follow(&events);
    let services = Arc::new(CallServices {
        engine,
        events: events.clone(),
        registry,
        settings: CallSettings {
            max_calls: config.calls.max_calls,
            overflow: config.calls.overflow.clone(),
            max_duration: Duration::from_secs(config.calls.max_duration_s),
            recording_dir,
            greeting,
            alerts: config.alerts.enabled.then(|| Arc::new(config.alerts.clone())),
        },
        shutdown: CancellationToken::new(),
        tracker: TaskTracker::new(),
        connections: TaskTracker::new(),
        assistant,
        routing: Some(routing.clone()),
        controls,
        admission: crate::call::admission::Admission::new(config.calls.admission.clone(), config.calls.max_calls),
    });
    // Offers to free agents every tick, until shutdown.
    routing.spawn(services.shutdown.clone());
    crate::call::retention::spawn(
        store.clone(),
        services.settings.recording_dir.clone(),
        config.retention.days,
        services.shutdown.clone(),
    );
    let listener = TcpListener::bind(config.http.listen).await.map_err(|source| ServerError::Bind {
        what: "HTTP",
        addr: config.http.listen,
        source,
    })?;
    let http =
        listener.local_addr().map_err(|source| ServerError::Bind { what: "HTTP", addr: config.http.listen, source })?;
    let (sip, sip_task) = if config.sip.enabled {
        let socket = UdpSocket::bind(config.sip.listen).await.map_err(|source| ServerError::Bind {
            what: "SIP (UDP)",
            addr: config.sip.listen,
            source,
        })?;
        let addr =
            socket.local_addr().map_err(|source| ServerError::Bind { what: "SIP", addr: config.sip.listen, source })?;
        let driver = SipDriver::new(socket, services.clone(), config.sip.clone())
            .map_err(|source| ServerError::Bind { what: "SIP", addr, source })?;
        (Some(addr), Some(tokio::spawn(driver.run())))
    } else {
        (None, None)
    };
    let media_path = config.media_stream.enabled.then_some(config.media_stream.path.as_str());
    let webrtc = config.webrtc.enabled.then(|| WebRtcService::new(services.clone(), config.webrtc.clone()));
    let state = crate::web::AppState {
        calls: services.clone(),
        routing: routing.clone(),
        auth: Arc::new(auth),
        cookies,
        webrtc,
    };
    let app = crate::web::router(state, media_path);
    let stop = services.shutdown.clone();
    let http_task = tokio::spawn(async move {
        // With the peer address: failed logins are rate-limited per address too.
        let app = app.into_make_service_with_connect_info::<SocketAddr>();
        let serve = axum::serve(listener, app).with_graceful_shutdown(async move { stop.cancelled().await });
        if let Err(e) = serve.await {
            tracing::error!("http server: {e}");
        }
    });
    Ok(Running { http, sip, services, customers, voice, sip_task, http_task })
}

impl Running {
    /// End every call (BYE to phones, close media streams), wait for their last transcripts
    /// and recordings, then stop the listeners.
    pub async fn shutdown(self) {
        let live = self.services.registry.live_count();
        tracing::info!(live_calls = live, "shutting down");
        self.services.shutdown.cancel();
        self.services.tracker.close();
        if tokio::time::timeout(DRAIN_TIMEOUT, self.services.tracker.wait()).await.is_err() {
            tracing::warn!("calls still running after {DRAIN_TIMEOUT:?}; exiting anyway");
        }
        // The calls' last changes reach the database (calls still running stay open there and
        // are closed as server_crash on the next start).
        if let Some(j) = self.services.registry.journal() {
            if !j.flush(Duration::from_secs(5)).await {
                tracing::warn!("call journal not flushed in time");
            }
            if j.dropped() > 0 {
                tracing::warn!(dropped = j.dropped(), "call journal changes dropped while running");
            }
        }
        // Event subscribers get the last call_ended events and a close frame.
        self.services.connections.close();
        let _ = tokio::time::timeout(Duration::from_secs(3), self.services.connections.wait()).await;
        if let Some(t) = self.sip_task {
            let _ = t.await;
        }
        let _ = tokio::time::timeout(Duration::from_secs(5), self.http_task).await;
    }
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => return ctrl_c.await.unwrap_or(()),
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
