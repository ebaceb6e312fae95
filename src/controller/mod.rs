//! The AppConfigDeployment controller: watches resources and converges AppConfig on the
//! version each one declares.
//!
//! - [`decide`]: the convergence rules, a pure function;
//! - `reconcile`: the I/O around it (observe, act, status, Events); `cleanup`: deletion;
//! - `resolve`, `environments`: cached name→ID resolution and shared deployment listings;
//! - `schedule`, `backoff`: when each resource is due again;
//! - `status`, `summary`: what the status says; `events`: the Events of AppConfig's event log.
//!
//! Conditions, status writes, Event publishing and backoff are shared with the AppConfigSync
//! controller ([`crate::shared`]).

mod cleanup;
mod content;
mod converge;
pub mod decide;
mod environments;
mod events;
mod finalizer;
mod reconcile;
mod requests;
mod resolve;
mod schedule;
mod status;
mod summary;
mod target;

use std::{future::Future, sync::Arc, time::Duration};

use futures::{FutureExt, StreamExt};
use kube::{
    Client,
    runtime::{
        Controller,
        controller::{self, Action},
        watcher,
    },
};
use tracing::{debug, info, warn};

use crate::{
    api::v1alpha1::AppConfigDeployment,
    metrics::{self, Metrics},
    shared::{backoff, events::Notice, events::Publisher, watch_cache},
    tenancy::Tenancy,
    web::CacheSync,
};

pub use crate::shared::status_writer::FIELD_MANAGER;

/// How the controller runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Watch one namespace only; `None` watches all.
    pub namespace: Option<String>,
    /// Reconcile only resources with these labels (to shard resources across operators).
    pub label_selector: Option<String>,
    /// GetDeployment interval while a deployment is in progress.
    pub poll_interval: Duration,
    /// Interval at which settled resources are checked for drift.
    pub resync_interval: Duration,
    /// Event log entries kept in status.
    pub event_log_limit: usize,
    /// Resources reconciled at once; 0 means no limit.
    pub concurrency: u16,
    /// Names this operator instance in Events (the pod name in a cluster).
    pub instance: String,
    /// The largest content (spec.content, spec.contentFrom) sent to AppConfig's hosted store.
    pub max_content_bytes: usize,
}

/// AppConfig's default quota for a hosted configuration: 2 MB.
pub const DEFAULT_MAX_CONTENT_BYTES: usize = 2 * 1024 * 1024;

impl Default for Config {
    fn default() -> Self {
        Self {
            namespace: None,
            label_selector: None,
            poll_interval: Duration::from_secs(15),
            resync_interval: Duration::from_secs(600),
            event_log_limit: 10,
            concurrency: 16,
            instance: "appconfig-operator".into(),
            max_content_bytes: DEFAULT_MAX_CONTENT_BYTES,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot write status: {0}")]
    WriteStatus(#[source] kube::Error),
    #[error("cannot update the finalizer: {0}")]
    Finalizer(#[source] kube::Error),
    #[error(
        "cannot list AppConfigDeployments ({0}); is the CRD installed (kubectl apply --server-side -f crds/) and may the operator list them?"
    )]
    Startup(#[source] kube::Error),
}

/// What every reconcile shares.
pub struct Context {
    client: Client,
    config: Config,
    tenancy: Tenancy,
    resolver: resolve::Resolver,
    hosted_versions: content::HostedVersions,
    environments: environments::Environments,
    publisher: Publisher,
    backoff: backoff::Backoff,
    schedule: schedule::Schedule,
    metrics: Metrics,
}

/// Runs the controller until `shutdown` completes, then finishes the reconciles in flight.
/// Each resource calls AWS as `tenancy` says. Reconciles, deployments and resources are counted
/// in `metrics`; `synced` is told once the watch cache holds every resource.
pub async fn run(
    client: Client,
    tenancy: Tenancy,
    config: Config,
    metrics: Metrics,
    synced: CacheSync,
    shutdown: impl Future<Output = ()> + Send + Sync + 'static,
) -> Result<(), Error> {
    let (api, watch) = watch_cache::watched::<AppConfigDeployment>(
        &client,
        config.namespace.as_deref(),
        config.label_selector.as_deref(),
    )
    .await
    .map_err(Error::Startup)?;
    let ctx = Arc::new(Context {
        publisher: Publisher::new(client.clone(), config.instance.clone()),
        backoff: backoff::Backoff::new(config.resync_interval.min(Duration::from_secs(300))),
        schedule: schedule::Schedule::default(),
        client,
        tenancy,
        // A list is fetched at most once a poll interval for the names it lacks, whatever the
        // number of resources naming them.
        resolver: resolve::Resolver::new(config.poll_interval),
        // Refused content is offered again at the resync, as other refused requests are.
        hosted_versions: content::HostedVersions::new(config.resync_interval),
        environments: environments::Environments::default(),
        config: config.clone(),
        metrics: metrics.clone(),
    });
    info!(
        namespace = config.namespace.as_deref().unwrap_or("(all)"),
        label_selector = config.label_selector.as_deref().unwrap_or(""),
        poll_interval = %humantime::format_duration(config.poll_interval),
        resync_interval = %humantime::format_duration(config.resync_interval),
        "controller started"
    );
    // Shared: kube-runtime's graceful shutdown and the stop before the first sync both wait on it.
    let shutdown = shutdown.shared();
    let controller = Controller::new(api, watch)
        .with_config(controller::Config::default().concurrency(config.concurrency));
    let store = controller.store();
    let controller = {
        let (store, schedule) = (store.clone(), ctx.schedule.clone());
        controller.watches(
            content::watch::config_maps(&ctx.client, config.namespace.as_deref()),
            watcher::Config::default().any_semantic(),
            move |config_map| content::watch::wake_readers(&store, &schedule, &config_map),
        )
    };
    let _tracking =
        watch_cache::track_resources(&metrics, metrics::APPCONFIGDEPLOYMENT, &store, |resource| {
            resource.status.as_ref()?.conditions.as_deref()
        });
    let reconciles = controller
        .graceful_shutdown_on(shutdown.clone())
        .run(
            |resource, ctx| {
                let metrics = ctx.metrics.clone();
                async move {
                    metrics
                        .reconcile(
                            metrics::APPCONFIGDEPLOYMENT,
                            reconcile::reconcile(resource, ctx),
                        )
                        .await
                }
            },
            error_policy,
            ctx,
        )
        .for_each(|result| async move {
            match result {
                Ok((object, _)) => debug!(resource = %object, "reconciled"),
                Err(controller::Error::ReconcilerFailed(e, object)) => {
                    warn!(resource = %object, error = %e, "reconcile failed; retrying with backoff")
                }
                Err(e) => debug!(error = %e, "controller event"),
            }
        });
    watch_cache::drive(store, synced, reconciles, shutdown).await;
    info!("controller stopped");
    Ok(())
}

impl Context {
    /// Publishes `notice` about `resource`; a refusal is logged, not retried.
    async fn publish(&self, resource: &AppConfigDeployment, notice: &Notice) {
        self.publisher.publish_or_warn(resource, notice).await;
    }
}

fn error_policy(resource: Arc<AppConfigDeployment>, _: &Error, ctx: Arc<Context>) -> Action {
    let key = reconcile::object_key(&resource);
    Action::requeue(ctx.backoff.next(&key, ctx.config.poll_interval))
}
