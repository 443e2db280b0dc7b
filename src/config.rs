//! The server configuration: TOML file, then `SWITCHBOARD__SECTION__KEY=value` environment
//! overrides, then command-line flags; validated as a whole before any port is bound.
//! `switchboard.example.toml` documents every key.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::pipeline::PipelineConfig;

/// Why the configuration is unusable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("cannot read config {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    /// The file or an override is not valid TOML or has unknown/mistyped keys.
    #[error("invalid config: {0}")]
    Parse(String),
    /// A value is out of range or inconsistent.
    #[error("invalid config: {0}")]
    Invalid(String),
}

/// `[http]`
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    /// Address of the web server (REST, WebSockets, media streams).
    pub listen: SocketAddr,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self { listen: "127.0.0.1:8080".parse().expect("literal") }
    }
}

/// `[sip]`
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SipConfig {
    /// Turn the SIP endpoint on or off.
    pub enabled: bool,
    /// UDP address for SIP.
    pub listen: SocketAddr,
    /// IP address written into SDP and Contact; empty = the listen address, or when that is
    /// 0.0.0.0, the address of the interface with the default route.
    pub public_address: String,
    /// First and last UDP port for RTP (even ports are used).
    pub rtp_port_min: u16,
    pub rtp_port_max: u16,
    /// End a call when no RTP arrives for this long (0 = never). Not applied while on hold.
    pub rtp_timeout_s: u64,
    /// Jitter buffer playout delay.
    pub jitter_delay_ms: u64,
    /// Server / User-Agent header.
    pub user_agent: String,
}

impl Default for SipConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            listen: "127.0.0.1:5060".parse().expect("literal"),
            public_address: String::new(),
            rtp_port_min: 10000,
            rtp_port_max: 20000,
            rtp_timeout_s: 60,
            jitter_delay_ms: 60,
            user_agent: format!("Switchboard/{}", env!("CARGO_PKG_VERSION")),
        }
    }
}

/// `[media_stream]`
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MediaStreamConfig {
    /// Accept Twilio-format media streams on `path`.
    pub enabled: bool,
    pub path: String,
}

impl Default for MediaStreamConfig {
    fn default() -> Self {
        Self { enabled: true, path: "/media-stream".into() }
    }
}

/// `[calls]`
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CallsConfig {
    /// Most simultaneous transcribed calls; what happens to more is `[calls.overflow]`.
    pub max_calls: usize,
    /// Calls are ended after this long.
    pub max_duration_s: u64,
    /// "builtin", "none", or the path of a WAV file played when a call is answered.
    pub greeting: String,
    /// `[calls.admission]`: per-address limits on starting calls.
    pub admission: crate::call::admission::AdmissionConfig,
    /// `[calls.overflow]`: what a call gets when the lines are full.
    pub overflow: crate::call::admission::OverflowConfig,
}

impl Default for CallsConfig {
    fn default() -> Self {
        Self {
            max_calls: 32,
            max_duration_s: 3600,
            greeting: "builtin".into(),
            admission: Default::default(),
            overflow: Default::default(),
        }
    }
}

/// `[recording]`
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RecordingConfig {
    /// Save each call's caller audio (WAV) and transcript (JSON).
    pub enabled: bool,
    pub dir: PathBuf,
}

impl Default for RecordingConfig {
    fn default() -> Self {
        Self { enabled: false, dir: "recordings".into() }
    }
}

/// `[asr]`
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AsrConfig {
    /// Whisper model name from models/manifest.toml (tiny.en, base).
    pub model: String,
    /// Inference threads; 0 = one per core.
    pub workers: usize,
    /// Models folder; empty = $SWITCHBOARD_MODELS or ./models.
    pub models_dir: String,
}

impl Default for AsrConfig {
    fn default() -> Self {
        Self { model: "tiny.en".into(), workers: 0, models_dir: String::new() }
    }
}

/// `[store]`
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreConfig {
    /// The back-office SQLite database (created and migrated on start).
    pub path: PathBuf,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self { path: "data/switchboard.db".into() }
    }
}

/// `[assistant]`
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AssistantConfig {
    /// Answer calls with the AI assistant (otherwise callers hear the greeting and are only
    /// transcribed).
    pub enabled: bool,
    /// "piper": the Piper neural voice (en_US-joe-medium) for English and espeak-ng for the
    /// other languages, falling back to espeak-ng with a warning when the voice's files are not
    /// installed; "espeak": espeak-ng for every language.
    pub voice: String,
    /// `[assistant.policy]`: what self-service may do.
    pub policy: crate::assistant::policy::Policy,
    /// Tell every caller, in the greeting and in their language, that an AI assistant answers
    /// and that the call's voice is analysed (EU AI Act, Article 50). On by default.
    pub notice: bool,
    /// Your own wording of that notice per language code (`en`, `sv`, `de`, `fr`, `es`);
    /// the built-in text for the others.
    pub notice_text: std::collections::BTreeMap<String, String>,
}

impl Default for AssistantConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            voice: "piper".into(),
            policy: Default::default(),
            notice: true,
            notice_text: Default::default(),
        }
    }
}

/// `[auth]`: staff logins.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// How long a login lasts.
    pub session_hours: u64,
    /// Mark the session cookie `Secure` (when served over HTTPS, directly or behind a proxy).
    pub secure_cookies: bool,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self { session_hours: 12, secure_cookies: false }
    }
}

/// `[learning]`: what the review loop taught (the files `switchboard train intents` and
/// `switchboard calibrate caller-state` write); empty = the file in the models folder, used
/// when it exists.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LearningConfig {
    /// Reviewed intent examples, added to the shipped ones (default `<models>/intents.json`).
    pub intent_model: String,
    /// Calibrated caller-state thresholds (default `<models>/caller-state.json`).
    pub caller_state_model: String,
}

/// `[retention]`: how long a call's recording and transcript are kept.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetentionConfig {
    /// Recordings and transcripts of calls that ended more than this many days ago are deleted
    /// by the server (hourly, logged); the call's row, timeline and reviews stay for the
    /// numbers. 0 keeps them forever.
    pub days: u32,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        Self { days: 90 }
    }
}

/// The whole server configuration.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    pub http: HttpConfig,
    pub sip: SipConfig,
    pub media_stream: MediaStreamConfig,
    pub calls: CallsConfig,
    pub recording: RecordingConfig,
    pub asr: AsrConfig,
    pub store: StoreConfig,
    pub assistant: AssistantConfig,
    /// `[back_office]`: the built-in database (default) or a company's APIs over HTTP.
    pub back_office: crate::assistant::tools::http::BackOfficeConfig,
    pub auth: AuthConfig,
    /// `[routing]`: how waiting callers are matched to agents (weights, waits, overflow).
    pub routing: crate::routing::RouterConfig,
    /// `[llm]`: an optional OpenAI-compatible model for the assistant (off by default).
    pub llm: crate::assistant::llm::LlmConfig,
    pub pipeline: PipelineConfig,
    pub webrtc: crate::transport::webrtc::WebRtcConfig,
    /// `[alerts]`: what makes a supervisor look at a call (see `call::alerts`).
    pub alerts: crate::call::alerts::AlertConfig,
    pub learning: LearningConfig,
    pub retention: RetentionConfig,
}

const ENV_PREFIX: &str = "SWITCHBOARD__";

impl ServerConfig {
    /// The models folder's manifest: `asr.models_dir`, else `$SWITCHBOARD_MODELS` or `./models`.
    pub fn models(&self) -> Result<crate::models::Manifest, crate::models::ModelError> {
        if self.asr.models_dir.is_empty() {
            crate::models::Manifest::load_default()
        } else {
            crate::models::Manifest::load_dir(self.asr.models_dir.clone().into())
        }
    }

    /// A file the review loop writes: `configured`, else `file` in the models folder.
    pub fn learned(&self, configured: &str, file: &str) -> PathBuf {
        if !configured.is_empty() {
            return configured.into();
        }
        self.models().map(|m| m.dir).unwrap_or_else(|_| "models".into()).join(file)
    }

    /// Load from an optional file plus the process environment.
    pub fn load(path: Option<&Path>) -> Result<ServerConfig, ConfigError> {
        let text = match path {
            Some(p) => std::fs::read_to_string(p).map_err(|source| ConfigError::Read { path: p.into(), source })?,
            None => String::new(),
        };
        Self::from_parts(&text, std::env::vars())
    }

    /// Parse `text` and apply `SWITCHBOARD__SECTION__KEY` overrides from `env` (nested sections
    /// too: `SWITCHBOARD__PIPELINE__TURN__MODE` is `[pipeline.turn] mode`).
    pub fn from_parts(text: &str, env: impl Iterator<Item = (String, String)>) -> Result<ServerConfig, ConfigError> {
        let mut root: toml::Table = text.parse().map_err(|e: toml::de::Error| ConfigError::Parse(e.to_string()))?;
        for (k, v) in env {
            let Some(path) = k.strip_prefix(ENV_PREFIX) else { continue };
            let keys: Vec<String> = path.split("__").map(|s| s.to_ascii_lowercase()).collect();
            if keys.len() < 2 || keys.iter().any(String::is_empty) {
                return Err(ConfigError::Parse(format!("{k}: expected {ENV_PREFIX}SECTION__KEY")));
            }
            // A TOML literal when it parses as one (numbers, booleans, quoted strings), else a string.
            let value = format!("v = {v}")
                .parse::<toml::Table>()
                .ok()
                .and_then(|mut t| t.remove("v"))
                .unwrap_or_else(|| toml::Value::String(v.clone()));
            let (key, sections) = keys.split_last().expect("two or more");
            let mut table = &mut root;
            for (depth, name) in sections.iter().enumerate() {
                table = table
                    .entry(name.clone())
                    .or_insert_with(|| toml::Value::Table(Default::default()))
                    .as_table_mut()
                    .ok_or_else(|| {
                        ConfigError::Parse(format!("{k}: [{}] is not a section", keys[..=depth].join(".")))
                    })?;
            }
            table.insert(key.clone(), value);
        }
        let cfg: ServerConfig =
            toml::Value::Table(root).try_into().map_err(|e: toml::de::Error| ConfigError::Parse(e.to_string()))?;
        Ok(cfg)
    }

    /// Check ranges and consistency (ports, limits, files).
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |m: String| Err(ConfigError::Invalid(m));
        let served = crate::assistant::replies::SERVED;
        if let Some(l) = self.assistant.notice_text.keys().find(|l| !served.contains(&l.as_str())) {
            return bad(format!(
                "assistant.notice_text.{l}: not a language the assistant speaks ({})",
                served.join(", ")
            ));
        }
        let s = &self.sip;
        if s.rtp_port_min == 0 || s.rtp_port_min >= s.rtp_port_max {
            return bad(format!(
                "sip.rtp_port_min ({}) must be > 0 and < sip.rtp_port_max ({})",
                s.rtp_port_min, s.rtp_port_max
            ));
        }
        let calls = self.calls.max_calls + self.calls.overflow.limit(self.calls.max_calls);
        if ((s.rtp_port_max - s.rtp_port_min) / 2) < calls as u16 {
            return bad(format!(
                "the RTP port range {}-{} has room for fewer than {calls} calls (calls.max_calls = {} and \
                 {} overflow calls)",
                s.rtp_port_min,
                s.rtp_port_max,
                self.calls.max_calls,
                calls - self.calls.max_calls
            ));
        }
        if !s.public_address.is_empty() && s.public_address.parse::<std::net::IpAddr>().is_err() {
            return bad(format!("sip.public_address {:?} is not an IP address", s.public_address));
        }
        if s.jitter_delay_ms > 1000 {
            return bad(format!("sip.jitter_delay_ms = {} is above 1000", s.jitter_delay_ms));
        }
        if !matches!(self.assistant.voice.as_str(), "piper" | "espeak") {
            return bad(format!("assistant.voice = {:?}: use \"piper\" or \"espeak\"", self.assistant.voice));
        }
        let p = &self.assistant.policy;
        if p.refund_window_days < 0 || p.max_postpone_days < 0 {
            return bad("assistant.policy: refund_window_days and max_postpone_days must not be negative".into());
        }
        if let Some((c, v)) = p.max_refund_cents.iter().find(|(c, v)| **v < 0 || c.len() != 3) {
            return bad(format!(
                "assistant.policy.max_refund_cents: {c} = {v} (a three-letter currency and an amount >= 0)"
            ));
        }
        if p.verification_lock_failures > 0 && !(1..=7 * 24 * 60).contains(&p.verification_lock_window_minutes) {
            return bad(format!(
                "assistant.policy.verification_lock_window_minutes = {} (1 to 10080)",
                p.verification_lock_window_minutes
            ));
        }
        if !(0.0..=1.0).contains(&p.read_back_below) {
            return bad(format!(
                "assistant.policy.read_back_below = {} (0 to 1; 0 never reads back)",
                p.read_back_below
            ));
        }
        self.back_office.validate().map_err(ConfigError::Invalid)?;
        self.alerts.validate().map_err(ConfigError::Invalid)?;
        let r = &self.routing;
        if !(1..=3600).contains(&r.service_level_s) || !(0.0..=1.0).contains(&r.service_level_target) {
            return bad(format!(
                "routing.service_level_s = {} (1 to 3600) and routing.service_level_target = {} (0 to 1)",
                r.service_level_s, r.service_level_target
            ));
        }
        self.calls.admission.validate().map_err(ConfigError::Invalid)?;
        self.llm.validate().map_err(ConfigError::Invalid)?;
        if !(1..=24 * 30).contains(&self.auth.session_hours) {
            return bad(format!("auth.session_hours = {} (1 to 720)", self.auth.session_hours));
        }
        if self.calls.max_calls == 0 {
            return bad("calls.max_calls must be at least 1".into());
        }
        if self.calls.max_duration_s == 0 {
            return bad("calls.max_duration_s must be at least 1".into());
        }
        if !self.media_stream.path.starts_with('/') || self.media_stream.path.starts_with("/api/") {
            return bad(format!(
                "media_stream.path {:?} must start with / and not be under /api/",
                self.media_stream.path
            ));
        }
        match self.calls.greeting.as_str() {
            "builtin" | "none" | "" => {}
            p if !Path::new(p).is_file() => return bad(format!("calls.greeting: no such file {p:?}")),
            _ => {}
        }
        self.webrtc.validate().map_err(ConfigError::Invalid)?;
        if self.sip.enabled && self.http.listen == self.sip.listen && self.http.listen.port() != 0 {
            return bad("http.listen and sip.listen are the same address".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Iterator<Item = (String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<Vec<_>>().into_iter()
    }

    #[test]
    fn defaults_file_and_env_overrides() {
        let c = ServerConfig::from_parts("", env(&[])).unwrap();
        assert_eq!(c.http.listen.port(), 8080);
        assert_eq!(c.sip.listen.port(), 5060);
        c.validate().unwrap();
        let c = ServerConfig::from_parts(
            "[calls]\nmax_calls = 4\n[sip]\nlisten = \"127.0.0.1:5099\"\n",
            env(&[("SWITCHBOARD__CALLS__MAX_CALLS", "7"), ("SWITCHBOARD__RECORDING__ENABLED", "true"), ("OTHER", "x")]),
        )
        .unwrap();
        assert_eq!((c.calls.max_calls, c.recording.enabled, c.sip.listen.port()), (7, true, 5099));
        let c = ServerConfig::from_parts("", env(&[("SWITCHBOARD__RECORDING__DIR", "/tmp/rec dir")])).unwrap();
        assert_eq!(c.recording.dir, PathBuf::from("/tmp/rec dir"));
        let c = ServerConfig::from_parts("", env(&[("SWITCHBOARD__PIPELINE__TURN__MODE", "smart")])).unwrap();
        assert_eq!(c.pipeline.turn.mode, crate::pipeline::turn::TurnMode::Smart);
    }

    #[test]
    fn clear_errors_for_wrong_config() {
        let e = ServerConfig::from_parts("[sip]\nlisen = \"x\"\n", env(&[])).unwrap_err().to_string();
        assert!(e.contains("lisen"), "{e}");
        let e = ServerConfig::from_parts("[calls]\nmax_calls = \"many\"\n", env(&[])).unwrap_err().to_string();
        assert!(e.contains("max_calls") || e.contains("invalid type"), "{e}");
        let e = ServerConfig::from_parts("", env(&[("SWITCHBOARD__HTTP", "x")])).unwrap_err().to_string();
        assert!(e.contains("SECTION__KEY"), "{e}");
        let c = ServerConfig::from_parts("[sip]\nrtp_port_min = 20000\nrtp_port_max = 10000\n", env(&[])).unwrap();
        assert!(c.validate().unwrap_err().to_string().contains("rtp_port_min"));
        let c = ServerConfig::from_parts("[calls]\ngreeting = \"/no/such.wav\"\n", env(&[])).unwrap();
        assert!(c.validate().unwrap_err().to_string().contains("no such file"));
        let c = ServerConfig::from_parts("[sip]\npublic_address = \"pbx.example\"\n", env(&[])).unwrap();
        assert!(c.validate().is_err());
        let c = ServerConfig::from_parts("", env(&[("SWITCHBOARD__ASSISTANT__VOICE", "festival")])).unwrap();
        assert!(c.validate().unwrap_err().to_string().contains("assistant.voice"));
        let c = ServerConfig::from_parts("[assistant]\nvoice = \"espeak\"\n", env(&[])).unwrap();
        c.validate().unwrap();
        assert_eq!(ServerConfig::default().assistant.voice, "piper");
    }
}

#[cfg(test)]
mod example_file {
    use super::*;

    /// The documented example must stay a valid, complete config.
    #[test]
    fn example_config_parses_and_validates() {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/switchboard.example.toml")).unwrap();
        let c = ServerConfig::from_parts(&text, std::iter::empty()).unwrap();
        c.validate().unwrap();
        assert_eq!(c.pipeline, crate::pipeline::PipelineConfig::default());
        assert_eq!(c.sip.listen, SipConfig::default().listen);
    }
}
