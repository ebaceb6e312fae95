//! AWS STS: exchanges a Kubernetes ServiceAccount token for a role's credentials
//! (AssumeRoleWithWebIdentity, as IRSA does).

use aws_sdk_appconfig::config::Credentials;
use aws_sdk_sts::Client;

use super::error::AwsError;
use crate::metrics::{self, Metrics};

const OPERATION: &str = "AssumeRoleWithWebIdentity";

/// STS in one region.
#[derive(Debug, Clone)]
pub struct Sts {
    client: Client,
    metrics: Metrics,
}

impl Sts {
    pub fn new(client: Client, metrics: Metrics) -> Self {
        Self { client, metrics }
    }

    /// `role_arn`'s credentials for the holder of `token`, in a session named `session_name`
    /// (what CloudTrail shows as the caller). They last the role's default session duration.
    pub async fn assume_role_with_web_identity(
        &self,
        role_arn: &str,
        session_name: &str,
        token: &str,
    ) -> Result<Credentials, AwsError> {
        let output = self
            .client
            .assume_role_with_web_identity()
            .role_arn(role_arn)
            .role_session_name(session_name)
            .web_identity_token(token)
            .send()
            .await
            .map_err(|e| AwsError::new(OPERATION, e));
        self.metrics.aws_call(metrics::STS, OPERATION, &output);
        let credentials = output?
            .credentials
            .ok_or_else(|| AwsError::incomplete(OPERATION, "Credentials"))?;
        let expiry = std::time::SystemTime::try_from(credentials.expiration).ok();
        Ok(Credentials::new(
            credentials.access_key_id,
            credentials.secret_access_key,
            Some(credentials.session_token),
            expiry,
            "AssumeRoleWithWebIdentity",
        ))
    }
}
