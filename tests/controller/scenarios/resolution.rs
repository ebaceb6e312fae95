//! Names and IDs both resolve; anything missing stalls the resource naming it, and fixing the
//! spec recovers.

use appconfig_operator::api::v1alpha1::AppConfigDeploymentSpec as Spec;

use super::{assert_resolved, condition, flags, ready, scenario, served, spec, state};

/// Turns a good spec into one that names something AppConfig does not have.
type Breakage = Box<dyn Fn(&mut Spec)>;
use crate::{cluster::Cluster, operator::Operator, world::World};

scenario!(names_and_ids_both_resolve);
async fn names_and_ids_both_resolve(cluster: &Cluster, world: &World) {
    let t = world
        .target("checkout", "production", "feature-flags", &[])
        .await;
    let v1 = world.version(&t, &t.profile, "{}", Some("v1.0.0")).await;
    let operator = Operator::start(cluster, world).await;

    // By name, with a version label and a predefined strategy by name.
    let mut by_name = spec(&t, "v1.0.0", "AppConfig.AllAtOnce");
    by_name.application = "checkout".into();
    by_name.environment = "production".into();
    by_name.configuration_profile = "feature-flags".into();
    cluster.apply("by-name", &by_name).await;
    // The state comes from AppConfig: the deployment exists before the clock moves.
    let o = cluster
        .wait_for("by-name", "deploying", |o| {
            matches!(state(o), Some("DEPLOYING" | "BAKING"))
        })
        .await;
    assert!(matches!(ready(&o), Some(("False", "Deploying" | "Baking"))));
    let status = o.status.as_ref().unwrap();
    assert_resolved(&o, &t, "AppConfig.AllAtOnce");
    assert_eq!(status.version_label.as_deref(), Some("v1.0.0"));
    world.advance(10 * 60);
    let o = cluster
        .wait_for("by-name", "Ready", |o| {
            ready(o) == Some(("True", "Deployed"))
        })
        .await;
    assert_eq!(
        o.status.as_ref().unwrap().served_version.as_deref(),
        Some("v1.0.0")
    );

    // By ID, with the version number: the same version is already served, so nothing starts.
    cluster
        .apply("by-id", &spec(&t, &v1, "AppConfig.AllAtOnce"))
        .await;
    let o = cluster
        .wait_for("by-id", "Ready", |o| ready(o) == Some(("True", "Deployed")))
        .await;
    assert_eq!(world.calls("StartDeployment"), 1);
    // SERVED names the version as DESIRED does, though AppConfig reports its label too.
    assert_eq!(served(&o), Some(v1.as_str()));
    operator.stop().await;
}

scenario!(missing_references_stall_naming_them_and_a_fixed_spec_recovers);
async fn missing_references_stall_naming_them_and_a_fixed_spec_recovers(
    cluster: &Cluster,
    world: &World,
) {
    let t = world
        .target("checkout", "production", "feature-flags", &[])
        .await;
    let v1 = world.version(&t, &t.profile, "{}", None).await;
    let operator = Operator::start(cluster, world).await;
    let good = spec(&t, &v1, "AppConfig.AllAtOnce");

    let cases: Vec<(&str, Breakage, &str)> = vec![
        (
            "application",
            Box::new(|s| s.application = "nope".into()),
            "application 'nope' (spec.application) does not exist",
        ),
        (
            "environment",
            Box::new(|s| s.environment = "staging".into()),
            "environment 'staging' (spec.environment) does not exist",
        ),
        (
            "profile",
            Box::new(|s| s.configuration_profile = "other".into()),
            "configuration profile 'other' (spec.configurationProfile) does not exist",
        ),
        (
            "strategy",
            Box::new(|s| s.deployment_strategy = "Missing".into()),
            "deployment strategy 'Missing' (spec.deploymentStrategy) does not exist",
        ),
        (
            "version",
            Box::new(|s| s.configuration_version = Some("42".into())),
            "hosted configuration version '42' (spec.configurationVersion) does not exist",
        ),
    ];
    for (what, break_it, expected) in cases {
        let mut broken = good.clone();
        break_it(&mut broken);
        cluster.apply("flags", &broken).await;
        let o = cluster
            .wait_for("flags", &format!("Stalled for a missing {what}"), |o| {
                ready(o) == Some(("False", "NotFound"))
            })
            .await;
        assert_eq!(flags(&o), Some(("False", "False", "True")), "{what}");
        let message = &condition(&o, "Stalled").unwrap().message;
        assert!(message.contains(expected), "{what}: {message}");
        assert_eq!(world.calls("StartDeployment"), 0, "{what}: nothing starts");
    }

    cluster.apply("flags", &good).await;
    cluster
        .wait_for("flags", "deploying", |o| {
            matches!(state(o), Some("DEPLOYING" | "BAKING"))
        })
        .await;
    world.advance(10 * 60);
    cluster
        .wait_for("flags", "recovered", |o| {
            ready(o) == Some(("True", "Deployed"))
        })
        .await;
    operator.stop().await;
}
