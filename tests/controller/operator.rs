//! The operator under test, running in-process on a scenario's cluster and emulator: the whole
//! `run` (HTTP listener, optional leader election, controllers), on the fake API server with
//! only the chart's RBAC rules granted, so every scenario proves the rules suffice.
//!
//! On a real cluster the operator acts as the chart's ServiceAccount in the scenario's
//! namespace, with the chart's Roles (impersonation), so the real API server enforces the rules.

use std::{net::SocketAddr, time::Duration};

use appconfig_operator::{
    aws::Rate, controller::Config, leader::LeaseSettings, metrics::Metrics, operator, web::Server,
};
use tokio::{sync::oneshot, task::JoinHandle};

use crate::{
    cluster::{Cluster, PATIENCE},
    fake_api_server::{Grants, Link},
    rbac,
    world::World,
};

pub struct Operator {
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
    /// Where /healthz, /readyz and /metrics are served.
    pub address: SocketAddr,
    pub metrics: Metrics,
    /// What the operator was granted, used and was refused, on the fake API server.
    pub grants: Option<Grants>,
    /// The operator's own connection to the fake API server, to cut it off alone.
    pub link: Option<Link>,
}

/// Intervals short enough for scenarios to see several polls per second.
pub fn test_config(cluster: &Cluster) -> Config {
    Config {
        namespace: Some(cluster.namespace.clone()),
        poll_interval: Duration::from_millis(100),
        resync_interval: Duration::from_secs(2),
        event_log_limit: 10,
        concurrency: 4,
        instance: "scenario-operator".to_owned(),
        ..Config::default()
    }
}

/// How often elected replicas renew the lease or try to take it.
pub const LEASE_RETRY_PERIOD: Duration = Duration::from_millis(100);

/// Leader election on the chart's lease in the scenario namespace, as `identity`, with a lease
/// short enough for failovers to take seconds.
pub fn elected(cluster: &Cluster, identity: &str, lease_duration: Duration) -> operator::Config {
    operator::Config::new(
        Config {
            instance: identity.to_owned(),
            ..test_config(cluster)
        },
        Some(LeaseSettings {
            name: rbac::LEASE.to_owned(),
            namespace: cluster.namespace.clone(),
            identity: identity.to_owned(),
            duration: lease_duration,
            retry_period: LEASE_RETRY_PERIOD,
        }),
    )
}

impl Operator {
    pub async fn start(cluster: &Cluster, world: &World) -> Self {
        Self::start_with(cluster, world, test_config(cluster)).await
    }

    pub async fn start_with(cluster: &Cluster, world: &World, config: Config) -> Self {
        Self::launch(cluster, world, operator::Config::new(config, None)).await
    }

    /// Runs with the chart's rules for one watched namespace.
    pub async fn launch(cluster: &Cluster, world: &World, config: operator::Config) -> Self {
        Self::launch_granted(cluster, world, config, rbac::Watched::Namespace).await
    }

    /// Runs with the chart's rules for one watched namespace, calling AWS at most at `rate`.
    pub async fn start_rated(cluster: &Cluster, world: &World, rate: Rate) -> Self {
        let config = operator::Config::new(test_config(cluster), None);
        Self::launch_at(cluster, world, config, rbac::Watched::Namespace, rate).await
    }

    /// Runs with the chart's rules, `watched` as the chart grants them.
    pub async fn launch_granted(
        cluster: &Cluster,
        world: &World,
        config: operator::Config,
        watched: rbac::Watched,
    ) -> Self {
        // The operator's default rate limit, as users run it.
        Self::launch_at(cluster, world, config, watched, Rate::default()).await
    }

    async fn launch_at(
        cluster: &Cluster,
        world: &World,
        config: operator::Config,
        watched: rbac::Watched,
        rate: Rate,
    ) -> Self {
        // The AppConfigSync controller follows the AppConfigDeployment controller's settings, as
        // in `run`, whatever a test changed in them; its poll intervals count in the emulator's
        // seconds, which may run faster.
        let default_service_account = config.default_service_account;
        let mut config = operator::Config::new(config.controller, config.leader_election);
        config.sync.second = world.second;
        config.default_service_account = default_service_account;
        let (stop, stopped) = oneshot::channel::<()>();
        let grants = cluster
            .fake
            .as_ref()
            .map(|_| rbac::operator_grants(&cluster.namespace, watched));
        let link = cluster.fake.as_ref().map(|_| Link::default());
        let client = match (&cluster.fake, &link) {
            (Some(fake), Some(link)) => fake.client_over(grants.clone(), link.clone()),
            _ => match watched {
                rbac::Watched::Namespace => {
                    rbac::impersonating_service_account(&cluster.client, &cluster.namespace).await
                }
                rbac::Watched::Cluster => {
                    panic!("cluster-wide grants are tested on the fake API server only")
                }
            },
        };
        let metrics = Metrics::default();
        let aws = world.operator_clients(metrics.clone(), rate).await;
        let server = Server::bind(([127, 0, 0, 1], 0).into())
            .await
            .expect("a free port");
        let address = server.local_addr().expect("a bound address");
        if std::env::var_os("SCENARIO_LOG").is_some() {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(std::env::var("SCENARIO_LOG").unwrap())
                .with_writer(std::io::stderr)
                .try_init();
        }
        let task = tokio::spawn({
            let metrics = metrics.clone();
            async move {
                // Only `stop` stops the operator gracefully: the sender dropped by `kill` must
                // not.
                let shutdown = async {
                    if stopped.await.is_err() {
                        std::future::pending::<()>().await;
                    }
                };
                operator::run(client, aws, config, server, metrics, shutdown)
                    .await
                    .expect("the operator runs");
            }
        });
        Self {
            stop: Some(stop),
            task,
            address,
            metrics,
            grants,
            link,
        }
    }

    /// The AWS calls of `operation` (of `service`) this operator made, whatever their outcome,
    /// as its metrics count them.
    pub fn aws_calls(&self, service: &str, operation: &str) -> u64 {
        let prefix = format!(
            "appconfig_operator_aws_calls_total{{service=\"{service}\",operation=\"{operation}\","
        );
        self.metrics
            .encode()
            .lines()
            .filter(|line| line.starts_with(&prefix))
            .filter_map(|line| line.rsplit_once(' ')?.1.parse::<u64>().ok())
            .sum()
    }

    /// Whether this replica reconciles now, as its leader metric says.
    pub fn leads(&self) -> bool {
        self.metrics
            .encode()
            .lines()
            .any(|line| line == "appconfig_operator_leader 1")
    }

    /// Kills the operator mid-flight, as a crash or an OOM kill would: nothing is finished,
    /// not even a lease released. Returns once it is gone: its port refuses connections and,
    /// on the fake API server, its tasks have let go of their client (they cannot call
    /// anything any more).
    pub async fn kill(self) {
        self.task.abort();
        let _ = self.task.await;
        // The operator's tasks are aborted as their handles drop, which does not wait for them.
        let gone = tokio::time::timeout(PATIENCE, async {
            while tokio::net::TcpStream::connect(self.address).await.is_ok()
                || self.grants.as_ref().is_some_and(|g| g.handles() > 1)
            {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await;
        assert!(
            gone.is_ok(),
            "the killed operator's tasks still run after {PATIENCE:?}"
        );
        assert_nothing_refused(self.grants.as_ref());
    }

    /// Stops the operator as SIGTERM does: reconciles in flight finish first.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        tokio::time::timeout(PATIENCE, self.task)
            .await
            .expect("the operator stops in time")
            .expect("the operator task ends cleanly");
        assert_nothing_refused(self.grants.as_ref());
    }
}

/// Fails the scenario on any call the chart's rules do not grant, even one the operator only
/// logged (a best-effort Event, say).
pub fn assert_nothing_refused(grants: Option<&Grants>) {
    let refused = grants.map(Grants::refused).unwrap_or_default();
    assert!(
        refused.is_empty(),
        "the operator called what the chart's rules do not grant: {refused:?}"
    );
}
