//! ConfigMap edits reach the resources that read them within seconds. The watch is of ConfigMap
//! metadata only, and keeps nothing: however many ConfigMaps the cluster holds, the operator
//! never holds their data, and each event is mapped to the resources whose spec.contentFrom
//! names that ConfigMap, in the controller's own cache of resources.

use k8s_openapi::api::core::v1::ConfigMap;
use kube::{
    Api, Client, ResourceExt,
    core::PartialObjectMeta,
    runtime::reflector::{ObjectRef, Store},
};

use crate::{
    api::v1alpha1::{AppConfigDeployment, ContentSource, Declared},
    controller::schedule::Schedule,
};

/// The ConfigMaps of `namespace` (or all), as metadata only.
pub fn config_maps(client: &Client, namespace: Option<&str>) -> Api<PartialObjectMeta<ConfigMap>> {
    match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    }
}

/// The resources in `store` that read `config_map`, each touched in `schedule` so that its
/// reconcile runs even though the resource itself did not change.
pub fn wake_readers(
    store: &Store<AppConfigDeployment>,
    schedule: &Schedule,
    config_map: &PartialObjectMeta<ConfigMap>,
) -> Vec<ObjectRef<AppConfigDeployment>> {
    let readers = readers(store, config_map);
    for reader in &readers {
        let namespace = reader.namespace.as_deref().unwrap_or_default();
        schedule.touch(&format!("{namespace}/{}", reader.name));
    }
    readers
}

fn readers(
    store: &Store<AppConfigDeployment>,
    config_map: &PartialObjectMeta<ConfigMap>,
) -> Vec<ObjectRef<AppConfigDeployment>> {
    let namespace = config_map.namespace();
    let name = config_map.name_any();
    store
        .state()
        .iter()
        .filter(|resource| {
            resource.namespace() == namespace
                && matches!(
                    resource.spec.declared(),
                    Some(Declared::Content(ContentSource::ConfigMap(r))) if r.name == name
                )
        })
        .map(|resource| ObjectRef::from_obj(resource.as_ref()))
        .collect()
}
