//! The operator under test, running in-process on a scenario's cluster and emulator.

use std::time::Duration;

use appconfig_operator::{
    controller::{self, Config},
    sync,
};
use futures::FutureExt;
use tokio::{sync::oneshot, task::JoinHandle};

use crate::{cluster::Cluster, world::World};

pub struct Operator {
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
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

impl Operator {
    pub async fn start(cluster: &Cluster, world: &World) -> Self {
        Self::start_with(cluster, world, test_config(cluster)).await
    }

    pub async fn start_with(cluster: &Cluster, world: &World, config: Config) -> Self {
        let (stop, stopped) = oneshot::channel::<()>();
        let client = cluster.client.clone();
        let aws = world.operator_clients().await;
        let sync_config = sync::Config {
            namespace: config.namespace.clone(),
            label_selector: config.label_selector.clone(),
            concurrency: config.concurrency,
            instance: config.instance.clone(),
            second: world.second,
        };
        // Both controllers, as `run` starts them, stopping on the same signal.
        let task = tokio::spawn(async move {
            let shutdown = async {
                let _ = stopped.await;
            }
            .shared();
            let (deployments, syncs) = tokio::join!(
                controller::run(client.clone(), aws.clone(), config, shutdown.clone()),
                sync::run(client, aws, sync_config, shutdown),
            );
            deployments.expect("the AppConfigDeployment controller runs");
            syncs.expect("the AppConfigSync controller runs");
        });
        Self {
            stop: Some(stop),
            task,
        }
    }

    /// Kills the operator mid-flight, as a crash or an OOM kill would: nothing is finished.
    pub async fn kill(self) {
        self.task.abort();
        let _ = self.task.await;
    }

    /// Stops the operator as SIGTERM does: reconciles in flight finish first.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .expect("the operator stops within 10 s")
            .expect("the operator task ends cleanly");
    }
}
