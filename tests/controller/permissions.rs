//! The chart's RBAC rules against what the operator calls: a whole lifecycle of both
//! controllers under the rules uses every grant (an unused grant fails here; a missing one fails
//! every scenario, which all run under the rules), and a call outside them is refused.

use std::{collections::BTreeSet, time::Duration};

use appconfig_operator::api::v1alpha1::{DeletionPolicy, TargetKind};
use k8s_openapi::api::core::v1::Secret;
use kube::Api;

use crate::{
    cluster::{Backend, Cluster, PATIENCE},
    fake_api_server::{Access, Grants},
    iam,
    operator::{Operator, elected},
    rbac::{self, chart_rules, granted},
    scenarios::{
        ready, served, spec, state,
        sync::{self, secrets, sync_spec, text, wait_config_map, wait_until},
    },
    world::{Target, World},
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_lifecycle_uses_every_grant_of_the_chart() {
    let cluster = Cluster::connect(Backend::Fake).await;
    // Fast, so that AppConfigSync poll intervals pass in a fraction of a second.
    let world = World::start_fast().await;
    let operator = Operator::launch(
        &cluster,
        &world,
        elected(&cluster, "replica-a", Duration::from_secs(5)),
    )
    .await;
    deployment_lifecycle(&cluster, &world).await;
    sync_lifecycle(&cluster, &world).await;
    let grants = operator
        .grants
        .clone()
        .expect("the fake API server enforces the rules");
    // Stopping releases the lease, and fails on any call the rules refused.
    operator.stop().await;
    assert_every_grant_used(&grants);
}

/// An AppConfigDeployment acting as its namespace's ServiceAccount (the chart's tenancy rules),
/// deployed, changed mid-rollout, and deleted with its deployment stopped.
async fn deployment_lifecycle(cluster: &Cluster, world: &World) {
    let t = world.target("shop", "production", "flags", &[]).await;
    iam::trust_cluster(world, cluster).await;
    iam::team_role(world, cluster, "shop", iam::team_policy(&t.application)).await;
    iam::service_account(cluster, "shop", Some(&iam::role_arn("shop"))).await;
    let v1 = world.version(&t, &t.profile, "{}", None).await;
    let v2 = world.version(&t, &t.profile, r#"{"v":2}"#, None).await;
    world.strategy("instant", 0, 100.0, 0).await;
    // Long enough, even on the fast clock, to be seen deploying.
    world.strategy("slow", 600, 10.0, 0).await;
    let mut declared = spec(&t, &v1, "instant");
    declared.deletion_policy = DeletionPolicy::Stop;
    declared.service_account_name = Some("shop".into());
    cluster.apply("flags", &declared).await;
    cluster
        .wait_for("flags", "serving v1", |o| {
            ready(o).is_some_and(|(s, _)| s == "True") && served(o) == Some(v1.as_str())
        })
        .await;
    let mut changed = spec(&t, &v2, "slow");
    changed.deletion_policy = DeletionPolicy::Stop;
    changed.service_account_name = Some("shop".into());
    cluster.apply("flags", &changed).await;
    cluster
        .wait_for("flags", "DEPLOYING v2", |o| state(o) == Some("DEPLOYING"))
        .await;
    cluster.delete("flags").await;
    cluster.wait_gone("flags").await;
    assert_eq!(world.calls("StopDeployment"), 1);
    assert!(!cluster.events("flags").await.is_empty());
}

/// An AppConfigSync writing a ConfigMap, rewriting it on new content, moving to a Secret, then
/// to a Secret of another name (each move deletes the old target), and deleted.
async fn sync_lifecycle(cluster: &Cluster, world: &World) {
    let application = world.target("data", "production", "flags", &[]).await;
    let t = Target {
        environment: world
            .environment(&application.application, "staging", &[])
            .await,
        ..application
    };
    let instant = world.strategy("sync-instant", 0, 100.0, 0).await;
    let deploy = async |content: &str| {
        sync::deploy(
            world,
            &t,
            &instant,
            content.as_bytes(),
            "application/json",
            None,
        )
        .await
    };
    deploy(r#"{"v":1}"#).await;
    let mut declared = sync_spec(&t, 15);
    sync::apply(cluster, "data", &declared).await;
    wait_config_map(cluster, "data", "written", |cm| {
        cm.is_some_and(|cm| text(cm, "config.json").as_deref() == Some(r#"{"v":1}"#))
    })
    .await;

    deploy(r#"{"v":2}"#).await;
    wait_config_map(cluster, "data", "rewritten", |cm| {
        cm.is_some_and(|cm| text(cm, "config.json").as_deref() == Some(r#"{"v":2}"#))
    })
    .await;

    declared.target.kind = TargetKind::Secret;
    sync::apply(cluster, "data", &declared).await;
    wait_secret(cluster, "data", true).await;
    wait_config_map(cluster, "data", "deleted", |cm| cm.is_none()).await;

    declared.target.name = Some("data-renamed".to_owned());
    sync::apply(cluster, "data", &declared).await;
    wait_secret(cluster, "data-renamed", true).await;
    wait_secret(cluster, "data", false).await;

    sync::delete(&sync::syncs(cluster), "data").await;
    // The garbage collector deletes the target with its owner.
    wait_secret(cluster, "data-renamed", false).await;
}

async fn wait_secret(cluster: &Cluster, name: &str, present: bool) {
    let api = secrets(cluster);
    let what = if present { "written" } else { "deleted" };
    wait_until(
        &format!("Secret {name} {what}"),
        async || api.get_opt(name).await.expect("secrets can be read"),
        |secret| secret.is_some() == present,
    )
    .await;
}

/// Fails naming every (API group, resource, verb) the chart grants and the operator never used.
fn assert_every_grant_used(grants: &Grants) {
    let grant = |access: Access| (access.group, access.resource, access.verb);
    let used: BTreeSet<(String, String, String)> = grants.used().into_iter().map(grant).collect();
    let unused: Vec<_> = granted(&chart_rules())
        .into_iter()
        .filter(|grant| !used.contains(grant))
        .collect();
    assert!(
        unused.is_empty(),
        "rbac-rules.yaml grants what the operator never used: {unused:?}; used: {used:?}"
    );
}

#[tokio::test]
async fn a_call_outside_the_chart_rules_is_refused() {
    let cluster = Cluster::connect(Backend::Fake).await;
    let fake = cluster.fake.as_ref().unwrap();
    let client = fake.client_with(rbac::operator_grants(
        &cluster.namespace,
        rbac::Watched::Namespace,
    ));
    // The operator may read a Secret it names (an AppConfigSync target), never list them.
    let secrets: Api<Secret> = Api::namespaced(client, &cluster.namespace);
    let refused = tokio::time::timeout(PATIENCE, secrets.list(&Default::default()))
        .await
        .expect("an answer");
    let Err(kube::Error::Api(status)) = refused else {
        panic!("listing Secrets was not refused: {refused:?}");
    };
    assert_eq!(status.code, 403);
    assert_eq!(
        status.message,
        format!(
            "secrets is forbidden: User \"system:serviceaccount:{ns}:{sa}\" cannot list resource \"secrets\" in API group \"\" in the namespace \"{ns}\"",
            ns = cluster.namespace,
            sa = rbac::SERVICE_ACCOUNT
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watching_every_namespace_needs_only_the_cluster_role() {
    let cluster = Cluster::connect(Backend::Fake).await;
    let world = World::start().await;
    let t = world.target("shop", "production", "flags", &[]).await;
    let v1 = world.version(&t, &t.profile, "{}", None).await;
    world.strategy("instant", 0, 100.0, 0).await;
    let mut config = elected(&cluster, "replica-a", Duration::from_secs(5));
    config.controller.namespace = None;
    let operator = Operator::launch_granted(&cluster, &world, config, rbac::Watched::Cluster).await;
    cluster.apply("flags", &spec(&t, &v1, "instant")).await;
    cluster
        .wait_for("flags", "Ready", |o| {
            ready(o).is_some_and(|(s, _)| s == "True")
        })
        .await;
    let grants = operator.grants.clone().unwrap();
    operator.stop().await;
    let watched_everywhere = grants.used().into_iter().any(|a| {
        a.resource == "appconfigdeployments" && a.verb == "watch" && a.namespace.is_none()
    });
    assert!(watched_everywhere, "{:?}", grants.used());
}
