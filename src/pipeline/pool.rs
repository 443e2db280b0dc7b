//! A bounded pool of inference threads shared by all calls.
//!
//! Whisper inference is CPU-bound; running more of it at once than there are cores only makes
//! every call slower. Jobs queue here instead: end-of-turn (final) decodes go first, then
//! partial decodes, each class first-in first-out, so 20 simultaneous calls take turns fairly.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use tokio::sync::oneshot;

/// Scheduling class of a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    /// Someone is waiting for this result now (end of turn).
    High,
    /// Nice to have soon (partial hypotheses).
    Low,
}

type Job = Box<dyn FnOnce() + Send>;

#[derive(Default)]
struct Queues {
    /// With when each was queued: the oldest one's wait says whether the pool keeps up.
    high: VecDeque<(std::time::Instant, Job)>,
    low: VecDeque<Job>,
    closed: bool,
}

struct Shared {
    q: Mutex<Queues>,
    cv: Condvar,
    busy_us: AtomicU64,
    running: AtomicUsize,
    done: AtomicU64,
    /// The busy fraction over the last window: (window start, busy_us then, last value).
    load: Mutex<(std::time::Instant, u64, f64)>,
}

/// The window [`InferencePool::recent_load`] averages over.
const LOAD_WINDOW: std::time::Duration = std::time::Duration::from_secs(2);

/// Error returned when the pool is shut down or a job panicked.
#[derive(Debug, thiserror::Error)]
#[error("inference worker unavailable (pool stopped or job panicked)")]
pub struct PoolError;

/// A fixed set of worker threads.
#[derive(Clone)]
pub struct InferencePool {
    shared: Arc<Shared>,
    workers: usize,
}

/// Counters for benchmarks and health checks.
#[derive(Debug, Clone, Copy)]
pub struct PoolStats {
    pub workers: usize,
    pub queued: usize,
    pub running: usize,
    pub completed: u64,
    /// Total worker time spent in jobs, microseconds.
    pub busy_us: u64,
    /// How long the oldest queued high-priority job (a final) has waited: above a second or
    /// two the pool is not keeping up with the calls it has.
    pub oldest_high_wait: std::time::Duration,
}

impl InferencePool {
    /// Start `workers` threads (at least one).
    pub fn new(workers: usize) -> Self {
        let workers = workers.max(1);
        let shared = Arc::new(Shared {
            q: Mutex::new(Queues::default()),
            cv: Condvar::new(),
            busy_us: AtomicU64::new(0),
            running: AtomicUsize::new(0),
            done: AtomicU64::new(0),
            load: Mutex::new((std::time::Instant::now(), 0, 0.0)),
        });
        for i in 0..workers {
            let s = shared.clone();
            std::thread::Builder::new()
                .name(format!("inference-{i}"))
                .spawn(move || worker(s))
                .expect("spawn inference thread");
        }
        Self { shared, workers }
    }

    /// Run `f` on a worker and await its result.
    pub async fn run<T: Send + 'static>(
        &self,
        prio: Priority,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, PoolError> {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = tx.send(f());
        });
        {
            let mut q = self.shared.q.lock().map_err(|_| PoolError)?;
            if q.closed {
                return Err(PoolError);
            }
            match prio {
                Priority::High => q.high.push_back((std::time::Instant::now(), job)),
                Priority::Low => q.low.push_back(job),
            }
        }
        self.shared.cv.notify_one();
        rx.await.map_err(|_| PoolError)
    }

    /// Current counters.
    pub fn stats(&self) -> PoolStats {
        let (queued, oldest_high_wait) = self
            .shared
            .q
            .lock()
            .map(|q| (q.high.len() + q.low.len(), q.high.front().map(|(t, _)| t.elapsed()).unwrap_or_default()))
            .unwrap_or_default();
        PoolStats {
            oldest_high_wait,
            workers: self.workers,
            queued,
            running: self.shared.running.load(Ordering::Relaxed),
            completed: self.shared.done.load(Ordering::Relaxed),
            busy_us: self.shared.busy_us.load(Ordering::Relaxed),
        }
    }

    /// How busy the workers were lately: their time in jobs over the last completed window of
    /// about 2 s, as a fraction of all workers' time (0 idle, 1 saturated). Optional work
    /// (a speculative decode) asks this before it starts.
    pub fn recent_load(&self) -> f64 {
        let Ok(mut w) = self.shared.load.lock() else { return 1.0 };
        let elapsed = w.0.elapsed();
        if elapsed >= LOAD_WINDOW {
            let busy = self.shared.busy_us.load(Ordering::Relaxed);
            let capacity = elapsed.as_micros() as f64 * self.workers as f64;
            *w = (std::time::Instant::now(), busy, (busy.saturating_sub(w.1) as f64 / capacity).min(1.0));
        }
        w.2
    }

    /// Stop accepting jobs; workers exit once the queue is empty.
    pub fn close(&self) {
        if let Ok(mut q) = self.shared.q.lock() {
            q.closed = true;
        }
        self.shared.cv.notify_all();
    }
}

fn worker(s: Arc<Shared>) {
    loop {
        let job = {
            let Ok(mut q) = s.q.lock() else { return };
            loop {
                if let Some(j) = q.high.pop_front().map(|(_, j)| j).or_else(|| q.low.pop_front()) {
                    break j;
                }
                if q.closed {
                    return;
                }
                q = match s.cv.wait(q) {
                    Ok(q) => q,
                    Err(_) => return,
                };
            }
        };
        s.running.fetch_add(1, Ordering::Relaxed);
        let t = std::time::Instant::now();
        // A panicking job drops its result sender; the caller sees PoolError, the worker lives on.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
        s.busy_us.fetch_add(t.elapsed().as_micros() as u64, Ordering::Relaxed);
        s.running.fetch_sub(1, Ordering::Relaxed);
        s.done.fetch_add(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Yield until `cond` holds (no wall-clock assumptions).
    async fn wait_until(cond: impl Fn() -> bool) {
        while !cond() {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test]
    async fn high_priority_jobs_overtake_queued_low_ones() {
        let pool = InferencePool::new(1);
        let order = Arc::new(Mutex::new(Vec::new()));
        // Occupy the single worker so the rest queue up.
        let (gate_tx, gate_rx) = std::sync::mpsc::channel::<()>();
        let p0 = pool.clone();
        let blocker = tokio::spawn(async move {
            p0.run(Priority::Low, move || {
                gate_rx.recv().ok();
            })
            .await
        });
        wait_until(|| pool.stats().running == 1).await;
        let mut handles = Vec::new();
        for (i, (name, prio)) in
            [("low1", Priority::Low), ("low2", Priority::Low), ("high", Priority::High)].into_iter().enumerate()
        {
            let p = pool.clone();
            let o = order.clone();
            handles.push(tokio::spawn(async move { p.run(prio, move || o.lock().unwrap().push(name)).await }));
            // Submit in a known order: wait until this job is queued before the next.
            wait_until(|| pool.stats().queued == i + 1).await;
        }
        gate_tx.send(()).unwrap();
        blocker.await.unwrap().unwrap();
        for h in handles {
            h.await.unwrap().unwrap();
        }
        assert_eq!(*order.lock().unwrap(), vec!["high", "low1", "low2"]);
    }

    #[tokio::test]
    async fn a_panicking_job_fails_only_itself() {
        let pool = InferencePool::new(1);
        let bad = pool.run(Priority::High, || -> u32 { panic!("boom") }).await;
        assert!(bad.is_err());
        assert_eq!(pool.run(Priority::High, || 7).await.unwrap(), 7);
    }
}
