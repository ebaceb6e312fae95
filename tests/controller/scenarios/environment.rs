//! One deployment per environment: another profile's deployment is waited for, never stopped.

use super::{condition, ready, scenario, spec, state};
use crate::{cluster::Cluster, operator::Operator, world::World};

scenario!(another_profiles_deployment_is_waited_for_then_the_rollout_proceeds);
async fn another_profiles_deployment_is_waited_for_then_the_rollout_proceeds(
    cluster: &Cluster,
    world: &World,
) {
    let t = world.target("shop", "production", "flags", &[]).await;
    let other = world.profile(&t.application, "limits").await;
    let v1 = world.version(&t, &t.profile, "{}", None).await;
    let other_v1 = world.version(&t, &other, "{}", None).await;
    let slow = world.strategy("slow", 10, 50.0, 0).await;
    let held_by = world.deploy_by_hand(&t, &other, &other_v1, &slow).await;

    let operator = Operator::start(cluster, world).await;
    cluster.apply("flags", &spec(&t, &v1, "slow")).await;
    let o = cluster
        .wait_for("flags", "waiting", |o| {
            ready(o) == Some(("False", "WaitingForEnvironment"))
        })
        .await;
    let message = &condition(&o, "Ready").unwrap().message;
    assert!(
        message.contains(&format!(
            "Deployment {held_by} of configuration profile {other}"
        )),
        "{message}"
    );
    assert_eq!(condition(&o, "Reconciling").unwrap().status, "True");
    assert_eq!(
        world.calls("StopDeployment"),
        0,
        "another profile's deployment is never stopped"
    );
    let reasons = cluster.event_reasons("flags").await;
    assert_eq!(
        reasons
            .iter()
            .filter(|r| *r == "WaitingForEnvironment")
            .count(),
        1,
        "{reasons:?}"
    );

    world.advance(10 * 60);
    cluster
        .wait_for("flags", "deploying once the environment is free", |o| {
            state(o) == Some("DEPLOYING")
        })
        .await;
    let deployments = world.deployments(&t).await;
    assert_eq!(deployments.len(), 2, "{deployments:?}");
    assert_eq!(deployments[0].1, t.profile);
    operator.stop().await;
}

scenario!(a_served_resource_stays_ready_while_another_profile_deploys);
async fn a_served_resource_stays_ready_while_another_profile_deploys(
    cluster: &Cluster,
    world: &World,
) {
    let t = world.target("shop", "production", "flags", &[]).await;
    let limits = world.profile(&t.application, "limits").await;
    let flags_v1 = world.version(&t, &t.profile, "{}", None).await;
    let limits_v1 = world.version(&t, &limits, "{}", None).await;
    world.strategy("instant", 0, 100.0, 0).await;
    world.strategy("slow", 10, 50.0, 0).await;
    let operator = Operator::start(cluster, world).await;
    cluster
        .apply("flags", &spec(&t, &flags_v1, "instant"))
        .await;
    let before = cluster
        .wait_for("flags", "Ready", |o| ready(o) == Some(("True", "Deployed")))
        .await;

    let mut other = t.clone();
    other.profile = limits;
    cluster
        .apply("limits", &spec(&other, &limits_v1, "slow"))
        .await;
    cluster
        .wait_for("limits", "DEPLOYING", |o| state(o) == Some("DEPLOYING"))
        .await;
    // Several resyncs of "flags" while "limits" holds the environment.
    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    let after = cluster.get("flags").await.unwrap();
    assert_eq!(ready(&after), Some(("True", "Deployed")));
    assert_eq!(
        condition(&after, "Ready").unwrap().last_transition_time,
        condition(&before, "Ready").unwrap().last_transition_time
    );
    let reasons = cluster.event_reasons("flags").await;
    assert!(
        !reasons.contains(&"WaitingForEnvironment".to_owned()),
        "{reasons:?}"
    );
    operator.stop().await;
}
