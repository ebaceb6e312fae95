//! Tenancy: each AppConfigDeployment acts in AWS as a ServiceAccount of its namespace, and AWS
//! IAM (the emulator's), not the operator, decides what it may do. Every refusal is the
//! resource's, shown as Stalled with AWS's words, and recovers without a spec change once fixed.

use std::sync::Mutex;

use appconfig_operator::api::v1alpha1::DeletionPolicy;
use aws_sdk_appconfig::types::DeploymentState;
use serde_json::json;

use super::{condition, ready, scenario, served, spec, stalled_message, state};
use crate::{
    cluster::Cluster,
    iam::{self, role_arn, service_account, subject, team_policy},
    operator::{Operator, test_config},
    world::{Target, World},
};

/// Two teams (see [`iam::two_teams`]) and a strategy `instant`.
async fn two_teams(cluster: &Cluster, world: &World) -> (Target, Target) {
    let teams = iam::two_teams(cluster, world).await;
    world.strategy("instant", 0, 100.0, 0).await;
    teams
}

scenario!(a_team_deploys_its_application_and_is_refused_another_teams);
async fn a_team_deploys_its_application_and_is_refused_another_teams(
    cluster: &Cluster,
    world: &World,
) {
    let (a, b) = two_teams(cluster, world).await;
    let va = world.version(&a, &a.profile, "{}", None).await;
    let vb = world.version(&b, &b.profile, "{}", None).await;
    let operator = Operator::start(cluster, world).await;

    let mut own = spec(&a, &va, "instant");
    own.service_account_name = Some("team-a".into());
    cluster.apply("own", &own).await;
    let mut other = spec(&b, &vb, "instant");
    other.service_account_name = Some("team-a".into());
    cluster.apply("other", &other).await;

    let o = cluster
        .wait_for("own", "served as team-a", |o| {
            ready(o) == Some(("True", "Deployed"))
        })
        .await;
    assert_eq!(served(&o), Some(va.as_str()));
    let o = cluster
        .wait_for("other", "AccessDenied", |o| {
            ready(o) == Some(("False", "AccessDenied"))
        })
        .await;
    let message = stalled_message(condition(&o, "Stalled"));
    assert!(
        message.contains(&format!(
            "User: arn:aws:sts::{}:assumed-role/team-a/{}.team-a is not authorized to perform: appconfig:StartDeployment on resource: arn:aws:appconfig:",
            iam::ACCOUNT,
            cluster.namespace
        )),
        "{message}"
    );
    assert!(message.contains(&b.application), "{message}");
    assert!(
        world.deployments(&b).await.is_empty(),
        "team A's resource started a deployment of team B's application"
    );

    // Team B's own resource may.
    other.service_account_name = Some("team-b".into());
    cluster.apply("other", &other).await;
    cluster
        .wait_for("other", "served as team-b", |o| {
            ready(o) == Some(("True", "Deployed"))
        })
        .await;
    // One role session per ServiceAccount, however many reconciles.
    assert_eq!(
        operator.aws_calls("sts", "AssumeRoleWithWebIdentity"),
        2,
        "{}",
        operator.metrics.encode()
    );
    operator.stop().await;
}

scenario!(lockdown_acts_as_the_default_service_account_and_stalls_where_it_is_missing);
async fn lockdown_acts_as_the_default_service_account_and_stalls_where_it_is_missing(
    cluster: &Cluster,
    world: &World,
) {
    iam::trust_cluster(world, cluster).await;
    let t = world.target("shop", "production", "flags", &[]).await;
    let v1 = world.version(&t, &t.profile, "{}", None).await;
    world.strategy("instant", 0, 100.0, 0).await;
    iam::team_role(world, cluster, "deployer", team_policy(&t.application)).await;
    let mut config = appconfig_operator::operator::Config::new(test_config(cluster), None);
    config.default_service_account = Some("deployer".into());
    let operator = Operator::launch(cluster, world, config).await;

    // No spec.serviceAccountName, and no `deployer` in the namespace: the operator's own
    // credentials (which the emulator would accept) are not used instead.
    cluster.apply("flags", &spec(&t, &v1, "instant")).await;
    let o = cluster
        .wait_for("flags", "ServiceAccountNotFound", |o| {
            ready(o) == Some(("False", "ServiceAccountNotFound"))
        })
        .await;
    let message = stalled_message(condition(&o, "Stalled"));
    assert!(
        message.contains(&format!(
            "ServiceAccount {}/deployer (named by the operator's --default-service-account) does not exist",
            cluster.namespace
        )),
        "{message}"
    );
    assert_eq!(world.calls("StartDeployment"), 0);

    service_account(cluster, "deployer", Some(&role_arn("deployer"))).await;
    cluster
        .wait_for("flags", "served as deployer", |o| {
            ready(o) == Some(("True", "Deployed"))
        })
        .await;
    assert_eq!(operator.aws_calls("sts", "AssumeRoleWithWebIdentity"), 1);
    operator.stop().await;
}

scenario!(a_trust_policy_for_another_service_account_is_refused_by_sts_until_fixed);
async fn a_trust_policy_for_another_service_account_is_refused_by_sts_until_fixed(
    cluster: &Cluster,
    world: &World,
) {
    let (a, _) = two_teams(cluster, world).await;
    let v1 = world.version(&a, &a.profile, "{}", None).await;
    // Role team-a trusts team-b's ServiceAccount only.
    iam::define_role(
        world,
        cluster,
        "team-a",
        &[subject(cluster, "team-b")],
        team_policy(&a.application),
    )
    .await;
    let operator = Operator::start(cluster, world).await;
    let mut declared = spec(&a, &v1, "instant");
    declared.service_account_name = Some("team-a".into());
    cluster.apply("flags", &declared).await;
    let o = cluster
        .wait_for("flags", "AssumeRoleRefused", |o| {
            ready(o) == Some(("False", "AssumeRoleRefused"))
        })
        .await;
    let message = stalled_message(condition(&o, "Stalled"));
    assert!(
        message.contains("AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity"),
        "{message}"
    );
    assert!(message.contains(&role_arn("team-a")), "{message}");
    assert_eq!(world.calls("StartDeployment"), 0);

    // The platform team fixes the trust policy: no spec change, no resync needed.
    iam::team_role(world, cluster, "team-a", team_policy(&a.application)).await;
    cluster
        .wait_for("flags", "Deployed", |o| {
            ready(o) == Some(("True", "Deployed"))
        })
        .await;
    operator.stop().await;
}

scenario!(fixing_the_annotation_then_the_policy_recovers_without_a_spec_change);
async fn fixing_the_annotation_then_the_policy_recovers_without_a_spec_change(
    cluster: &Cluster,
    world: &World,
) {
    let (a, b) = two_teams(cluster, world).await;
    let v1 = world.version(&a, &a.profile, "{}", None).await;
    service_account(cluster, "team-a", None).await;
    let operator = Operator::start(cluster, world).await;
    let mut declared = spec(&a, &v1, "instant");
    declared.service_account_name = Some("team-a".into());
    cluster.apply("flags", &declared).await;

    let wait_reason = async |reason: &str| {
        let o = cluster
            .wait_for("flags", reason, |o| ready(o) == Some(("False", reason)))
            .await;
        stalled_message(condition(&o, "Stalled"))
    };
    let message = wait_reason("RoleAnnotationMissing").await;
    assert!(
        message.contains("has no eks.amazonaws.com/role-arn annotation"),
        "{message}"
    );
    service_account(cluster, "team-a", Some("team-a")).await;
    let message = wait_reason("RoleAnnotationInvalid").await;
    assert!(
        message.contains("\"team-a\", which is not an IAM role ARN"),
        "{message}"
    );
    // Team A's role, by mistake allowed team B's application only.
    iam::team_role(world, cluster, "team-a", team_policy(&b.application)).await;
    service_account(cluster, "team-a", Some(&role_arn("team-a"))).await;
    let message = wait_reason("AccessDenied").await;
    assert!(
        message.contains("is not authorized to perform: appconfig:StartDeployment"),
        "{message}"
    );
    iam::team_role(world, cluster, "team-a", team_policy(&a.application)).await;
    cluster
        .wait_for("flags", "Deployed", |o| {
            ready(o) == Some(("True", "Deployed"))
        })
        .await;
    operator.stop().await;
}

scenario!(credentials_expiring_mid_rollout_are_renewed_with_no_lost_poll);
async fn credentials_expiring_mid_rollout_are_renewed_with_no_lost_poll(
    cluster: &Cluster,
    world: &World,
) {
    let (a, _) = two_teams(cluster, world).await;
    let v1 = world.version(&a, &a.profile, "{}", None).await;
    // Ten hours, 10% an hour.
    world.strategy("slow", 600, 10.0, 0).await;
    let operator = Operator::start(cluster, world).await;
    let mut declared = spec(&a, &v1, "slow");
    declared.service_account_name = Some("team-a".into());
    cluster.apply("flags", &declared).await;
    cluster
        .wait_for("flags", "DEPLOYING", |o| state(o) == Some("DEPLOYING"))
        .await;
    assert_eq!(operator.aws_calls("sts", "AssumeRoleWithWebIdentity"), 1);

    // Past the credentials' hour: AWS refuses them before the operator's clock says so.
    world.advance(3 * 3600 + 60);
    let reasons = Mutex::new(Vec::new());
    let o = cluster
        .wait_for("flags", "the rollout read after the expiry", |o| {
            if let Some((_, reason)) = ready(o) {
                reasons.lock().unwrap().push(reason.to_owned());
            }
            o.status
                .as_ref()
                .and_then(|s| s.percentage_complete)
                .is_some_and(|p| p >= 30.0)
        })
        .await;
    assert_eq!(state(&o), Some("DEPLOYING"));
    let reasons = reasons.into_inner().unwrap();
    assert!(
        reasons.iter().all(|r| r == "Deploying"),
        "a poll was lost to the expiry: {reasons:?}"
    );
    assert_eq!(operator.aws_calls("sts", "AssumeRoleWithWebIdentity"), 2);
    operator.stop().await;
}

/// Resource `flags` of team A, `deletionPolicy: Stop`, with a ten-hour rollout in progress.
async fn deploying_as_team_a_with_stop_on_deletion(
    cluster: &Cluster,
    world: &World,
) -> (Target, Operator) {
    let (a, _) = two_teams(cluster, world).await;
    let v1 = world.version(&a, &a.profile, "{}", None).await;
    world.strategy("slow", 600, 10.0, 0).await;
    let operator = Operator::start(cluster, world).await;
    let mut declared = spec(&a, &v1, "slow");
    declared.service_account_name = Some("team-a".into());
    declared.deletion_policy = DeletionPolicy::Stop;
    cluster.apply("flags", &declared).await;
    cluster
        .wait_for("flags", "DEPLOYING", |o| state(o) == Some("DEPLOYING"))
        .await;
    (a, operator)
}

scenario!(a_deleted_stop_resource_stops_its_deployment_as_its_namespace);
async fn a_deleted_stop_resource_stops_its_deployment_as_its_namespace(
    cluster: &Cluster,
    world: &World,
) {
    let (a, operator) = deploying_as_team_a_with_stop_on_deletion(cluster, world).await;

    // Team A may no longer stop deployments: the operator's own credentials, which may, are
    // not used instead; the resource waits.
    let mut policy = team_policy(&a.application);
    policy["Statement"]
        .as_array_mut()
        .unwrap()
        .push(json!({"Effect": "Deny", "Action": "appconfig:StopDeployment", "Resource": "*"}));
    iam::team_role(world, cluster, "team-a", policy).await;
    cluster.delete("flags").await;
    let refused_before = world.calls("StopDeployment");
    cluster
        .wait_for("flags", "the stop refused", |_| {
            world.calls("StopDeployment") > refused_before
        })
        .await;
    assert!(
        cluster.get("flags").await.is_some(),
        "deleted without its deployment stopped"
    );
    assert_eq!(world.deployments(&a).await[0].3, DeploymentState::Deploying);

    iam::team_role(world, cluster, "team-a", team_policy(&a.application)).await;
    cluster.wait_gone("flags").await;
    assert_eq!(
        world.deployments(&a).await[0].3,
        DeploymentState::RolledBack
    );
    operator.stop().await;
}

scenario!(a_stop_resource_whose_service_account_went_first_still_stops_its_deployment);
async fn a_stop_resource_whose_service_account_went_first_still_stops_its_deployment(
    cluster: &Cluster,
    world: &World,
) {
    let (a, operator) = deploying_as_team_a_with_stop_on_deletion(cluster, world).await;

    // As when the namespace is deleted: its ServiceAccounts may go before the resource, whose
    // finalizer holds it. The role session's credentials are still good for the stop.
    iam::delete_service_account(cluster, "team-a").await;
    cluster.delete("flags").await;
    cluster.wait_gone("flags").await;
    assert_eq!(
        world.deployments(&a).await[0].3,
        DeploymentState::RolledBack
    );
    operator.stop().await;
}
