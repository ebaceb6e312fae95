//! appconfig-operator: a Kubernetes operator that rolls out AWS AppConfig configuration the
//! GitOps way.
//!
//! - [`api`]: the custom resources (`AppConfigDeployment`) and their CRDs.
//! - [`cli`]: the command line.

pub mod api;
pub mod cli;
