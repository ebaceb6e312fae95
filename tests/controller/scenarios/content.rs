//! Configuration content in the cluster (spec.content, spec.contentFrom): it becomes one hosted
//! version per distinct content of a profile, which is deployed with every rule of a declared
//! version; ConfigMap edits deploy at once; bad content stalls with the cause.

use appconfig_operator::api::v1alpha1::{
    AppConfigDeployment, AppConfigDeploymentSpec, ConfigMapKeyRef, ContentFrom,
};
use k8s_openapi::{ByteString, api::core::v1::ConfigMap};
use kube::{
    Api,
    api::{ObjectMeta, PostParams},
};
use sha2::{Digest, Sha256};

use super::{condition, ready, scenario, served, spec, stalled_message, state};
use crate::{
    cluster::Cluster,
    operator::{Operator, test_config},
    world::{Target, World},
};

const FLAGS_V1: &str = r#"{"oneClick":false}"#;
const FLAGS_V2: &str = r#"{"oneClick":true}"#;

/// A spec deploying `content` inline to `t` with `strategy`.
fn inline(t: &Target, content: &str, strategy: &str) -> AppConfigDeploymentSpec {
    AppConfigDeploymentSpec {
        configuration_version: None,
        content: Some(content.to_owned()),
        ..spec(t, "unused", strategy)
    }
}

/// A spec deploying key `key` of ConfigMap `name` to `t` with `strategy`.
fn from_config_map(t: &Target, name: &str, key: &str, strategy: &str) -> AppConfigDeploymentSpec {
    AppConfigDeploymentSpec {
        configuration_version: None,
        content_from: Some(ContentFrom {
            config_map_key_ref: ConfigMapKeyRef {
                name: name.to_owned(),
                key: key.to_owned(),
            },
        }),
        ..spec(t, "unused", strategy)
    }
}

/// A spec deploying key `flags.json` of ConfigMap `checkout-flags` to `t` with `strategy`.
fn checkout_flags(t: &Target, strategy: &str) -> AppConfigDeploymentSpec {
    from_config_map(t, "checkout-flags", "flags.json", strategy)
}

/// Waits until `name` is stalled with `reason` for `what`; it, and the Stalled message.
async fn stalled(
    cluster: &Cluster,
    name: &str,
    reason: &str,
    what: &str,
) -> (AppConfigDeployment, String) {
    let o = cluster
        .wait_for(name, what, |o| ready(o) == Some(("False", reason)))
        .await;
    let message = stalled_message(condition(&o, "Stalled"));
    (o, message)
}

/// An operator whose resync does not come during a scenario: only watches wake resources.
async fn start_without_resync(cluster: &Cluster, world: &World) -> Operator {
    let config = appconfig_operator::controller::Config {
        resync_interval: std::time::Duration::from_secs(3600),
        ..test_config(cluster)
    };
    Operator::start_with(cluster, world, config).await
}

fn sha256(content: &str) -> String {
    Sha256::digest(content.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn desired(o: &AppConfigDeployment) -> Option<&str> {
    o.status.as_ref()?.desired_version.as_deref()
}

fn content_sha256(o: &AppConfigDeployment) -> Option<&str> {
    o.status.as_ref()?.content_sha256.as_deref()
}

/// Ready with `version` served, for the current generation.
fn serves(o: &AppConfigDeployment, version: &str) -> bool {
    ready(o) == Some(("True", "Deployed")) && served(o) == Some(version)
}

scenario!(inline_content_is_deployed_as_a_hosted_version_of_exactly_its_bytes);
async fn inline_content_is_deployed_as_a_hosted_version_of_exactly_its_bytes(
    cluster: &Cluster,
    world: &World,
) {
    let t = world.target("shop", "production", "flags", &[]).await;
    world.strategy("instant", 0, 100.0, 0).await;
    let operator = Operator::start(cluster, world).await;
    let mut spec = inline(&t, FLAGS_V1, "instant");
    spec.version_label = Some("checkout-v1".into());
    cluster.apply("flags", &spec).await;

    let o = cluster
        .wait_for("flags", "serving version 1", |o| serves(o, "1"))
        .await;
    assert_eq!(desired(&o), Some("1"));
    assert_eq!(content_sha256(&o), Some(sha256(FLAGS_V1).as_str()));
    let versions = world.hosted_versions(&t).await;
    assert_eq!(versions.len(), 1, "{versions:?}");
    let v = &versions[0];
    assert_eq!(v.content, FLAGS_V1.as_bytes());
    assert_eq!(v.content_type, "application/json");
    assert_eq!(v.label.as_deref(), Some("checkout-v1"));
    assert_eq!(
        v.description.as_deref(),
        Some(format!("appconfig-operator content sha256:{}", sha256(FLAGS_V1)).as_str())
    );
    let deployments = world.deployments(&t).await;
    assert_eq!(deployments.len(), 1);
    assert_eq!(deployments[0].2, "1");
    operator.stop().await;
}

scenario!(a_config_map_edit_deploys_at_once_and_supersedes_the_running_rollout);
async fn a_config_map_edit_deploys_at_once_and_supersedes_the_running_rollout(
    cluster: &Cluster,
    world: &World,
) {
    let t = world.target("shop", "production", "flags", &[]).await;
    // Two 50% steps over 2 minutes, then 2 minutes of bake: in progress until time moves.
    world.strategy("two-steps", 2, 50.0, 2).await;
    cluster
        .apply_config_map("checkout-flags", &[("flags.json", FLAGS_V1)])
        .await;
    // A settled resource is checked again only at the resync, which does not come: only the
    // ConfigMap's watch can bring the edit.
    let operator = start_without_resync(cluster, world).await;
    cluster
        .apply("flags", &checkout_flags(&t, "two-steps"))
        .await;
    cluster
        .wait_for("flags", "deploying version 1", |o| {
            state(o) == Some("DEPLOYING") && desired(o) == Some("1")
        })
        .await;
    world.advance(240);
    let o = cluster
        .wait_for("flags", "serving version 1", |o| serves(o, "1"))
        .await;
    assert_eq!(content_sha256(&o), Some(sha256(FLAGS_V1).as_str()));

    cluster
        .apply_config_map("checkout-flags", &[("flags.json", FLAGS_V2)])
        .await;
    let o = cluster
        .wait_for("flags", "deploying version 2", |o| {
            state(o) == Some("DEPLOYING") && desired(o) == Some("2")
        })
        .await;
    assert_eq!(content_sha256(&o), Some(sha256(FLAGS_V2).as_str()));

    // An edit during that rollout supersedes it.
    let flags_v3 = r#"{"oneClick":true,"banner":"new"}"#;
    cluster
        .apply_config_map("checkout-flags", &[("flags.json", flags_v3)])
        .await;
    cluster
        .wait_for("flags", "deploying version 3", |o| {
            state(o) == Some("DEPLOYING") && desired(o) == Some("3")
        })
        .await;
    let deployments = world.deployments(&t).await;
    let states: Vec<(i32, &str, &str)> = deployments
        .iter()
        .map(|(n, _, v, s)| (*n, v.as_str(), s.as_str()))
        .collect();
    assert_eq!(
        states,
        [
            (3, "3", "DEPLOYING"),
            (2, "2", "ROLLED_BACK"),
            (1, "1", "COMPLETE")
        ],
        "the rollout of the previous content was stopped"
    );
    let reasons = cluster.event_reasons("flags").await;
    assert!(
        reasons.contains(&"StoppingSupersededDeployment".to_owned()),
        "{reasons:?}"
    );

    world.advance(240);
    cluster
        .wait_for("flags", "serving version 3", |o| serves(o, "3"))
        .await;
    let versions = world.hosted_versions(&t).await;
    let contents: Vec<&[u8]> = versions.iter().map(|v| v.content.as_slice()).collect();
    assert_eq!(
        contents,
        [
            FLAGS_V1.as_bytes(),
            FLAGS_V2.as_bytes(),
            flags_v3.as_bytes()
        ]
    );
    operator.stop().await;
}

scenario!(new_content_under_the_same_label_is_a_new_version_to_deploy);
async fn new_content_under_the_same_label_is_a_new_version_to_deploy(
    cluster: &Cluster,
    world: &World,
) {
    let t = world.target("shop", "production", "flags", &[]).await;
    world.strategy("instant", 0, 100.0, 0).await;
    let operator = Operator::start(cluster, world).await;
    let labelled = |content: &str| AppConfigDeploymentSpec {
        version_label: Some("checkout".into()),
        ..inline(&t, content, "instant")
    };
    cluster.apply("flags", &labelled(FLAGS_V1)).await;
    cluster
        .wait_for("flags", "serving version 1", |o| serves(o, "1"))
        .await;
    cluster.apply("flags", &labelled(FLAGS_V2)).await;
    cluster
        .wait_for("flags", "serving version 2", |o| serves(o, "2"))
        .await;
    let deployed: Vec<String> = world
        .deployments(&t)
        .await
        .into_iter()
        .map(|(_, _, version, _)| version)
        .collect();
    assert_eq!(deployed, ["2", "1"]);
    let labels: Vec<Option<String>> = world
        .hosted_versions(&t)
        .await
        .into_iter()
        .map(|v| v.label)
        .collect();
    assert_eq!(labels, [Some("checkout".into()), Some("checkout".into())]);
    operator.stop().await;
}

scenario!(two_environments_share_one_version_and_a_restart_creates_nothing);
async fn two_environments_share_one_version_and_a_restart_creates_nothing(
    cluster: &Cluster,
    world: &World,
) {
    let production = world.target("shop", "production", "flags", &[]).await;
    let staging = Target {
        environment: world
            .environment(&production.application, "staging", &[])
            .await,
        ..production.clone()
    };
    world.strategy("instant", 0, 100.0, 0).await;
    cluster
        .apply_config_map("checkout-flags", &[("flags.json", FLAGS_V1)])
        .await;
    let operator = Operator::start(cluster, world).await;
    for (name, target) in [("production", &production), ("staging", &staging)] {
        cluster
            .apply(name, &checkout_flags(target, "instant"))
            .await;
    }
    for name in ["production", "staging"] {
        cluster
            .wait_for(name, "serving version 1", |o| serves(o, "1"))
            .await;
    }
    assert_eq!(world.hosted_versions(&production).await.len(), 1);
    assert_eq!(world.calls("CreateHostedConfigurationVersion"), 1);
    operator.stop().await;

    // While no operator runs, the spec changes (not the content): the restarted operator must
    // reconcile, and finds the version instead of creating one.
    let mut spec = checkout_flags(&staging, "instant");
    spec.description = Some("same content, new description".into());
    let changed = cluster.apply("staging", &spec).await;
    let operator = Operator::start(cluster, world).await;
    let o = cluster
        .wait_for("staging", "reconciled after the restart", |o| {
            o.status.as_ref().and_then(|s| s.observed_generation) == changed.metadata.generation
                && serves(o, "1")
        })
        .await;
    assert_eq!(desired(&o), Some("1"));
    assert_eq!(world.calls("CreateHostedConfigurationVersion"), 1);
    assert_eq!(world.hosted_versions(&production).await.len(), 1);
    assert_eq!(world.calls("StartDeployment"), 2);
    operator.stop().await;
}

scenario!(an_operator_that_loses_the_race_for_a_version_uses_the_winners);
async fn an_operator_that_loses_the_race_for_a_version_uses_the_winners(
    cluster: &Cluster,
    world: &World,
) {
    // Two operators, each with its share of the resources, both knowing the profile's versions.
    let t = world.target("shop", "env-a", "flags", &[]).await;
    let env = |name: &'static str| {
        let t = t.clone();
        async move {
            Target {
                environment: world.environment(&t.application, name, &[]).await,
                ..t
            }
        }
    };
    let (env_b, env_b2) = (env("env-b").await, env("env-b2").await);
    world.strategy("instant", 0, 100.0, 0).await;
    let shard = |name: &str| appconfig_operator::controller::Config {
        label_selector: Some(format!("shard={name}")),
        instance: format!("operator-{name}"),
        ..test_config(cluster)
    };
    let operator_b = Operator::start_with(cluster, world, shard("b")).await;
    cluster
        .apply_labelled(
            "b-first",
            &[("shard", "b")],
            &inline(&env_b, FLAGS_V1, "instant"),
        )
        .await;
    cluster
        .wait_for("b-first", "serving version 1", |o| serves(o, "1"))
        .await;

    // Operator a creates version 2 for new content; operator b has not seen it.
    let operator_a = Operator::start_with(cluster, world, shard("a")).await;
    cluster
        .apply_labelled("a", &[("shard", "a")], &inline(&t, FLAGS_V2, "instant"))
        .await;
    cluster
        .wait_for("a", "serving version 2", |o| serves(o, "2"))
        .await;
    assert_eq!(world.calls("CreateHostedConfigurationVersion"), 2);

    // Operator b wants the same content: its create, guarded by the newest version it knows
    // (1), is refused, and it finds version 2 instead of making a duplicate.
    cluster
        .apply_labelled(
            "b-second",
            &[("shard", "b")],
            &inline(&env_b2, FLAGS_V2, "instant"),
        )
        .await;
    let o = cluster
        .wait_for("b-second", "serving version 2", |o| serves(o, "2"))
        .await;
    assert_eq!(desired(&o), Some("2"));
    assert_eq!(
        world.calls("CreateHostedConfigurationVersion"),
        3,
        "operator b tried once, with the lock"
    );
    let contents: Vec<Vec<u8>> = world
        .hosted_versions(&t)
        .await
        .into_iter()
        .map(|v| v.content)
        .collect();
    assert_eq!(contents, [FLAGS_V1.as_bytes(), FLAGS_V2.as_bytes()]);
    operator_a.stop().await;
    operator_b.stop().await;
}

scenario!(binary_data_is_deployed_byte_for_byte_with_its_content_type);
async fn binary_data_is_deployed_byte_for_byte_with_its_content_type(
    cluster: &Cluster,
    world: &World,
) {
    let t = world.target("shop", "production", "flags", &[]).await;
    world.strategy("instant", 0, 100.0, 0).await;
    // Not UTF-8: only binaryData can hold it.
    let bytes = vec![0x00, 0xff, 0xfe, 0x80, b'{', b'}'];
    let config_map = ConfigMap {
        metadata: ObjectMeta {
            name: Some("checkout-flags".into()),
            ..ObjectMeta::default()
        },
        binary_data: Some([("flags.json".to_owned(), ByteString(bytes.clone()))].into()),
        ..ConfigMap::default()
    };
    Api::<ConfigMap>::namespaced(cluster.client.clone(), &cluster.namespace)
        .create(&PostParams::default(), &config_map)
        .await
        .unwrap();
    let operator = Operator::start(cluster, world).await;
    let mut spec = checkout_flags(&t, "instant");
    spec.content_type = Some("application/octet-stream".into());
    cluster.apply("flags", &spec).await;
    cluster
        .wait_for("flags", "serving version 1", |o| serves(o, "1"))
        .await;
    let versions = world.hosted_versions(&t).await;
    assert_eq!(versions.len(), 1);
    assert_eq!(versions[0].content, bytes);
    assert_eq!(versions[0].content_type, "application/octet-stream");
    operator.stop().await;
}

scenario!(a_missing_config_map_or_key_waits_and_recovers_when_created);
async fn a_missing_config_map_or_key_waits_and_recovers_when_created(
    cluster: &Cluster,
    world: &World,
) {
    let t = world.target("shop", "production", "flags", &[]).await;
    world.strategy("instant", 0, 100.0, 0).await;
    // No resync comes: the watch of ConfigMaps must bring the resource back.
    let operator = start_without_resync(cluster, world).await;
    cluster.apply("flags", &checkout_flags(&t, "instant")).await;
    let (_, message) = stalled(
        cluster,
        "flags",
        "NotFound",
        "stalled on the missing ConfigMap",
    )
    .await;
    assert!(
        message.contains("ConfigMap 'checkout-flags'") && message.contains("does not exist"),
        "{message}"
    );

    cluster
        .apply_config_map("checkout-flags", &[("other.json", "{}")])
        .await;
    let o = cluster
        .wait_for("flags", "stalled on the missing key", |o| {
            ready(o) == Some(("False", "NotFound"))
                && condition(o, "Stalled").is_some_and(|c| c.message.contains("no key"))
        })
        .await;
    let message = stalled_message(condition(&o, "Stalled"));
    assert!(
        message.contains("'flags.json'") && message.contains("its keys: other.json"),
        "{message}"
    );
    assert_eq!(world.calls("CreateHostedConfigurationVersion"), 0);

    cluster
        .apply_config_map(
            "checkout-flags",
            &[("other.json", "{}"), ("flags.json", FLAGS_V1)],
        )
        .await;
    cluster
        .wait_for("flags", "serving version 1", |o| serves(o, "1"))
        .await;

    // Deleted from under a settled resource, then created again with other content.
    let config_maps = Api::<ConfigMap>::namespaced(cluster.client.clone(), &cluster.namespace);
    config_maps
        .delete("checkout-flags", &Default::default())
        .await
        .unwrap();
    let (o, _) = stalled(
        cluster,
        "flags",
        "NotFound",
        "stalled on the deleted ConfigMap",
    )
    .await;
    assert_eq!((desired(&o), content_sha256(&o)), (None, None));
    cluster
        .apply_config_map("checkout-flags", &[("flags.json", FLAGS_V2)])
        .await;
    cluster
        .wait_for("flags", "serving version 2", |o| serves(o, "2"))
        .await;
    operator.stop().await;
}

scenario!(content_appconfig_refuses_stalls_with_its_details_until_fixed);
async fn content_appconfig_refuses_stalls_with_its_details_until_fixed(
    cluster: &Cluster,
    world: &World,
) {
    let mut t = world.target("shop", "production", "unused", &[]).await;
    t.profile = world.feature_flag_profile(&t.application, "flags").await;
    world.strategy("instant", 0, 100.0, 0).await;
    // No resync during the scenario: the fix must come through the ConfigMap's watch.
    let operator = start_without_resync(cluster, world).await;
    // `enabled` must be a boolean.
    let invalid = r#"{"version":"1","flags":{"dark":{"name":"Dark mode"}},"values":{"dark":{"enabled":"yes"}}}"#;
    cluster
        .apply_config_map("checkout-flags", &[("flags.json", invalid)])
        .await;
    cluster.apply("flags", &checkout_flags(&t, "instant")).await;
    let (o, message) = stalled(
        cluster,
        "flags",
        "InvalidContent",
        "stalled on refused content",
    )
    .await;
    assert!(
        message.contains("CreateHostedConfigurationVersion")
            && message.contains("BadRequestException")
            && message.contains("/values/dark"),
        "AWS's details name the place: {message}"
    );
    assert_eq!(content_sha256(&o), Some(sha256(invalid).as_str()));
    assert_eq!(desired(&o), None);
    assert_eq!(world.calls("StartDeployment"), 0);

    let valid = r#"{"version":"1","flags":{"dark":{"name":"Dark mode"}},"values":{"dark":{"enabled":true}}}"#;
    cluster
        .apply_config_map("checkout-flags", &[("flags.json", valid)])
        .await;
    cluster
        .wait_for("flags", "serving version 1", |o| serves(o, "1"))
        .await;
    // The refused content was sent once, not again and again while it stalled.
    assert_eq!(world.calls("CreateHostedConfigurationVersion"), 2);
    operator.stop().await;
}

scenario!(content_a_validator_refuses_stalls_at_the_start_with_its_details);
async fn content_a_validator_refuses_stalls_at_the_start_with_its_details(
    cluster: &Cluster,
    world: &World,
) {
    let mut t = world.target("shop", "production", "unused", &[]).await;
    let schema = r#"{"type":"object","properties":{"limit":{"type":"integer","minimum":1}}}"#;
    t.profile = world
        .validated_profile(&t.application, "limits", schema)
        .await;
    world.strategy("instant", 0, 100.0, 0).await;
    let operator = start_without_resync(cluster, world).await;
    let invalid = r#"{"limit":0}"#;
    cluster
        .apply("limits", &inline(&t, invalid, "instant"))
        .await;
    let (o, message) = stalled(
        cluster,
        "limits",
        "InvalidContent",
        "stalled on the validator",
    )
    .await;
    assert!(
        message.contains("StartDeployment") && message.contains("#/limit"),
        "AWS's details name the place: {message}"
    );
    // The version was made; AppConfig refused to deploy it.
    assert_eq!(desired(&o), Some("1"));
    assert_eq!(content_sha256(&o), Some(sha256(invalid).as_str()));
    assert!(world.deployments(&t).await.is_empty());
    assert_eq!(world.calls("StartDeployment"), 1);

    cluster
        .apply("limits", &inline(&t, r#"{"limit":5}"#, "instant"))
        .await;
    cluster
        .wait_for("limits", "serving version 2", |o| serves(o, "2"))
        .await;
    // The refused start was made once, not again and again while the resource stalled.
    assert_eq!(world.calls("StartDeployment"), 2);
    operator.stop().await;
}

scenario!(content_over_the_size_limit_is_refused_before_any_call);
async fn content_over_the_size_limit_is_refused_before_any_call(cluster: &Cluster, world: &World) {
    let t = world.target("shop", "production", "flags", &[]).await;
    world.strategy("instant", 0, 100.0, 0).await;
    let config = appconfig_operator::controller::Config {
        max_content_bytes: 16,
        ..test_config(cluster)
    };
    let operator = Operator::start_with(cluster, world, config).await;
    let large = r#"{"banner":"seventeen bytes and more"}"#;
    cluster.apply("flags", &inline(&t, large, "instant")).await;
    let (o, message) = stalled(cluster, "flags", "InvalidContent", "stalled on the size").await;
    assert!(
        message.contains(&format!("is {} bytes", large.len())) && message.contains("16-byte limit"),
        "{message}"
    );
    assert_eq!(content_sha256(&o), Some(sha256(large).as_str()));
    assert_eq!(world.calls("CreateHostedConfigurationVersion"), 0);
    assert_eq!(world.calls("ListHostedConfigurationVersions"), 0);
    operator.stop().await;
}

scenario!(a_resource_switches_between_a_version_and_content_both_ways);
async fn a_resource_switches_between_a_version_and_content_both_ways(
    cluster: &Cluster,
    world: &World,
) {
    let t = world.target("shop", "production", "flags", &[]).await;
    let v1 = world
        .version(&t, &t.profile, FLAGS_V1, Some("v1.0.0"))
        .await;
    world.strategy("instant", 0, 100.0, 0).await;
    let operator = Operator::start(cluster, world).await;
    cluster.apply("flags", &spec(&t, "v1.0.0", "instant")).await;
    let o = cluster
        .wait_for("flags", "serving v1.0.0", |o| serves(o, "v1.0.0"))
        .await;
    assert_eq!(desired(&o), Some("v1.0.0"));
    assert_eq!(content_sha256(&o), None);

    cluster
        .apply("flags", &inline(&t, FLAGS_V2, "instant"))
        .await;
    let o = cluster
        .wait_for("flags", "serving the content's version 2", |o| {
            serves(o, "2")
        })
        .await;
    assert_eq!(content_sha256(&o), Some(sha256(FLAGS_V2).as_str()));

    cluster.apply("flags", &spec(&t, &v1, "instant")).await;
    let o = cluster
        .wait_for("flags", "serving version 1 again", |o| {
            serves(o, &v1) && desired(o) == Some(v1.as_str())
        })
        .await;
    assert_eq!(content_sha256(&o), None);
    let versions: Vec<String> = world
        .deployments(&t)
        .await
        .into_iter()
        .map(|(_, _, version, _)| version)
        .collect();
    assert_eq!(versions, ["1", "2", "v1.0.0"], "newest first");
    operator.stop().await;
}
