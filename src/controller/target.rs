//! The resolve and content steps: the IDs a spec names, and the version it declares (for
//! content, the hosted version the content became).

use super::{
    Context,
    content::{self, ContentError},
    resolve::Ids,
    summary::ReconcileFailure,
};
use crate::{
    api::v1alpha1::{AppConfigDeployment, AppConfigDeploymentStatus, Declared},
    aws::AppConfig,
    shared::conditions::current_ready,
};

/// Reasons of a Ready condition whose status was written after the spec's names resolved.
const RESOLVED_REASONS: [&str; 4] = ["Deployed", "RolledBack", "Reverted", "Suspended"];

pub async fn target(
    resource: &AppConfigDeployment,
    ctx: &Context,
    aws: &AppConfig,
    scope: &str,
    previous: &AppConfigDeploymentStatus,
) -> Result<Ids, ReconcileFailure> {
    let spec = &resource.spec;
    remember_resolved(resource, ctx, scope, previous);
    let names = ctx.resolver.names(aws, scope, spec).await?;
    match spec.declared() {
        None => Err(ContentError::NothingDeclared.into()),
        Some(Declared::Version(declared)) => {
            let hosted = ctx.resolver.version(aws, scope, &names, declared).await?;
            Ok(Ids::new(names, declared.to_owned(), hosted, None))
        }
        Some(Declared::Content(source)) => {
            let (hosted, sha256) =
                content::hosted_version(resource, source, ctx, aws, scope, &names).await?;
            let declared = hosted.number.to_string();
            Ok(Ids::new(names, declared, Some(hosted), Some(sha256)))
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
