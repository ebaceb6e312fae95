//! A suspended resource reports what AWS shows and never writes to AppConfig.

use super::{flags, ready, scenario, spec};
use crate::{cluster::Cluster, operator::Operator, world::World};

scenario!(a_suspended_resource_writes_nothing_to_appconfig_and_keeps_status_current);
async fn a_suspended_resource_writes_nothing_to_appconfig_and_keeps_status_current(
    cluster: &Cluster,
    world: &World,
) {
    let t = world.target("shop", "production", "flags", &[]).await;
    let v1 = world.version(&t, &t.profile, "{}", None).await;
    let v2 = world.version(&t, &t.profile, "{}", None).await;
    let quick = world.strategy("quick", 1, 100.0, 0).await;
    world.deploy_by_hand(&t, &t.profile, &v1, &quick).await;
    world.advance(60);

    let operator = Operator::start(cluster, world).await;
    let mut suspended = spec(&t, &v2, "quick");
    suspended.suspend = true;
    cluster.apply("flags", &suspended).await;
    let o = cluster
        .wait_for("flags", "suspended", |o| {
            ready(o) == Some(("False", "Suspended"))
        })
        .await;
    assert_eq!(flags(&o), Some(("False", "False", "False")));
    assert_eq!(
        o.status.as_ref().unwrap().served_version.as_deref(),
        Some(v1.as_str())
    );

    // What AWS shows still reaches the status: someone deploys version 2 by hand.
    world.deploy_by_hand(&t, &t.profile, &v2, &quick).await;
    world.advance(60);
    let o = cluster
        .wait_for("flags", "suspended and served", |o| {
            ready(o) == Some(("True", "Suspended"))
        })
        .await;
    assert_eq!(
        o.status.as_ref().unwrap().served_version.as_deref(),
        Some(v2.as_str())
    );

    // Declaring another version while suspended changes nothing in AppConfig.
    let mut v1_suspended = spec(&t, &v1, "quick");
    v1_suspended.suspend = true;
    cluster.apply("flags", &v1_suspended).await;
    cluster
        .wait_for("flags", "suspended, not served", |o| {
            ready(o) == Some(("False", "Suspended"))
        })
        .await;
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    assert_eq!(
        world.calls("StartDeployment"),
        2,
        "only the two deployments made by hand"
    );
    assert_eq!(world.calls("StopDeployment"), 0);
    operator.stop().await;
}
