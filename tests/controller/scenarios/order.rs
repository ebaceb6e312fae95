//! GitOps applies resources in its own order: an AppConfigDeployment or AppConfigSync may exist
//! before the AppConfig application it names, or before the operator's role may read it. Such a
//! resource stalls saying why, and recovers on its own once AWS has what it names, with no spec
//! change and long before the resync; many of them share their lookups meanwhile.

use std::time::{Duration, Instant};

use appconfig_operator::{
    api::v1alpha1::{AppConfigDeploymentSpec, AppConfigSyncSpec},
    emulator::Fault,
};

use super::{condition, ready, scenario, state, sync};
use crate::{
    cluster::Cluster,
    operator::{Operator, test_config},
    world::World,
};

/// Longer than any scenario: a recovery cannot be the resync's doing.
const NO_RESYNC: Duration = Duration::from_secs(3600);

/// A spec naming everything by name, as a manifest written before AppConfig was set up does.
fn by_name() -> AppConfigDeploymentSpec {
    AppConfigDeploymentSpec::new(
        "checkout",
        "production",
        "feature-flags",
        "v1",
        "AppConfig.AllAtOnce",
    )
}

scenario!(a_deployment_applied_before_its_application_recovers_on_its_own);
async fn a_deployment_applied_before_its_application_recovers_on_its_own(
    cluster: &Cluster,
    world: &World,
) {
    let config = appconfig_operator::controller::Config {
        resync_interval: NO_RESYNC,
        ..test_config(cluster)
    };
    let operator = Operator::start_with(cluster, world, config).await;

    // The role's permission has not propagated yet.
    let control = world.emulator.control();
    control
        .inject_fault(Fault {
            operation: "ListApplications".into(),
            status: 403,
            code: "AccessDeniedException".into(),
            count: None,
            ratio: Some(1.0),
        })
        .expect("the fault is valid");
    cluster.apply("flags", &by_name()).await;
    let o = cluster
        .wait_for("flags", "AccessDenied", |o| {
            ready(o) == Some(("False", "AccessDenied"))
        })
        .await;
    assert_eq!(condition(&o, "Stalled").unwrap().status, "True");

    // Now it has, but the application does not exist yet.
    control.clear_faults();
    let o = cluster
        .wait_for("flags", "NotFound", |o| {
            ready(o) == Some(("False", "NotFound"))
        })
        .await;
    let message = &condition(&o, "Stalled").unwrap().message;
    assert!(
        message.contains("application 'checkout' (spec.application) does not exist"),
        "{message}"
    );

    // Terraform creates it: the resource deploys with no spec change and no resync.
    let t = world
        .target("checkout", "production", "feature-flags", &[])
        .await;
    world.version(&t, &t.profile, "{}", Some("v1")).await;
    let o = cluster
        .wait_for("flags", "deploying on its own", |o| {
            matches!(state(o), Some("DEPLOYING" | "BAKING"))
        })
        .await;
    assert_eq!(o.metadata.generation, Some(1), "the spec never changed");
    assert_eq!(world.calls("StartDeployment"), 1);
    operator.stop().await;
}

scenario!(resources_naming_a_missing_application_share_their_lookups);
async fn resources_naming_a_missing_application_share_their_lookups(
    cluster: &Cluster,
    world: &World,
) {
    // A poll interval of 1 s: a list is reused for that long, and rechecks start there.
    let poll = Duration::from_secs(1);
    let config = appconfig_operator::controller::Config {
        poll_interval: poll,
        resync_interval: NO_RESYNC,
        ..test_config(cluster)
    };
    let operator = Operator::start_with(cluster, world, config).await;
    let names: Vec<String> = (0..40).map(|i| format!("early-{i}")).collect();
    let started = Instant::now();
    for name in &names {
        cluster.apply(name, &by_name()).await;
    }
    for name in &names {
        cluster
            .wait_for(name, "NotFound", |o| {
                ready(o) == Some(("False", "NotFound"))
            })
            .await;
    }
    // Several rechecks each: about 1, 2 and 4 s after the first look.
    tokio::time::sleep(Duration::from_secs(6)).await;
    let elapsed = started.elapsed();
    let lists = world.calls("ListApplications");
    // One list per poll interval at most, plus the one in flight when the window closed;
    // resources looking each on their own would make more than a hundred.
    let bound = elapsed.as_secs_f64() / poll.as_secs_f64() + 1.0;
    assert!(
        (lists as f64) <= bound,
        "{} resources made {lists} ListApplications in {elapsed:?} (at most {bound:.0})",
        names.len()
    );
    assert!(lists >= 2, "the application was looked for again: {lists}");
    operator.stop().await;
}

scenario!(
    a_sync_applied_before_its_configuration_recovers_on_its_own,
    World::start_fast
);
async fn a_sync_applied_before_its_configuration_recovers_on_its_own(
    cluster: &Cluster,
    world: &World,
) {
    let operator = Operator::start(cluster, world).await;
    let instant = world.strategy("instant", 0, 100.0, 0).await;
    // The poll interval is a day: a recovery within the scenario is the recheck's doing.
    let mut spec = AppConfigSyncSpec::new("checkout", "production", "feature-flags");
    spec.poll_interval_seconds = 86_400;
    sync::apply(cluster, "flags", &spec).await;
    let o = sync::wait_sync(cluster, "flags", "NotFound", |o| {
        sync::ready(o) == Some(("False", "NotFound"))
    })
    .await;
    assert_eq!(sync::condition(&o, "Stalled").unwrap().status, "True");

    let checkout = world
        .target("checkout", "production", "feature-flags", &[])
        .await;
    sync::deploy(
        world,
        &checkout,
        &instant,
        br#"{"oneClick":true}"#,
        "application/json",
        None,
    )
    .await;
    let o = sync::wait_synced(cluster, "flags", "Synced on its own").await;
    assert_eq!(o.metadata.generation, Some(1), "the spec never changed");
    sync::wait_config_map(cluster, "flags", "written", |cm| {
        cm.is_some_and(|cm| {
            sync::text(cm, "config.json").as_deref() == Some(r#"{"oneClick":true}"#)
        })
    })
    .await;
    operator.stop().await;
}
