//! AppConfig throttling and failing: retried with backoff, and no update is lost.

use super::{condition, deploy, ready, setup, sync_spec, text, wait_config_map, wait_sync};
use crate::{cluster::Cluster, operator::Operator, scenarios::scenario, world::World};

scenario!(
    throttling_and_server_errors_are_retried_without_losing_an_update,
    World::start_fast
);
async fn throttling_and_server_errors_are_retried_without_losing_an_update(
    cluster: &Cluster,
    world: &World,
) {
    let (t, instant) = setup(world).await;
    deploy(world, &t, &instant, br#"{"v":1}"#, "application/json", None).await;
    let operator = Operator::start(cluster, world).await;
    world.fail("GetLatestConfiguration", 429, "ThrottlingException", 1.0);
    super::apply(cluster, "flags", &sync_spec(&t, 15)).await;
    let o = wait_sync(cluster, "flags", "retrying", |o| {
        ready(o).is_some_and(|(_, reason)| reason == "RetryingAwsError")
    })
    .await;
    assert_eq!(condition(&o, "Reconciling").unwrap().status, "True");
    assert_eq!(condition(&o, "Stalled").unwrap().status, "False");
    assert!(
        condition(&o, "Reconciling")
            .unwrap()
            .message
            .contains("ThrottlingException")
    );

    // Half the polls fail with 500s while a new version is deployed: it still arrives.
    world.emulator.control().clear_faults();
    world.fail(
        "GetLatestConfiguration",
        500,
        "InternalServerException",
        0.5,
    );
    wait_config_map(cluster, "flags", "written despite the faults", |cm| {
        cm.is_some_and(|cm| text(cm, "config.json").as_deref() == Some(r#"{"v":1}"#))
    })
    .await;
    deploy(world, &t, &instant, br#"{"v":2}"#, "application/json", None).await;
    wait_config_map(cluster, "flags", "updated despite the faults", |cm| {
        cm.is_some_and(|cm| text(cm, "config.json").as_deref() == Some(r#"{"v":2}"#))
    })
    .await;
    world.emulator.control().clear_faults();
    wait_sync(cluster, "flags", "Synced", |o| {
        ready(o) == Some(("True", "Synced"))
    })
    .await;
    operator.stop().await;
}
