//! The write verbs (create, update, patch, apply, delete) with the API server's rules for system
//! metadata, the status subresource, generation, finalizers and namespace termination.

use serde_json::{Map, Value, json};

use super::{
    apply, core_validation,
    error::ApiError,
    fields::{Manager, Managers, Operation},
    owner_admission,
    patch::{self, PatchType},
    rbac::Grants,
    route::Route,
    store::{ChangeKind, ObjectKey, Store, Stored},
};

/// Metadata only the server sets; writes to the main resource keep the stored values.
const SYSTEM_METADATA: [&str; 9] = [
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "managedFields",
];

/// Who asked for a write: the manager name used for ownership, apply's options, and what the
/// client is granted when it is not an admin (admission checks it too).
pub(super) struct Writer<'a> {
    pub manager: &'a str,
    pub field_manager: Option<&'a str>,
    pub force: bool,
    pub grants: Option<&'a Grants>,
}

pub(super) fn create(
    store: &mut Store,
    route: &Route,
    body: Value,
    writer: &Writer,
) -> Result<Value, ApiError> {
    let mut object = as_object(body)?;
    let name = match object["metadata"]["name"]
        .as_str()
        .filter(|name| !name.is_empty())
    {
        Some(name) => name.to_string(),
        None => generate_name(store, route, &mut object)?,
    };
    let key = route.key(&name);
    let now = now();
    admit_new(store, &key, &mut object, writer, &now)?;
    let mut managers = Managers::default();
    let who = manager(writer.manager, Operation::Update, route);
    managers.record_update(&who, key.resource.api_version(), &json!({}), &object, &now);
    Ok(store.write(key, ChangeKind::Added, object, managers))
}

pub(super) fn update(
    store: &mut Store,
    route: &Route,
    name: &str,
    body: Value,
    writer: &Writer,
) -> Result<Value, ApiError> {
    let key = route.key(name);
    let old = existing(store, &key)?;
    let candidate = as_object(body)?;
    let resource_version = candidate["metadata"]["resourceVersion"]
        .as_str()
        .unwrap_or_default();
    if resource_version.is_empty() && !key.resource.allows_unconditional_update() {
        let detail =
            "metadata.resourceVersion: Invalid value: 0x0: must be specified for an update";
        return Err(ApiError::invalid(
            &key.resource,
            kind(&old.object),
            name,
            detail,
        ));
    }
    check_resource_version(&key, &old.object, &candidate)?;
    let who = manager(writer.manager, Operation::Update, route);
    finish(
        store,
        key,
        route,
        writer,
        old,
        candidate,
        Ownership::Update(who),
    )
}

/// Returns the object and whether the patch created it (server-side apply can).
pub(super) fn patch(
    store: &mut Store,
    route: &Route,
    name: &str,
    patch_type: PatchType,
    body: &[u8],
    writer: &Writer,
) -> Result<(Value, bool), ApiError> {
    let key = route.key(name);
    if patch_type == PatchType::Apply {
        return server_side_apply(store, route, key, body, writer);
    }
    if patch_type == PatchType::Strategic && !key.resource.supports_strategic_merge() {
        return Err(patch::strategic_merge_unsupported());
    }
    let old = existing(store, &key)?;
    let candidate = match patch_type {
        PatchType::Json => patch::json_patch(&old.object, body)?,
        _ => patch::merge_patch(&old.object, body)?,
    };
    check_resource_version(&key, &old.object, &candidate)?;
    let who = manager(writer.manager, Operation::Update, route);
    finish(
        store,
        key,
        route,
        writer,
        old,
        candidate,
        Ownership::Update(who),
    )
    .map(|object| (object, false))
}

fn server_side_apply(
    store: &mut Store,
    route: &Route,
    key: ObjectKey,
    body: &[u8],
    writer: &Writer,
) -> Result<(Value, bool), ApiError> {
    let field_manager = writer.field_manager.ok_or_else(|| {
        ApiError::bad_request("PATCH, application/apply-patch+yaml requests require fieldManager")
    })?;
    let config: Value =
        serde_json::from_slice(body).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let config = as_object(config)?;
    for member in ["apiVersion", "kind"] {
        if !config[member].is_string() {
            return Err(ApiError::bad_request(format!(
                "{member} must be set in an applied configuration"
            )));
        }
    }
    check_identity(&config, &key)?;
    let who = manager(field_manager, Operation::Apply, route);
    let scoped = apply::scope(
        &config,
        route.subresource.is_some(),
        key.resource.has_status(),
    );
    let api_version = key.resource.api_version().to_string();
    let now = now();
    let apply_onto = |live: &Value, managers: &Managers| {
        apply::apply(
            live,
            managers,
            &scoped,
            &who,
            writer.force,
            &api_version,
            &now,
        )
    };
    match store.get(&key).cloned() {
        None if route.subresource.is_some() => Err(ApiError::not_found(&key.resource, &key.name)),
        None => {
            if let Some(grants) = writer.grants {
                grants.authorize_create_on_apply(route, &key.name)?;
            }
            let (mut object, managers) = apply_onto(&json!({}), &Managers::default())?;
            object["apiVersion"] = config["apiVersion"].clone();
            object["kind"] = config["kind"].clone();
            metadata(&mut object).insert("name".into(), json!(key.name));
            admit_new(store, &key, &mut object, writer, &now)?;
            Ok((store.write(key, ChangeKind::Added, object, managers), true))
        }
        Some(old) => {
            check_resource_version(&key, &old.object, &config)?;
            let (candidate, managers) = apply_onto(&old.object, &old.managers)?;
            let object = finish(
                store,
                key,
                route,
                writer,
                old,
                candidate,
                Ownership::Applied(managers),
            )?;
            Ok((object, false))
        }
    }
}

pub(super) fn delete(
    store: &mut Store,
    route: &Route,
    name: &str,
    options: &Value,
) -> Result<Value, ApiError> {
    let key = route.key(name);
    let old = existing(store, &key)?;
    let preconditions = &options["preconditions"];
    for (member, label) in [("uid", "UID"), ("resourceVersion", "ResourceVersion")] {
        let live = old.object["metadata"][member].as_str().unwrap_or_default();
        if let Some(wanted) = preconditions[member].as_str()
            && wanted != live
        {
            let why = format!(
                "Precondition failed: {label} in precondition: {wanted}, {label} in object meta: {live}"
            );
            return Err(ApiError::conflict(&key.resource, name, &why));
        }
    }
    let now = now();
    if key.resource.is_namespace() {
        return Ok(terminate_namespace(store, key, old, &now));
    }
    Ok(delete_object(store, key, old, &now))
}

enum Ownership {
    Update(Manager),
    Applied(Managers),
}

/// The common end of every write to an existing object.
fn finish(
    store: &mut Store,
    key: ObjectKey,
    route: &Route,
    writer: &Writer,
    old: Stored,
    candidate: Value,
    ownership: Ownership,
) -> Result<Value, ApiError> {
    check_identity(&candidate, &key)?;
    core_validation::check(&key, &candidate)?;
    let resource = &key.resource;
    let mut new = if route.subresource.is_some() {
        let mut new = old.object.clone();
        copy_member(&mut new, &candidate, "status");
        new
    } else {
        let mut new = candidate;
        if resource.has_status() {
            copy_member(&mut new, &old.object, "status");
        }
        let old_metadata = &old.object["metadata"];
        let new_metadata = metadata(&mut new);
        for member in SYSTEM_METADATA {
            match old_metadata.get(member) {
                Some(value) => new_metadata.insert(member.into(), value.clone()),
                None => new_metadata.remove(member),
            };
        }
        new
    };
    let deleting = is_deleting(&old.object);
    if deleting {
        let before = finalizers(&old.object);
        let added: Vec<String> = finalizers(&new)
            .into_iter()
            .filter(|f| !before.contains(f))
            .collect();
        if !added.is_empty() {
            let listed = added
                .iter()
                .map(|f| format!("{f:?}"))
                .collect::<Vec<_>>()
                .join(", ");
            let detail = format!(
                "metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{{{listed}}}"
            );
            return Err(ApiError::invalid(
                resource,
                kind(&old.object),
                &key.name,
                &detail,
            ));
        }
    }
    if let Some(grants) = writer.grants {
        owner_admission::admit(store, grants, &key, Some(&old.object), &new)?;
    }
    if resource.tracks_generation() && spec(&new) != spec(&old.object) {
        let generation = old.object["metadata"]["generation"].as_i64().unwrap_or(0);
        metadata(&mut new).insert("generation".into(), json!(generation + 1));
    }
    let managers = match ownership {
        Ownership::Update(who) => {
            let mut managers = old.managers.clone();
            managers.record_update(&who, resource.api_version(), &old.object, &new, &now());
            managers
        }
        Ownership::Applied(managers) => managers,
    };
    // The API server skips writes that change nothing: no new resourceVersion, no watch event.
    if new == old.object && managers == old.managers {
        return Ok(old.object);
    }
    if deleting && removable(store, &key, &new) {
        let namespace = key.namespace.clone();
        let gone = remove(store, key, new, managers);
        reap_namespace(store, &namespace);
        return Ok(gone);
    }
    Ok(store.write(key, ChangeKind::Modified, new, managers))
}

/// Checks and system fields for an object about to be created.
fn admit_new(
    store: &Store,
    key: &ObjectKey,
    object: &mut Value,
    writer: &Writer,
    now: &str,
) -> Result<(), ApiError> {
    check_identity(object, key)?;
    core_validation::check(key, object)?;
    if object["metadata"]["resourceVersion"]
        .as_str()
        .is_some_and(|rv| !rv.is_empty())
    {
        return Err(ApiError::new(
            500,
            "InternalError",
            "resourceVersion should not be set on objects to be created",
        ));
    }
    if store
        .get(&namespace_key(&key.namespace))
        .is_some_and(|ns| is_deleting(&ns.object))
    {
        let why = format!(
            "unable to create new content in namespace {} because it is being terminated",
            key.namespace
        );
        return Err(ApiError::forbidden(&key.resource, &key.name, &why));
    }
    if store.get(key).is_some() {
        return Err(ApiError::already_exists(&key.resource, &key.name));
    }
    if let Some(grants) = writer.grants {
        owner_admission::admit(store, grants, key, None, object)?;
    }
    let resource = &key.resource;
    if !object["apiVersion"].is_string() {
        object["apiVersion"] = json!(resource.api_version());
    }
    if let (None, Some(kind)) = (object["kind"].as_str(), store.kind(resource)) {
        object["kind"] = json!(kind);
    }
    let metadata = metadata(object);
    for member in SYSTEM_METADATA {
        metadata.remove(member);
    }
    metadata.insert("name".into(), json!(key.name));
    if !key.namespace.is_empty() {
        metadata.insert("namespace".into(), json!(key.namespace));
    }
    metadata.insert("uid".into(), json!(uid()));
    metadata.insert("creationTimestamp".into(), json!(now));
    if resource.tracks_generation() {
        metadata.insert("generation".into(), json!(1));
    }
    if resource.is_namespace() {
        let labels = metadata.entry("labels").or_insert_with(|| json!({}));
        if !labels.is_object() {
            *labels = json!({});
        }
        labels["kubernetes.io/metadata.name"] = json!(key.name);
        object["spec"] = json!({"finalizers": ["kubernetes"]});
        object["status"] = json!({"phase": "Active"});
    } else if resource.has_status() {
        object
            .as_object_mut()
            .expect("checked to be an object")
            .remove("status");
    }
    Ok(())
}

/// Removes an object for good; the garbage collector finds its dependents a little later.
fn remove(store: &mut Store, key: ObjectKey, object: Value, managers: Managers) -> Value {
    let gone = store.write(key, ChangeKind::Deleted, object, managers);
    store.queue_for_collection(gone.clone());
    gone
}

pub(super) fn delete_object(store: &mut Store, key: ObjectKey, old: Stored, now: &str) -> Value {
    if removable(store, &key, &old.object) {
        let namespace = key.namespace.clone();
        let gone = remove(store, key, old.object, old.managers);
        reap_namespace(store, &namespace);
        return gone;
    }
    if is_deleting(&old.object) {
        return old.object;
    }
    let mut object = old.object;
    mark_deleting(&mut object, now);
    store.write(key, ChangeKind::Modified, object, old.managers)
}

/// A namespace turns Terminating, its content is deleted, and it goes once empty.
fn terminate_namespace(store: &mut Store, key: ObjectKey, old: Stored, now: &str) -> Value {
    let mut namespace = old.object;
    if !is_deleting(&namespace) {
        mark_deleting(&mut namespace, now);
        namespace["status"] = json!({"phase": "Terminating"});
        namespace = store.write(key.clone(), ChangeKind::Modified, namespace, old.managers);
    }
    for content in store.keys_in_namespace(&key.name) {
        if let Some(stored) = store.get(&content).cloned() {
            delete_object(store, content, stored, now);
        }
    }
    reap_namespace(store, &key.name);
    store
        .get(&key)
        .map_or(namespace, |stored| stored.object.clone())
}

fn reap_namespace(store: &mut Store, namespace: &str) {
    let key = namespace_key(namespace);
    if let Some(stored) = store.get(&key).cloned()
        && is_deleting(&stored.object)
        && removable(store, &key, &stored.object)
    {
        store.write(key, ChangeKind::Deleted, stored.object, stored.managers);
    }
}

/// Whether deleting `object` removes it now: no finalizers, and for a namespace no content left.
fn removable(store: &Store, key: &ObjectKey, object: &Value) -> bool {
    let has_content = key.resource.is_namespace() && !store.keys_in_namespace(&key.name).is_empty();
    finalizers(object).is_empty() && !has_content
}

fn mark_deleting(object: &mut Value, now: &str) {
    let metadata = metadata(object);
    metadata.insert("deletionTimestamp".into(), json!(now));
    metadata.insert("deletionGracePeriodSeconds".into(), json!(0));
}

fn namespace_key(namespace: &str) -> ObjectKey {
    ObjectKey {
        resource: super::resource::ResourceType::namespaces(),
        namespace: String::new(),
        name: namespace.to_string(),
    }
}

fn existing(store: &Store, key: &ObjectKey) -> Result<Stored, ApiError> {
    store
        .get(key)
        .cloned()
        .ok_or_else(|| ApiError::not_found(&key.resource, &key.name))
}

fn manager(name: &str, operation: Operation, route: &Route) -> Manager {
    Manager {
        name: name.to_string(),
        operation,
        subresource: route.subresource.clone(),
    }
}

fn as_object(body: Value) -> Result<Value, ApiError> {
    let mut object = body;
    if !object.is_object() {
        return Err(ApiError::bad_request(
            "the body of the request must be a JSON object",
        ));
    }
    metadata(&mut object);
    Ok(object)
}

/// The object's metadata map, created when missing.
fn metadata(object: &mut Value) -> &mut Map<String, Value> {
    if !object["metadata"].is_object() {
        object["metadata"] = json!({});
    }
    object["metadata"]
        .as_object_mut()
        .expect("just made an object")
}

fn copy_member(target: &mut Value, source: &Value, member: &str) {
    let target = target.as_object_mut().expect("objects are JSON objects");
    match source.get(member) {
        Some(value) => target.insert(member.into(), value.clone()),
        None => target.remove(member),
    };
}

fn check_identity(object: &Value, key: &ObjectKey) -> Result<(), ApiError> {
    if let Some(name) = object["metadata"]["name"].as_str()
        && name != key.name
    {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({name}) does not match the name on the URL ({})",
            key.name
        )));
    }
    if let Some(namespace) = object["metadata"]["namespace"].as_str()
        && !namespace.is_empty()
        && namespace != key.namespace
    {
        return Err(ApiError::bad_request(
            "the namespace of the provided object does not match the namespace sent on the request",
        ));
    }
    Ok(())
}

/// A resourceVersion in the written object is a precondition on the stored one.
fn check_resource_version(key: &ObjectKey, old: &Value, candidate: &Value) -> Result<(), ApiError> {
    match candidate["metadata"]["resourceVersion"].as_str() {
        Some(rv) if !rv.is_empty() && old["metadata"]["resourceVersion"] != rv => {
            Err(ApiError::modified(&key.resource, &key.name))
        }
        _ => Ok(()),
    }
}

fn generate_name(store: &Store, route: &Route, object: &mut Value) -> Result<String, ApiError> {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let Some(prefix) = object["metadata"]["generateName"]
        .as_str()
        .map(str::to_string)
    else {
        let detail = "metadata.name: Required value: name or generateName is required";
        return Err(ApiError::invalid(&route.resource, kind(object), "", detail));
    };
    loop {
        let suffix: String = (0..5)
            .map(|_| char::from(ALPHABET[fastrand::usize(..ALPHABET.len())]))
            .collect();
        let name = format!("{prefix}{suffix}");
        if store.get(&route.key(&name)).is_none() {
            metadata(object).insert("name".into(), json!(name));
            return Ok(name);
        }
    }
}

fn kind(object: &Value) -> &str {
    object["kind"].as_str().unwrap_or_default()
}

fn finalizers(object: &Value) -> Vec<String> {
    object["metadata"]["finalizers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f.as_str().map(str::to_string))
        .collect()
}

fn is_deleting(object: &Value) -> bool {
    object["metadata"].get("deletionTimestamp").is_some()
}

/// Everything but metadata and status: what `metadata.generation` counts changes of.
fn spec(object: &Value) -> Map<String, Value> {
    let mut spec = object.as_object().cloned().unwrap_or_default();
    spec.remove("metadata");
    spec.remove("status");
    spec
}

pub(super) fn now() -> String {
    timestamp(jiff::Timestamp::now().as_second())
}

/// A time as the API server writes it: RFC 3339, whole seconds, UTC.
pub(super) fn timestamp(unix_seconds: i64) -> String {
    jiff::Timestamp::from_second(unix_seconds)
        .expect("times the fake writes are within jiff's range")
        .to_string()
}

fn uid() -> String {
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        fastrand::u32(..),
        fastrand::u16(..),
        fastrand::u16(..0x1000),
        0x8000 | fastrand::u16(..0x4000),
        fastrand::u64(..1 << 48)
    )
}
