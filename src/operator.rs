//! The operator process: the HTTP listener, leader election when it is on, and the controllers,
//! which reconcile only while this replica leads.

use std::{future::Future, io, pin::Pin, sync::Arc};

use futures::{TryFutureExt, future::try_join_all};
use kube::Client;
use tokio::{
    sync::watch,
    task::JoinHandle,
    time::{Instant, sleep, sleep_until, timeout, timeout_at},
};
use tracing::{info, warn};

use crate::{
    aws::AppConfigClients,
    controller,
    leader::{Attempt, Elector, LeaseSettings},
    metrics::{self, Metrics},
    sync,
    tenancy::Tenancy,
    web::{Readiness, Server},
};

/// How the operator runs.
#[derive(Debug, Clone)]
pub struct Config {
    pub controller: controller::Config,
    pub sync: sync::Config,
    /// Reconcile only while holding this lease; `None` reconciles at once, alone.
    pub leader_election: Option<LeaseSettings>,
    /// The ServiceAccount a resource that names none acts as in AWS, in its own namespace;
    /// `None`: such resources act as the operator.
    pub default_service_account: Option<String>,
}

impl Config {
    /// Both controllers from the settings they share (`controller`'s namespace, label selector,
    /// concurrency and instance name), as the `run` flags configure them.
    pub fn new(controller: controller::Config, leader_election: Option<LeaseSettings>) -> Self {
        let sync = sync::Config {
            namespace: controller.namespace.clone(),
            label_selector: controller.label_selector.clone(),
            concurrency: controller.concurrency,
            instance: controller.instance.clone(),
            ..sync::Config::default()
        };
        Self {
            controller,
            sync,
            leader_election,
            default_service_account: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Controller(#[from] controller::Error),
    #[error(transparent)]
    Sync(#[from] sync::Error),
    #[error("the controllers stopped unexpectedly: {0}")]
    Crashed(#[source] tokio::task::JoinError),
    #[error("the HTTP listener (--http-addr) stopped unexpectedly: {0}")]
    WebCrashed(#[source] tokio::task::JoinError),
    #[error("the HTTP listener (--http-addr) failed: {0}")]
    Web(#[source] io::Error),
}

/// What the controllers share with the rest of the process.
#[derive(Clone)]
struct Parts {
    client: Client,
    aws: AppConfigClients,
    config: Config,
    metrics: Metrics,
    readiness: Readiness,
}

/// Runs until `shutdown` completes: serves `server`, and reconciles (while leading).
pub async fn run(
    client: Client,
    aws: AppConfigClients,
    config: Config,
    server: Server,
    metrics: Metrics,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    let stop = Stop::default();
    let _on_shutdown = Task::spawn({
        let stop = stop.clone();
        async move {
            shutdown.await;
            info!("stopping: finishing the reconciles in flight");
            stop.trigger();
        }
    });
    let parts = Parts {
        client,
        aws,
        config,
        metrics,
        readiness: Readiness::default(),
    };
    let web =
        Task::spawn(server.serve(parts.metrics.clone(), parts.readiness.clone(), stop.wait()));
    let result = match parts.config.leader_election.clone() {
        None => {
            parts.metrics.set_leader(true);
            run_controllers(parts.clone(), stop.clone()).await
        }
        Some(lease) => {
            elect_and_run(&parts, Elector::new(parts.client.clone(), lease), &stop).await
        }
    };
    // The controllers may have ended on an error: the listener goes with them.
    stop.trigger();
    match web.join().await {
        Ok(Ok(())) => result,
        Ok(Err(e)) => result.and(Err(Error::Web(e))),
        Err(e) => result.and(Err(Error::WebCrashed(e))),
    }
}

type ControllerRun = Pin<Box<dyn Future<Output = Result<(), Error>> + Send>>;

/// Every controller of the operator, started fresh, until `stop`.
async fn run_controllers(parts: Parts, stop: Stop) -> Result<(), Error> {
    let Parts {
        client,
        aws,
        config,
        metrics,
        readiness,
    } = parts;
    readiness.lead();
    // One for both controllers: their resources share ServiceAccounts' role sessions.
    let tenancy = Tenancy::new(
        client.clone(),
        aws,
        config.default_service_account.clone(),
        config.controller.poll_interval,
    );
    // One line per controller, each with its own `controller` label and readiness.
    let controllers: Vec<ControllerRun> = vec![
        Box::pin(
            controller::run(
                client.clone(),
                tenancy.clone(),
                config.controller.clone(),
                metrics.clone(),
                readiness.expect(metrics::APPCONFIGDEPLOYMENT),
                stop.wait(),
            )
            .map_err(Error::from),
        ),
        Box::pin(
            sync::run(
                client.clone(),
                tenancy,
                config.sync.clone(),
                metrics.clone(),
                readiness.expect(metrics::APPCONFIGSYNC),
                stop.wait(),
            )
            .map_err(Error::from),
        ),
    ];
    try_join_all(controllers).await.map(|_| ())
}

/// Why a leadership term ended.
enum TermEnd {
    /// The controllers stopped (on shutdown, or on an error): the lease is released.
    Stopped(Result<(), Error>),
    /// Another replica holds the lease, or it could not be renewed in time.
    Lost,
}

/// Waits for the lease, reconciles while holding it, and waits again after losing it.
async fn elect_and_run(parts: &Parts, mut elector: Elector, stop: &Stop) -> Result<(), Error> {
    let settings = elector.settings().clone();
    loop {
        parts.metrics.set_leader(false);
        let Some(acquired) = wait_for_lease(parts, &mut elector, stop).await else {
            return Ok(());
        };
        info!(lease = %settings.name, namespace = %settings.namespace, identity = %settings.identity, "acquired the lease; starting the controllers");
        parts.metrics.set_leader(true);
        let mut controllers = Task::spawn(run_controllers(parts.clone(), stop.clone()));
        match lead(&mut elector, acquired, &mut controllers.0).await {
            TermEnd::Stopped(result) => {
                parts.metrics.set_leader(false);
                // Bounded: a pod's grace period is short, and an unreachable API server would
                // otherwise hold the shutdown for the client's read timeout.
                match timeout(settings.retry_period, elector.release()).await {
                    Ok(Ok(())) => info!(lease = %settings.name, "released the lease"),
                    Ok(Err(e)) => {
                        warn!(lease = %settings.name, error = %e, "cannot release the lease; another replica takes over when it expires")
                    }
                    Err(_) => {
                        warn!(lease = %settings.name, timeout = %humantime::format_duration(settings.retry_period), "releasing the lease timed out; another replica takes over when it expires")
                    }
                }
                return result;
            }
            TermEnd::Lost => {
                // Aborting drops every reconcile in flight: not one more AWS call is made.
                controllers.abort().await;
                elector.step_down();
                parts.metrics.set_leader(false);
                parts.readiness.standby();
                warn!(lease = %settings.name, namespace = %settings.namespace, "lost the lease; stopped reconciling and waiting to lead again");
            }
        }
    }
}

/// Tries for the lease every retry period; answers when the winning attempt started (the term
/// is counted from there), or `None` when the operator stops first.
async fn wait_for_lease(parts: &Parts, elector: &mut Elector, stop: &Stop) -> Option<Instant> {
    let settings = elector.settings().clone();
    let mut told = false;
    loop {
        let started = Instant::now();
        // Bounded and raced against the stop signal: an unreachable API server must neither
        // stall the standby's retries nor hold a SIGTERM.
        let attempt = tokio::select! {
            () = stop.wait() => return None,
            attempt = timeout(settings.retry_period, elector.try_acquire_or_renew()) => attempt,
        };
        match attempt {
            Ok(Ok(Attempt::Held)) => return Some(started),
            Ok(Ok(Attempt::HeldElsewhere)) => {
                parts.readiness.standby();
                if !told {
                    info!(lease = %settings.name, namespace = %settings.namespace, "another replica holds the lease; standing by");
                    told = true;
                }
            }
            Ok(Ok(Attempt::Raced)) => {}
            Ok(Err(e)) => {
                parts.readiness.lease_unreachable(format!("cannot read or write the lease {}/{}: {e}; check the operator's RBAC for coordination.k8s.io leases and that --lease-namespace exists", settings.namespace, settings.name));
                warn!(lease = %settings.name, namespace = %settings.namespace, error = %e, "cannot read or write the lease; check the operator's RBAC for coordination.k8s.io leases and that --lease-namespace exists")
            }
            Err(_) => {
                parts.readiness.lease_unreachable(format!("the API server did not answer about the lease {}/{} within {}; check that it is reachable", settings.namespace, settings.name, humantime::format_duration(settings.retry_period)));
                warn!(lease = %settings.name, namespace = %settings.namespace, timeout = %humantime::format_duration(settings.retry_period), "the API server did not answer about the lease in time; check that it is reachable")
            }
        }
        tokio::select! {
            () = stop.wait() => return None,
            () = sleep(settings.retry_period) => {}
        }
    }
}

/// Renews the lease while the controllers run. The renew deadline is a hard limit, counted
/// from the start of the last successful attempt (`acquired` at first): a standby sees that
/// write no sooner, so its lease duration ends after this replica has stopped.
async fn lead(
    elector: &mut Elector,
    acquired: Instant,
    controllers: &mut JoinHandle<Result<(), Error>>,
) -> TermEnd {
    let settings = elector.settings().clone();
    let deadline = settings.renew_deadline();
    let mut expires = acquired + deadline;
    loop {
        let next = (Instant::now() + settings.retry_period).min(expires);
        tokio::select! {
            ended = &mut *controllers => {
                return TermEnd::Stopped(ended.unwrap_or_else(|e| Err(Error::Crashed(e))));
            }
            () = sleep_until(next) => {}
        }
        let started = Instant::now();
        if started >= expires {
            warn!(lease = %settings.name, deadline = %humantime::format_duration(deadline), "could not renew the lease within the renew deadline; stopping the controllers");
            return TermEnd::Lost;
        }
        match timeout_at(expires, elector.try_acquire_or_renew()).await {
            Ok(Ok(Attempt::Held)) => expires = started + deadline,
            Ok(Ok(Attempt::HeldElsewhere)) => {
                warn!(lease = %settings.name, "another replica took the lease");
                return TermEnd::Lost;
            }
            // Someone wrote the lease in between; the next attempt reads who holds it now.
            Ok(Ok(Attempt::Raced)) => {
                info!(lease = %settings.name, "the lease changed while renewing it; retrying until the renew deadline")
            }
            Ok(Err(e)) => {
                warn!(lease = %settings.name, error = %e, "cannot renew the lease; retrying until the renew deadline")
            }
            // The deadline passed during the attempt: the next turn ends the term.
            Err(_) => {}
        }
    }
}

/// A task that ends with its handle: when `run` is dropped (its caller aborted), nothing it
/// started keeps running, least of all controllers that no longer hold the lease.
struct Task<T>(JoinHandle<T>);

impl<T: Send + 'static> Task<T> {
    fn spawn(future: impl Future<Output = T> + Send + 'static) -> Self {
        Self(tokio::spawn(future))
    }

    async fn join(mut self) -> Result<T, tokio::task::JoinError> {
        (&mut self.0).await
    }

    /// Aborts the task and waits until it is gone.
    async fn abort(mut self) {
        self.0.abort();
        let _ = (&mut self.0).await;
    }
}

impl<T> Drop for Task<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The operator's stop signal, which any number of tasks can wait for.
#[derive(Clone)]
struct Stop {
    sender: Arc<watch::Sender<bool>>,
}

impl Default for Stop {
    fn default() -> Self {
        Self {
            sender: Arc::new(watch::channel(false).0),
        }
    }
}

impl Stop {
    fn trigger(&self) {
        self.sender.send_replace(true);
    }

    fn wait(&self) -> impl Future<Output = ()> + Send + Sync + 'static {
        let mut receiver = self.sender.subscribe();
        async move {
            // The sender lives as long as any clone of the signal; an error means it is gone.
            let _ = receiver.wait_for(|stopped| *stopped).await;
        }
    }
}
