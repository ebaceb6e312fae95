//! Who a resource acts as in AWS. By default the operator's own credentials; with
//! `spec.serviceAccountName` (or the operator's `--default-service-account`), a ServiceAccount
//! of the resource's namespace: the operator asks the TokenRequest API for a token of it and
//! exchanges the token with STS for the role its `eks.amazonaws.com/role-arn` annotation names,
//! so that AWS IAM, not the operator, decides what each namespace may do.
//!
//! - [`service_accounts`]: the role a ServiceAccount names;
//! - [`session`]: the credentials of a role session, shared and renewed;
//! - [`error`]: why a resource cannot act as its ServiceAccount.

pub mod error;
pub mod service_accounts;
pub mod session;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use kube::Client;

pub use error::{AccountRef, ChosenBy, IdentityError};
use service_accounts::ServiceAccounts;
use session::{RoleSession, SessionKey};

use crate::aws::{AppConfig, AppConfigClients, AppConfigData, Signer};

/// The operator's AWS access, as each resource's identity.
#[derive(Clone)]
pub struct Tenancy {
    inner: Arc<Inner>,
}

struct Inner {
    client: Client,
    aws: AppConfigClients,
    default_service_account: Option<String>,
    accounts: ServiceAccounts,
    sessions: Mutex<HashMap<SessionKey, Arc<RoleSession>>>,
    /// How long a ServiceAccount read, or a failed renewal, is reused: half a poll interval, so
    /// that every recheck a poll interval apart reads afresh, and a fixed annotation, trust
    /// policy or ServiceAccount takes effect within one poll interval.
    reuse: Duration,
}

/// A resource's AWS access: clients signing as its identity.
#[derive(Clone)]
pub struct Access {
    aws: AppConfigClients,
    region: Option<String>,
    signer: Option<Signer>,
    /// The region, and the identity when it is not the operator's.
    scope: String,
}

impl Access {
    pub fn appconfig(&self) -> AppConfig {
        self.aws
            .region_as(self.region.as_deref(), self.signer.as_ref())
    }

    pub fn data(&self) -> AppConfigData {
        self.aws
            .data_as(self.region.as_deref(), self.signer.as_ref())
    }

    /// Names the region and the identity: what one identity learnt about AWS (IDs, lists,
    /// sessions) is kept under it, so that a resource never sees what only another
    /// identity may read.
    pub fn scope(&self) -> &str {
        &self.scope
    }

    /// The region the resource's calls go to.
    pub fn region(&self) -> String {
        self.aws.region_name(self.region.as_deref())
    }
}

impl Tenancy {
    /// Resources that name no ServiceAccount act as `default_service_account` (none: as the
    /// operator); changes to ServiceAccounts take effect within `poll_interval`.
    pub fn new(
        client: Client,
        aws: AppConfigClients,
        default_service_account: Option<String>,
        poll_interval: Duration,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                accounts: ServiceAccounts::new(client.clone()),
                client,
                aws,
                default_service_account,
                sessions: Mutex::default(),
                reuse: poll_interval / 2,
            }),
        }
    }

    /// The AWS access of a resource in `namespace` that names `service_account` (or none) and
    /// `region` (or none). Its credentials are renewed here when due, so that a failure is the
    /// resource's to report.
    pub async fn access(
        &self,
        namespace: &str,
        service_account: Option<&str>,
        region: Option<&str>,
    ) -> Result<Access, IdentityError> {
        let inner = &self.inner;
        let region_name = inner.aws.region_name(region);
        let Some((name, chosen_by)) = self.chosen(service_account) else {
            return Ok(Access {
                aws: inner.aws.clone(),
                region: region.map(str::to_owned),
                signer: None,
                scope: region_name,
            });
        };
        let account = AccountRef {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            chosen_by,
        };
        let role_arn = inner.accounts.role_arn(&account, inner.reuse).await?;
        let key = SessionKey {
            namespace: namespace.to_owned(),
            service_account: name.to_owned(),
            role_arn,
            region: region_name,
        };
        let session = self.session(key, &account, region);
        session.credentials(&account).await?;
        Ok(self.signing_as(&session, region))
    }

    /// The ServiceAccount a resource acts as, and what chose it; `None`: the operator.
    fn chosen<'a>(&'a self, service_account: Option<&'a str>) -> Option<(&'a str, ChosenBy)> {
        match (service_account, &self.inner.default_service_account) {
            (Some(name), _) => Some((name, ChosenBy::Spec)),
            (None, Some(name)) => Some((name.as_str(), ChosenBy::Default)),
            (None, None) => None,
        }
    }

    /// Access through a session of the resource's ServiceAccount whose credentials are still
    /// valid, whatever became of the ServiceAccount since: what a resource being deleted with
    /// its namespace still has to stop its deployment with.
    pub fn lingering(
        &self,
        namespace: &str,
        service_account: Option<&str>,
        region: Option<&str>,
    ) -> Option<Access> {
        let (name, _) = self.chosen(service_account)?;
        let region_name = self.inner.aws.region_name(region);
        let session = self
            .inner
            .sessions
            .lock()
            .expect("never poisoned")
            .iter()
            .find(|(k, s)| {
                k.namespace == namespace
                    && k.service_account == name
                    && k.region == region_name
                    && s.holds_valid_credentials()
            })
            .map(|(_, s)| s.clone())?;
        Some(self.signing_as(&session, region))
    }

    fn signing_as(&self, session: &Arc<RoleSession>, region: Option<&str>) -> Access {
        let signer = session.signer();
        Access {
            aws: self.inner.aws.clone(),
            region: region.map(str::to_owned),
            scope: session.key().describe(),
            signer: Some(signer),
        }
    }

    /// The session of `key`, made the first time. Idle sessions are dropped on the way (an
    /// annotation changed, resources deleted), so that the map holds live ones only.
    fn session(
        &self,
        key: SessionKey,
        account: &AccountRef,
        region: Option<&str>,
    ) -> Arc<RoleSession> {
        let inner = &self.inner;
        let mut sessions = inner.sessions.lock().expect("never poisoned");
        sessions.retain(|_, s| {
            let idle = s.is_idle();
            if idle {
                inner.aws.forget_signer(&s.signer_key());
            }
            !idle
        });
        sessions
            .entry(key.clone())
            .or_insert_with(|| {
                Arc::new(RoleSession::new(
                    key,
                    account.clone(),
                    inner.client.clone(),
                    inner.aws.sts(region),
                    inner.reuse,
                ))
            })
            .clone()
    }
}
