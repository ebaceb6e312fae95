//! One session per sync, each token used once; an expired or rejected token, or a restart,
//! starts a new session and rewrites nothing.

use kube::ResourceExt;

use super::{
    apply, config_maps, deploy, ready, setup, sync_spec, syncs, versions, wait_polls, wait_sync,
    wait_synced,
};
use crate::{cluster::Cluster, operator::Operator, scenarios::scenario, world::World};

scenario!(
    tokens_are_used_once_and_a_refused_token_starts_a_new_session,
    World::start_fast
);
async fn tokens_are_used_once_and_a_refused_token_starts_a_new_session(
    cluster: &Cluster,
    world: &World,
) {
    let (t, instant) = setup(world).await;
    deploy(world, &t, &instant, br#"{"a":1}"#, "application/json", None).await;
    let operator = Operator::start(cluster, world).await;
    apply(cluster, "flags", &sync_spec(&t, 15)).await;
    wait_synced(cluster, "flags", "Synced").await;
    let (target_version, sync_version) = versions(cluster, "flags").await;

    // Every poll used the previous answer's token: AppConfig refuses a token used twice, which
    // would have cost a new session.
    wait_polls(world, 3).await;
    assert_eq!(world.calls("StartConfigurationSession"), 1);

    // Tokens live 24 hours: a day later the next poll's token has expired.
    world.advance(25 * 3600);
    wait_polls(world, 2).await;
    assert_eq!(
        world.calls("StartConfigurationSession"),
        2,
        "expired: one new session"
    );

    // AppConfig forgets the session: its token is refused as not valid.
    world.end_sessions();
    wait_polls(world, 2).await;
    assert_eq!(
        world.calls("StartConfigurationSession"),
        3,
        "rejected: one new session"
    );

    // A new session answers with the whole configuration, which the target already holds.
    assert_eq!(
        config_maps(cluster)
            .get("flags")
            .await
            .unwrap()
            .resource_version(),
        target_version
    );
    let o = syncs(cluster).get("flags").await.unwrap();
    assert_eq!(o.resource_version(), sync_version, "no status write");
    assert_eq!(ready(&o), Some(("True", "Synced")));
    operator.stop().await;
}

scenario!(
    a_restarted_operator_opens_a_new_session_and_rewrites_nothing,
    World::start_fast
);
async fn a_restarted_operator_opens_a_new_session_and_rewrites_nothing(
    cluster: &Cluster,
    world: &World,
) {
    let (t, instant) = setup(world).await;
    deploy(world, &t, &instant, br#"{"a":1}"#, "application/json", None).await;
    let operator = Operator::start(cluster, world).await;
    apply(cluster, "flags", &sync_spec(&t, 15)).await;
    wait_synced(cluster, "flags", "Synced").await;
    operator.kill().await;
    let (target_version, sync_version) = versions(cluster, "flags").await;

    let operator = Operator::start(cluster, world).await;
    wait_polls(world, 2).await;
    assert_eq!(world.calls("StartConfigurationSession"), 2);
    assert_eq!(
        config_maps(cluster)
            .get("flags")
            .await
            .unwrap()
            .resource_version(),
        target_version
    );
    assert_eq!(
        syncs(cluster)
            .get("flags")
            .await
            .unwrap()
            .resource_version(),
        sync_version
    );
    assert_eq!(
        cluster.event_reasons("flags").await,
        ["ConfigurationUpdated"]
    );
    operator.stop().await;
}

scenario!(
    a_restart_spreads_the_first_polls_of_synced_resources,
    World::start_fast
);
async fn a_restart_spreads_the_first_polls_of_synced_resources(cluster: &Cluster, world: &World) {
    let (t, instant) = setup(world).await;
    deploy(world, &t, &instant, br#"{"a":1}"#, "application/json", None).await;
    let operator = Operator::start(cluster, world).await;
    let names = ["one", "two", "three"];
    for name in names {
        apply(cluster, name, &sync_spec(&t, 86400)).await;
    }
    for name in names {
        wait_synced(cluster, name, "Synced").await;
    }
    operator.kill().await;
    let sessions = world.calls("StartConfigurationSession");

    // Each first poll is drawn over the day-long interval: polling all three within the next
    // 40 seconds would be a burst (its chance when spread is one in ten billion).
    let operator = Operator::start(cluster, world).await;
    tokio::time::sleep(world.second * 40).await;
    let polled = world.calls("StartConfigurationSession") - sessions;
    assert!(
        polled < 3,
        "{polled} of 3 synced resources polled at once after the restart"
    );

    // A new resource still polls at once.
    apply(cluster, "four", &sync_spec(&t, 86400)).await;
    wait_synced(cluster, "four", "Synced").await;
    operator.stop().await;
}

scenario!(
    a_spec_change_within_the_poll_interval_keeps_the_session,
    World::start_fast
);
async fn a_spec_change_within_the_poll_interval_keeps_the_session(
    cluster: &Cluster,
    world: &World,
) {
    let (t, instant) = setup(world).await;
    deploy(world, &t, &instant, br#"{"a":1}"#, "application/json", None).await;
    let operator = Operator::start(cluster, world).await;
    let mut spec = sync_spec(&t, 3600);
    apply(cluster, "flags", &spec).await;
    wait_synced(cluster, "flags", "Synced").await;
    let target_version = config_maps(cluster)
        .get("flags")
        .await
        .unwrap()
        .resource_version();

    // A label the operator never copies: the target needs nothing, and the immediate poll comes
    // before AppConfig's minimum interval. The session stays good and is kept for later.
    spec.target.labels =
        Some([("app.kubernetes.io/instance".to_owned(), "shop".to_owned())].into());
    let changed = apply(cluster, "flags", &spec).await;
    wait_sync(cluster, "flags", "Synced at the new generation", |o| {
        ready(o) == Some(("True", "Synced"))
            && o.status.as_ref().unwrap().observed_generation == changed.metadata.generation
    })
    .await;
    tokio::time::sleep(world.second * 60).await;
    assert_eq!(
        world.calls("StartConfigurationSession"),
        1,
        "no new session after AppConfig asked to wait"
    );
    assert_eq!(
        config_maps(cluster)
            .get("flags")
            .await
            .unwrap()
            .resource_version(),
        target_version,
        "nothing rewritten"
    );
    operator.stop().await;
}
