//! appconfig-operator: a Kubernetes operator that rolls out AWS AppConfig configuration the
//! GitOps way.
//!
//! - [`api`]: the custom resources (`AppConfigDeployment`, `AppConfigSync`) and their CRDs.
//! - [`cli`]: the command line.
//! - [`emulator`]: a local, wire-compatible AWS AppConfig for tests and local development.
//! - [`logging`]: structured logs.
//! - [`operator`]: the `run` subcommand's parts started together: the HTTP listener ([`web`],
//!   [`metrics`]), leader election ([`leader`]) and the controllers.
//! - [`shared`]: what both controllers share (conditions, status writes, Events, backoff).
//! - [`sync`]: the AppConfigSync controller.

pub mod api;
pub mod aws;
pub mod cli;
pub mod controller;
pub mod emulator;
pub mod leader;
pub mod logging;
pub mod metrics;
pub mod operator;
pub mod shared;
pub mod sync;
pub mod tenancy;
pub mod web;
