//! Each controller's watch: what it lists and watches, and what its cache tells the rest of the
//! process: `/readyz` once it has synced, and the resources metric, counted by Ready condition at
//! every scrape.

use std::future::Future;

use futures::FutureExt;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::{
    Api, Client, Resource,
    api::ListParams,
    runtime::{reflector::Store, watcher},
};
use serde::de::DeserializeOwned;
use tracing::info;

use crate::{
    metrics::{Metrics, ReadyState, ResourceTracking},
    shared::conditions::READY,
    web::CacheSync,
};

/// The resources to watch, in `namespace` (or all) with `label_selector` (or any labels), after
/// one list that fails at once if the CRD is missing or the operator may not list them.
pub async fn watched<K>(
    client: &Client,
    namespace: Option<&str>,
    label_selector: Option<&str>,
) -> Result<(Api<K>, watcher::Config), kube::Error>
where
    K: Resource<Scope = kube::core::NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + std::fmt::Debug,
    K::DynamicType: Default,
{
    let api: Api<K> = match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    };
    api.list(&ListParams::default().limit(1)).await?;
    let mut watch = watcher::Config::default().any_semantic();
    if let Some(selector) = label_selector {
        watch = watch.labels(selector);
    }
    Ok((api, watch))
}

/// Counts `controller`'s resources in `store` by their Ready condition, for as long as the
/// returned guard lives.
pub fn track_resources<K>(
    metrics: &Metrics,
    controller: &'static str,
    store: &Store<K>,
    conditions: fn(&K) -> Option<&[Condition]>,
) -> ResourceTracking
where
    K: Resource + Clone + Send + Sync + 'static,
    K::DynamicType: Eq + std::hash::Hash + Clone + Send + Sync,
{
    let store = store.clone();
    metrics.track_resources(controller, move || {
        store
            .state()
            .iter()
            .map(|resource| ready_state(conditions(resource)))
            .collect()
    })
}

/// Runs a controller's `reconciles` (built with `graceful_shutdown_on(shutdown)`) to their end,
/// marking `synced` once `store` has its first full listing. A stop that comes before that ends
/// the controller at once: no reconcile can have started (kube-runtime holds them until the
/// cache is ready), and kube-runtime would otherwise wait for a listing that a stopped watch
/// never delivers, so the process would hang until it is killed.
pub async fn drive<K>(
    store: Store<K>,
    synced: CacheSync,
    reconciles: impl Future<Output = ()>,
    shutdown: impl Future<Output = ()>,
) where
    K: Resource + Clone + 'static,
    K::DynamicType: Eq + std::hash::Hash + Clone,
{
    let stopped_before_sync = {
        let store = store.clone();
        async move {
            shutdown.await;
            if store.wait_until_ready().now_or_never().is_none() {
                info!("stopped before the watch cache synced; no reconcile had started");
            } else {
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        ((), ()) = futures::future::join(report_synced(store, synced), reconciles) => {}
        () = stopped_before_sync => {}
    }
}

/// Marks `synced` once `store` has its first full listing.
async fn report_synced<K>(store: Store<K>, synced: CacheSync)
where
    K: Resource + Clone + 'static,
    K::DynamicType: Eq + std::hash::Hash + Clone,
{
    // Fails only when the controller stopped before its first list.
    if store.wait_until_ready().await.is_ok() {
        info!("watch cache synced");
        synced.synced();
    }
}

fn ready_state(conditions: Option<&[Condition]>) -> ReadyState {
    conditions
        .and_then(|c| c.iter().find(|c| c.type_ == READY))
        .map_or_else(ReadyState::not_reconciled, |c| ReadyState {
            status: c.status.clone(),
            reason: c.reason.clone(),
        })
}
