//! Conformance of the AppConfig emulator, driven over HTTP through the official
//! `aws-sdk-appconfig`, `aws-sdk-appconfigdata` and `aws-sdk-sts` clients.

mod clients;
mod control_plane;
mod data_plane;
mod deployments;
mod harness;
mod iam;
// The fake API server also serves the issuer's discovery document; these tests need only its
// keys and tokens.
#[allow(dead_code)]
#[path = "../support/oidc.rs"]
mod oidc;
mod oidc_issuer;
mod process;
mod validation;
