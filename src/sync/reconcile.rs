//! One reconcile: wait until the resource is due (a watch event, such as the operator's own
//! status write, never brings a poll forward), poll, then publish Events and write the status
//! if it changed.

use std::{sync::Arc, time::Duration};

use jiff::Timestamp;
use kube::{Api, ResourceExt, runtime::controller::Action};
use tracing::debug;

use super::{Context, Error, poll::poll, status};
use crate::{
    api::v1alpha1::{AppConfigSync, AppConfigSyncStatus},
    shared::status_writer::{StatusWriter, WithStatus},
};

impl WithStatus for AppConfigSync {
    type Status = AppConfigSyncStatus;

    fn status(&self) -> Option<&AppConfigSyncStatus> {
        self.status.as_ref()
    }
}

/// How soon a reconcile whose status write met a newer copy runs again: the watch delivers it
/// within moments.
const STALE_RETRY: Duration = Duration::from_millis(250);

pub async fn reconcile(sync: Arc<AppConfigSync>, ctx: Arc<Context>) -> Result<Action, Error> {
    // The garbage collector removes the target through its owner reference.
    if sync.metadata.deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    let key = object_key(&sync);
    let uid = sync.uid().unwrap_or_default();
    let generation = sync.metadata.generation.unwrap_or_default();
    if let Some(wait) = ctx.sessions.wait(&key, &uid, generation) {
        return Ok(Action::requeue(wait));
    }
    let previous = sync.status.clone().unwrap_or_default();
    // A generation the status has not seen yet: the spec changed since the last write (after a
    // restart, the status tells; the in-memory state cannot).
    let spec_changed = previous.observed_generation != Some(generation);
    let step = poll(&sync, &ctx, &previous, spec_changed)
        .await
        .map_err(Error::Kubernetes)?;
    for notice in &step.notices {
        ctx.publisher.publish_or_warn(sync.as_ref(), notice).await;
    }
    let next = status::next(&previous, generation, &step.outcome, Timestamp::now());
    let api: Api<AppConfigSync> =
        Api::namespaced(ctx.client.clone(), &sync.namespace().unwrap_or_default());
    let mut writer = StatusWriter::new(&api, &sync);
    match writer.write(&next).await {
        Ok(_) => Ok(Action::requeue(step.after)),
        Err(kube::Error::Api(e)) if e.code == 409 => {
            debug!(resource = %key, "the resource changed since it was read; its status is written at the next poll");
            Ok(Action::requeue(STALE_RETRY))
        }
        Err(e) => Err(Error::WriteStatus(e)),
    }
}

pub fn object_key(sync: &AppConfigSync) -> String {
    format!(
        "{}/{}",
        sync.namespace().unwrap_or_default(),
        sync.name_any()
    )
}
