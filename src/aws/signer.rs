//! Credentials other than the operator's own that a client may sign with: an assumed role's.
//! AWS can refuse them as expired before the operator's clock says they are (clock skew, a
//! session revoked), so a refused call tells them, and goes once more with renewed ones.

use std::{fmt, future::Future, sync::Arc};

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

/// The error code by which AWS refuses credentials past their expiration.
pub const EXPIRED: &str = "ExpiredTokenException";

/// An error that may say AWS refused the credentials as expired.
pub trait MaybeExpired {
    fn is_expired_credentials(&self) -> bool;
}

/// Runs `attempt` (a whole call: rate limit, request, count); when AWS refuses the signer's
/// credentials as expired, runs it once more with renewed ones, so that the expiry costs the
/// caller nothing. The refused call did nothing (AWS checks credentials first), so sending
/// again is safe for every operation.
pub async fn send<T, E, Fut>(
    renewal: Option<&dyn Renewal>,
    attempt: impl Fn() -> Fut,
) -> Result<T, E>
where
    E: MaybeExpired,
    Fut: Future<Output = Result<T, E>>,
{
    let Some(renewal) = renewal else {
        return attempt().await;
    };
    let generation = renewal.generation();
    match attempt().await {
        Err(e) if e.is_expired_credentials() => {
            tracing::debug!(
                "AWS refused the role's credentials as expired; renewing them and sending again"
            );
            renewal.expired(generation);
            attempt().await
        }
        result => result,
    }
}
