//! AppConfigSync scenarios: the operator keeps a ConfigMap or Secret equal to what the emulator's
//! AppConfig Data serves. The emulator's clock runs fast (see `World::start_fast`), so poll
//! intervals of 15 s and more pass in a fraction of a second of wall time.

mod changes;
mod faults;
mod lifecycle;
mod protection;
mod sessions;
mod tenancy;

use std::{fmt::Debug, time::Duration};

use appconfig_operator::api::v1alpha1::{AppConfigSync, AppConfigSyncSpec};
use k8s_openapi::{
    api::core::v1::{ConfigMap, Secret},
    apimachinery::pkg::apis::meta::v1::Condition,
};
use kube::{
    Api, Resource,
    api::{DeleteParams, Patch, PatchParams},
};
use serde::{Serialize, de::DeserializeOwned};
use serde_json::json;

use crate::{
    cluster::{Cluster, PATIENCE},
    world::{Target, World},
};

/// A profile of a new application, with a strategy that deploys at once; the strategy's ID.
pub async fn setup(world: &World) -> (Target, String) {
    let t = world.target("shop", "production", "flags", &[]).await;
    let instant = world.strategy("instant", 0, 100.0, 0).await;
    (t, instant)
}

/// Creates a hosted version of `content` and deploys it at once; its number.
pub async fn deploy(
    world: &World,
    t: &Target,
    strategy: &str,
    content: &[u8],
    content_type: &str,
    label: Option<&str>,
) -> String {
    let version = world.hosted(t, content, content_type, label).await;
    world
        .deploy_by_hand(t, &t.profile, &version, strategy)
        .await;
    version
}

pub fn sync_spec(t: &Target, interval: u32) -> AppConfigSyncSpec {
    let mut spec = AppConfigSyncSpec::new(&t.application, &t.environment, &t.profile);
    spec.poll_interval_seconds = interval;
    spec
}

pub fn syncs(cluster: &Cluster) -> Api<AppConfigSync> {
    Api::namespaced(cluster.client.clone(), &cluster.namespace)
}

pub async fn apply(cluster: &Cluster, name: &str, spec: &AppConfigSyncSpec) -> AppConfigSync {
    let object = json!({
        "apiVersion": "appconfig.operators.dev/v1alpha1",
        "kind": "AppConfigSync",
        "metadata": {"name": name, "namespace": cluster.namespace},
        "spec": spec,
    });
    syncs(cluster)
        .patch(
            name,
            &PatchParams::apply("scenario-user").force(),
            &Patch::Apply(object),
        )
        .await
        .unwrap_or_else(|e| panic!("applying {name}: {e}"))
}

pub async fn delete<K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug>(
    api: &Api<K>,
    name: &str,
) {
    api.delete(name, &DeleteParams::background())
        .await
        .unwrap_or_else(|e| panic!("deleting {name}: {e}"));
}

pub fn condition<'a>(o: &'a AppConfigSync, type_: &str) -> Option<&'a Condition> {
    o.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == type_)
}

/// The Ready condition's (status, reason), when the status describes the current generation.
pub fn ready(o: &AppConfigSync) -> Option<(&str, &str)> {
    let generation = o.metadata.generation;
    let c = condition(o, "Ready")?;
    (o.status.as_ref()?.observed_generation == generation && c.observed_generation == generation)
        .then_some((c.status.as_str(), c.reason.as_str()))
}

pub fn config_maps(cluster: &Cluster) -> Api<ConfigMap> {
    Api::namespaced(cluster.client.clone(), &cluster.namespace)
}

/// The resourceVersions of ConfigMap `name` and of the sync `name`: any write changes them, on
/// the fake API server and on a real cluster alike.
pub async fn versions(cluster: &Cluster, name: &str) -> (Option<String>, Option<String>) {
    let target = config_maps(cluster).get(name).await.unwrap();
    let sync = syncs(cluster).get(name).await.unwrap();
    (
        kube::ResourceExt::resource_version(&target),
        kube::ResourceExt::resource_version(&sync),
    )
}

pub fn secrets(cluster: &Cluster) -> Api<Secret> {
    Api::namespaced(cluster.client.clone(), &cluster.namespace)
}

/// Polls `read` until `check` holds; fails naming `what` and showing the last value seen.
pub async fn wait_until<T: Debug + Serialize>(
    what: &str,
    mut read: impl AsyncFnMut() -> T,
    check: impl Fn(&T) -> bool,
) -> T {
    let mut last = None;
    let found = tokio::time::timeout(PATIENCE, async {
        loop {
            let value = read().await;
            if check(&value) {
                return value;
            }
            last = Some(value);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    found.unwrap_or_else(|_| {
        panic!(
            "not {what} after {PATIENCE:?}; last seen: {}",
            serde_json::to_string_pretty(&last).unwrap_or_default()
        )
    })
}

pub async fn wait_sync(
    cluster: &Cluster,
    name: &str,
    what: &str,
    check: impl Fn(&AppConfigSync) -> bool,
) -> AppConfigSync {
    let api = syncs(cluster);
    let found = wait_until(
        what,
        async || api.get_opt(name).await.expect("syncs can be read"),
        |o| o.as_ref().is_some_and(&check),
    )
    .await;
    found.expect("checked to exist")
}

/// Waits for `name` to be Ready with reason Synced; `what` says when, for the timeout message.
pub async fn wait_synced(cluster: &Cluster, name: &str, what: &str) -> AppConfigSync {
    wait_sync(cluster, name, what, |o| {
        ready(o) == Some(("True", "Synced"))
    })
    .await
}

pub async fn wait_config_map(
    cluster: &Cluster,
    name: &str,
    what: &str,
    check: impl Fn(Option<&ConfigMap>) -> bool,
) -> Option<ConfigMap> {
    let api = config_maps(cluster);
    wait_until(
        what,
        async || api.get_opt(name).await.expect("config maps can be read"),
        |o| check(o.as_ref()),
    )
    .await
}

/// Waits until AppConfig has been polled `more` more times than now.
pub async fn wait_polls(world: &World, more: u64) {
    let start = world.calls("GetLatestConfiguration");
    wait_until(
        &format!("{more} more polls"),
        async || world.calls("GetLatestConfiguration"),
        |calls| *calls >= start + more,
    )
    .await;
}

pub fn text(o: &ConfigMap, key: &str) -> Option<String> {
    o.data.as_ref()?.get(key).cloned()
}

pub fn annotation(o: &impl Resource, key: &str) -> Option<String> {
    o.meta().annotations.as_ref()?.get(key).cloned()
}

pub fn sha256(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
