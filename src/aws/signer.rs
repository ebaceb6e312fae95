//! Credentials other than the operator's own that a client may sign with: an assumed role's.
//! AWS can refuse them as expired before the operator's clock says they are (clock skew, a
//! session revoked), so a refused call tells them, and goes once more with renewed ones
//! ([`Caller`](super::caller::Caller)).

use std::{fmt, sync::Arc};

use aws_sdk_appconfig::config::SharedCredentialsProvider;

/// Credentials that are renewed from time to time.
pub trait Renewal: Send + Sync + fmt::Debug {
    /// Which credentials are current: a count that grows with every renewal.
    fn generation(&self) -> u64;
    /// AWS refused the credentials of `generation` as expired: drop them, unless they were
    /// renewed since (calls that failed together renew once).
    fn expired(&self, generation: u64);
}

/// Whose credentials sign a client's calls when they are not the operator's.
#[derive(Clone, Debug)]
pub struct Signer {
    /// Identifies the credentials: clients are cached per signer and region.
    pub key: String,
    pub provider: SharedCredentialsProvider,
    pub renewal: Arc<dyn Renewal>,
}
