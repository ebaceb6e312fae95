//! Conformance of the AppConfig emulator, driven over HTTP through the official
//! `aws-sdk-appconfig` and `aws-sdk-appconfigdata` clients.

mod clients;
mod control_plane;
mod data_plane;
mod deployments;
mod harness;
// The emulator's tests sign and verify tokens; publishing the issuer is the fake API server's.
#[allow(dead_code)]
#[path = "../support/oidc.rs"]
mod oidc;
mod oidc_issuer;
mod process;
