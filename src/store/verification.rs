//! Verification attempts per customer, across calls (migration 0005): the counts behind the
//! assistant's verification lock (`crate::assistant::lockout`).

use rusqlite::{params, TransactionBehavior};

use super::{Store, StoreError};

/// What `begin_verification` decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptSlot {
    /// The attempt may go ahead; it is recorded as pending under this id, and `failures` is how
    /// many attempts (failed or unsettled) came before it within the window.
    Granted { id: i64, failures: u32 },
    /// The customer already has this many within the window: no attempt.
    Locked { failures: u32 },
}

/// How an attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptEnd {
    /// The factor did not match: it counts until the window passes.
    Failed,
    /// Verified, or never checked (the back office failed): it does not count.
    NotCounted,
}

impl Store {
    /// Count the customer's failed and unsettled attempts since `since_ms` and, below `max`,
    /// record a new pending attempt at `now_ms` — in one write transaction, so parallel calls
    /// for the same customer cannot all pass the check before any has failed. Attempts older
    /// than the window (every customer's) are pruned on the way.
    pub fn begin_verification(
        &self,
        customer_id: i64,
        call_id: &str,
        now_ms: i64,
        since_ms: i64,
        max: u32,
    ) -> Result<AttemptSlot, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute("DELETE FROM verification_failures WHERE at_ms < ?1", [since_ms])?;
        let failures: u32 = tx.query_row(
            "SELECT COUNT(*) FROM verification_failures WHERE customer_id = ?1 AND at_ms >= ?2",
            params![customer_id, since_ms],
            |r| r.get(0),
        )?;
        if failures >= max {
            tx.commit()?;
            return Ok(AttemptSlot::Locked { failures });
        }
        tx.execute(
            "INSERT INTO verification_failures (customer_id, call_id, at_ms, state) VALUES (?1, ?2, ?3, 'pending')",
            params![customer_id, call_id, now_ms],
        )?;
        let id = tx.last_insert_rowid();
        tx.commit()?;
        Ok(AttemptSlot::Granted { id, failures })
    }

    /// Settle a pending attempt: a failure stays (marked failed), anything else is removed.
    pub fn end_verification(&self, id: i64, end: AttemptEnd) -> Result<(), StoreError> {
        let conn = self.lock();
        match end {
            AttemptEnd::Failed => {
                conn.execute("UPDATE verification_failures SET state = 'failed' WHERE id = ?1", [id])?
            }
            AttemptEnd::NotCounted => conn.execute("DELETE FROM verification_failures WHERE id = ?1", [id])?,
        };
        Ok(())
    }

    /// The customer's failed and unsettled attempts since `since_ms` (for tests and tools).
    pub fn verification_failures(&self, customer_id: i64, since_ms: i64) -> Result<u32, StoreError> {
        Ok(self.lock().query_row(
            "SELECT COUNT(*) FROM verification_failures WHERE customer_id = ?1 AND at_ms >= ?2",
            params![customer_id, since_ms],
            |r| r.get(0),
        )?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempts_count_within_the_window_and_lock_at_the_limit() {
        let s = Store::open_in_memory().unwrap();
        let hour = 3_600_000;
        let t0 = 10 * hour;
        let Ok(AttemptSlot::Granted { id: a, failures: 0 }) = s.begin_verification(7, "c1", t0, t0 - hour, 2) else {
            panic!("first attempt")
        };
        // Unsettled counts (a call that died mid-check, or one still checking in parallel).
        let Ok(AttemptSlot::Granted { id: b, failures: 1 }) = s.begin_verification(7, "c2", t0 + 1, t0 - hour, 2)
        else {
            panic!("second attempt")
        };
        assert_eq!(s.begin_verification(7, "c3", t0 + 2, t0 - hour, 2).unwrap(), AttemptSlot::Locked { failures: 2 });
        assert!(matches!(s.begin_verification(8, "c4", t0, t0 - hour, 2).unwrap(), AttemptSlot::Granted { .. }));
        s.end_verification(a, AttemptEnd::Failed).unwrap();
        s.end_verification(b, AttemptEnd::NotCounted).unwrap();
        assert_eq!(s.verification_failures(7, t0 - hour).unwrap(), 1);
        // An hour on, the failure has expired (and is pruned).
        let later = t0 + hour + 1;
        assert!(matches!(
            s.begin_verification(7, "c5", later, later - hour, 2).unwrap(),
            AttemptSlot::Granted { failures: 0, .. }
        ));
        let rows: i64 = s.lock().query_row("SELECT COUNT(*) FROM verification_failures", [], |r| r.get(0)).unwrap();
        assert_eq!(rows, 1, "old attempts pruned");
    }

    #[test]
    fn a_database_from_before_the_lock_gets_the_table() {
        let dir = std::env::temp_dir().join(format!("switchboard-verif-{}-{}", std::process::id(), fastrand::u32(..)));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("bo.db");
        // A database at schema 3 (before calls and this table), as shipped.
        let conn = rusqlite::Connection::open(&path).unwrap();
        for (name, sql) in super::super::MIGRATIONS.iter().filter(|(n, _)| super::super::migration_number(n) <= 3) {
            conn.execute_batch(sql).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        conn.pragma_update(None, "user_version", 3).unwrap();
        drop(conn);
        let s = Store::open(&path).unwrap();
        assert!(s.schema_version().unwrap() >= 5);
        assert_eq!(s.verification_failures(1, 0).unwrap(), 0);
        drop(s);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
