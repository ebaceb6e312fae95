//! Why a resource cannot act as its ServiceAccount, each with a reason of its own and what to do.

use crate::aws::error::{AwsError, ErrorKind};

/// What chose the ServiceAccount a resource acts as, for messages that say what to change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChosenBy {
    Spec,
    Default,
}

impl std::fmt::Display for ChosenBy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Spec => "spec.serviceAccountName",
            Self::Default => "the operator's --default-service-account",
        })
    }
}

/// A ServiceAccount as the messages name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRef {
    pub namespace: String,
    pub name: String,
    pub chosen_by: ChosenBy,
}

impl std::fmt::Display for AccountRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ServiceAccount {}/{}", self.namespace, self.name)
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum IdentityError {
    #[error(
        "{account} (named by {}) does not exist: create it with the annotation eks.amazonaws.com/role-arn naming the IAM role this resource acts as",
        account.chosen_by
    )]
    ServiceAccountNotFound { account: AccountRef },
    #[error(
        "{account} has no eks.amazonaws.com/role-arn annotation: annotate it with the ARN of the IAM role its namespace's resources act as"
    )]
    RoleAnnotationMissing { account: AccountRef },
    #[error(
        "{account}: annotation eks.amazonaws.com/role-arn is {value:?}, which is not an IAM role ARN (arn:aws:iam::<12-digit account>:role/<name>)"
    )]
    RoleAnnotationInvalid { account: AccountRef, value: String },
    #[error(
        "the operator may not {action} {account}: {message}; install the chart with tenancy.enabled=true (RBAC get on serviceaccounts and create on serviceaccounts/token)"
    )]
    Forbidden {
        account: AccountRef,
        action: &'static str,
        message: String,
    },
    #[error(
        "STS refused {account}'s token for role {role_arn}: {error}; the role's trust policy must allow sts:AssumeRoleWithWebIdentity from the cluster's OIDC provider for audience sts.amazonaws.com and subject system:serviceaccount:{}:{}",
        account.namespace,
        account.name
    )]
    AssumeRoleRefused {
        account: AccountRef,
        role_arn: String,
        error: Box<AwsError>,
    },
    #[error("cannot act as {account} yet: {message}")]
    Unavailable {
        account: AccountRef,
        message: String,
    },
}

impl IdentityError {
    /// The Stalled condition's reason.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::ServiceAccountNotFound { .. } => "ServiceAccountNotFound",
            Self::RoleAnnotationMissing { .. } => "RoleAnnotationMissing",
            Self::RoleAnnotationInvalid { .. } => "RoleAnnotationInvalid",
            Self::Forbidden { .. } => "ServiceAccountForbidden",
            Self::AssumeRoleRefused { .. } => "AssumeRoleRefused",
            Self::Unavailable { .. } => "RetryingAwsError",
        }
    }

    /// Names `account` instead (the same ServiceAccount, chosen by another field).
    pub fn set_account(&mut self, to: AccountRef) {
        match self {
            Self::ServiceAccountNotFound { account }
            | Self::RoleAnnotationMissing { account }
            | Self::RoleAnnotationInvalid { account, .. }
            | Self::Forbidden { account, .. }
            | Self::AssumeRoleRefused { account, .. }
            | Self::Unavailable { account, .. } => *account = to,
        }
    }

    /// Whether asking again soon can help by itself (an API server or STS hiccup, throttling);
    /// every other failure waits for someone to fix a ServiceAccount, an annotation, RBAC or IAM.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Unavailable { .. })
    }

    /// What an STS refusal means: a token STS will not take is the trust policy's or the
    /// provider's matter; throttling or an outage passes.
    pub fn from_sts(account: AccountRef, role_arn: &str, error: AwsError) -> Self {
        match error.kind {
            ErrorKind::Transient | ErrorKind::Conflict => Self::Unavailable {
                account,
                message: error.to_string(),
            },
            _ => Self::AssumeRoleRefused {
                account,
                role_arn: role_arn.to_owned(),
                error: Box::new(error),
            },
        }
    }

    /// What a Kubernetes refusal means for the ServiceAccount `account`, read or asked for a
    /// token (`action`).
    pub fn from_kubernetes(account: AccountRef, action: &'static str, error: kube::Error) -> Self {
        match error {
            kube::Error::Api(status) if status.code == 404 => {
                Self::ServiceAccountNotFound { account }
            }
            kube::Error::Api(status) if status.code == 403 => Self::Forbidden {
                account,
                action,
                message: status.message,
            },
            e => Self::Unavailable {
                account,
                message: format!("cannot {action} it: {e}"),
            },
        }
    }
}
