//! The ConfigMap or Secret an AppConfigSync writes: reading it, whose it is, whether it holds
//! what it should, and writing or removing it.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::{
    Api, Client, Resource, ResourceExt,
    api::{ApiResource, DeleteParams, DynamicObject, Patch, PatchParams, Preconditions},
};
use serde_json::json;

use super::content::{self, Configuration};
use crate::{
    api::{
        OPERATOR_PREFIX,
        v1alpha1::{AppConfigSync, TargetKind, WrittenTarget},
    },
    shared::status_writer::FIELD_MANAGER,
};

pub const VERSION_LABEL_ANNOTATION: &str = "appconfig.operators.dev/version-label";
pub const SHA256_ANNOTATION: &str = "appconfig.operators.dev/sha256";

/// Argo CD tracks the objects of an application by this label (in label tracking mode): a copy
/// would make Argo CD claim, and prune, the target.
const ARGO_CD_INSTANCE_LABEL: &str = "app.kubernetes.io/instance";
const ARGO_CD_PREFIX: &str = "argocd.argoproj.io/";

/// Where the configuration goes, from the spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Desired {
    pub kind: TargetKind,
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    /// The spec's key; `None` chooses by content type.
    pub key: Option<String>,
}

impl Desired {
    pub fn of(sync: &AppConfigSync) -> Self {
        let target = &sync.spec.target;
        let labels = target
            .labels
            .clone()
            .unwrap_or_default()
            .into_iter()
            .filter(|(k, _)| k != ARGO_CD_INSTANCE_LABEL)
            .collect();
        let annotations = target
            .annotations
            .clone()
            .unwrap_or_default()
            .into_iter()
            .filter(|(k, _)| !k.starts_with(ARGO_CD_PREFIX) && !k.starts_with(OPERATOR_PREFIX))
            .collect();
        Self {
            kind: target.kind,
            name: target.name.clone().unwrap_or_else(|| sync.name_any()),
            labels,
            annotations,
            key: target.key.clone(),
        }
    }

    pub fn written(&self) -> WrittenTarget {
        WrittenTarget::new(self.kind, &self.name)
    }

    pub fn key(&self, content_type: Option<&str>) -> String {
        self.key
            .clone()
            .unwrap_or_else(|| content::default_key(content_type).to_owned())
    }

    /// Whether `live` carries every label and annotation the spec asks for.
    fn metadata_matches(&self, live: &DynamicObject) -> bool {
        let contains = |have: &BTreeMap<String, String>, want: &BTreeMap<String, String>| {
            want.iter().all(|(k, v)| have.get(k) == Some(v))
        };
        contains(live.labels(), &self.labels) && contains(live.annotations(), &self.annotations)
    }

    /// Whether `live` holds `configuration` (by its SHA-256 under `key`) with the spec's
    /// metadata and annotations: then there is nothing to write.
    pub fn held_by(&self, live: &DynamicObject, key: &str, sha256: &str, label: &str) -> bool {
        let stored = content::stored_bytes(self.kind, &live.data, key);
        stored.is_some_and(|bytes| content::sha256_hex(&bytes) == sha256)
            && live
                .annotations()
                .get(SHA256_ANNOTATION)
                .map(String::as_str)
                == Some(sha256)
            && live
                .annotations()
                .get(VERSION_LABEL_ANNOTATION)
                .map(String::as_str)
                .unwrap_or_default()
                == label
            && self.metadata_matches(live)
            && self.applies_nothing_more(live, key)
    }

    /// Whether every label, annotation and data key the operator applied earlier is still one
    /// the spec asks for: a key the spec dropped is removed only by applying again.
    fn applies_nothing_more(&self, live: &DynamicObject, key: &str) -> bool {
        let ours = [SHA256_ANNOTATION, VERSION_LABEL_ANNOTATION];
        applied(live, &["f:metadata", "f:labels"])
            .iter()
            .all(|k| self.labels.contains_key(k))
            && applied(live, &["f:metadata", "f:annotations"])
                .iter()
                .all(|k| self.annotations.contains_key(k) || ours.contains(&k.as_str()))
            && applied(live, &["f:data"])
                .into_iter()
                .chain(applied(live, &["f:binaryData"]))
                .all(|k| k == key)
    }
}

/// The map keys under `path` of the fields the operator's server-side apply owns in `live`.
fn applied(live: &DynamicObject, path: &[&str]) -> Vec<String> {
    live.managed_fields()
        .iter()
        .filter(|m| {
            m.manager.as_deref() == Some(FIELD_MANAGER) && m.operation.as_deref() == Some("Apply")
        })
        .filter_map(|m| {
            let fields = &m.fields_v1.as_ref()?.0;
            path.iter()
                .try_fold(fields, |at, step| at.get(step))?
                .as_object()
        })
        .flat_map(|members| members.keys())
        .filter_map(|k| k.strip_prefix("f:").map(str::to_owned))
        .collect()
}

/// Who holds a target that is not this sync's, for the TargetConflict message.
pub fn owner_of(live: &DynamicObject) -> String {
    let controller = live
        .owner_references()
        .iter()
        .find(|r| r.controller == Some(true));
    match controller {
        Some(owner) => format!("{} {}", owner.kind, owner.name),
        None => {
            let managers: Vec<&str> = live
                .managed_fields()
                .iter()
                .filter_map(|m| m.manager.as_deref())
                .collect();
            if managers.is_empty() {
                "no controller (it has no controller owner reference)".to_owned()
            } else {
                format!(
                    "no controller (it has no controller owner reference; written by {})",
                    managers.join(", ")
                )
            }
        }
    }
}

/// Whether `live`'s controller is an earlier AppConfigSync of `sync`'s name: names are unique, so
/// that one is deleted, and the garbage collector is about to delete `live` too.
pub fn owned_by_earlier(live: &DynamicObject, sync: &AppConfigSync) -> bool {
    let uid = sync.uid().unwrap_or_default();
    live.owner_references().iter().any(|r| {
        r.controller == Some(true)
            && r.api_version.split('/').next() == Some(AppConfigSync::group(&()).as_ref())
            && r.kind == AppConfigSync::kind(&())
            && r.name == sync.name_any()
            && r.uid != uid
    })
}

/// Whether `live` is owned, as its controller, by `sync`.
pub fn owned_by(live: &DynamicObject, sync: &AppConfigSync) -> bool {
    let uid = sync.uid();
    live.owner_references()
        .iter()
        .any(|r| r.controller == Some(true) && Some(&r.uid) == uid.as_ref())
}

/// The targets of one namespace.
pub struct Targets {
    client: Client,
    namespace: String,
}

impl Targets {
    pub fn new(client: Client, namespace: &str) -> Self {
        Self {
            client,
            namespace: namespace.to_owned(),
        }
    }

    fn api(&self, kind: TargetKind) -> Api<DynamicObject> {
        let resource = match kind {
            TargetKind::ConfigMap => ApiResource::erase::<ConfigMap>(&()),
            TargetKind::Secret => ApiResource::erase::<Secret>(&()),
        };
        Api::namespaced_with(self.client.clone(), &self.namespace, &resource)
    }

    pub async fn get(
        &self,
        kind: TargetKind,
        name: &str,
    ) -> Result<Option<DynamicObject>, kube::Error> {
        self.api(kind).get_opt(name).await
    }

    /// Writes the target with server-side apply: owned by `sync`, holding `configuration`.
    /// With `live`, only if it is still the object read (its resourceVersion).
    pub async fn apply(
        &self,
        sync: &AppConfigSync,
        desired: &Desired,
        configuration: &Configuration,
        live: Option<&DynamicObject>,
    ) -> Result<(), kube::Error> {
        let key = desired.key(configuration.content_type.as_deref());
        let mut annotations = desired.annotations.clone();
        annotations.insert(SHA256_ANNOTATION.to_owned(), configuration.sha256());
        annotations.insert(
            VERSION_LABEL_ANNOTATION.to_owned(),
            configuration.version_label.clone().unwrap_or_default(),
        );
        let owner = json!({
            "apiVersion": AppConfigSync::api_version(&()),
            "kind": AppConfigSync::kind(&()),
            "name": sync.name_any(),
            "uid": sync.uid(),
            "controller": true,
            "blockOwnerDeletion": true,
        });
        let mut object = json!({
            "apiVersion": "v1",
            "kind": desired.kind.as_str(),
            "metadata": {
                "name": desired.name,
                "namespace": self.namespace,
                "labels": desired.labels,
                "annotations": annotations,
                "ownerReferences": [owner],
            },
        });
        if let Some(rv) = live.and_then(|l| l.resource_version()) {
            object["metadata"]["resourceVersion"] = json!(rv);
        }
        if desired.kind == TargetKind::Secret {
            object["type"] = json!("Opaque");
        }
        let members = content::data_members(desired.kind, &key, &configuration.content);
        object
            .as_object_mut()
            .expect("built as an object")
            .extend(members);
        // Creating, nothing is forced: an object someone created since it was read keeps the
        // fields they set (409), and is left to the next poll's ownership check.
        let params = match live {
            Some(_) => PatchParams::apply(FIELD_MANAGER).force(),
            None => PatchParams::apply(FIELD_MANAGER),
        };
        self.api(desired.kind)
            .patch(&desired.name, &params, &Patch::Apply(object))
            .await
            .map(|_| ())
    }

    /// Deletes `target` if `sync` owns it; whether it was there to delete.
    pub async fn remove_owned(
        &self,
        sync: &AppConfigSync,
        target: &WrittenTarget,
    ) -> Result<bool, kube::Error> {
        let Some(live) = self.get(target.kind, &target.name).await? else {
            return Ok(false);
        };
        if !owned_by(&live, sync) {
            return Ok(false);
        }
        let params = DeleteParams {
            preconditions: Some(Preconditions {
                uid: live.uid(),
                resource_version: None,
            }),
            ..DeleteParams::background()
        };
        match self.api(target.kind).delete(&target.name, &params).await {
            Ok(_) => Ok(true),
            Err(kube::Error::Api(status)) if status.code == 404 || status.code == 409 => Ok(false),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::sync::content::sha256_hex;

    fn sync(target: Value) -> AppConfigSync {
        serde_json::from_value(json!({
            "apiVersion": "appconfig.operators.dev/v1alpha1",
            "kind": "AppConfigSync",
            "metadata": {"name": "flags", "namespace": "shop", "uid": "sync-uid"},
            "spec": {"application": "a", "environment": "e", "configurationProfile": "p", "target": target},
        }))
        .unwrap()
    }

    fn live(metadata: Value, data: Value) -> DynamicObject {
        let mut object = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata});
        object["data"] = data;
        serde_json::from_value(object).unwrap()
    }

    #[test]
    fn argo_cd_and_operator_keys_are_never_copied() {
        let desired = Desired::of(&sync(json!({
            "labels": {"team": "x", "app.kubernetes.io/instance": "shop"},
            "annotations": {"note": "y", "argocd.argoproj.io/sync-wave": "1", "appconfig.operators.dev/sha256": "forged"},
        })));
        assert_eq!(desired.name, "flags", "the sync's name by default");
        assert_eq!(desired.kind, TargetKind::ConfigMap);
        assert_eq!(Vec::from_iter(desired.labels.keys()), ["team"]);
        assert_eq!(Vec::from_iter(desired.annotations.keys()), ["note"]);
        assert_eq!(desired.key(Some("application/json")), "config.json");
        let keyed = Desired::of(&sync(json!({"key": "flags.json", "name": "other"})));
        assert_eq!(
            (keyed.name.as_str(), keyed.key(None)),
            ("other", "flags.json".to_owned())
        );
    }

    #[test]
    fn a_target_holds_the_configuration_only_with_content_annotations_and_metadata() {
        let desired = Desired::of(&sync(json!({"labels": {"team": "x"}})));
        let sha = sha256_hex(b"{}");
        let metadata = |labels: Value, sha: &str| json!({"name": "flags", "labels": labels, "annotations": {SHA256_ANNOTATION: sha, VERSION_LABEL_ANNOTATION: "v1"}});
        let good = live(
            metadata(json!({"team": "x"}), &sha),
            json!({"config.json": "{}"}),
        );
        assert!(desired.held_by(&good, "config.json", &sha, "v1"));
        assert!(
            !desired.held_by(&good, "config.json", &sha, "v2"),
            "another label"
        );
        assert!(
            !desired.held_by(&good, "config.yaml", &sha, "v1"),
            "another key"
        );
        let edited = live(
            metadata(json!({"team": "x"}), &sha),
            json!({"config.json": "{ }"}),
        );
        assert!(
            !desired.held_by(&edited, "config.json", &sha, "v1"),
            "content edited"
        );
        let unlabelled = live(metadata(json!({}), &sha), json!({"config.json": "{}"}));
        assert!(
            !desired.held_by(&unlabelled, "config.json", &sha, "v1"),
            "label removed"
        );
        let mut applied_earlier = good.clone();
        applied_earlier.metadata.managed_fields = Some(vec![serde_json::from_value(json!({
            "manager": FIELD_MANAGER,
            "operation": "Apply",
            "fieldsType": "FieldsV1",
            "fieldsV1": {
                "f:metadata": {"f:labels": {"f:team": {}}, "f:annotations": {format!("f:{SHA256_ANNOTATION}"): {}, format!("f:{VERSION_LABEL_ANNOTATION}"): {}}},
                "f:data": {"f:config.json": {}},
            },
        }))
        .unwrap()]);
        assert!(desired.held_by(&applied_earlier, "config.json", &sha, "v1"));
        let unlabelled_spec = Desired::of(&sync(json!({})));
        assert!(
            !unlabelled_spec.held_by(&applied_earlier, "config.json", &sha, "v1"),
            "the spec dropped a label the operator applied"
        );
    }

    #[test]
    fn ownership_is_the_controller_reference_to_this_sync() {
        let s = sync(json!({}));
        let reference = |uid: &str, controller: bool| json!({"apiVersion": "appconfig.operators.dev/v1alpha1", "kind": "AppConfigSync", "name": "flags", "uid": uid, "controller": controller});
        let ours = live(
            json!({"name": "flags", "ownerReferences": [reference("sync-uid", true)]}),
            json!({}),
        );
        assert!(owned_by(&ours, &s));
        let not_controller = live(
            json!({"name": "flags", "ownerReferences": [reference("sync-uid", false)]}),
            json!({}),
        );
        assert!(!owned_by(&not_controller, &s));
        let earlier = live(
            json!({"name": "flags", "ownerReferences": [reference("old-uid", true)]}),
            json!({}),
        );
        assert!(!owned_by(&earlier, &s), "a deleted sync of the same name");
        assert!(owned_by_earlier(&earlier, &s));
        assert!(!owned_by_earlier(&ours, &s), "this sync itself");
        assert_eq!(owner_of(&earlier), "AppConfigSync flags");
        let namesake = json!({"apiVersion": "appconfig.operators.dev/v1alpha1", "kind": "AppConfigSync", "name": "other", "uid": "old-uid", "controller": true});
        let other_sync = live(
            json!({"name": "flags", "ownerReferences": [namesake]}),
            json!({}),
        );
        assert!(
            !owned_by_earlier(&other_sync, &s),
            "another sync, which may well exist"
        );
        let handmade = live(
            json!({"name": "flags", "managedFields": [{"manager": "kubectl-client-side-apply", "operation": "Update"}]}),
            json!({}),
        );
        assert!(!owned_by(&handmade, &s));
        assert_eq!(
            owner_of(&handmade),
            "no controller (it has no controller owner reference; written by kubectl-client-side-apply)"
        );
    }
}
