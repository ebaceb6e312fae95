//! Conformance of the AppConfig emulator, driven over HTTP through the official
//! `aws-sdk-appconfig` and `aws-sdk-appconfigdata` clients.

mod clients;
mod control_plane;
mod data_plane;
mod deployments;
mod harness;
#[path = "../support/oidc.rs"]
mod oidc;
mod oidc_issuer;
mod process;
