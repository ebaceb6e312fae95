//! `appconfig.operators.dev/v1alpha1`.

mod appconfig_deployment;

pub use appconfig_deployment::{
    AppConfigDeployment, AppConfigDeploymentSpec, AppConfigDeploymentStatus, DeletionPolicy,
    EventLogEntry,
};
