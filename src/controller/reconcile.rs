//! One reconcile: skip it when nothing changed since the operator's own write, keep the
//! finalizer in step with the deletion policy, then identity → resolve and content
//! ([`target`](super::target)) → observe, decide, act ([`converge`]) → report (status and
//! Events).

use std::{sync::Arc, time::Duration};

use jiff::Timestamp;
use kube::{Api, ResourceExt, runtime::controller::Action};
use tracing::{debug, warn};

use super::{
    Context, Error,
    converge::{ConvergeError, Requeue, converge},
    environments::EnvironmentKey,
    finalizer, requests,
    resolve::{Ids, ResolveError},
    status::{self, Observed},
    summary::{self, ReconcileFailure, Retry},
    target::target,
};
use crate::{
    api::v1alpha1::{AppConfigDeployment, AppConfigDeploymentStatus, DeletionPolicy},
    aws::error::ErrorKind,
    shared::{
        events::Notice,
        status_writer::{STALE_RETRY, StatusWriter, WithStatus},
    },
    tenancy::{Access, IdentityError},
};

pub async fn reconcile(
    resource: Arc<AppConfigDeployment>,
    ctx: Arc<Context>,
) -> Result<Action, Error> {
    let api: Api<AppConfigDeployment> = Api::namespaced(
        ctx.client.clone(),
        &resource.namespace().unwrap_or_default(),
    );
    let key = object_key(&resource);
    if resource.metadata.deletion_timestamp.is_some() {
        return super::cleanup::cleanup(&api, &resource, &ctx).await;
    }
    // Taken before anything is read: a ConfigMap edit from now on makes the resource due again.
    let touches = ctx.schedule.touches(&key);
    if let Some(wait) = ctx
        .schedule
        .wait(&key, resource.resource_version().as_deref())
    {
        return Ok(Action::requeue(wait));
    }
    let mut writer = StatusWriter::new(&api, &resource);
    let wants_finalizer = resource.spec.deletion_policy == DeletionPolicy::Stop;
    if let Some(patched) = finalizer::sync(&api, &resource, wants_finalizer).await? {
        writer.saw(&patched);
    }

    let previous = resource.status.clone().unwrap_or_default();
    let report = Report {
        resource: &resource,
        ctx: &ctx,
        touches,
    };
    let access = match identity(&resource, &ctx).await {
        Ok(access) => access,
        Err(e) => {
            let failure = e.into();
            let (mut status, requeue) = failed(&resource, &ctx, None, &previous, &failure);
            status::declare_unresolved(&mut status, &resource.spec, &failure, None);
            return report.write(&mut writer, &status, &[], requeue).await;
        }
    };
    let (aws, scope) = (access.appconfig(), access.scope());
    let ids = match target(&resource, &ctx, &access, &previous).await {
        Ok(ids) => ids,
        Err(unresolved) => {
            let failure = &unresolved.failure;
            let (mut status, requeue) =
                failed(&resource, &ctx, Some((scope, None)), &previous, failure);
            let sha256 = unresolved.content_sha256.as_deref();
            status::declare_unresolved(&mut status, &resource.spec, failure, sha256);
            return report.write(&mut writer, &status, &[], requeue).await;
        }
    };

    let env = EnvironmentKey::of(scope, &ids);
    // Requests first: what they record is what the rest starts from, even if it fails.
    let (previous, outcome) =
        match requests::handle(&resource, &ctx, &aws, &env, &ids, &previous, &mut writer).await {
            Ok(handled) => {
                let outcome =
                    converge(&resource, &ctx, &aws, &env, &ids, &handled, &mut writer).await;
                (handled, outcome)
            }
            Err(e) => (previous, Err(e)),
        };
    let (next, notices, requeue) = match outcome {
        Ok(outcome) => {
            let requeue = match &outcome.requeue {
                Requeue::Poll => ctx.config.poll_interval,
                Requeue::Backoff => ctx.backoff.next(&key, ctx.config.poll_interval),
                Requeue::Resync => resync_delay(ctx.config.resync_interval),
            };
            if !matches!(outcome.requeue, Requeue::Backoff) {
                ctx.backoff.reset(&key);
            }
            (outcome.status, outcome.notices, requeue)
        }
        Err(ConvergeError::Kubernetes(e)) if is_stale(&e) => {
            return Ok(retry_fresh(&key));
        }
        Err(ConvergeError::Kubernetes(e)) => return Err(Error::WriteStatus(e)),
        Err(ConvergeError::Failure(failure)) => {
            // A start whose answer was lost may have happened: its recorded intent stays.
            let base = match writer.stored() {
                Some(stored) if failure.is_transient() => stored.clone(),
                _ => previous.clone(),
            };
            let (status, requeue) =
                failed(&resource, &ctx, Some((scope, Some(&ids))), &base, &failure);
            (status, Vec::new(), requeue)
        }
    };
    report.write(&mut writer, &next, &notices, requeue).await
}

/// Who the resource acts as in AWS: its clients, and the scope of what they may see.
pub(super) async fn identity(
    resource: &AppConfigDeployment,
    ctx: &Context,
) -> Result<Access, IdentityError> {
    ctx.tenancy
        .access(
            &resource.namespace().unwrap_or_default(),
            resource.spec.service_account_name.as_deref(),
            resource.spec.region.as_deref(),
        )
        .await
}

/// The report step of one reconcile.
struct Report<'a> {
    resource: &'a AppConfigDeployment,
    ctx: &'a Context,
    /// The resource's touches when the reconcile began.
    touches: u64,
}

impl Report<'_> {
    /// Events, then status, then when the resource is due again.
    async fn write(
        &self,
        writer: &mut StatusWriter<'_, AppConfigDeployment>,
        next: &AppConfigDeploymentStatus,
        notices: &[Notice],
        requeue: Duration,
    ) -> Result<Action, Error> {
        let (resource, ctx) = (self.resource, self.ctx);
        let key = object_key(resource);
        // Events first: their names make a repeat impossible, so a failed status write cannot lose
        // one. (Events of the operator's own actions went out right after each action.)
        for notice in notices {
            ctx.publish(resource, notice).await;
        }
        match writer.write(next).await {
            Ok(_) => {}
            Err(e) if is_stale(&e) => return Ok(retry_fresh(&key)),
            Err(e) => return Err(Error::WriteStatus(e)),
        }
        ctx.schedule
            .set(&key, writer.resource_version(), self.touches, requeue);
        Ok(Action::requeue(requeue))
    }
}

/// The object changed since the copy this reconcile read (the watch lags behind the operator's
/// own writes under load): nothing is wrong, the next reconcile sees the current object.
fn is_stale(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(status) if status.code == 409)
}

fn retry_fresh(key: &str) -> Action {
    debug!(resource = %key, "the resource changed since it was read; reconciling again with the current copy");
    Action::requeue(STALE_RETRY)
}

/// The status and requeue for a reconcile that stopped short of a decision. `known`: where the
/// resource's lookups are cached, once its identity is known, and what its spec resolved to,
/// once it did.
fn failed(
    resource: &AppConfigDeployment,
    ctx: &Context,
    known: Option<(&str, Option<&Ids>)>,
    previous: &AppConfigDeploymentStatus,
    failure: &ReconcileFailure,
) -> (AppConfigDeploymentStatus, Duration) {
    let key = object_key(resource);
    let generation = resource.metadata.generation.unwrap_or_default();
    let ids = known.and_then(|(_, ids)| ids);
    if let Some((scope, _)) = known
        && matches!(
            failure,
            ReconcileFailure::Aws(e) | ReconcileFailure::Resolve(ResolveError::Aws(e))
                if e.kind == ErrorKind::NotFound
        )
    {
        ctx.resolver.forget(scope, &resource.spec);
        // A hosted version made from content may be the one that is gone.
        if let Some(ids) = ids {
            ctx.hosted_versions.forget(&ids.application, &ids.profile);
        }
    }
    let conditions = previous.conditions.as_deref().unwrap_or_default();
    let summary = summary::for_error(failure, conditions, generation);
    let observed = Observed {
        ids,
        ..Observed::default()
    };
    let mut status =
        status::next_status(previous, generation, &observed, ctx.config.event_log_limit);
    status::set_conditions(&mut status, &summary, generation, Timestamp::now());
    let requeue = match failure.retry() {
        Retry::Soon => {
            let after = ctx.backoff.next(&key, ctx.config.poll_interval);
            warn!(resource = %key, error = %failure, retry_in = ?after, "AppConfig call failed; retrying with backoff");
            after
        }
        Retry::Recheck => {
            let mut after = ctx.backoff.next(&key, ctx.config.poll_interval);
            // A fixed ServiceAccount, annotation or trust policy takes effect within a poll
            // interval (the tenancy layer reuses its reads and failures for half of one).
            if matches!(failure, ReconcileFailure::Identity(_)) {
                after = after.min(ctx.config.poll_interval);
            }
            warn!(resource = %key, reason = summary.reason, error = %failure, retry_in = ?after, "stalled until AWS has what the spec names and lets the resource act on it; create it, fix the ServiceAccount or grant access (or fix the spec), and the resource recovers on its own");
            after
        }
        Retry::AtResync => {
            warn!(resource = %key, error = %failure, "cannot converge until the spec or the ConfigMap it reads changes; fix the cause named in the Stalled condition");
            resync_delay(ctx.config.resync_interval)
        }
    };
    (status, requeue)
}

/// Settled resources come back a little after the resync interval, spread so that they do not
/// all come back at once.
fn resync_delay(interval: Duration) -> Duration {
    interval.mul_f64(1.0 + fastrand::f64() * 0.1)
}

pub fn object_key(resource: &AppConfigDeployment) -> String {
    format!(
        "{}/{}",
        resource.namespace().unwrap_or_default(),
        resource.name_any()
    )
}

impl WithStatus for AppConfigDeployment {
    type Status = AppConfigDeploymentStatus;

    fn status(&self) -> Option<&AppConfigDeploymentStatus> {
        self.status.as_ref()
    }
}
