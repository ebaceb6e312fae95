//! The content step: configuration that lives in Git (spec.content, or a ConfigMap key) becomes
//! the hosted configuration version that holds exactly those bytes, which the rest of the
//! reconcile converges on as if the spec had named it.
//!
//! - `source`: the bytes and their SHA-256, refused over the size limit before any AWS call;
//! - `hosted`: one hosted version per distinct content of a profile, found or created;
//! - `watch`: ConfigMap edits wake the resources that read them.

mod hosted;
mod source;
pub mod watch;

use kube::ResourceExt;

pub use hosted::HostedVersions;

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
    /// Whether the operator may not read the ConfigMap (its RBAC), as opposed to a passing
    /// failure of the API server.
    pub fn is_forbidden(&self) -> bool {
        matches!(self, Self::Kubernetes { source: kube::Error::Api(s), .. } if s.code == 403)
    }
}

/// The hosted version holding the content of `source`, and that content's SHA-256.
pub async fn hosted_version(
    resource: &AppConfigDeployment,
    source: ContentSource<'_>,
    ctx: &Context,
    aws: &AppConfig,
    scope: &str,
    names: &Names,
) -> Result<(HostedVersion, String), ReconcileFailure> {
    let namespace = resource.namespace().unwrap_or_default();
    let content = source::read(
        &ctx.client,
        &namespace,
        &resource.spec,
        source,
        ctx.config.max_content_bytes,
    )
    .await?;
    let version = ctx
        .hosted_versions
        .version_for(aws, scope, &names.application, &names.profile, &content)
        .await
        .map_err(|source| match source.kind {
            ErrorKind::InvalidContent => ContentError::Refused {
                sha256: content.sha256.clone(),
                source,
            }
            .into(),
            _ => ReconcileFailure::Aws(source),
        })?;
    Ok((version, content.sha256))
}
