//! A bounded pool for password checks. Argon2id as configured needs ~19 MiB per check; letting
//! every concurrent login allocate its own let 150 parallel logins take the process from
//! 228 MB to 3 GB (and the allocator kept it). Here at most `permits` checks run at once, each
//! in one of `permits` memory buffers that are reused, so password checks hold at most
//! `permits` x 19 MiB whatever the load; up to `max_waiting` more wait their turn (on a
//! blocking thread), and beyond that a login is refused at once as busy (503 + Retry-After).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex};

use argon2::password_hash::PasswordHash;
use argon2::{Algorithm, Argon2, Block, Params, Version};

/// A stored hash asking for more than this much memory is refused (not our hashes: 19 MiB).
const MAX_MEMORY_KIB: u32 = 256 * 1024;

#[derive(Debug, Default)]
struct State {
    running: usize,
    waiting: usize,
    buffers: Vec<Vec<Block>>,
}

/// How many password checks ran, and how many logins found the pool full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct PoolStats {
    pub password_checks: u64,
    pub refused_busy: u64,
}

#[derive(Debug)]
pub struct HashPool {
    permits: usize,
    max_waiting: usize,
    state: Mutex<State>,
    freed: Condvar,
    checks: AtomicU64,
    busy: AtomicU64,
}

/// The pool is full: try again shortly.
#[derive(Debug, PartialEq, Eq)]
pub struct Busy;

impl HashPool {
    pub fn new(permits: usize, max_waiting: usize) -> Self {
        HashPool {
            permits: permits.max(1),
            max_waiting,
            state: Mutex::default(),
            freed: Condvar::new(),
            checks: AtomicU64::new(0),
            busy: AtomicU64::new(0),
        }
    }

    pub fn stats(&self) -> PoolStats {
        PoolStats {
            password_checks: self.checks.load(Ordering::Relaxed),
            refused_busy: self.busy.load(Ordering::Relaxed),
        }
    }

    /// Run `f` with one of the pool's buffers, waiting (blocking) for a turn; `Busy` at once
    /// when `max_waiting` are already waiting. Call from a blocking thread.
    pub fn run<R>(&self, f: impl FnOnce(&mut Vec<Block>) -> R) -> Result<R, Busy> {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if st.running >= self.permits {
            if st.waiting >= self.max_waiting {
                self.busy.fetch_add(1, Ordering::Relaxed);
                return Err(Busy);
            }
            st.waiting += 1;
            while st.running >= self.permits {
                st = self.freed.wait(st).unwrap_or_else(|e| e.into_inner());
            }
            st.waiting -= 1;
        }
        st.running += 1;
        let buf = st.buffers.pop().unwrap_or_default();
        drop(st);
        // Gives the permit and the buffer back even if `f` panics.
        struct Turn<'a>(&'a HashPool, Vec<Block>);
        impl Drop for Turn<'_> {
            fn drop(&mut self) {
                let mut st = self.0.state.lock().unwrap_or_else(|e| e.into_inner());
                st.running -= 1;
                st.buffers.push(std::mem::take(&mut self.1));
                self.0.freed.notify_one();
            }
        }
        let mut turn = Turn(self, buf);
        self.checks.fetch_add(1, Ordering::Relaxed);
        Ok(f(&mut turn.1))
    }
}

/// Whether `password` matches the PHC `hash`, computing in `memory` (grown as needed, reused).
pub fn verify_in(hash: &str, password: &str, memory: &mut Vec<Block>) -> bool {
    let Ok(h) = PasswordHash::new(hash) else { return false };
    let Ok(algorithm) = Algorithm::try_from(h.algorithm) else { return false };
    let version = match h.version.map(Version::try_from).transpose() {
        Ok(v) => v.unwrap_or_default(),
        Err(_) => return false,
    };
    let Ok(params) = Params::try_from(&h) else { return false };
    let (Some(salt), Some(expected)) = (h.salt, h.hash) else { return false };
    if params.m_cost() > MAX_MEMORY_KIB {
        return false;
    }
    let mut salt_buf = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_buf) else { return false };
    let blocks = params.block_count();
    if memory.len() < blocks {
        memory.resize(blocks, Block::default());
    }
    let mut out = vec![0u8; expected.len()];
    let argon = Argon2::new(algorithm, version, params);
    if argon.hash_password_into_with_memory(password.as_bytes(), salt, &mut out, &mut memory[..blocks]).is_err() {
        return false;
    }
    super::same_bytes(&out, expected.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::sync::Arc;
    use std::time::Duration;

    #[test]
    fn verifies_with_reused_memory() {
        let h = crate::auth::hash_password("correct horse").unwrap();
        let mut mem = Vec::new();
        assert!(verify_in(&h, "correct horse", &mut mem));
        let cap = mem.capacity();
        assert!(!verify_in(&h, "correct horsE", &mut mem));
        assert!(verify_in(&h, "correct horse", &mut mem));
        assert_eq!(mem.capacity(), cap, "the same buffer, not a new one");
        assert!(!verify_in("not a hash", "x", &mut mem));
        assert!(!verify_in("$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "x", &mut mem));
    }

    #[test]
    fn at_most_permits_run_and_the_queue_is_bounded() {
        let pool = Arc::new(HashPool::new(2, 3));
        let (running, peak) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let gate = Arc::new((Mutex::new(false), Condvar::new()));
        let threads: Vec<_> = (0..12)
            .map(|_| {
                let (pool, running, peak, gate) = (pool.clone(), running.clone(), peak.clone(), gate.clone());
                std::thread::spawn(move || {
                    pool.run(|_| {
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        peak.fetch_max(now, Ordering::SeqCst);
                        let (open, cv) = &*gate;
                        let mut o = open.lock().unwrap();
                        while !*o {
                            o = cv.wait(o).unwrap();
                        }
                        running.fetch_sub(1, Ordering::SeqCst);
                    })
                })
            })
            .collect();
        // Wait until the pool is full (2 running, 3 waiting) and the rest were refused.
        while pool.stats().refused_busy < 7 {
            std::thread::sleep(Duration::from_millis(5));
        }
        let (open, cv) = &*gate;
        *open.lock().unwrap() = true;
        cv.notify_all();
        let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 5);
        assert_eq!(results.iter().filter(|r| **r == Err(Busy)).count(), 7);
        assert_eq!(peak.load(Ordering::SeqCst), 2);
        assert_eq!(pool.stats(), PoolStats { password_checks: 5, refused_busy: 7 });
        assert_eq!(pool.state.lock().unwrap().buffers.len(), 2, "two buffers, reused");
    }
}
