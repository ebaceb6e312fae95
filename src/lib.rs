//! appconfig-operator: a Kubernetes operator that rolls out AWS AppConfig configuration the
//! GitOps way.
//!
//! - [`api`]: the custom resources (`AppConfigDeployment`, `AppConfigSync`) and their CRDs.
//! - [`cli`]: the command line.
//! - [`emulator`]: a local, wire-compatible AWS AppConfig for tests and local development.
//! - [`logging`]: structured logs.
//! - [`shared`]: what both controllers share (conditions, status writes, Events, backoff).
//! - [`sync`]: the AppConfigSync controller.

pub mod api;
pub mod aws;
pub mod cli;
pub mod controller;
pub mod emulator;
pub mod logging;
pub mod shared;
pub mod sync;
