//! deletionPolicy Stop stops the in-flight deployment and releases the finalizer; Retain leaves
//! AppConfig alone and adds no finalizer.

use appconfig_operator::api::v1alpha1::{AppConfigDeployment, DeletionPolicy};
use aws_sdk_appconfig::types::DeploymentState;
use kube::ResourceExt;

use super::{scenario, spec, state};
use crate::{
    cluster::Cluster,
    operator::Operator,
    world::{Target, World},
};

const FINALIZER: &str = "appconfig.operators.dev/finalizer";

/// A resource with `policy` whose deployment is in progress.
async fn deploying(
    cluster: &Cluster,
    world: &World,
    policy: DeletionPolicy,
) -> (Target, Operator, AppConfigDeployment) {
    let t = world.target("shop", "production", "flags", &[]).await;
    let v1 = world.version(&t, &t.profile, "{}", None).await;
    world.strategy("slow", 10, 10.0, 0).await;
    let operator = Operator::start(cluster, world).await;
    let mut declared = spec(&t, &v1, "slow");
    declared.deletion_policy = policy;
    cluster.apply("flags", &declared).await;
    let o = cluster
        .wait_for("flags", "DEPLOYING", |o| state(o) == Some("DEPLOYING"))
        .await;
    (t, operator, o)
}

scenario!(deletion_policy_stop_stops_the_deployment_and_releases_the_finalizer);
async fn deletion_policy_stop_stops_the_deployment_and_releases_the_finalizer(
    cluster: &Cluster,
    world: &World,
) {
    let (t, operator, o) = deploying(cluster, world, DeletionPolicy::Stop).await;
    assert_eq!(o.finalizers(), [FINALIZER]);

    cluster.delete("flags").await;
    cluster.wait_gone("flags").await;
    let deployments = world.deployments(&t).await;
    assert_eq!(
        deployments[0].3,
        DeploymentState::RolledBack,
        "{deployments:?}"
    );
    assert_eq!(world.calls("StopDeployment"), 1);
    let events = cluster.event_reasons("flags").await;
    assert!(
        events.contains(&"StoppingDeployment".to_owned()),
        "{events:?}"
    );
    operator.stop().await;
}

scenario!(deletion_policy_retain_adds_no_finalizer_and_leaves_appconfig_alone);
async fn deletion_policy_retain_adds_no_finalizer_and_leaves_appconfig_alone(
    cluster: &Cluster,
    world: &World,
) {
    let (t, operator, o) = deploying(cluster, world, DeletionPolicy::Retain).await;
    assert!(o.finalizers().is_empty(), "{:?}", o.finalizers());

    cluster.delete("flags").await;
    cluster.wait_gone("flags").await;
    let deployments = world.deployments(&t).await;
    assert_eq!(deployments[0].3, DeploymentState::Deploying);
    assert_eq!(world.calls("StopDeployment"), 0);
    operator.stop().await;
}

scenario!(switching_to_retain_removes_the_finalizer);
async fn switching_to_retain_removes_the_finalizer(cluster: &Cluster, world: &World) {
    let (t, operator, o) = deploying(cluster, world, DeletionPolicy::Stop).await;
    assert_eq!(o.finalizers(), [FINALIZER]);
    let mut retain = o.spec.clone();
    retain.deletion_policy = DeletionPolicy::Retain;
    cluster.apply("flags", &retain).await;
    cluster
        .wait_for("flags", "without the finalizer", |o| {
            o.finalizers().is_empty()
        })
        .await;
    assert_eq!(world.deployments(&t).await[0].3, DeploymentState::Deploying);
    operator.stop().await;
}
