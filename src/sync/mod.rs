//! The AppConfigSync controller: keeps a ConfigMap or Secret equal to what AppConfig serves.
//!
//! - `reconcile`: when a resource is due, and its status and Events;
//! - `poll`: one poll: target checks, the AppConfig Data read, the target write;
//! - `session`: the in-memory session, token and due time of each resource;
//! - `content`, `target`: the configuration as a target holds it, and the target itself;
//! - `status`: what the status and its conditions say.
//!
//! Polls are scheduled with the controller's requeues: no task per resource.

mod content;
mod poll;
mod reconcile;
mod session;
mod status;
mod target;

use std::{future::Future, sync::Arc, time::Duration};

use futures::{FutureExt, StreamExt};
use kube::{
    Client, ResourceExt,
    runtime::{
        Controller,
        controller::{self, Action},
    },
};
use tracing::{debug, info, warn};

use crate::{
    api::v1alpha1::AppConfigSync,
    metrics::{self, Metrics},
    shared::{backoff::Backoff, events::Publisher, watch_cache},
    tenancy::Tenancy,
    web::CacheSync,
};

pub use target::{SHA256_ANNOTATION, VERSION_LABEL_ANNOTATION};

/// How the controller runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Watch one namespace only; `None` watches all.
    pub namespace: Option<String>,
    /// Reconcile only resources with these labels.
    pub label_selector: Option<String>,
    /// Resources reconciled at once; 0 means no limit.
    pub concurrency: u16,
    /// Names this operator instance in Events.
    pub instance: String,
    /// How long one second of a poll interval lasts: one second, except against an emulator
    /// whose clock runs faster by the same factor.
    pub second: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            namespace: None,
            label_selector: None,
            concurrency: 16,
            instance: "appconfig-operator".into(),
            second: Duration::from_secs(1),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot write status: {0}")]
    WriteStatus(#[source] kube::Error),
    #[error("Kubernetes API call failed: {0}")]
    Kubernetes(#[source] kube::Error),
    #[error(
        "cannot list AppConfigSyncs ({0}); is the CRD installed (kubectl apply --server-side -f crds/) and may the operator list them?"
    )]
    Startup(#[source] kube::Error),
}

/// What every reconcile shares.
pub struct Context {
    client: Client,
    config: Config,
    tenancy: Tenancy,
    sessions: session::Sessions,
    publisher: Publisher,
    backoff: Backoff,
}

impl Context {
    fn seconds(&self, seconds: u32) -> Duration {
        self.config.second * seconds
    }
}

/// The longest wait between retries of a failing resource, in poll-interval seconds; a retry
/// never waits longer than the resource's poll interval either.
const MAX_BACKOFF_SECONDS: u32 = 300;

/// Runs the controller until `shutdown` completes, then finishes the reconciles in flight.
/// Each resource calls AWS as `tenancy` says.
pub async fn run(
    client: Client,
    tenancy: Tenancy,
    config: Config,
    metrics: Metrics,
    synced: CacheSync,
    shutdown: impl Future<Output = ()> + Send + Sync + 'static,
) -> Result<(), Error> {
    let (api, watch) = watch_cache::watched::<AppConfigSync>(
        &client,
        config.namespace.as_deref(),
        config.label_selector.as_deref(),
    )
    .await
    .map_err(Error::Startup)?;
    let sessions = session::Sessions::default();
    let backoff = Backoff::new(config.second * MAX_BACKOFF_SECONDS);
    let ctx = Arc::new(Context {
        publisher: Publisher::new(client.clone(), config.instance.clone()),
        backoff: backoff.clone(),
        sessions: sessions.clone(),
        client,
        tenancy,
        config: config.clone(),
    });
    info!(
        namespace = config.namespace.as_deref().unwrap_or("(all)"),
        label_selector = config.label_selector.as_deref().unwrap_or(""),
        "AppConfigSync controller started"
    );
    // Shared: kube-runtime's graceful shutdown and the stop before the first sync both wait on it.
    let shutdown = shutdown.shared();
    let controller = Controller::new(api, watch)
        .with_config(controller::Config::default().concurrency(config.concurrency));
    let store = controller.store();
    let _tracking =
        watch_cache::track_resources(&metrics, metrics::APPCONFIGSYNC, &store, |sync| {
            sync.status.as_ref()?.conditions.as_deref()
        });
    let reconciles = controller
        .graceful_shutdown_on(shutdown.clone())
        .run(
            move |sync, ctx| {
                let metrics = metrics.clone();
                async move {
                    metrics
                        .reconcile(metrics::APPCONFIGSYNC, reconcile::reconcile(sync, ctx))
                        .await
                }
            },
            error_policy,
            ctx,
        )
        .for_each(|result| {
            let sessions = sessions.clone();
            let backoff = backoff.clone();
            async move {
                match result {
                    Ok((object, _)) => debug!(resource = %object, "reconciled"),
                    // A resource's pending poll found it deleted: its session goes with it.
                    Err(controller::Error::ObjectNotFound(object)) => {
                        let key = key(object.namespace.as_deref(), &object.name);
                        sessions.forget(&key);
                        backoff.reset(&key);
                        debug!(resource = %key, "deleted; its session and backoff are forgotten");
                    }
                    Err(controller::Error::ReconcilerFailed(e, object)) => {
                        warn!(resource = %object, error = %e, "reconcile failed; retrying with backoff")
                    }
                    Err(e) => debug!(error = %e, "controller event"),
                }
            }
        });
    watch_cache::drive(store, synced, reconciles, shutdown).await;
    info!("AppConfigSync controller stopped");
    Ok(())
}

fn error_policy(sync: Arc<AppConfigSync>, _: &Error, ctx: Arc<Context>) -> Action {
    let key = object_key(&sync);
    let interval = ctx.seconds(sync.spec.poll_interval_seconds);
    Action::requeue(ctx.backoff.next(&key, ctx.config.second).min(interval))
}

/// The key of an AppConfigSync in the operator's in-memory state: namespace/name.
fn key(namespace: Option<&str>, name: &str) -> String {
    format!("{}/{name}", namespace.unwrap_or_default())
}

fn object_key(sync: &AppConfigSync) -> String {
    key(sync.metadata.namespace.as_deref(), &sync.name_any())
}
