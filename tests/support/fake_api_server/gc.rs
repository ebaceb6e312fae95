//! The garbage collector, as the controller manager runs it with background propagation: a
//! little after an object is gone (never within the DELETE call), each dependent whose owner
//! references now name no existing object is deleted (finalizers respected); one that still has
//! another owner loses only the dangling reference.

use std::{sync::Arc, time::Duration};

use serde_json::{Value, json};

use super::{
    Shared,
    store::{ChangeKind, ObjectKey, Store},
    write,
};

/// How long after its owner is gone a dependent is collected: the real collector works from its
/// own watches, so clients see the owner gone while its dependents remain.
const DELAY: Duration = Duration::from_millis(200);

/// Collects, after `DELAY`, the dependents of every object removed so far.
pub(super) fn collect_later(shared: &Arc<Shared>) {
    if !shared.store.lock().expect("store lock").has_collectable() {
        return;
    }
    let shared = shared.clone();
    tokio::spawn(async move {
        tokio::time::sleep(DELAY).await;
        let mut store = shared.store.lock().expect("store lock");
        let now = write::now();
        // Collecting removes dependents, whose own dependents are collected in the same pass.
        loop {
            let removed = store.take_collectable();
            if removed.is_empty() {
                break;
            }
            for object in &removed {
                collect(&mut store, object, &now);
            }
        }
    });
}

/// Collects the dependents of `removed`, which left the store.
fn collect(store: &mut Store, removed: &Value, now: &str) {
    let Some(uid) = removed["metadata"]["uid"].as_str() else {
        return;
    };
    let namespace = removed["metadata"]["namespace"]
        .as_str()
        .unwrap_or_default();
    // A cluster-scoped owner's dependents may be in any namespace.
    let candidates = if namespace.is_empty() {
        store.keys()
    } else {
        store.keys_in_namespace(namespace)
    };
    for key in candidates {
        let Some(stored) = store.get(&key).cloned() else {
            continue;
        };
        let references = owner_references(&stored.object);
        if !references.iter().any(|r| r["uid"] == uid) {
            continue;
        }
        let remaining: Vec<Value> = references
            .into_iter()
            .filter(|r| r["uid"] != uid && exists(store, &key.namespace, &r["uid"]))
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
