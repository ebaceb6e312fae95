//! AppConfig throttling and failing: retried with backoff, and no update is lost.

use appconfig_operator::emulator::Fault;

use super::{
    condition, deploy, ready, setup, sync_spec, text, wait_config_map, wait_sync, wait_synced,
};
use crate::{
    cluster::Cluster, fake_api_server::RequestMatcher, operator::Operator, scenarios::scenario,
    world::World,
};

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

    // Throttled retries back off: over a minute of poll-interval seconds, a retry loop would
    // make hundreds of calls; doubling delays (up to the 15 s interval) make about ten.
    let before = world.calls("GetLatestConfiguration");
    tokio::time::sleep(world.second * 60).await;
    let retries = world.calls("GetLatestConfiguration") - before;
    assert!(
        (1..=40).contains(&retries),
        "{retries} throttled retries in 60 poll-interval seconds"
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
    wait_synced(cluster, "flags", "Synced").await;

    // One failure, on exactly the poll after a deployment: the retry still brings the version.
    world
        .emulator
        .control()
        .inject_fault(Fault {
            operation: "GetLatestConfiguration".into(),
            status: 500,
            code: "InternalServerException".into(),
            count: Some(1),
            ratio: None,
        })
        .expect("the fault is valid");
    deploy(world, &t, &instant, br#"{"v":3}"#, "application/json", None).await;
    wait_config_map(cluster, "flags", "updated after the failed poll", |cm| {
        cm.is_some_and(|cm| text(cm, "config.json").as_deref() == Some(r#"{"v":3}"#))
    })
    .await;
    wait_synced(cluster, "flags", "Synced").await;
    operator.stop().await;
}

scenario!(
    terminal_errors_stall_with_the_aws_message_until_fixed,
    World::start_fast
);
async fn terminal_errors_stall_with_the_aws_message_until_fixed(cluster: &Cluster, world: &World) {
    let (t, instant) = setup(world).await;
    deploy(world, &t, &instant, br#"{"v":1}"#, "application/json", None).await;
    let operator = Operator::start(cluster, world).await;

    // A profile that does not exist: Stalled until the spec names one that does.
    let mut spec = sync_spec(&t, 15);
    spec.configuration_profile = "no-such-profile".to_owned();
    super::apply(cluster, "flags", &spec).await;
    let o = wait_sync(cluster, "flags", "NotFound", |o| {
        ready(o) == Some(("False", "NotFound"))
    })
    .await;
    let stalled = condition(&o, "Stalled").unwrap();
    assert_eq!(stalled.status, "True");
    assert!(
        stalled
            .message
            .starts_with("AppConfig StartConfigurationSession failed: ResourceNotFoundException:")
            && stalled.message.contains("no-such-profile"),
        "{}",
        stalled.message
    );
    assert!(
        cluster
            .event_reasons("flags")
            .await
            .contains(&"SyncFailed".to_owned())
    );
    super::apply(cluster, "flags", &sync_spec(&t, 15)).await;
    wait_synced(cluster, "flags", "Synced once fixed").await;

    // Access denied: Stalled, retried at the poll interval, recovered once AWS allows it.
    world.fail("GetLatestConfiguration", 403, "AccessDeniedException", 1.0);
    let o = wait_sync(cluster, "flags", "AccessDenied", |o| {
        ready(o) == Some(("False", "AccessDenied"))
    })
    .await;
    assert!(
        condition(&o, "Stalled")
            .unwrap()
            .message
            .contains("AccessDeniedException"),
    );
    world.emulator.control().clear_faults();
    wait_synced(cluster, "flags", "Synced once allowed").await;
    operator.stop().await;
}

scenario!(
    a_status_write_refused_as_stale_is_written_again_without_polling,
    World::start_fast
);
async fn a_status_write_refused_as_stale_is_written_again_without_polling(
    cluster: &Cluster,
    world: &World,
) {
    let (t, instant) = setup(world).await;
    deploy(world, &t, &instant, br#"{"v":1}"#, "application/json", None).await;
    let operator = Operator::start(cluster, world).await;
    // The first status write meets a newer copy of the sync (someone edited its metadata during
    // the poll); on a real cluster nothing fails and the rest holds all the same.
    if let Some(fake) = &cluster.fake {
        let status_patch = RequestMatcher {
            verb: "patch",
            plural: "appconfigsyncs",
            subresource: Some("status"),
        };
        fake.fail_next(status_patch, 409, "Conflict", 1);
    }
    // An hour between polls: the status must not wait for the next one.
    super::apply(cluster, "flags", &sync_spec(&t, 3600)).await;
    wait_synced(cluster, "flags", "Synced").await;
    assert_eq!(
        world.calls("GetLatestConfiguration"),
        1,
        "the status was written without polling again"
    );
    operator.stop().await;
}
