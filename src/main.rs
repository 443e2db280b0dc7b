//! The `switchboard` command line.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use switchboard::cmd::transcribe::Pace;
use switchboard::models::{self, fetch::SourcePref, Manifest};
use switchboard::pipeline::{self, Engine, PipelineConfig};

mod cli;

use cli::*;

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
        // Colour codes only for a person at a terminal, not in a log file or a pipe.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
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
        Command::Transcribe { file, model, realtime, json, language, translate, turns } => {
            let engine = load_engine(&model, PipelineConfig { language, translate, ..turns.pipeline() })?;
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
        Command::Report { from, to, format, db, config } => {
            let cfg = switchboard::config::ServerConfig::load(config.as_deref())?;
            let db = db.unwrap_or(cfg.store.path.clone());
            use switchboard::{metrics::stats::parse_instant, store::rfc3339};
            let when = |s: &str| parse_instant(s).map_err(anyhow::Error::msg);
            let to = match to {
                Some(t) => when(&t)?,
                None => chrono::Utc::now(),
            };
            let from = match from {
                Some(f) => when(&f)?,
                None => to - chrono::Duration::days(7),
            };
            anyhow::ensure!(from < to, "--from must be before --to");
            let r = &cfg.routing;
            let stats = switchboard::metrics::stats::StatsConfig {
                service_level_s: r.service_level_s,
                service_level_target: r.service_level_target,
                fcr_days: r.first_contact_days,
            };
            print!("{}", switchboard::cmd::report::run(&db, &rfc3339(from), &rfc3339(to), format, stats)?);
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
            let app = switchboard::web::back_office::router(store, config.assistant.policy, token.clone());
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
        Command::Simulate { scenario, server, sip, model, json, unwatched } => {
            let engine = load_engine(&model, PipelineConfig::default())?;
            let print =
                if json { switchboard::cmd::simulate::Print::Json } else { switchboard::cmd::simulate::Print::Text };
            runtime()?.block_on(switchboard::cmd::simulate::run(engine, &scenario, &server, sip, print, !unwatched))?;
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
                EvalWhat::Turns { dataset, model, only, verbose } => {
                    // Smart mode, so that Smart Turn is loaded; the eval sets each policy itself.
                    let engine = load_engine(&model, TurnModeArg::Smart.pipeline())?;
                    switchboard::cmd::eval_turns::run(engine, &dataset, only.as_deref(), verbose)?;
                }
                EvalWhat::Answers { models, verbose } => {
                    let engines = models
                        .iter()
                        .map(|m| Ok((m.clone(), load_engine(m, PipelineConfig::default())?)))
                        .collect::<anyhow::Result<Vec<_>>>()?;
                    switchboard::cmd::eval_answers::run(engines, &Manifest::load_default()?, verbose)?;
                }
                EvalWhat::ReviewLoop { dataset, out } => {
                    switchboard::cmd::review::review_loop(&dataset, &out)?;
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
        Command::Bench { what: BenchWhat::Asr { model, streams, seconds, dataset, workers, turns, unwatched } } => {
            let manifest = Manifest::load_default()?;
            let workers = workers.unwrap_or_else(pipeline::default_workers);
            let engine = Engine::load(&manifest, &model, turns.pipeline(), workers)?;
            let fixtures = manifest.dir.parent().unwrap_or(std::path::Path::new(".")).join("audio-fixtures");
            runtime()?
                .block_on(switchboard::cmd::bench::asr(engine, &streams, seconds, fixtures, dataset, unwatched))?;
        }
        Command::Bench { what: BenchWhat::Peers { model, dataset, export, peer } } => {
            let manifest = Manifest::load_default()?;
            let fixtures = manifest.dir.parent().unwrap_or(std::path::Path::new(".")).join("audio-fixtures");
            let engine = Engine::load(&manifest, &model, Default::default(), pipeline::default_workers())?;
            runtime()?.block_on(switchboard::cmd::bench_peers::peers(engine, fixtures, dataset, export, peer))?;
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
        Command::Train { what, reviews, holdout, out, .. } if what == "intents" => {
            let reviews = reviews.ok_or_else(|| anyhow::anyhow!("train intents needs --reviews FILE"))?;
            let out = out.unwrap_or_else(|| learned("intents.json"));
            switchboard::cmd::review::train_intents(&reviews, &out, holdout)?;
        }
        Command::Train { what, dataset, hold_out, out, seed, .. } => {
            anyhow::ensure!(!dataset.is_empty(), "train {what} needs --dataset DIR (one or more)");
            let m = Manifest::load_default()?;
            switchboard::cmd::voice_train::train(&what, &dataset, &hold_out, out.as_deref(), seed, &m)?;
        }
        Command::Calibrate { what, reviews, holdout, out } => {
            anyhow::ensure!(what == "caller-state", "calibrate knows caller-state, not {what:?}");
            let out = out.unwrap_or_else(|| learned("caller-state.json"));
            switchboard::cmd::review::calibrate_caller_state(&reviews, &out, holdout)?;
        }
        Command::Export { what, since, out, db, config } => {
            anyhow::ensure!(what == "reviews", "export knows reviews, not {what:?}");
            let db = match db {
                Some(db) => db,
                None => switchboard::config::ServerConfig::load(config.as_deref())?.store.path,
            };
            let since = switchboard::metrics::stats::parse_instant(&since).map_err(anyhow::Error::msg)?;
            switchboard::cmd::review::export_reviews(&db, &switchboard::store::rfc3339(since), out.as_deref())?;
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
        Command::Bench { what: BenchWhat::Mixer { legs, ticks } } => {
            switchboard::cmd::bench_mixer::run(&legs, ticks.max(1))?;
        }
        Command::Bench { what: BenchWhat::Reply { rounds, scenarios, model, turns } } => {
            // The simulator reads the server's events with the service token: one for this run.
            if std::env::var("SWITCHBOARD_API_TOKEN").is_err() {
                std::env::set_var("SWITCHBOARD_API_TOKEN", switchboard::auth::random_token(24)?);
            }
            let manifest = Manifest::load_default()?;
            let root = manifest.dir.parent().unwrap_or(std::path::Path::new(".")).join("tests/scenarios");
            let scenarios: Vec<PathBuf> = if scenarios.is_empty() {
                switchboard::cmd::bench_reply::DEFAULT_SCENARIOS.iter().map(|s| root.join(s)).collect()
            } else {
                scenarios
            };
            // The server's engine as `serve` loads it by default.
            let mut server = switchboard::config::ServerConfig::default();
            turns.apply(&mut server.pipeline.turn);
            let engine = switchboard::cmd::serve::load_engine(&server)?;
            let listener = load_engine(&model, PipelineConfig::default())?;
            runtime()?.block_on(switchboard::cmd::bench_reply::run(engine, listener, &scenarios, rounds.max(1)))?;
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
        Command::Bench { what: BenchWhat::Stats { calls, seed } } => {
            switchboard::cmd::bench_stats::run(calls.max(1), seed)?;
        }
        Command::Bench { what: BenchWhat::Desk { calls, synthetic, events_per_s, probes, model } } => {
            let manifest = Manifest::load_default()?;
            let engine = Engine::load(&manifest, &model, PipelineConfig::default(), pipeline::default_workers())?;
            let root = manifest.dir.parent().unwrap_or(std::path::Path::new(".")).to_path_buf();
            let spec = switchboard::cmd::bench_desk::DeskSpec {
                calls: calls.max(1),
                synthetic: synthetic.max(1),
                events_per_s,
                probes: probes.max(1),
            };
            runtime()?.block_on(switchboard::cmd::bench_desk::run(engine, &root.join("audio-fixtures"), spec))?;
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
            ModelsAction::ConvertCt2 { src_dir, out, q8_0 } => {
                let weights = if q8_0 { models::ggml::Weights::Q8_0 } else { models::ggml::Weights::F16 };
                let hp = models::fetch::convert_dir(&src_dir, &out, weights)?;
                println!("wrote {} ({hp:?})", out.display());
            }
        },
    }
    Ok(())
}

/// A file of the models folder the review loop writes (models/<file>).
fn learned(file: &str) -> PathBuf {
    Manifest::load_default().map(|m| m.dir).unwrap_or_else(|_| "models".into()).join(file)
}
