//! One reconcile: wait until the resource is due (a watch event, such as the operator's own
//! status write, never brings a poll forward), poll, then publish Events and write the status
//! if it changed.

use std::sync::Arc;

use jiff::Timestamp;
use kube::{Api, ResourceExt, runtime::controller::Action};
use tracing::debug;

use super::{Context, Error, object_key, poll::poll, status};
use crate::{
    api::v1alpha1::{AppConfigSync, AppConfigSyncStatus},
    shared::status_writer::{STALE_RETRY, StatusWriter, WithStatus},
};

impl WithStatus for AppConfigSync {
    type Status = AppConfigSyncStatus;

    fn status(&self) -> Option<&AppConfigSyncStatus> {
        self.status.as_ref()
    }
}

pub async fn reconcile(sync: Arc<AppConfigSync>, ctx: Arc<Context>) -> Result<Action, Error> {
    // The garbage collector removes the target through its owner reference.
    if sync.metadata.deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    let key = object_key(&sync);
    let uid = sync.uid().unwrap_or_default();
    let generation = sync.metadata.generation.unwrap_or_default();
    if let Some(wait) = ctx.sessions.wait(&key, &uid, generation) {
        // A status the last write could not store is written now, without polling again.
        return match ctx.sessions.take_pending(&key, &uid, generation) {
            Some(pending) => write_status(&sync, &ctx, &pending, wait).await,
            None => Ok(Action::requeue(wait)),
        };
    }
    // The spec changed before a status could be stored: that status, not the object's, names
    // the target last written, which the poll removes if the spec no longer names it.
    let previous = ctx
        .sessions
        .take_pending_of_any_generation(&key, &uid)
        .or_else(|| sync.status.clone())
        .unwrap_or_default();
    if !ctx.sessions.knows(&key, &uid) && status::synced_at(&previous, generation) {
        // Synced before this process started (a restart, a new leader): its first poll is spread
        // over its interval, so that a restart never polls every resource at once.
        let interval = ctx.seconds(sync.spec.poll_interval_seconds);
        let wait = interval.mul_f64(fastrand::f64());
        ctx.sessions.schedule(&key, &uid, generation, None, wait);
        debug!(resource = %key, first_poll_in = ?wait, "synced before this start; first poll spread over the poll interval");
        return Ok(Action::requeue(wait));
    }
    let step = poll(&sync, &ctx, &previous)
        .await
        .map_err(Error::Kubernetes)?;
    for notice in &step.notices {
        ctx.publisher.publish_or_warn(sync.as_ref(), notice).await;
    }
    let next = status::next(&previous, generation, &step.outcome, Timestamp::now());
    write_status(&sync, &ctx, &next, step.after).await
}

/// Writes `status` unless the object holds it, then waits `after`. A write refused because the
/// object changed since it was read keeps `status` for the next reconcile, which the watch
/// brings within moments with the current object.
async fn write_status(
    sync: &AppConfigSync,
    ctx: &Context,
    status: &AppConfigSyncStatus,
    after: std::time::Duration,
) -> Result<Action, Error> {
    let api: Api<AppConfigSync> =
        Api::namespaced(ctx.client.clone(), &sync.namespace().unwrap_or_default());
    match StatusWriter::new(&api, sync).write(status).await {
        Ok(_) => Ok(Action::requeue(after)),
        Err(kube::Error::Api(e)) if e.code == 409 => {
            let key = object_key(sync);
            debug!(resource = %key, "the resource changed since it was read; writing its status again with the current copy");
            ctx.sessions
                .keep_pending(&key, &sync.uid().unwrap_or_default(), status.clone());
            Ok(Action::requeue(STALE_RETRY.min(after)))
        }
        Err(e) => Err(Error::WriteStatus(e)),
    }
}
