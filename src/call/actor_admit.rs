//! Whether a new call starts, and how: transcribed while there are lines (`calls.max_calls`
//! and transcription keeping up), else as an overflow call (`[calls.overflow]`), else refused;
//! and how full the machine is.

use std::sync::Arc;

use super::{spawn_call, CallError, CallLeg, CallServices, NewCall};
use crate::call::{CallId, CallRecord};

impl CallServices {
    /// Whether no call can be taken, not even as an overflow call: a transport asks before it
    /// spends anything on a new call (an RTP port, a peer connection); `start_call` checks
    /// again atomically.
    pub fn at_capacity(&self) -> bool {
        let (transcribed, overflow) = self.registry.counts();
        let max = self.settings.max_calls;
        transcribed >= max && overflow >= self.settings.overflow.limit(max)
    }

    /// How full the machine is now.
    pub fn load(&self) -> Load {
        let (calls, overflow_calls) = self.registry.counts();
        let pool = self.engine.pool.stats();
        let max_calls = self.settings.max_calls;
        Load {
            calls,
            max_calls,
            overflow_calls,
            overflow_max: self.settings.overflow.limit(max_calls),
            overflow_action: self.settings.overflow.action.name(),
            pending_setup: self.admission.pending(),
            inference_queue: pool.queued,
            oldest_final_wait_ms: pool.oldest_high_wait.as_millis() as u64,
            full: calls >= max_calls || self.admission.overloaded(pool.oldest_high_wait),
        }
    }
}

/// How full the machine is (`GET /api/calls/load`, the metrics).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Load {
    /// Transcribed calls holding a slot, and the most there may be.
    pub calls: usize,
    pub max_calls: usize,
    /// Calls answered while the lines were full, and the most there may be.
    pub overflow_calls: usize,
    pub overflow_max: usize,
    /// What a call gets when the lines are full: `queue`, `callback` or `refuse`.
    pub overflow_action: &'static str,
    /// Browser calls still being set up.
    pub pending_setup: usize,
    /// Inference jobs waiting for a worker, and how long the oldest final has waited.
    pub inference_queue: usize,
    pub oldest_final_wait_ms: u64,
    /// New calls get the overflow answer now (every line taken, or transcription behind).
    pub full: bool,
}

/// Register a call, start its pipeline and spawn its actor.
pub fn start_call(svc: &Arc<CallServices>, new: NewCall) -> Result<CallLeg, CallError> {
    let started = admit_call(svc, new);
    if let Err(e) = &started {
        let reason = match e {
            CallError::AtCapacity(_) => "at_capacity",
            CallError::ShuttingDown => "shutting_down",
            CallError::Overloaded(_) => "overloaded",
            CallError::Pipeline(_) => "pipeline",
        };
        crate::metrics::calls().refused.inc(reason);
    }
    started
}

fn admit_call(svc: &Arc<CallServices>, new: NewCall) -> Result<CallLeg, CallError> {
    if svc.shutdown.is_cancelled() {
        return Err(CallError::ShuttingDown);
    }
    let id = CallId::new();
    let record = CallRecord::new(id.clone(), new.caller.clone(), new.transport, crate::store::now_rfc3339());
    let behind = svc.engine.pool.stats().oldest_high_wait;
    let refused = if svc.admission.overloaded(behind) {
        CallError::Overloaded(behind.as_millis() as u64)
    } else {
        let stream = svc.engine.start_stream()?;
        if svc.registry.try_insert(record.clone(), svc.settings.max_calls) {
            return Ok(spawn_call(svc, new, record.info, Some(stream)));
        }
        CallError::AtCapacity(svc.settings.max_calls)
    };
    // The lines are full: the call may still be answered, untranscribed (`[calls.overflow]`).
    let overflow = &svc.settings.overflow;
    let mut record = record;
    record.info.overflow = true;
    // `refuse` allows none.
    if !svc.registry.try_insert(record.clone(), overflow.limit(svc.settings.max_calls)) {
        return Err(refused);
    }
    crate::metrics::calls().overflowed.inc(overflow.action.name());
    tracing::warn!(call = %id, reason = %refused, action = overflow.action.name(), "lines full: call answered untranscribed");
    Ok(spawn_call(svc, new, record.info, None))
}
