//! A new deployment reaches the target within one poll interval; polls that find nothing new
//! write nothing; AppConfig is never polled faster than the interval.

use std::time::{Duration, Instant};

use kube::ResourceExt;

use super::{
    apply, config_maps, deploy, ready, setup, sync_spec, syncs, text, versions, wait_config_map,
    wait_polls, wait_sync, wait_synced, wait_until,
};
use crate::{cluster::Cluster, scenarios::scenario, world::World};

scenario!(
    a_new_deployment_reaches_the_target_and_unchanged_polls_write_nothing,
    World::start_fast
);
async fn a_new_deployment_reaches_the_target_and_unchanged_polls_write_nothing(
    cluster: &Cluster,
    world: &World,
) {
    let (t, instant) = setup(world).await;
    let first = deploy(
        world,
        &t,
        &instant,
        br#"{"v":1}"#,
        "application/json",
        Some("v1"),
    )
    .await;
    let operator = crate::operator::Operator::start(cluster, world).await;
    // 60 emulated seconds between polls: 3 s of wall time.
    apply(cluster, "flags", &sync_spec(&t, 60)).await;
    wait_synced(cluster, "flags", "Synced").await;
    let (target_version, sync_version) = versions(cluster, "flags").await;
    let target_writes = cluster
        .fake
        .as_ref()
        .map(|f| f.count_writes("patch", "configmaps", None));

    // Unchanged polls: the target and the sync (its status) stay exactly as they are.
    wait_polls(world, 2).await;
    assert_eq!(
        config_maps(cluster)
            .get("flags")
            .await
            .unwrap()
            .resource_version(),
        target_version,
        "an unchanged poll rewrote the target"
    );
    assert_eq!(
        syncs(cluster)
            .get("flags")
            .await
            .unwrap()
            .resource_version(),
        sync_version,
        "an unchanged poll rewrote the status"
    );
    if let Some(fake) = &cluster.fake {
        assert_eq!(
            Some(fake.count_writes("patch", "configmaps", None)),
            target_writes
        );
        assert_eq!(
            cluster.status_writes("flags"),
            Some(1),
            "one status write in all"
        );
    }

    // A new deployment: the next poll brings it.
    deploy(
        world,
        &t,
        &instant,
        br#"{"v":2}"#,
        "application/json",
        Some("v2"),
    )
    .await;
    // Counted once the deployment is served: any poll from now on brings it.
    let before = world.calls("GetLatestConfiguration");
    let cm = wait_config_map(cluster, "flags", "updated to v2", |cm| {
        cm.and_then(|cm| text(cm, "config.json")).as_deref() == Some(r#"{"v":2}"#)
    })
    .await
    .unwrap();
    assert!(
        world.calls("GetLatestConfiguration") <= before + 1,
        "the change took more than one poll"
    );
    assert_ne!(cm.resource_version(), target_version);
    let o = wait_sync(cluster, "flags", "Synced v2", |o| {
        o.status.as_ref().and_then(|s| s.version_label.as_deref()) == Some("v2")
    })
    .await;
    assert_eq!(ready(&o), Some(("True", "Synced")));
    if let Some(fake) = &cluster.fake {
        assert_eq!(
            Some(fake.count_writes("patch", "configmaps", None)),
            target_writes.map(|n| n + 1),
            "exactly one more target write"
        );
    }
    let events = cluster.event_reasons("flags").await;
    assert_eq!(events, ["ConfigurationUpdated", "ConfigurationUpdated"]);

    // Back to the first version (a rollback by hand): the same content again is news again.
    world.deploy_by_hand(&t, &t.profile, &first, &instant).await;
    wait_config_map(cluster, "flags", "back to v1", |cm| {
        cm.and_then(|cm| text(cm, "config.json")).as_deref() == Some(r#"{"v":1}"#)
    })
    .await;
    // The Event follows the target write.
    let events = wait_until(
        "three ConfigurationUpdated Events",
        async || cluster.events("flags").await,
        |events| events.len() >= 3,
    )
    .await;
    assert_eq!(events.len(), 3, "{events:?}");
    assert!(events[2].1.contains("version v1"), "{events:?}");
    operator.stop().await;
}

scenario!(
    polls_wait_for_appconfigs_next_poll_interval,
    World::start_fast
);
async fn polls_wait_for_appconfigs_next_poll_interval(cluster: &Cluster, world: &World) {
    let (t, instant) = setup(world).await;
    deploy(world, &t, &instant, b"a: 1\n", "application/x-yaml", None).await;
    // The spec allows a poll every 15 s; AppConfig asks for 60 s between polls.
    world.next_poll_interval(60);
    let operator = crate::operator::Operator::start(cluster, world).await;
    apply(cluster, "flags", &sync_spec(&t, 15)).await;
    wait_synced(cluster, "flags", "Synced").await;
    let cm = config_maps(cluster).get("flags").await.unwrap();
    assert_eq!(text(&cm, "config.yaml").as_deref(), Some("a: 1\n"));

    let start = Instant::now();
    let calls = world.calls("GetLatestConfiguration");
    // Watch events (labels on the sync) must not bring a poll forward either.
    for i in 0..10 {
        let patch = serde_json::json!({"metadata": {"labels": {"touch": i.to_string()}}});
        syncs(cluster)
            .patch(
                "flags",
                &kube::api::PatchParams::default(),
                &kube::api::Patch::Merge(patch),
            )
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    wait_polls(world, 2).await;
    let polls = world.calls("GetLatestConfiguration") - calls;
    let elapsed = start.elapsed();
    let interval = world.second * 60;
    // Polling at the spec's 15 s would make four times as many.
    let allowed = (elapsed.as_secs_f64() / interval.as_secs_f64()).floor() as u64 + 1;
    assert!(
        polls <= allowed,
        "{polls} polls in {elapsed:?}, with AppConfig asking for {interval:?} between polls"
    );
    let o = syncs(cluster).get("flags").await.unwrap();
    assert_eq!(ready(&o), Some(("True", "Synced")));
    assert_eq!(world.calls("StartConfigurationSession"), 1);
    operator.stop().await;
}
