//! Credentials other than the operator's own that a client may sign with: an assumed role's.
//! AWS can refuse them as expired before the operator's clock says they are (clock skew, a
//! session revoked), so a refused call tells them, and goes once more with renewed ones.

use std::{fmt, future::Future, sync::Arc};

use aws_sdk_appconfig::{
    config::{SharedCredentialsProvider, http::HttpResponse},
    error::{ProvideErrorMetadata, SdkError},
};

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
const EXPIRED: &str = "ExpiredTokenException";

/// Sends `request()`; when AWS refuses the signer's credentials as expired, sends it once more
/// with renewed ones, so that the expiry costs the caller nothing. The refused call did nothing
/// (AWS checks credentials first), so sending again is safe for every operation.
pub async fn send<T, E, F, Fut>(
    renewal: Option<&dyn Renewal>,
    request: F,
) -> Result<T, SdkError<E, HttpResponse>>
where
    E: ProvideErrorMetadata,
    F: Fn() -> Fut,
    Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
{
    let Some(renewal) = renewal else {
        return request().await;
    };
    let generation = renewal.generation();
    match request().await {
        Err(e) if e.code() == Some(EXPIRED) => {
            tracing::debug!(
                "AWS refused the role's credentials as expired; renewing them and sending again"
            );
            renewal.expired(generation);
            request().await
        }
        result => result,
    }
}
