//! An operator killed mid-rollout and started again adopts its deployment from AppConfig: no
//! duplicate deployment, no duplicate Event.

use super::{ready, scenario, spec, state};
use crate::{cluster::Cluster, operator::Operator, world::World};

scenario!(a_restarted_operator_adopts_its_deployment_without_duplicates);
async fn a_restarted_operator_adopts_its_deployment_without_duplicates(
    cluster: &Cluster,
    world: &World,
) {
    let t = world.target("shop", "production", "flags", &[]).await;
    let v1 = world.version(&t, &t.profile, "{}", None).await;
    world.strategy("four-steps", 4, 25.0, 2).await;
    let operator = Operator::start(cluster, world).await;
    cluster.apply("flags", &spec(&t, &v1, "four-steps")).await;
    cluster
        .wait_for("flags", "DEPLOYING", |o| state(o) == Some("DEPLOYING"))
        .await;
    world.advance(60);
    cluster
        .wait_for("flags", "at 25%", |o| {
            o.status.as_ref().and_then(|s| s.percentage_complete) == Some(25.0)
        })
        .await;
    operator.kill().await;
    let events_before = cluster.events("flags").await;

    world.advance(60);
    let operator = Operator::start(cluster, world).await;
    cluster
        .wait_for("flags", "at 50% after the restart", |o| {
            o.status.as_ref().and_then(|s| s.percentage_complete) == Some(50.0)
        })
        .await;
    operator.kill().await;
    let operator = Operator::start(cluster, world).await;
    world.advance(5 * 60);
    let o = cluster
        .wait_for("flags", "Ready", |o| ready(o) == Some(("True", "Deployed")))
        .await;
    assert_eq!(state(&o), Some("COMPLETE"));
    assert_eq!(
        world.calls("StartDeployment"),
        1,
        "the restarted operator adopted deployment 1"
    );
    assert_eq!(o.status.as_ref().unwrap().deployment_number, Some(1));

    let events = cluster.events("flags").await;
    assert!(events.len() > events_before.len());
    let mut seen = std::collections::BTreeSet::new();
    for e in &events {
        assert!(
            seen.insert(e.clone()),
            "Event repeated after a restart: {e:?} in {events:?}"
        );
    }
    let reasons: Vec<&str> = events.iter().map(|(r, _)| r.as_str()).collect();
    let count = |r: &str| reasons.iter().filter(|x| **x == r).count();
    assert_eq!(count("DeploymentStarted"), 1, "{reasons:?}");
    assert_eq!(count("PercentageUpdated"), 4, "{reasons:?}");
    assert_eq!(count("DeploymentCompleted"), 1, "{reasons:?}");
    operator.stop().await;
}
