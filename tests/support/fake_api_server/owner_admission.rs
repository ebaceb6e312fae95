//! The OwnerReferencesPermissionEnforcement admission plugin, which many clusters enable
//! (OpenShift among them): an update that changes owner references needs `delete` on the object
//! (a create needs nothing more: its creator could have set them anyway), and a write that makes
//! an owner reference block its owner's deletion (`blockOwnerDeletion: true` on a new reference,
//! or on one that did not block before) needs `update` on the owner's `<plural>/finalizers`, by
//! name, in the owner's namespace.

use std::collections::HashMap;

use serde_json::Value;

use super::{
    error::ApiError,
    rbac::{Access, Grants},
    store::{ObjectKey, Store},
};

/// Admits `new` (replacing `old`, when there was one) for a client holding `grants`.
pub(super) fn admit(
    store: &Store,
    grants: &Grants,
    key: &ObjectKey,
    old: Option<&Value>,
    new: &Value,
) -> Result<(), ApiError> {
    if let Some(old) = old
        && references(old) != references(new)
    {
        let deleting = Access {
            group: key.resource.group().to_owned(),
            resource: key.resource.plural.clone(),
            verb: "delete".to_owned(),
            namespace: Some(key.namespace.clone()).filter(|ns| !ns.is_empty()),
            name: Some(key.name.clone()),
        };
        if !grants.allows(deleting) {
            return Err(refusal(
                key,
                "cannot set an ownerRef on a resource you can't delete",
            ));
        }
    }
    let blocking_before: HashMap<&str, bool> = old
        .map(references)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|r| Some((r["uid"].as_str()?, blocks(r))))
        .collect();
    let newly_blocking = references(new).into_iter().filter(|r| {
        blocks(r)
            && r["uid"]
                .as_str()
                .is_none_or(|uid| blocking_before.get(uid) != Some(&true))
    });
    for reference in newly_blocking {
        if !grants.allows(finalizers_of(store, key, reference)) {
            return Err(refusal(
                key,
                "cannot set blockOwnerDeletion if an ownerReference refers to a resource you can't set finalizers on",
            ));
        }
    }
    Ok(())
}

/// The plugin's 403: what was refused, then the authorizer's reason and error, of which RBAC
/// gives none.
fn refusal(key: &ObjectKey, what: &str) -> ApiError {
    ApiError::forbidden(&key.resource, &key.name, &format!("{what}: , <nil>"))
}

/// Updating the finalizers of the object `reference` names: its resource is the stored
/// owner's with that uid or, for an owner not found, the kind's lowercase plural, as the API
/// server's REST mapper names a regular kind.
fn finalizers_of(store: &Store, dependent: &ObjectKey, reference: &Value) -> Access {
    let owner = reference["uid"]
        .as_str()
        .and_then(|uid| store.find_by_uid(uid));
    let (group, plural, namespace) = match owner {
        Some(owner) => (
            owner.resource.group().to_owned(),
            owner.resource.plural.clone(),
            owner.namespace.clone(),
        ),
        None => {
            let api_version = reference["apiVersion"].as_str().unwrap_or_default();
            let group = api_version
                .rsplit_once('/')
                .map_or("", |(group, _)| group)
                .to_owned();
            let kind = reference["kind"].as_str().unwrap_or_default();
            // An owner is in its dependent's namespace, or cluster-scoped with its dependent.
            let namespace = dependent.namespace.clone();
            (group, format!("{}s", kind.to_lowercase()), namespace)
        }
    };
    Access {
        group,
        resource: format!("{plural}/finalizers"),
        verb: "update".to_owned(),
        namespace: Some(namespace).filter(|ns| !ns.is_empty()),
        name: reference["name"].as_str().map(str::to_owned),
    }
}

fn references(object: &Value) -> Vec<&Value> {
    object["metadata"]["ownerReferences"]
        .as_array()
        .into_iter()
        .flatten()
        .collect()
}

fn blocks(reference: &Value) -> bool {
    reference["blockOwnerDeletion"] == true
}
