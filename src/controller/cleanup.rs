//! Deleting a resource: with `deletionPolicy: Stop`, stop the in-progress deployment it tracks,
//! then release the finalizer. Without the finalizer there is nothing to do.

use std::sync::Arc;

use kube::{Api, ResourceExt, runtime::controller::Action};
use tracing::{info, warn};

use super::{
    Context, Error, finalizer,
    reconcile::{identity, object_key},
    summary::ReconcileFailure,
};
use crate::{
    api::v1alpha1::{AppConfigDeployment, DeletionPolicy},
    aws::{error::ErrorKind, model::DeploymentState},
    metrics,
    shared::events::{Notice, Severity},
    tenancy::IdentityError,
};

pub async fn cleanup(
    api: &Api<AppConfigDeployment>,
    resource: &Arc<AppConfigDeployment>,
    ctx: &Context,
) -> Result<Action, Error> {
    if !resource.finalizers().contains(&finalizer::name()) {
        return Ok(Action::await_change());
    }
    let key = object_key(resource);
    match stop_tracked(resource, ctx).await {
        Ok(Some(number)) => {
            info!(resource = %key, deployment = number, "stopped the in-progress deployment of a deleted resource (deletionPolicy: Stop)");
            let notice = Notice {
                severity: Severity::Normal,
                reason: "StoppingDeployment".into(),
                action: "Stop",
                note: format!(
                    "Stopped deployment {number} because the resource is being deleted with deletionPolicy Stop"
                ),
                identity: format!("delete-stop/{number}"),
            };
            ctx.publish(resource, &notice).await;
        }
        Ok(None) => {}
        // The ServiceAccount is gone, or its namespace is being deleted (no token can be asked
        // for there), and no session of it is left to stop with: holding the resource would hold
        // its namespace forever, for a stop that can no longer be made as the namespace.
        Err(ReconcileFailure::Identity(
            e @ (IdentityError::ServiceAccountNotFound { .. }
            | IdentityError::NamespaceTerminating { .. }),
        )) => {
            warn!(resource = %key, error = %e, "cannot stop the deployment of a deleted resource: it can no longer act as its ServiceAccount; releasing the resource without stopping it");
            let notice = Notice {
                severity: Severity::Warning,
                reason: "StopFailed".into(),
                action: "Stop",
                note: format!("Did not stop the tracked deployment: {e}"),
                identity: "delete-stop-failed".to_owned(),
            };
            ctx.publish(resource, &notice).await;
        }
        Err(e) if may_pass(&e) => {
            warn!(resource = %key, error = %e, "cannot stop the deployment of a deleted resource yet; the finalizer holds it until AppConfig answers (remove the finalizer by hand to give up)");
            return Ok(Action::requeue(
                ctx.backoff.next(&key, ctx.config.poll_interval),
            ));
        }
        // The application, environment or deployment is gone, or it ended between the read
        // and the stop: nothing is left to stop.
        Err(e) => {
            info!(resource = %key, error = %e, "nothing to stop for a deleted resource");
        }
    }
    finalizer::sync(api, resource, false).await?;
    ctx.backoff.reset(&key);
    ctx.schedule.forget(&key);
    Ok(Action::await_change())
}

/// Whether a failed stop may succeed later: AppConfig or STS recovers, IAM or the ServiceAccount
/// is fixed. A deployment or environment that is gone leaves nothing to stop.
fn may_pass(failure: &ReconcileFailure) -> bool {
    match failure {
        ReconcileFailure::Aws(e) => {
            matches!(e.kind, ErrorKind::Transient | ErrorKind::AccessDenied)
        }
        ReconcileFailure::Identity(_) => true,
        ReconcileFailure::Resolve(_) | ReconcileFailure::Content(_) => false,
    }
}

/// Stops the tracked deployment if it is still in progress, as the resource's identity; the
/// number stopped, if any.
async fn stop_tracked(
    resource: &AppConfigDeployment,
    ctx: &Context,
) -> Result<Option<i32>, ReconcileFailure> {
    let Some(status) = &resource.status else {
        return Ok(None);
    };
    let (Some(application), Some(environment), Some(profile), Some(number)) = (
        status.application_id.as_deref(),
        status.environment_id.as_deref(),
        status.configuration_profile_id.as_deref(),
        status.deployment_number,
    ) else {
        return Ok(None);
    };
    // The policy may have gone back to Retain after the finalizer was added; and a suspended
    // resource writes nothing to AppConfig, not even on its way out.
    if resource.spec.suspend || resource.spec.deletion_policy != DeletionPolicy::Stop {
        return Ok(None);
    }
    let aws = match identity(resource, ctx).await {
        Ok(access) => access,
        // Deleted with its namespace, the ServiceAccount may go first: credentials it had are
        // still good for the stop.
        Err(
            e @ (IdentityError::ServiceAccountNotFound { .. }
            | IdentityError::NamespaceTerminating { .. }),
        ) => ctx
            .tenancy
            .lingering(
                &resource.namespace().unwrap_or_default(),
                resource.spec.service_account_name.as_deref(),
                resource.spec.region.as_deref(),
            )
            .ok_or(e)?,
        Err(e) => return Err(e.into()),
    }
    .appconfig();
    let deployment = aws.get_deployment(application, environment, number).await?;
    let state = &deployment.summary.state;
    // A number recorded for an attempt that never started may belong to another profile's
    // deployment: that one is not this resource's to stop.
    let ours = deployment.summary.profile_id.as_deref() == Some(profile);
    if !ours || !state.is_in_progress() || *state == DeploymentState::RollingBack {
        return Ok(None);
    }
    aws.stop_deployment(application, environment, number, false)
        .await?;
    ctx.metrics.deployment_stopped(metrics::APPCONFIGDEPLOYMENT);
    Ok(Some(number))
}
