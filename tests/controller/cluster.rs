//! A Kubernetes API for one scenario: the fake API server or a namespace of a real cluster.

use std::{fmt::Debug, time::Duration};

use appconfig_operator::api::v1alpha1::{AppConfigDeployment, AppConfigDeploymentSpec};
use k8s_openapi::api::{core::v1::ConfigMap, events::v1::Event};
use kube::{
    Api, Client, ResourceExt,
    api::{DeleteParams, ListParams, Patch, PatchParams},
};
use serde_json::json;

use crate::{fake_api_server::FakeApiServer, real_cluster};

/// How long a scenario waits for the operator to reach a state.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// The field manager scenarios apply specs with, as a user's `kubectl apply --server-side`.
const USER: &str = "scenario-user";

pub enum Backend {
    Fake,
    Real,
}

pub struct Cluster {
    pub client: Client,
    pub namespace: String,
    /// The fake API server, when the scenario runs on it: its write log is inspectable.
    pub fake: Option<FakeApiServer>,
}

impl Cluster {
    pub async fn connect(backend: Backend) -> Self {
        match backend {
            Backend::Fake => {
                let fake = FakeApiServer::new();
                Self {
                    client: fake.client(),
                    namespace: "scenario".to_owned(),
                    fake: Some(fake),
                }
            }
            Backend::Real => {
                let (client, namespace) =
                    real_cluster::connect("appconfig-operator-scenario-").await;
                Self {
                    client,
                    namespace,
                    fake: None,
                }
            }
        }
    }

    pub async fn cleanup(self) {
        if self.fake.is_none() {
            real_cluster::delete_namespace(self.client, &self.namespace).await;
        }
    }

    pub fn resources(&self) -> Api<AppConfigDeployment> {
        Api::namespaced(self.client.clone(), &self.namespace)
    }

    /// Creates or updates `name` with `spec`, as a user applying a manifest would.
    pub async fn apply(&self, name: &str, spec: &AppConfigDeploymentSpec) -> AppConfigDeployment {
        self.apply_labelled(name, &[], spec).await
    }

    /// Creates or updates `name` with `spec` and `labels`, as a user applying a manifest would.
    pub async fn apply_labelled(
        &self,
        name: &str,
        labels: &[(&str, &str)],
        spec: &AppConfigDeploymentSpec,
    ) -> AppConfigDeployment {
        let labels: serde_json::Map<String, serde_json::Value> = labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), json!(v)))
            .collect();
        let object = json!({
            "apiVersion": "appconfig.operators.dev/v1alpha1",
            "kind": "AppConfigDeployment",
            "metadata": {"name": name, "namespace": self.namespace, "labels": labels},
            "spec": spec,
        });
        self.resources()
            .patch(
                name,
                &PatchParams::apply(USER).force(),
                &Patch::Apply(object),
            )
            .await
            .unwrap_or_else(|e| panic!("applying {name}: {e}"))
    }

    /// Creates or updates ConfigMap `name` with `data`, as a user applying a manifest would.
    pub async fn apply_config_map(&self, name: &str, data: &[(&str, &str)]) {
        let data: serde_json::Map<String, serde_json::Value> = data
            .iter()
            .map(|(k, v)| ((*k).to_owned(), json!(v)))
            .collect();
        let object = json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": self.namespace},
            "data": data,
        });
        Api::<ConfigMap>::namespaced(self.client.clone(), &self.namespace)
            .patch(
                name,
                &PatchParams::apply(USER).force(),
                &Patch::Apply(object),
            )
            .await
            .unwrap_or_else(|e| panic!("applying ConfigMap {name}: {e}"));
    }

    /// Sets annotation `key` of `name` to `value`, as `kubectl annotate --overwrite` does.
    pub async fn annotate(&self, name: &str, key: &str, value: &str) {
        self.resources()
            .patch(
                name,
                &PatchParams::default(),
                &Patch::Merge(json!({"metadata": {"annotations": {key: value}}})),
            )
            .await
            .unwrap_or_else(|e| panic!("annotating {name}: {e}"));
    }

    pub async fn get(&self, name: &str) -> Option<AppConfigDeployment> {
        self.resources()
            .get_opt(name)
            .await
            .unwrap_or_else(|e| panic!("reading {name}: {e}"))
    }

    pub async fn delete(&self, name: &str) {
        self.resources()
            .delete(name, &DeleteParams::default())
            .await
            .unwrap_or_else(|e| panic!("deleting {name}: {e}"));
    }

    /// Waits until `name` satisfies `check`, and returns it; fails naming `what` and showing
    /// the last object seen.
    pub async fn wait_for(
        &self,
        name: &str,
        what: &str,
        check: impl Fn(&AppConfigDeployment) -> bool,
    ) -> AppConfigDeployment {
        let mut last = None;
        let found = tokio::time::timeout(PATIENCE, async {
            loop {
                if let Some(object) = self.get(name).await {
                    if check(&object) {
                        return object;
                    }
                    last = Some(object);
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
        .await;
        found.unwrap_or_else(|_| {
            panic!(
                "{name}: not {what} after {PATIENCE:?}; last seen: {}",
                show(&last)
            )
        })
    }

    /// Waits until `name` is gone.
    pub async fn wait_gone(&self, name: &str) {
        let gone = tokio::time::timeout(PATIENCE, async {
            while self.get(name).await.is_some() {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
        .await;
        assert!(gone.is_ok(), "{name} still exists after {PATIENCE:?}");
    }

    /// The Events about `name`, oldest first, as `(reason, note)`.
    pub async fn events(&self, name: &str) -> Vec<(String, String)> {
        let events: Api<Event> = Api::namespaced(self.client.clone(), &self.namespace);
        let mut list: Vec<Event> = events
            .list(&ListParams::default())
            .await
            .expect("events can be listed")
            .items
            .into_iter()
            .filter(|e| e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some(name))
            .collect();
        list.sort_by_key(|e| e.event_time.as_ref().map(|t| t.0));
        list.into_iter()
            .map(|e| (e.reason.unwrap_or_default(), e.note.unwrap_or_default()))
            .collect()
    }

    /// The Event reasons about `name`, oldest first.
    pub async fn event_reasons(&self, name: &str) -> Vec<String> {
        self.events(name)
            .await
            .into_iter()
            .map(|(r, _)| r)
            .collect()
    }

    /// Status writes so far, when the backend can count them (the fake API server).
    pub fn status_writes(&self, name: &str) -> Option<usize> {
        self.fake.as_ref().map(|f| {
            f.writes()
                .iter()
                .filter(|w| w.name == name && w.subresource.as_deref() == Some("status"))
                .count()
        })
    }
}

fn show(object: &Option<impl Debug + serde::Serialize + ResourceExt>) -> String {
    match object {
        Some(o) => serde_json::to_string_pretty(&json!({"metadata": {"generation": o.meta().generation, "finalizers": o.meta().finalizers, "deletionTimestamp": o.meta().deletion_timestamp}, "object": o})).unwrap_or_default(),
        None => "nothing".to_owned(),
    }
}
