//! Tenancy for AppConfigSync: a sync reads AppConfig Data as a ServiceAccount of its namespace,
//! and IAM decides which configuration it may read.

use appconfig_operator::operator;

use super::{condition, deploy, ready, sync_spec, text, wait_config_map, wait_sync, wait_synced};
use crate::{
    cluster::Cluster,
    iam::{self, role_arn, service_account, subject, team_policy},
    operator::{Operator, test_config},
    scenarios::{scenario, stalled_message},
    world::World,
};

scenario!(
    a_team_reads_its_configuration_and_is_refused_another_teams_until_allowed,
    World::start_fast
);
async fn a_team_reads_its_configuration_and_is_refused_another_teams_until_allowed(
    cluster: &Cluster,
    world: &World,
) {
    let (a, b) = iam::two_teams(cluster, world).await;
    let instant = world.strategy("instant", 0, 100.0, 0).await;
    deploy(
        world,
        &a,
        &instant,
        br#"{"team":"a"}"#,
        "application/json",
        None,
    )
    .await;
    deploy(
        world,
        &b,
        &instant,
        br#"{"team":"b"}"#,
        "application/json",
        None,
    )
    .await;
    let operator = Operator::start(cluster, world).await;

    let mut own = sync_spec(&a, 15);
    own.service_account_name = Some("team-a".into());
    own.target.name = Some("own".into());
    super::apply(cluster, "own", &own).await;
    let mut other = sync_spec(&b, 15);
    other.service_account_name = Some("team-a".into());
    other.target.name = Some("other".into());
    super::apply(cluster, "other", &other).await;

    wait_synced(cluster, "own", "team A's configuration written").await;
    let o = wait_sync(cluster, "other", "AccessDenied", |o| {
        ready(o) == Some(("False", "AccessDenied"))
    })
    .await;
    let message = stalled_message(condition(&o, "Stalled"));
    assert!(
        message.contains("is not authorized to perform: appconfig:StartConfigurationSession on resource: arn:aws:appconfig:"),
        "{message}"
    );
    assert!(message.contains(&b.application), "{message}");
    assert!(
        super::config_maps(cluster)
            .get_opt("other")
            .await
            .unwrap()
            .is_none(),
        "team A's sync wrote team B's configuration"
    );

    // Team A is given read access to team B's application: the sync recovers on its own.
    let mut policy = team_policy(&a.application);
    policy["Statement"][1]["Resource"]
        .as_array_mut()
        .unwrap()
        .push(
            format!(
                "arn:aws:appconfig:*:{}:application/{}/*",
                iam::ACCOUNT,
                b.application
            )
            .into(),
        );
    iam::team_role(world, cluster, "team-a", policy).await;
    wait_config_map(cluster, "other", "team B's configuration written", |cm| {
        cm.is_some_and(|cm| text(cm, "config.json").as_deref() == Some(r#"{"team":"b"}"#))
    })
    .await;
    operator.stop().await;
}

scenario!(
    a_locked_down_sync_stalls_until_its_default_service_account_is_trusted,
    World::start_fast
);
async fn a_locked_down_sync_stalls_until_its_default_service_account_is_trusted(
    cluster: &Cluster,
    world: &World,
) {
    let (a, _) = iam::two_teams(cluster, world).await;
    let instant = world.strategy("instant", 0, 100.0, 0).await;
    deploy(world, &a, &instant, br#"{"v":1}"#, "application/json", None).await;
    let mut config = operator::Config::new(test_config(cluster), None);
    config.default_service_account = Some("deployer".into());
    let operator = Operator::launch(cluster, world, config).await;

    super::apply(cluster, "flags", &sync_spec(&a, 15)).await;
    let o = wait_sync(cluster, "flags", "ServiceAccountNotFound", |o| {
        ready(o) == Some(("False", "ServiceAccountNotFound"))
    })
    .await;
    assert!(stalled_message(condition(&o, "Stalled")).contains("--default-service-account"));
    assert_eq!(world.calls("StartConfigurationSession"), 0);

    // The namespace gets its default ServiceAccount, but team A's role does not trust it.
    service_account(cluster, "deployer", Some(&role_arn("team-a"))).await;
    let o = wait_sync(cluster, "flags", "AssumeRoleRefused", |o| {
        ready(o) == Some(("False", "AssumeRoleRefused"))
    })
    .await;
    let message = stalled_message(condition(&o, "Stalled"));
    assert!(
        message.contains("Not authorized to perform sts:AssumeRoleWithWebIdentity"),
        "{message}"
    );
    iam::define_role(
        world,
        cluster,
        "team-a",
        &[subject(cluster, "team-a"), subject(cluster, "deployer")],
        team_policy(&a.application),
    )
    .await;
    wait_synced(cluster, "flags", "written as deployer").await;
    operator.stop().await;
}
