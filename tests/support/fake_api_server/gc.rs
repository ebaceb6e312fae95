//! The garbage collector, as the controller manager runs it with background propagation: once
//! an object is gone, each dependent whose owner references now name no existing object is
//! deleted (finalizers respected); one that still has another owner loses only the dangling
//! reference.

use serde_json::{Value, json};

use super::{
    store::{ChangeKind, ObjectKey, Store},
    write,
};

/// Collects the dependents of `removed`, which just left the store.
pub(super) fn collect(store: &mut Store, removed: &Value, now: &str) {
    let Some(uid) = removed["metadata"]["uid"].as_str() else {
        return;
    };
    let namespace = removed["metadata"]["namespace"]
        .as_str()
        .unwrap_or_default();
    for key in store.keys_in_namespace(namespace) {
        let Some(stored) = store.get(&key).cloned() else {
            continue;
        };
        let references = owner_references(&stored.object);
        if !references.iter().any(|r| r["uid"] == uid) {
            continue;
        }
        let remaining: Vec<Value> = references
            .into_iter()
            .filter(|r| r["uid"] != uid && exists(store, namespace, &r["uid"]))
            .collect();
        if remaining.is_empty() {
            write::delete_object(store, key, stored, now);
        } else {
            let mut object = stored.object.clone();
            object["metadata"]["ownerReferences"] = json!(remaining);
            store.write(key, ChangeKind::Modified, object, stored.managers);
        }
    }
}

fn owner_references(object: &Value) -> Vec<Value> {
    object["metadata"]["ownerReferences"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Whether an object with `uid` exists in `namespace` (owners are in their dependents'
/// namespace) or at cluster scope.
fn exists(store: &Store, namespace: &str, uid: &Value) -> bool {
    let in_scope = |key: &ObjectKey| key.namespace == namespace || key.namespace.is_empty();
    store
        .keys_in_namespace(namespace)
        .into_iter()
        .chain(store.keys_in_namespace(""))
        .filter(in_scope)
        .any(|key| {
            store
                .get(&key)
                .is_some_and(|s| s.object["metadata"]["uid"] == *uid)
        })
}
