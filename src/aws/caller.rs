//! What every AWS call of a client goes through, AppConfig and AppConfig Data alike: the
//! region's rate limit, the count by outcome, and one resend with renewed credentials when AWS
//! refuses an assumed role's as expired.

use std::{future::Future, sync::Arc};

use super::{RateLimit, error::AwsError, signer::Renewal};
use crate::metrics::Metrics;

/// The error code by which AWS refuses credentials past their expiration.
const EXPIRED: &str = "ExpiredTokenException";

/// An error a call counts by: the AWS error it is, or wraps.
pub trait Counted {
    fn aws_error(&self) -> &AwsError;
}

impl Counted for AwsError {
    fn aws_error(&self) -> &AwsError {
        self
    }
}

#[derive(Debug, Clone)]
pub struct Caller {
    /// The `service` label the calls are counted under.
    service: &'static str,
    metrics: Metrics,
    limit: RateLimit,
    /// The assumed role's credentials, when the client does not sign as the operator.
    renewal: Option<Arc<dyn Renewal>>,
}

impl Caller {
    pub fn new(
        service: &'static str,
        metrics: Metrics,
        limit: RateLimit,
        renewal: Option<Arc<dyn Renewal>>,
    ) -> Self {
        Self {
            service,
            metrics,
            limit,
            renewal,
        }
    }

    /// Sends `request()` once it is admitted, counting it. When AWS refuses the role's
    /// credentials as expired, sends it once more (admitted and counted too) with renewed ones,
    /// so that the expiry costs the caller nothing. The refused call did nothing (AWS checks
    /// credentials first), so sending again is safe for every operation.
    pub async fn call<T, E, Fut>(
        &self,
        operation: &'static str,
        request: impl Fn() -> Fut,
    ) -> Result<T, E>
    where
        E: Counted,
        Fut: Future<Output = Result<T, E>>,
    {
        let generation = self.renewal.as_ref().map(|r| r.generation());
        match self.attempt(operation, &request).await {
            Err(e) if e.aws_error().code == EXPIRED => {
                let (Some(renewal), Some(generation)) = (&self.renewal, generation) else {
                    return Err(e);
                };
                tracing::debug!(
                    operation,
                    "AWS refused the role's credentials as expired; renewing them and sending again"
                );
                renewal.expired(generation);
                self.attempt(operation, &request).await
            }
            result => result,
        }
    }

    async fn attempt<T, E, Fut>(
        &self,
        operation: &'static str,
        request: &impl Fn() -> Fut,
    ) -> Result<T, E>
    where
        E: Counted,
        Fut: Future<Output = Result<T, E>>,
    {
        self.limit.admit(&self.metrics, self.service).await;
        let result = request().await;
        let outcome = result
            .as_ref()
            .map(|_| ())
            .map_err(|e| e.aws_error().clone());
        self.metrics.aws_call(self.service, operation, &outcome);
        result
    }
}
