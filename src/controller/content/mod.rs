//! The content step: configuration that lives in Git (spec.content, or a ConfigMap key) becomes
//! the hosted configuration version that holds exactly those bytes, which the rest of the
//! reconcile converges on as if the spec had named it.
//!
//! - `source`: the bytes and their SHA-256, refused over the size limit before any AppConfig call;
//! - `hosted`: one hosted version per distinct content of a profile, found or created;
//! - `watch`: ConfigMap edits wake the resources that read them.

mod hosted;
mod source;
pub mod watch;

use kube::ResourceExt;

pub use hosted::HostedVersions;
pub use source::Content;

use super::{Context, resolve::Names, summary::ReconcileFailure};
use crate::{
    api::v1alpha1::{AppConfigDeployment, ContentSource},
    aws::{
        AppConfig,
        error::{AwsError, ErrorKind},
    },
    controller::resolve::HostedVersion,
};

/// Why a resource's content could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ContentError {
    #[error(
        "the spec sets none of spec.configurationVersion, spec.content and spec.contentFrom; set exactly one"
    )]
    NothingDeclared,
    #[error(
        "ConfigMap '{name}' (spec.contentFrom.configMapKeyRef.name) does not exist in the resource's namespace; the resource deploys its content once it is created"
    )]
    ConfigMapNotFound { name: String },
    #[error(
        "ConfigMap '{name}' has no key '{key}' (spec.contentFrom.configMapKeyRef.key) in data or binaryData; its keys: {}",
        if keys.is_empty() { "none".to_owned() } else { keys.join(", ") }
    )]
    KeyNotFound {
        name: String,
        key: String,
        keys: Vec<String>,
    },
    #[error(
        "the content (sha256 {sha256}) is {size} bytes, over the {limit}-byte limit of AppConfig's hosted configuration store (operator flag --max-content-bytes); nothing was sent to AWS"
    )]
    TooLarge {
        size: usize,
        limit: usize,
        sha256: String,
    },
    #[error("AppConfig refused the content (sha256 {sha256}): {source}")]
    Refused {
        sha256: String,
        #[source]
        source: AwsError,
    },
    #[error("cannot read ConfigMap '{name}' (spec.contentFrom.configMapKeyRef.name): {source}")]
    Kubernetes {
        name: String,
        #[source]
        source: kube::Error,
    },
}

impl ContentError {
    /// The hash of the content the error is about, when it was read.
    pub fn sha256(&self) -> Option<&str> {
        match self {
            Self::TooLarge { sha256, .. } | Self::Refused { sha256, .. } => Some(sha256),
            _ => None,
        }
    }

    /// Whether the operator may not read the ConfigMap (its RBAC), as opposed to a passing
    /// failure of the API server.
    pub fn is_forbidden(&self) -> bool {
        matches!(self, Self::Kubernetes { source: kube::Error::Api(s), .. } if s.code == 403)
    }
}

/// The content `source` holds, refused over the size limit.
pub async fn read(
    resource: &AppConfigDeployment,
    source: ContentSource<'_>,
    ctx: &Context,
) -> Result<Content, ContentError> {
    let namespace = resource.namespace().unwrap_or_default();
    let limit = ctx.config.max_content_bytes;
    source::read(&ctx.client, &namespace, &resource.spec, source, limit).await
}

/// The hosted version of the profile `names` name (in `region`) that holds `content`.
pub async fn hosted_version(
    ctx: &Context,
    aws: &AppConfig,
    region: &str,
    names: &Names,
    content: &Content,
) -> Result<HostedVersion, ReconcileFailure> {
    ctx.hosted_versions
        .version_for(aws, region, &names.application, &names.profile, content)
        .await
        .map_err(|source| match source.kind {
            ErrorKind::InvalidContent => ContentError::Refused {
                sha256: content.sha256.clone(),
                source,
            }
            .into(),
            _ => ReconcileFailure::Aws(source),
        })
}
