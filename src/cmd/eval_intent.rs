//! `switchboard eval intent --dataset DIR`: the intent classifier on labelled text. Reads
//! banking77's `test.csv` (text,category; categories mapped onto our intents, the rest out of
//! scope) or a `labels.tsv` with `text` and `intent` columns.

use std::collections::BTreeMap;
use std::path::Path;

use crate::assistant::intents::{banking77_intent, Intent, IntentClassifier, NearestExamples};
use crate::cmd::eval_voice::Confusion;
use crate::eval::dataset;

/// Parse CSV text into records (RFC 4180: double quotes, "" escapes, newlines inside quotes).
pub fn csv_records(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => record.push(std::mem::take(&mut field)),
            ('\r', false) => {}
            ('\n', false) => {
                record.push(std::mem::take(&mut field));
                if record.iter().any(|f| !f.is_empty()) {
                    records.push(std::mem::take(&mut record));
                }
                record.clear();
            }
            (c, _) => field.push(c),
        }
    }
    record.push(field);
    if record.iter().any(|f| !f.is_empty()) {
        records.push(record);
    }
    records
}

/// (text, expected intent or None = out of scope, source label)
fn load(dir: &Path) -> anyhow::Result<Vec<(String, Option<Intent>, String)>> {
    let csv = dir.join("test.csv");
    if csv.exists() {
        let text = std::fs::read_to_string(&csv)?;
        let mut rows = Vec::new();
        for (i, f) in csv_records(&text).into_iter().enumerate().skip(1) {
            let [t, cat] = f.as_slice() else {
                anyhow::bail!("{} record {}: expected text,category, got {f:?}", csv.display(), i + 1);
            };
            rows.push((t.trim().to_string(), banking77_intent(cat), cat.clone()));
        }
        return Ok(rows);
    }
    let names: BTreeMap<&str, Intent> =
        crate::assistant::intents::EXAMPLES.iter().map(|(i, _)| (i.name(), *i)).collect();
    let mut rows = Vec::new();
    for row in dataset::read(dir)? {
        let (Some(t), Some(label)) = (row.get(&["text"]), row.get(&["intent"])) else {
            anyhow::bail!("{}: labels.tsv needs text and intent columns", dir.display());
        };
        rows.push((t.to_string(), names.get(label).copied(), label.to_string()));
    }
    Ok(rows)
}

/// Run the evaluation; returns (in-scope correct, in-scope total, out-of-scope rejected, out-of-scope total).
pub fn run(dir: &Path, verbose: bool) -> anyhow::Result<(usize, usize, usize, usize)> {
    let rows = load(dir)?;
    let clf = NearestExamples::default();
    let mut matrix = Confusion::default();
    let (mut ok, mut n, mut rejected, mut out_n) = (0, 0, 0, 0);
    // Out of scope "rejected" = not mistaken for a routine self-service intent (unknown, or a
    // hand-over intent: both end with a person, not a wrong action).
    let routine = |i: Intent| !i.needs_human() && i != Intent::Unknown;
    let mut wrong_examples = Vec::new();
    for (text, expected, label) in &rows {
        let got = clf.classify(text).intent;
        match expected {
            Some(e) => {
                n += 1;
                ok += usize::from(got == *e);
                matrix.add(e.name(), got.name());
                if got != *e && wrong_examples.len() < 15 {
                    wrong_examples.push(format!("  {} -> {}: {text}", e.name(), got.name()));
                }
            }
            None => {
                out_n += 1;
                rejected += usize::from(!routine(got));
                if verbose && routine(got) {
                    println!("  out of scope {label} -> {}: {text}", got.name());
                }
            }
        }
    }
    matrix.print("In-scope intents");
    if !wrong_examples.is_empty() {
        println!("\nsome misses:\n{}", wrong_examples.join("\n"));
    }
    println!(
        "\nTOTAL intent: in scope {ok}/{n} correct; out of scope {rejected}/{out_n} not taken for a routine \
         self-service intent ({} rows; classifier: TF-IDF nearest examples)",
        rows.len()
    );
    Ok((ok, n, rejected, out_n))
}

#[cfg(test)]
mod tests {
    #[test]
    fn csv_with_quotes_and_newlines() {
        let r = super::csv_records("text,category\n\"a, \"\"b\"\"\nc\",x\r\nplain,y\n");
        assert_eq!(r, vec![vec!["text", "category"], vec!["a, \"b\"\nc", "x"], vec!["plain", "y"]]);
    }
}
