//! `appconfig.operators.dev/v1alpha1`.

mod appconfig_deployment;
mod appconfig_sync;

pub use appconfig_deployment::{
    AppConfigDeployment, AppConfigDeploymentSpec, AppConfigDeploymentStatus, ConfigMapKeyRef,
    ContentFrom, ContentSource, DEFAULT_CONTENT_TYPE, Declared, DeletionPolicy, EventLogEntry,
    HandledRequest, HandledRequests,
};
pub use appconfig_sync::{
    AppConfigSync, AppConfigSyncSpec, AppConfigSyncStatus, DEFAULT_POLL_INTERVAL_SECONDS,
    SyncTarget, TargetKind, WrittenTarget,
};
