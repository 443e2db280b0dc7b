//! The review loop's commands: `export reviews`, `train intents`, `calibrate caller-state`
//! and `eval review-loop` (reviews made from labelled text, to show retraining working).

use std::io::Write;
use std::path::Path;

use crate::pipeline::analysis::state::Thresholds;
use crate::review::retrain::{self, CallerStateModel, IntentModel};
use crate::review::{export, read_export};
use crate::store::Store;

/// Open an existing database (never create one: a mistyped path is an error).
pub fn open_existing(db: &Path) -> anyhow::Result<Store> {
    anyhow::ensure!(db.exists(), "no database at {} (see --db or [store] path)", db.display());
    Ok(Store::open(db)?)
}

/// Write a model file as pretty JSON, creating its folder.
fn write_model(out: &Path, model: &impl serde::Serialize) -> anyhow::Result<()> {
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(out, serde_json::to_string_pretty(model)? + "\n")
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", out.display()))
}

/// `switchboard export reviews --since DATE`: JSON lines to `out` (or stdout); the count to stderr.
pub fn export_reviews(db: &Path, since: &str, out: Option<&Path>) -> anyhow::Result<usize> {
    let store = open_existing(db)?;
    let n = match out {
        Some(p) => {
            let mut f = std::io::BufWriter::new(
                std::fs::File::create(p).map_err(|e| anyhow::anyhow!("cannot write {}: {e}", p.display()))?,
            );
            let n = export(&store, since, &mut f)?;
            f.flush()?;
            n
        }
        None => export(&store, since, &mut std::io::stdout().lock())?,
    };
    eprintln!("{n} reviews since {since}{}", out.map(|p| format!(" written to {}", p.display())).unwrap_or_default());
    Ok(n)
}

/// `switchboard train intents --reviews FILE`: fold the reviewed turns into `out` (building on
/// what is already there) and print accuracy before and after on the held-back reviews.
pub fn train_intents(reviews: &Path, out: &Path, holdout: f64) -> anyhow::Result<retrain::IntentTraining> {
    anyhow::ensure!((0.05..=0.9).contains(&holdout), "--holdout must be between 0.05 and 0.9");
    let rs = read_export(reviews)?;
    let current = if out.exists() { Some(IntentModel::load(out)?) } else { None };
    let t = retrain::train_intents(&rs, current.as_ref(), holdout);
    anyhow::ensure!(t.after.all.n > 0, "no held-back intent reviews with a turn in {} to judge by", reviews.display());
    println!(
        "intent reviews: {} read; {} held back (never trained on); {} reviewed turns folded in as examples ({} in the model)",
        rs.len(),
        t.after.all.n,
        t.folded,
        t.model.examples.len()
    );
    for (name, b, a) in [
        ("held-back accuracy", t.before.all, t.after.all),
        ("  the assistant's intents", t.before.known, t.after.known),
        ("  none of them (unknown, or a hand-over)", t.before.unknown, t.after.unknown),
    ] {
        println!("{name}: before {b}, after {a}");
    }
    write_model(out, &t.model)?;
    println!("wrote {} (serve loads it at start: [learning] intent_model)", out.display());
    Ok(t)
}

/// `switchboard calibrate caller-state --reviews FILE`.
pub fn calibrate_caller_state(reviews: &Path, out: &Path, holdout: f64) -> anyhow::Result<retrain::StateCalibration> {
    anyhow::ensure!((0.05..=0.9).contains(&holdout), "--holdout must be between 0.05 and 0.9");
    let rs = read_export(reviews)?;
    let current = if out.exists() { CallerStateModel::load(out)?.thresholds } else { Thresholds::default() };
    let c = retrain::calibrate_states(&rs, current, holdout);
    anyhow::ensure!(
        c.trained_on > 0,
        "no caller-state reviews to fit in {} (review the caller's state on some calls first)",
        reviews.display()
    );
    println!("caller-state reviews: {} fitted, {} held back", c.trained_on, c.after.n);
    println!(
        "thresholds: frustrated at {:.2} -> {:.2}, angry at {:.2} -> {:.2}",
        current.frustrated_at, c.thresholds.frustrated_at, current.angry_at, c.thresholds.angry_at
    );
    println!("held-back accuracy before: {}", c.before);
    println!("held-back accuracy after:  {}", c.after);
    let model = CallerStateModel {
        format: retrain::CALLER_STATE_FORMAT.into(),
        trained_at: crate::store::now_rfc3339(),
        reviews: c.trained_on,
        thresholds: c.thresholds,
    };
    write_model(out, &model)?;
    println!("wrote {} (serve loads it at start: [learning] caller_state_model)", out.display());
    Ok(c)
}

/// `switchboard eval review-loop --dataset DIR --out FILE`: review every labelled query as a
/// caller's turn (the shipped classifier's intent against the label), written as an export.
pub fn review_loop(dataset: &Path, out: &Path) -> anyhow::Result<()> {
    let (rs, wrong) = retrain::reviews_from_text(dataset)?;
    let mut f = std::io::BufWriter::new(
        std::fs::File::create(out).map_err(|e| anyhow::anyhow!("cannot write {}: {e}", out.display()))?,
    );
    for r in &rs {
        serde_json::to_writer(&mut f, r)?;
        f.write_all(b"\n")?;
    }
    f.flush()?;
    println!(
        "{} turns reviewed from {}: {wrong} wrongly understood, {} right; written to {}",
        rs.len(),
        dataset.display(),
        rs.len() - wrong,
        out.display()
    );
    println!("next: switchboard train intents --reviews {} --out <model file>", out.display());
    Ok(())
}
