//! Rollbacks and reverts are signals: the resource stalls and is not retried until its spec
//! changes. Drift to another version is converged back.

use std::time::Duration;

use aws_sdk_appconfig::types::DeploymentState;

use super::{condition, deployment_number, flags, ready, scenario, served, spec, state};
use crate::{cluster::Cluster, fake_api_server::RequestMatcher, operator::Operator, world::World};

const ALARM: &str = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:checkout-errors";

scenario!(an_alarm_during_bake_rolls_back_and_is_not_retried_until_the_spec_changes);
async fn an_alarm_during_bake_rolls_back_and_is_not_retried_until_the_spec_changes(
    cluster: &Cluster,
    world: &World,
) {
    let t = world.target("shop", "production", "flags", &[ALARM]).await;
    let v1 = world.version(&t, &t.profile, "{}", None).await;
    world.strategy("baked", 1, 100.0, 10).await;
    let operator = Operator::start(cluster, world).await;
    cluster.apply("flags", &spec(&t, &v1, "baked")).await;
    cluster
        .wait_for("flags", "DEPLOYING", |o| state(o) == Some("DEPLOYING"))
        .await;
    world.advance(90);
    cluster
        .wait_for("flags", "BAKING", |o| state(o) == Some("BAKING"))
        .await;

    world.alarm(ALARM, true);
    let o = cluster
        .wait_for("flags", "rolled back", |o| {
            ready(o) == Some(("False", "RolledBack"))
        })
        .await;
    assert_eq!(flags(&o), Some(("False", "False", "True")));
    assert_eq!(state(&o), Some("ROLLED_BACK"));
    let message = &condition(&o, "Stalled").unwrap().message;
    assert!(
        message.contains(ALARM),
        "the message names the alarm: {message}"
    );
    assert!(message.contains("Deployment 1"), "{message}");

    // Many polls and resyncs later: still one deployment.
    world.advance(3600);
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(
        world.calls("StartDeployment"),
        1,
        "a rollback is not retried"
    );
    let o = cluster.get("flags").await.unwrap();
    assert_eq!(ready(&o), Some(("False", "RolledBack")));
    let reasons = cluster.event_reasons("flags").await;
    for r in ["RollbackStarted", "RollbackCompleted", "DeploymentFailed"] {
        assert_eq!(
            reasons.iter().filter(|x| *x == r).count(),
            1,
            "{r}: {reasons:?}"
        );
    }

    // A spec change is a new attempt (once the alarm is quiet, or it rolls back again).
    world.alarm(ALARM, false);
    let mut changed = spec(&t, &v1, "baked");
    changed.description = Some("try again".into());
    cluster.apply("flags", &changed).await;
    cluster
        .wait_for("flags", "a second attempt", |o| {
            deployment_number(o) == Some(2)
                && state(o) == Some("DEPLOYING")
                && ready(o) == Some(("False", "Deploying"))
        })
        .await;
    assert_eq!(world.calls("StartDeployment"), 2);
    operator.stop().await;
}

scenario!(drift_by_hand_is_superseded_and_a_manual_revert_stalls);
async fn drift_by_hand_is_superseded_and_a_manual_revert_stalls(cluster: &Cluster, world: &World) {
    let t = world.target("shop", "production", "flags", &[]).await;
    let v1 = world.version(&t, &t.profile, r#"{"v":1}"#, None).await;
    let v2 = world.version(&t, &t.profile, r#"{"v":2}"#, None).await;
    let quick = world.strategy("quick", 1, 100.0, 0).await;
    let instant = world.strategy("instant", 0, 100.0, 0).await;
    let operator = Operator::start(cluster, world).await;
    cluster.apply("flags", &spec(&t, &v1, "quick")).await;
    cluster
        .wait_for("flags", "DEPLOYING", |o| state(o) == Some("DEPLOYING"))
        .await;
    world.advance(60);
    cluster
        .wait_for("flags", "Ready", |o| ready(o) == Some(("True", "Deployed")))
        .await;

    // Someone starts version 2 by hand: the resource owns the profile, so it is stopped and
    // version 1 stays served.
    let manual = world.deploy_by_hand(&t, &t.profile, &v2, &quick).await;
    let stopped = wait_until(|| async {
        let deployments = world.deployments(&t).await;
        deployments[0].0 == manual && deployments[0].3 == DeploymentState::RolledBack
    })
    .await;
    assert!(
        stopped,
        "the manual deployment {manual} was not stopped: {:?}",
        world.deployments(&t).await
    );
    let o = cluster.get("flags").await.unwrap();
    assert_eq!(ready(&o), Some(("True", "Deployed")));
    assert_eq!(served(&o), Some(v1.as_str()));
    let reasons = cluster.event_reasons("flags").await;
    assert!(
        reasons.contains(&"StoppingSupersededDeployment".to_owned()),
        "{reasons:?}"
    );

    // Someone deploys version 2 by hand and it completes at once: version 1 is deployed again.
    let manual = world.deploy_by_hand(&t, &t.profile, &v2, &instant).await;
    // The operator records its attempt before making it: the clock moves only once AppConfig
    // has the deployment, or it would start after the move and never finish.
    let back = tokio::time::timeout(crate::cluster::PATIENCE, async {
        loop {
            let deployments = world.deployments(&t).await;
            if let Some((n, ..)) = deployments
                .iter()
                .find(|(n, _, v, _)| *n > manual && *v == v1)
            {
                return *n;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("version 1 was not deployed again after deployment {manual}"));
    world.advance(60);
    let o = cluster
        .wait_for("flags", "Ready again", |o| {
            ready(o) == Some(("True", "Deployed"))
        })
        .await;
    assert_eq!(served(&o), Some(v1.as_str()));
    assert_eq!(deployment_number(&o), Some(back));

    // Someone reverts the operator's deployment by hand: a signal, not retried.
    world.revert_by_hand(&t, back).await;
    let o = cluster
        .wait_for("flags", "reverted", |o| {
            ready(o) == Some(("False", "Reverted"))
        })
        .await;
    assert_eq!(flags(&o), Some(("False", "False", "True")));
    let starts = world.calls("StartDeployment");
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(
        world.calls("StartDeployment"),
        starts,
        "a revert is not retried"
    );
    operator.stop().await;
}

/// Polls `check` until it holds, for up to the scenario patience; whether it held.
async fn wait_until<F, Fut>(check: F) -> bool
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    tokio::time::timeout(crate::cluster::PATIENCE, async {
        while !check().await {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .is_ok()
}

scenario!(a_rollback_the_status_never_recorded_is_still_not_retried);
async fn a_rollback_the_status_never_recorded_is_still_not_retried(
    cluster: &Cluster,
    world: &World,
) {
    let t = world.target("shop", "production", "flags", &[ALARM]).await;
    let v1 = world.version(&t, &t.profile, "{}", None).await;
    world.strategy("baked", 1, 100.0, 10).await;
    // The alarm is firing, so a deployment rolls back as soon as it starts.
    world.alarm(ALARM, true);
    let operator = Operator::start(cluster, world).await;
    // The first, then the second status write of a resource fails, as if the operator died
    // around StartDeployment; on a real cluster nothing fails and the rollback alone is checked.
    for failing_write in 0..2 {
        let name = format!("flags-{failing_write}");
        let mut target = t.clone();
        target.environment = world.environment(&t.application, &name, &[ALARM]).await;
        if let Some(fake) = &cluster.fake {
            let status_patch = RequestMatcher {
                verb: "patch",
                plural: "appconfigdeployments",
                subresource: Some("status"),
            };
            fake.fail_after(status_patch, failing_write, 500, "InternalError", 1);
        }
        cluster.apply(&name, &spec(&target, &v1, "baked")).await;
        cluster
            .wait_for(&name, "rolled back", |o| {
                ready(o) == Some(("False", "RolledBack"))
            })
            .await;
        tokio::time::sleep(Duration::from_secs(3)).await;
        let deployments = world.deployments(&target).await;
        assert_eq!(
            deployments.len(),
            1,
            "write {failing_write} failed: the rollback was retried: {deployments:?}"
        );
    }
    operator.stop().await;
}
