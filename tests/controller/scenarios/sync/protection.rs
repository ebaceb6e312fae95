//! Targets the operator must not write: someone else's object, and content too large for one.

use k8s_openapi::api::core::v1::ConfigMap;
use kube::{
    ResourceExt,
    api::{Patch, PatchParams, PostParams},
};
use serde_json::json;

use super::{
    apply, condition, config_maps, deploy, ready, setup, sync_spec, syncs, text, wait_config_map,
    wait_polls, wait_sync, wait_synced,
};
use crate::{cluster::Cluster, operator::Operator, scenarios::scenario, world::World};

scenario!(
    a_target_owned_by_someone_else_is_never_overwritten,
    World::start_fast
);
async fn a_target_owned_by_someone_else_is_never_overwritten(cluster: &Cluster, world: &World) {
    let (t, instant) = setup(world).await;
    deploy(world, &t, &instant, br#"{"a":1}"#, "application/json", None).await;
    let theirs: ConfigMap = serde_json::from_value(json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "flags", "namespace": cluster.namespace},
        "data": {"config.json": "theirs"},
    }))
    .unwrap();
    let created = config_maps(cluster)
        .patch(
            "flags",
            &PatchParams::apply("someone-else"),
            &Patch::Apply(&theirs),
        )
        .await
        .unwrap();
    let operator = Operator::start(cluster, world).await;
    apply(cluster, "flags", &sync_spec(&t, 15)).await;

    let o = wait_sync(cluster, "flags", "TargetConflict", |o| {
        ready(o) == Some(("False", "TargetConflict"))
    })
    .await;
    let stalled = condition(&o, "Stalled").unwrap();
    assert_eq!(stalled.status, "True");
    assert!(
        stalled.message.contains("ConfigMap/flags") && stalled.message.contains("someone-else"),
        "names the target and who wrote it: {}",
        stalled.message
    );
    let cm = config_maps(cluster).get("flags").await.unwrap();
    assert_eq!(
        cm.resource_version(),
        created.resource_version(),
        "untouched"
    );
    assert_eq!(text(&cm, "config.json").as_deref(), Some("theirs"));
    assert_eq!(
        world.calls("GetLatestConfiguration"),
        0,
        "no AppConfig call for a conflict"
    );
    assert!(
        cluster
            .event_reasons("flags")
            .await
            .contains(&"SyncFailed".to_owned())
    );

    // Its owner removes it: the next poll writes the sync's own.
    super::delete(&config_maps(cluster), "flags").await;
    wait_config_map(cluster, "flags", "written by the sync", |cm| {
        cm.is_some_and(|cm| text(cm, "config.json").as_deref() == Some(r#"{"a":1}"#))
    })
    .await;
    wait_synced(cluster, "flags", "Synced").await;
    operator.stop().await;
}

scenario!(
    content_over_one_mebibyte_is_never_half_written,
    World::start_fast
);
async fn content_over_one_mebibyte_is_never_half_written(cluster: &Cluster, world: &World) {
    let (t, instant) = setup(world).await;
    let large = "x".repeat(1024 * 1024 + 1);
    deploy(world, &t, &instant, large.as_bytes(), "text/plain", None).await;
    let operator = Operator::start(cluster, world).await;
    apply(cluster, "flags", &sync_spec(&t, 15)).await;

    let o = wait_sync(cluster, "flags", "TooLarge", |o| {
        ready(o) == Some(("False", "TooLarge"))
    })
    .await;
    let message = &condition(&o, "Stalled").unwrap().message;
    assert!(
        message.contains("1048577 bytes"),
        "names the size: {message}"
    );
    assert!(
        config_maps(cluster)
            .get_opt("flags")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        cluster
            .event_reasons("flags")
            .await
            .contains(&"SyncFailed".to_owned())
    );

    // The session is kept while stalled: the same configuration is never downloaded again, and
    // the unchanged stall writes no status.
    let sync_version = o.resource_version();
    wait_polls(world, 3).await;
    assert_eq!(
        world.calls("StartConfigurationSession"),
        1,
        "later polls reuse the session and receive nothing"
    );
    let o = syncs(cluster).get("flags").await.unwrap();
    assert_eq!(ready(&o), Some(("False", "TooLarge")));
    assert_eq!(o.resource_version(), sync_version, "no status write");

    // A version that fits is written whole at the next poll.
    deploy(world, &t, &instant, b"small", "text/plain", None).await;
    wait_config_map(cluster, "flags", "written", |cm| {
        cm.is_some_and(|cm| text(cm, "config.txt").as_deref() == Some("small"))
    })
    .await;
    operator.stop().await;
}

scenario!(
    exactly_one_mebibyte_is_written_and_one_byte_more_is_too_large,
    World::start_fast
);
async fn exactly_one_mebibyte_is_written_and_one_byte_more_is_too_large(
    cluster: &Cluster,
    world: &World,
) {
    let (t, instant) = setup(world).await;
    let limit = "x".repeat(1024 * 1024);
    deploy(world, &t, &instant, limit.as_bytes(), "text/plain", None).await;
    let operator = Operator::start(cluster, world).await;
    apply(cluster, "flags", &sync_spec(&t, 15)).await;
    wait_config_map(cluster, "flags", "written at the limit", |cm| {
        cm.is_some_and(|cm| text(cm, "config.txt").is_some_and(|t| t.len() == 1024 * 1024))
    })
    .await;
    wait_synced(cluster, "flags", "Synced").await;

    let over = "y".repeat(1024 * 1024 + 1);
    deploy(world, &t, &instant, over.as_bytes(), "text/plain", None).await;
    let o = wait_sync(cluster, "flags", "TooLarge", |o| {
        ready(o) == Some(("False", "TooLarge"))
    })
    .await;
    let message = &condition(&o, "Stalled").unwrap().message;
    assert!(message.contains("1048577 bytes"), "{message}");
    let cm = config_maps(cluster).get("flags").await.unwrap();
    assert!(
        text(&cm, "config.txt").is_some_and(|t| t.starts_with('x')),
        "the last configuration that fits stays"
    );
    operator.stop().await;
}

scenario!(
    a_target_controlled_by_another_object_or_sync_is_never_taken,
    World::start_fast
);
async fn a_target_controlled_by_another_object_or_sync_is_never_taken(
    cluster: &Cluster,
    world: &World,
) {
    let (t, instant) = setup(world).await;
    deploy(world, &t, &instant, br#"{"a":1}"#, "application/json", None).await;
    let operator = Operator::start(cluster, world).await;

    // A ConfigMap whose controller is another object (which exists: a real garbage collector
    // would delete a dependent of a missing owner).
    let keeper = create_config_map(cluster, json!({"metadata": {"name": "keeper"}})).await;
    let reference = json!([{"apiVersion": "v1", "kind": "ConfigMap", "name": "keeper", "uid": keeper.uid(), "controller": true}]);
    let held = create_config_map(
        cluster,
        json!({"metadata": {"name": "held", "ownerReferences": reference}, "data": {"k": "v"}}),
    )
    .await;
    let mut spec = sync_spec(&t, 15);
    spec.target.name = Some("held".to_owned());
    apply(cluster, "by-object", &spec).await;
    let o = wait_sync(cluster, "by-object", "TargetConflict", |o| {
        ready(o) == Some(("False", "TargetConflict"))
    })
    .await;
    let message = &condition(&o, "Stalled").unwrap().message;
    assert!(
        message.contains("its controller is ConfigMap keeper"),
        "{message}"
    );

    // The target of another AppConfigSync: a different name, so not an earlier self to wait for.
    let mut first = sync_spec(&t, 15);
    first.target.name = Some("shared".to_owned());
    apply(cluster, "first", &first).await;
    wait_synced(cluster, "first", "Synced").await;
    let shared = config_maps(cluster).get("shared").await.unwrap();
    apply(cluster, "second", &first).await;
    let o = wait_sync(cluster, "second", "TargetConflict", |o| {
        ready(o) == Some(("False", "TargetConflict"))
    })
    .await;
    let message = &condition(&o, "Stalled").unwrap().message;
    assert!(
        message.contains("its controller is AppConfigSync first"),
        "{message}"
    );

    wait_polls(world, 2).await;
    assert_eq!(
        config_maps(cluster)
            .get("held")
            .await
            .unwrap()
            .resource_version(),
        held.resource_version(),
        "untouched"
    );
    let now = config_maps(cluster).get("shared").await.unwrap();
    assert_eq!(
        now.owner_references(),
        shared.owner_references(),
        "still the first sync's"
    );
    assert_eq!(now.data, shared.data);
    operator.stop().await;
}

async fn create_config_map(cluster: &Cluster, object: serde_json::Value) -> ConfigMap {
    let object = serde_json::from_value(object).unwrap();
    config_maps(cluster)
        .create(&PostParams::default(), &object)
        .await
        .unwrap()
}
