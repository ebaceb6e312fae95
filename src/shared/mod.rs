//! What every controller of the operator shares: the Ready/Reconciling/Stalled conditions,
//! guarded status writes, deterministic Kubernetes Events and per-resource backoff.

pub mod backoff;
pub mod conditions;
pub mod events;
pub mod status_writer;
