//! Labelled datasets: a folder with `labels.tsv` (header row; first column a path relative to
//! the folder), as in `../shared/datasets/` and `audio-fixtures/`.

use std::path::{Path, PathBuf};

/// One labelled file.
#[derive(Debug, Clone)]
pub struct Row {
    pub path: PathBuf,
    /// Column name -> value.
    pub fields: std::collections::BTreeMap<String, String>,
}

impl Row {
    /// The first of `names` that this row has (non-empty).
    pub fn get(&self, names: &[&str]) -> Option<&str> {
        names.iter().find_map(|n| self.fields.get(*n).map(|s| s.as_str()).filter(|s| !s.is_empty()))
    }
}

/// Read `DIR/labels.tsv`. Errors say which file and line is wrong.
pub fn read(dir: &Path) -> anyhow::Result<Vec<Row>> {
    let path = dir.join("labels.tsv");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e} (a dataset folder needs a labels.tsv)", path.display()))?;
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .ok_or_else(|| anyhow::anyhow!("{} is empty", path.display()))?
        .split('\t')
        .map(|s| s.trim().to_string())
        .collect();
    let mut rows = Vec::new();
    for (i, line) in lines.enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        let Some(first) = cols.first().filter(|c| !c.is_empty()) else {
            anyhow::bail!("{} line {}: no file name", path.display(), i + 2);
        };
        let fields = header.iter().cloned().zip(cols.iter().map(|c| c.trim().to_string())).collect();
        rows.push(Row { path: dir.join(first), fields });
    }
    Ok(rows)
}
