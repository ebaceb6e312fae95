//! The controller's scenarios: the real `Controller` reconciling AppConfigDeployments against
//! the AppConfig emulator over HTTP, on two Kubernetes backends with no code change:
//!
//! - an in-process fake API server (the default; what CI runs);
//! - the real cluster `KUBECONFIG` points at: the `*_on_cluster` tests, ignored by default:
//!   `KUBECONFIG=~/.kube/config cargo test --test controller -- --ignored`.

#[path = "../support/fake_api_server/mod.rs"]
mod fake_api_server;
#[path = "../support/real_cluster.rs"]
mod real_cluster;

mod binary;
mod cluster;
mod endpoints;
mod http_get;
mod iam;
mod leader;
mod monitoring;
mod operator;
mod permissions;
mod promql;
mod rbac;
mod world;

mod scenarios;
