//! One role session per (namespace, ServiceAccount, role, region): the credentials STS gave for
//! a token of the ServiceAccount, renewed before they expire, or at once when AWS refuses them.
//! Every resource acting as the ServiceAccount in the region shares them, so that a thousand
//! resources cost one TokenRequest and one AssumeRoleWithWebIdentity per credential lifetime.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant, SystemTime},
};

use aws_credential_types::provider::{self, ProvideCredentials, future};
use aws_sdk_appconfig::config::{Credentials, SharedCredentialsProvider};
use k8s_openapi::api::{
    authentication::v1::{TokenRequest, TokenRequestSpec},
    core::v1::ServiceAccount,
};
use kube::{Api, Client, api::PostParams};
use sha2::{Digest, Sha256};

use super::error::{AccountRef, IdentityError};
use crate::aws::{Signer, Sts, signer::Renewal};

/// The audience STS expects in web identity tokens (what IRSA's pods get too).
pub const AUDIENCE: &str = "sts.amazonaws.com";

/// The shortest lifetime the API server grants: the token is spent at once on STS.
const TOKEN_SECONDS: i64 = 600;

/// Credentials are renewed this long before they expire, so that no call carries credentials
/// that expire on the way; no longer, so that a session costs one TokenRequest and one
/// AssumeRoleWithWebIdentity per credential lifetime, as good as (an hour less 30 s).
pub const RENEW_BEFORE: Duration = Duration::from_secs(30);

/// Credentials whose stated expiry is already near (a clock far off AWS's) are still used for
/// this long: renewing on every call would not make them last longer.
const MINIMUM_USE: Duration = Duration::from_secs(60);

/// A session no resource asked for in this long is forgotten (its ServiceAccount's annotation
/// changed, or its resources are gone): longer than any resync, so live ones stay.
const IDLE: Duration = Duration::from_secs(3600);

/// What identifies a role session.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SessionKey {
    pub namespace: String,
    pub service_account: String,
    pub role_arn: String,
    pub region: String,
}

impl SessionKey {
    /// The region and identity, as caches of what the identity may see are keyed.
    pub fn describe(&self) -> String {
        format!(
            "{}/{}/{}/{}",
            self.region, self.namespace, self.service_account, self.role_arn
        )
    }
}

#[derive(Debug)]
struct Current {
    credentials: Credentials,
    /// When to renew them.
    renew_at: SystemTime,
    /// When they stop being valid, as STS stated it.
    expires_at: SystemTime,
    generation: u64,
}

/// Tells sessions apart in client caches: a session made again for the same key (after it was
/// idle) gets clients of its own.
static SESSIONS: AtomicU64 = AtomicU64::new(0);

pub struct RoleSession {
    key: SessionKey,
    serial: u64,
    account: AccountRef,
    session_name: String,
    client: Client,
    sts: Sts,
    current: Mutex<Option<Current>>,
    /// Held while renewing: resources that need the credentials at once wait for one renewal.
    renewing: tokio::sync::Mutex<u64>,
    /// The last renewal's failure, told to whoever asks within `hold` of it instead of asking
    /// the API server and STS again: a broken ServiceAccount or trust policy costs one attempt
    /// per `hold`, whatever the number of resources acting as it.
    failure: Mutex<Option<(Instant, IdentityError)>>,
    hold: Duration,
    last_used: Mutex<Instant>,
}

impl std::fmt::Debug for RoleSession {
    // Never the credentials.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RoleSession")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl RoleSession {
    /// A session that retries a failed renewal no sooner than `hold` after it.
    pub fn new(
        key: SessionKey,
        account: AccountRef,
        client: Client,
        sts: Sts,
        hold: Duration,
    ) -> Self {
        Self {
            session_name: session_name(&key.namespace, &key.service_account),
            key,
            serial: SESSIONS.fetch_add(1, Ordering::Relaxed),
            account,
            client,
            sts,
            current: Mutex::default(),
            renewing: tokio::sync::Mutex::new(0),
            failure: Mutex::default(),
            hold,
            last_used: Mutex::new(Instant::now()),
        }
    }

    /// Names this session in client caches.
    pub fn signer_key(&self) -> String {
        format!("{}#{}", self.key.describe(), self.serial)
    }

    pub fn key(&self) -> &SessionKey {
        &self.key
    }

    /// The signer for clients acting in this session.
    pub fn signer(self: &Arc<Self>) -> Signer {
        Signer {
            key: self.signer_key(),
            provider: SharedCredentialsProvider::new(Provider(self.clone())),
            renewal: self.clone(),
        }
    }

    /// Valid credentials, renewed first if they are due. `account` names the ServiceAccount in
    /// errors as the asking resource chose it.
    pub async fn credentials(&self, account: &AccountRef) -> Result<Credentials, IdentityError> {
        *self.last_used.lock().expect("never poisoned") = Instant::now();
        if let Some(credentials) = self.current(|c| c.renew_at) {
            return Ok(credentials);
        }
        // Due but still valid: one caller renews, the others go on with them meanwhile, and
        // keep them if the renewal fails (it is tried again at the next call after `hold`).
        if let Some(valid) = self.current(|c| c.expires_at) {
            let Ok(renewals) = self.renewing.try_lock() else {
                return Ok(valid);
            };
            if self.recent_failure().is_some() {
                return Ok(valid);
            }
            return Ok(self.renew(renewals, account).await.unwrap_or(valid));
        }
        let renewals = self.renewing.lock().await;
        // Renewed, or refused, while this caller waited.
        if let Some(credentials) = self.current(|c| c.renew_at) {
            return Ok(credentials);
        }
        if let Some(mut failure) = self.recent_failure() {
            failure.set_account(account.clone());
            return Err(failure);
        }
        self.renew(renewals, account).await
    }

    /// Exchanges a new token for credentials, holding the renewal lock.
    async fn renew(
        &self,
        mut renewals: tokio::sync::MutexGuard<'_, u64>,
        account: &AccountRef,
    ) -> Result<Credentials, IdentityError> {
        let assumed = match self.token(account).await {
            Ok(token) => self
                .sts
                .assume_role_with_web_identity(&self.key.role_arn, &self.session_name, &token)
                .await
                .map_err(|e| IdentityError::from_sts(account.clone(), &self.key.role_arn, e)),
            Err(e) => Err(e),
        };
        let credentials = match assumed {
            Ok(credentials) => credentials,
            Err(e) => {
                tracing::debug!(
                    namespace = %self.key.namespace,
                    service_account = %self.key.service_account,
                    role_arn = %self.key.role_arn,
                    error = %e,
                    "cannot assume the ServiceAccount's role"
                );
                *self.failure.lock().expect("never poisoned") = Some((Instant::now(), e.clone()));
                return Err(e);
            }
        };
        *renewals += 1;
        let now = SystemTime::now();
        let expires_at = credentials.expiry().unwrap_or(now + MINIMUM_USE);
        let renew_at = expires_at
            .checked_sub(RENEW_BEFORE)
            .unwrap_or(now)
            .max(now + MINIMUM_USE);
        tracing::debug!(
            namespace = %self.key.namespace,
            service_account = %self.key.service_account,
            role_arn = %self.key.role_arn,
            region = %self.key.region,
            "assumed the ServiceAccount's role"
        );
        *self.failure.lock().expect("never poisoned") = None;
        *self.current.lock().expect("never poisoned") = Some(Current {
            credentials: credentials.clone(),
            renew_at,
            expires_at: expires_at.max(renew_at),
            generation: *renewals,
        });
        Ok(credentials)
    }

    /// The current credentials, while `until` of them is ahead.
    fn current(&self, until: impl Fn(&Current) -> SystemTime) -> Option<Credentials> {
        self.current
            .lock()
            .expect("never poisoned")
            .as_ref()
            .filter(|c| SystemTime::now() < until(c))
            .map(|c| c.credentials.clone())
    }

    fn recent_failure(&self) -> Option<IdentityError> {
        self.failure
            .lock()
            .expect("never poisoned")
            .as_ref()
            .filter(|(at, _)| at.elapsed() < self.hold)
            .map(|(_, e)| e.clone())
    }

    /// Whether the session still holds credentials that have not expired: a resource being
    /// deleted may still stop its deployment with them after its ServiceAccount is gone.
    pub fn holds_valid_credentials(&self) -> bool {
        self.current(|c| c.expires_at).is_some()
    }

    /// A fresh token of the ServiceAccount for STS.
    async fn token(&self, account: &AccountRef) -> Result<String, IdentityError> {
        let api: Api<ServiceAccount> = Api::namespaced(self.client.clone(), &self.key.namespace);
        let request = TokenRequest {
            spec: TokenRequestSpec {
                audiences: vec![AUDIENCE.to_owned()],
                expiration_seconds: Some(TOKEN_SECONDS),
                bound_object_ref: None,
            },
            ..TokenRequest::default()
        };
        let answer = api
            .create_token_request(&self.key.service_account, &PostParams::default(), &request)
            .await
            .map_err(|e| {
                IdentityError::from_kubernetes(account.clone(), "request a token of", e)
            })?;
        answer
            .status
            .map(|s| s.token)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| IdentityError::Unavailable {
                account: account.clone(),
                message: "the API server answered the TokenRequest without a token".to_owned(),
            })
    }

    /// Whether nothing uses this session any more.
    pub fn is_idle(&self) -> bool {
        self.last_used.lock().expect("never poisoned").elapsed() > IDLE
    }
}

impl Renewal for RoleSession {
    fn generation(&self) -> u64 {
        self.current
            .lock()
            .expect("never poisoned")
            .as_ref()
            .map_or(0, |c| c.generation)
    }

    fn expired(&self, generation: u64) {
        let mut current = self.current.lock().expect("never poisoned");
        if current.as_ref().is_some_and(|c| c.generation == generation) {
            *current = None;
        }
    }
}

/// The SDK's view of a session: its current credentials, renewed when due.
#[derive(Debug)]
struct Provider(Arc<RoleSession>);

impl ProvideCredentials for Provider {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(async move {
            self.0
                .credentials(&self.0.account)
                .await
                .map_err(provider::error::CredentialsError::provider_error)
        })
    }
}

/// STS's RoleSessionName, what CloudTrail shows for every call of the session: the namespace
/// and ServiceAccount (`team-a.deployer`), within STS's 64 characters (`[\w+=,.@-]`, which
/// Kubernetes names always satisfy); a longer one keeps its start and a hash of the whole.
pub fn session_name(namespace: &str, service_account: &str) -> String {
    const MAX: usize = 64;
    let name = format!("{namespace}.{service_account}");
    if name.len() <= MAX {
        return name;
    }
    let hash = Sha256::digest(name.as_bytes());
    let suffix: String = hash.iter().take(4).map(|b| format!("{b:02x}")).collect();
    format!("{}-{suffix}", &name[..MAX - suffix.len() - 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_names_name_the_service_account_within_sts_rules() {
        assert_eq!(session_name("team-a", "deployer"), "team-a.deployer");
        let long = session_name(&"n".repeat(63), &"s".repeat(253));
        assert_eq!(long.len(), 64);
        assert!(long.starts_with(&"n".repeat(40)));
        assert_ne!(long, session_name(&"n".repeat(63), &"s".repeat(252)));
        assert!(
            long.chars()
                .all(|c| c.is_ascii_alphanumeric() || "+=,.@-_".contains(c))
        );
    }
}
