//! Retention: every hour (and once at start), the recordings and transcripts of calls that
//! ended more than `[retention] days` ago are deleted: the transcript's turns from the
//! database, `<id>.wav` and `<id>.json` from the recordings folder. Each purge is logged with
//! how many calls and files; the call's row, timeline and reviews stay for the numbers.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::store::Store;

/// How often retention runs.
pub const EVERY: Duration = Duration::from_secs(3600);

/// Purge once: calls that ended before `now - days`. Returns (calls, files deleted).
pub fn purge(
    store: &Store,
    recordings: Option<&Path>,
    days: u32,
    now: chrono::DateTime<chrono::Utc>,
) -> (usize, usize) {
    let cutoff = crate::store::rfc3339(now - chrono::Duration::days(days as i64));
    let ids = match store.purge_before(&cutoff) {
        Ok(ids) => ids,
        Err(e) => {
            tracing::warn!("retention: transcripts not purged: {e}");
            return (0, 0);
        }
    };
    let mut files = 0;
    if let Some(dir) = recordings {
        for id in &ids {
            for ext in ["wav", "json"] {
                let f = dir.join(format!("{id}.{ext}"));
                match std::fs::remove_file(&f) {
                    Ok(()) => files += 1,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => tracing::warn!(file = %f.display(), "retention: recording not deleted: {e}"),
                }
            }
        }
    }
    if !ids.is_empty() {
        tracing::info!(calls = ids.len(), files, days, cutoff = %cutoff, "retention: old recordings and transcripts deleted");
    }
    (ids.len(), files)
}

/// Run retention until `stop` (nothing when `days` is 0).
pub fn spawn(store: Store, recordings: Option<PathBuf>, days: u32, stop: CancellationToken) {
    if days == 0 {
        tracing::info!("retention off: recordings and transcripts are kept");
        return;
    }
    tokio::spawn(async move {
        loop {
            let (s, r) = (store.clone(), recordings.clone());
            let _ = tokio::task::spawn_blocking(move || purge(&s, r.as_deref(), days, chrono::Utc::now())).await;
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(EVERY) => {}
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::calls::CallWrite;

    #[test]
    fn old_calls_lose_recording_and_transcript_new_ones_keep_them() {
        let s = Store::open_in_memory().unwrap();
        let dir = std::env::temp_dir().join(format!("sb-retention-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for (id, ended) in [("c-old", "2026-08-01T10:00:00.000Z"), ("c-new", "2026-12-01T10:00:00.000Z")] {
            s.write_calls(&[
                CallWrite::Started {
                    id: id.into(),
                    caller: "+1555".into(),
                    transport: "sip".into(),
                    assisted: true,
                    started_at: ended.into(),
                },
                CallWrite::Turn {
                    id: id.into(),
                    seq: 0,
                    start_ms: 0,
                    end_ms: 900,
                    language: "en".into(),
                    text: "hello".into(),
                    speaker: "caller",
                },
                CallWrite::Ended { id: id.into(), ended_at: ended.into(), reason: "hangup".into() },
            ])
            .unwrap();
            std::fs::write(dir.join(format!("{id}.wav")), b"RIFF").unwrap();
            std::fs::write(dir.join(format!("{id}.json")), b"{}").unwrap();
        }
        let now = chrono::DateTime::parse_from_rfc3339("2026-12-05T00:00:00Z").unwrap().to_utc();
        assert_eq!(purge(&s, Some(&dir), 90, now), (1, 2));
        assert!(s.stored_call("c-old").unwrap().unwrap().turns.is_empty());
        assert_eq!(s.stored_call("c-new").unwrap().unwrap().turns.len(), 1);
        assert!(!dir.join("c-old.wav").exists() && dir.join("c-new.wav").exists());
        // Once only.
        assert_eq!(purge(&s, Some(&dir), 90, now), (0, 0));
        let found = s.search_calls(&Default::default()).unwrap();
        assert_eq!(
            found.iter().map(|f| (f.call.id.as_str(), f.purged)).collect::<Vec<_>>(),
            [("c-new", false), ("c-old", true)]
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
