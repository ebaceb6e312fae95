//! The resolve and content steps: the IDs a spec names, and the version it declares (for
//! content, the hosted version the content became).

use super::{
    Context,
    content::{self, Content, ContentError},
    resolve::Ids,
    summary::ReconcileFailure,
};
use crate::{
    api::v1alpha1::{AppConfigDeployment, AppConfigDeploymentStatus, Declared},
    shared::conditions::current_ready,
    tenancy::Access,
};

/// Reasons of a Ready condition whose status was written after the spec's names resolved.
const RESOLVED_REASONS: [&str; 4] = ["Deployed", "RolledBack", "Reverted", "Suspended"];

/// Why the target is unknown, and the hash of the content, if it was read.
pub struct Unresolved {
    pub failure: ReconcileFailure,
    pub content_sha256: Option<String>,
}

impl<E: Into<ReconcileFailure>> From<E> for Unresolved {
    fn from(failure: E) -> Self {
        Self {
            failure: failure.into(),
            content_sha256: None,
        }
    }
}

/// What the spec declares, once content is read.
enum Wanted<'a> {
    Version(&'a str),
    Content(Content),
}

pub async fn target(
    resource: &AppConfigDeployment,
    ctx: &Context,
    access: &Access,
    previous: &AppConfigDeploymentStatus,
) -> Result<Ids, Unresolved> {
    let spec = &resource.spec;
    let (aws, scope) = (&access.appconfig(), access.scope());
    // Content first: content that cannot be deployed is refused before any AppConfig call.
    let wanted = match spec.declared() {
        None => return Err(ContentError::NothingDeclared.into()),
        Some(Declared::Version(declared)) => Wanted::Version(declared),
        Some(Declared::Content(source)) => Wanted::Content(
            content::read(resource, source, ctx)
                .await
                .map_err(|e| Unresolved {
                    content_sha256: e.sha256().map(str::to_owned),
                    failure: e.into(),
                })?,
        ),
    };
    let content_sha256 = match &wanted {
        Wanted::Content(content) => Some(content.sha256.clone()),
        Wanted::Version(_) => None,
    };
    let unresolved = |failure: ReconcileFailure| Unresolved {
        failure,
        content_sha256: content_sha256.clone(),
    };
    remember_resolved(resource, ctx, scope, previous);
    let names = ctx
        .resolver
        .names(aws, scope, spec)
        .await
        .map_err(|e| unresolved(e.into()))?;
    match wanted {
        Wanted::Version(declared) => {
            let hosted = ctx
                .resolver
                .version(aws, scope, &names, declared)
                .await
                .map_err(|e| unresolved(e.into()))?;
            Ok(Ids::new(names, declared.to_owned(), hosted, None))
        }
        Wanted::Content(content) => {
            let hosted = content::hosted_version(ctx, aws, &access.region(), &names, &content)
                .await
                .map_err(unresolved)?;
            let declared = hosted.number.to_string();
            Ok(Ids::new(
                names,
                declared,
                Some(hosted),
                Some(content.sha256),
            ))
        }
    }
}

/// IDs in a status whose names resolved for this very spec spare a restart the lookups.
fn remember_resolved(
    resource: &AppConfigDeployment,
    ctx: &Context,
    scope: &str,
    previous: &AppConfigDeploymentStatus,
) {
    let generation = resource.metadata.generation.unwrap_or_default();
    let conditions = previous.conditions.as_deref().unwrap_or_default();
    if let Some(c) = current_ready(conditions, generation)
        && RESOLVED_REASONS.contains(&c.reason.as_str())
        && let (Some(a), Some(e), Some(p), Some(s)) = (
            previous.application_id.as_deref(),
            previous.environment_id.as_deref(),
            previous.configuration_profile_id.as_deref(),
            previous.deployment_strategy_id.as_deref(),
        )
    {
        ctx.resolver.remember(scope, &resource.spec, [a, e, p, s]);
    }
}
