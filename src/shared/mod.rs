//! What every controller of the operator shares: the Ready/Reconciling/Stalled conditions,
//! guarded status writes, deterministic Kubernetes Events, per-resource backoff, and what their
//! watch caches report to readiness and metrics.

pub mod backoff;
pub mod conditions;
pub mod events;
pub mod status_writer;
pub mod watch_cache;
