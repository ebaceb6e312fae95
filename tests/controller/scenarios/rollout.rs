//! A rollout from creation to COMPLETE, a version change mid-rollout, and the event log.

use std::sync::{Arc, Mutex};

use appconfig_operator::api::v1alpha1::AppConfigDeployment;
use aws_sdk_appconfig::types::DeploymentState;
use futures::StreamExt;
use kube::runtime::{WatchStreamExt, watcher};

use super::{
    assert_resolved, condition, deployment_number, flags, ready, scenario, served, spec, state,
};
use crate::{cluster::Cluster, operator::Operator, world::World};

scenario!(create_deploys_through_each_stage_to_complete);
async fn create_deploys_through_each_stage_to_complete(cluster: &Cluster, world: &World) {
    let t = world.target("shop", "production", "flags", &[]).await;
    let v1 = world
        .version(&t, &t.profile, r#"{"oneClick":false}"#, None)
        .await;
    // 2 minutes in two 50% steps, then 2 minutes of bake.
    let strategy = world.strategy("two-steps", 2, 50.0, 2).await;
    let operator = Operator::start(cluster, world).await;
    cluster.apply("flags", &spec(&t, &v1, "two-steps")).await;

    let o = cluster
        .wait_for("flags", "DEPLOYING at 0%", |o| {
            state(o) == Some("DEPLOYING") && ready(o) == Some(("False", "Deploying"))
        })
        .await;
    assert_eq!(flags(&o), Some(("False", "True", "False")));
    let status = o.status.as_ref().unwrap();
    assert_eq!(status.deployment_number, Some(1));
    assert_eq!(status.deployment_generation, o.metadata.generation);
    assert_eq!(status.configuration_version.as_deref(), Some(v1.as_str()));
    assert_resolved(&o, &t, &strategy);
    assert_eq!(status.growth_type.as_deref(), Some("LINEAR"));
    assert_eq!(status.growth_factor, Some(50.0));
    assert_eq!(status.deployment_duration_in_minutes, Some(2));
    assert_eq!(status.final_bake_time_in_minutes, Some(2));
    assert!(status.started_at.is_some());
    assert_eq!(status.completed_at, None);
    assert_eq!(served(&o), None, "nothing was served before");

    world.advance(60);
    let o = cluster
        .wait_for("flags", "at 50%", |o| {
            o.status.as_ref().and_then(|s| s.percentage_complete) == Some(50.0)
        })
        .await;
    assert_eq!(ready(&o), Some(("False", "Deploying")));
    assert_eq!(
        condition(&o, "Ready").unwrap().message,
        format!("Deployment 1 of version {v1} is at 50% (DEPLOYING)")
    );

    world.advance(60);
    let o = cluster
        .wait_for("flags", "BAKING", |o| state(o) == Some("BAKING"))
        .await;
    assert_eq!(ready(&o), Some(("False", "Baking")));
    assert_eq!(flags(&o), Some(("False", "True", "False")));
    assert_eq!(o.status.as_ref().unwrap().percentage_complete, Some(100.0));

    world.advance(120);
    let o = cluster
        .wait_for("flags", "Ready", |o| ready(o) == Some(("True", "Deployed")))
        .await;
    assert_eq!(flags(&o), Some(("True", "False", "False")));
    assert_eq!(state(&o), Some("COMPLETE"));
    assert_eq!(served(&o), Some(v1.as_str()));
    assert!(o.status.as_ref().unwrap().completed_at.is_some());
    assert_eq!(world.calls("StartDeployment"), 1);

    // One status write per stage the rollout went through (0%, 50%, BAKING, COMPLETE) plus the
    // first observation, not one per poll.
    let writes = cluster.status_writes("flags");
    if let Some(n) = writes {
        assert!(
            (4..=6).contains(&n),
            "{n} status writes for a four-stage rollout"
        );
    }
    // Settled: a few resyncs later nothing more was written to AppConfig, and the status was
    // not rewritten.
    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    assert_eq!(world.calls("StartDeployment"), 1);
    assert_eq!(
        cluster.status_writes("flags"),
        writes,
        "a settled status is not rewritten"
    );
    operator.stop().await;
}

scenario!(the_attempt_recorded_before_a_start_names_its_version_and_strategy);
async fn the_attempt_recorded_before_a_start_names_its_version_and_strategy(
    cluster: &Cluster,
    world: &World,
) {
    let t = world.target("shop", "production", "flags", &[]).await;
    let v1 = world.version(&t, &t.profile, "{}", Some("v1.0.0")).await;
    world.strategy("two-steps", 2, 50.0, 2).await;
    let operator = Operator::start(cluster, world).await;
    // Every status the API server holds, in order, as a watch sees it.
    let seen = Arc::new(Mutex::new(Vec::new()));
    let watching = tokio::spawn({
        let seen = seen.clone();
        let stream = watcher(
            cluster.resources(),
            watcher::Config::default().fields("metadata.name=flags"),
        )
        .applied_objects();
        async move {
            let mut stream = std::pin::pin!(stream);
            while let Some(Ok(o)) = stream.next().await {
                seen.lock().unwrap().push(o);
            }
        }
    });
    cluster.apply("flags", &spec(&t, &v1, "two-steps")).await;
    cluster
        .wait_for("flags", "DEPLOYING", |o| state(o) == Some("DEPLOYING"))
        .await;
    // The watch delivers a write a little after it is made.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    watching.abort();
    let recorded = seen
        .lock()
        .unwrap()
        .iter()
        .find(|o| deployment_number(o).is_some())
        .cloned()
        .expect("a status naming the deployment");
    let recorded = &recorded;
    let status = recorded.status.as_ref().unwrap();
    assert_eq!(status.deployment_number, Some(1));
    assert_eq!(state(recorded), None, "AppConfig has not reported it yet");
    assert_eq!(status.configuration_version.as_deref(), Some(v1.as_str()));
    assert_eq!(status.version_label.as_deref(), Some("v1.0.0"));
    assert_eq!(status.growth_type.as_deref(), Some("LINEAR"));
    assert_eq!(status.growth_factor, Some(50.0));
    assert_eq!(status.deployment_duration_in_minutes, Some(2));
    assert_eq!(status.final_bake_time_in_minutes, Some(2));
    assert_eq!(status.event_log, None);
    assert_eq!(ready(recorded), Some(("False", "Deploying")));
    assert_eq!(
        condition(recorded, "Ready").unwrap().message,
        format!("Starting a deployment of version {v1}")
    );
    operator.stop().await;
}

scenario!(a_version_change_mid_rollout_supersedes_without_a_third_deployment);
async fn a_version_change_mid_rollout_supersedes_without_a_third_deployment(
    cluster: &Cluster,
    world: &World,
) {
    let t = world.target("shop", "production", "flags", &[]).await;
    let v1 = world.version(&t, &t.profile, r#"{"v":1}"#, None).await;
    let v2 = world.version(&t, &t.profile, r#"{"v":2}"#, None).await;
    world.strategy("slow", 10, 10.0, 5).await;
    let operator = Operator::start(cluster, world).await;
    cluster.apply("flags", &spec(&t, &v1, "slow")).await;
    cluster
        .wait_for("flags", "DEPLOYING", |o| state(o) == Some("DEPLOYING"))
        .await;

    cluster.apply("flags", &spec(&t, &v2, "slow")).await;
    let o = cluster
        .wait_for("flags", "deploying version 2", |o| {
            ready(o) == Some(("False", "Deploying"))
                && state(o) == Some("DEPLOYING")
                && o.status.as_ref().unwrap().configuration_version.as_deref() == Some(v2.as_str())
        })
        .await;
    assert_eq!(deployment_number(&o), Some(2));
    let deployments = world.deployments(&t).await;
    assert_eq!(deployments.len(), 2, "no third deployment: {deployments:?}");
    assert_eq!(deployments[0].2, v2);
    assert_eq!(deployments[0].3, DeploymentState::Deploying);
    assert_eq!(deployments[1].2, v1);
    assert_eq!(deployments[1].3, DeploymentState::RolledBack);
    assert_eq!(world.calls("StopDeployment"), 1);
    let reasons = cluster.event_reasons("flags").await;
    assert!(
        reasons.contains(&"StoppingSupersededDeployment".to_owned()),
        "{reasons:?}"
    );

    world.advance(15 * 60);
    cluster
        .wait_for("flags", "Ready", |o| ready(o) == Some(("True", "Deployed")))
        .await;
    assert_eq!(world.calls("StartDeployment"), 2);
    operator.stop().await;
}

scenario!(the_event_log_in_status_is_capped_newest_first_and_matches_appconfig);
async fn the_event_log_in_status_is_capped_newest_first_and_matches_appconfig(
    cluster: &Cluster,
    world: &World,
) {
    let t = world.target("shop", "production", "flags", &[]).await;
    let v1 = world.version(&t, &t.profile, "{}", None).await;
    // Ten 10% steps: DEPLOYMENT_STARTED, ten PERCENTAGE_UPDATED, BAKE_TIME_STARTED,
    // DEPLOYMENT_COMPLETED: 13 entries, more than the limit of 4 set below.
    world.strategy("ten-steps", 10, 10.0, 1).await;
    let mut config = crate::operator::test_config(cluster);
    config.event_log_limit = 4;
    let operator = Operator::start_with(cluster, world, config).await;
    cluster.apply("flags", &spec(&t, &v1, "ten-steps")).await;
    cluster
        .wait_for("flags", "DEPLOYING", |o| state(o) == Some("DEPLOYING"))
        .await;
    for _ in 0..11 {
        world.advance(60);
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
    let o: AppConfigDeployment = cluster
        .wait_for("flags", "Ready", |o| ready(o) == Some(("True", "Deployed")))
        .await;
    let log = o.status.as_ref().unwrap().event_log.clone().unwrap();
    let aws = world
        .appconfig
        .get_deployment()
        .application_id(&t.application)
        .environment_id(&t.environment)
        .deployment_number(1)
        .send()
        .await
        .unwrap();
    let aws_log = aws.event_log();
    assert_eq!(aws_log.len(), 13);
    assert_eq!(log.len(), 4, "capped at the limit");
    for (ours, theirs) in log.iter().zip(aws_log) {
        assert_eq!(ours.event_type, theirs.event_type().unwrap().as_str());
        assert_eq!(ours.triggered_by, theirs.triggered_by().unwrap().as_str());
        assert_eq!(ours.description, theirs.description().unwrap());
        assert_eq!(
            ours.occurred_at.as_ref().map(|t| t.0.as_second()),
            theirs.occurred_at().map(|t| t.secs())
        );
    }
    assert_eq!(log[0].event_type, "DEPLOYMENT_COMPLETED");
    assert_eq!(log[1].event_type, "BAKE_TIME_STARTED");

    // Every AppConfig entry became one Kubernetes Event, none twice.
    let reasons = cluster.event_reasons("flags").await;
    let count = |r: &str| reasons.iter().filter(|x| *x == r).count();
    assert_eq!(count("DeploymentStarted"), 1, "{reasons:?}");
    assert_eq!(count("PercentageUpdated"), 10, "{reasons:?}");
    assert_eq!(count("BakeTimeStarted"), 1, "{reasons:?}");
    assert_eq!(count("DeploymentCompleted"), 1, "{reasons:?}");
    assert_eq!(count("StartingDeployment"), 1, "{reasons:?}");
    operator.stop().await;
}
