//! Server-side apply: merging an applied configuration into the live object, with field
//! ownership, conflicts between managers and removal of fields a manager stopped applying.

use serde_json::{Map, Value, json};

use super::{
    error::ApiError,
    fields::{self, FieldSet, Manager, Managers, Path, Segment, TRACKED_METADATA},
};

/// The part of an applied configuration an endpoint persists: the main resource resets status
/// when the resource has a status subresource, and the status subresource resets all but status.
pub(super) fn scope(config: &Value, status_only: bool, has_status: bool) -> Value {
    let mut scoped = Map::new();
    for (key, value) in config.as_object().into_iter().flatten() {
        let value = match key.as_str() {
            "apiVersion" | "kind" => continue,
            "status" if status_only || !has_status => value.clone(),
            _ if status_only || key == "status" => continue,
            "metadata" => {
                let tracked = TRACKED_METADATA
                    .iter()
                    .filter_map(|member| Some((member.to_string(), value.get(*member)?.clone())));
                Value::Object(tracked.collect())
            }
            _ => value.clone(),
        };
        scoped.insert(key.clone(), value);
    }
    without_nulls(Value::Object(scoped))
}

/// Applies `config` (already scoped) as `who` over `live`, returning the merged object and the
/// new ownership.
pub(super) fn apply(
    live: &Value,
    managers: &Managers,
    config: &Value,
    who: &Manager,
    force: bool,
    api_version: &str,
    now: &str,
) -> Result<(Value, Managers), ApiError> {
    let applied = fields::field_set(config);
    let conflicts: Vec<(String, &Path)> = managers
        .others(who)
        .flat_map(|entry| {
            entry
                .fields
                .intersection(&applied)
                .filter(|path| !fields::is_item(path))
                .filter(|path| fields::lookup(live, path) != fields::lookup(config, path))
                .map(|path| (entry.describe(), path))
        })
        .collect();
    if !conflicts.is_empty() && !force {
        return Err(conflict_error(&conflicts));
    }
    let forced: FieldSet = conflicts.iter().map(|(_, path)| (*path).clone()).collect();
    let mut managers = managers.clone();
    managers.release(who, &forced);

    let mut object = live.clone();
    let dropped: Vec<Path> = managers
        .fields(who)
        .difference(&applied)
        .filter(|path| !managers.owned_by_other(who, path))
        .cloned()
        .collect();
    // Whole items go first, so that removing their leaves cannot strip the `type` that finds them.
    let (items, leaves): (Vec<_>, Vec<_>) =
        dropped.into_iter().partition(|path| fields::is_item(path));
    for path in items
        .iter()
        .chain(leaves.iter().filter(|path| !is_item_key(path)))
    {
        fields::remove(&mut object, path);
    }
    merge(&mut object, config);
    managers.set(who, api_version, applied, now);
    Ok((object, managers))
}

fn is_item_key(path: &[Segment]) -> bool {
    path.ends_with(&[Segment::Field("type".into())]) && fields::is_item(&path[..path.len() - 1])
}

fn merge(target: &mut Value, applied: &Value) {
    match (target, applied) {
        (Value::Object(target), Value::Object(applied)) => {
            for (key, value) in applied {
                match target.get_mut(key) {
                    Some(existing) => merge(existing, value),
                    None => {
                        target.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        (Value::Array(target), Value::Array(applied))
            if fields::is_keyed_list(applied) && fields::is_keyed_list(target) =>
        {
            for item in applied {
                match target
                    .iter_mut()
                    .find(|existing| existing["type"] == item["type"])
                {
                    Some(existing) => merge(existing, item),
                    None => target.push(item.clone()),
                }
            }
        }
        (target, applied) => *target = applied.clone(),
    }
}

/// Typed Kubernetes objects decode `null` as unset, so an applied `null` sets and owns nothing.
fn without_nulls(value: Value) -> Value {
    match value {
        Value::Object(members) => Value::Object(
            members
                .into_iter()
                .filter(|(_, value)| !value.is_null())
                .map(|(key, value)| (key, without_nulls(value)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(without_nulls).collect()),
        other => other,
    }
}

fn conflict_error(conflicts: &[(String, &Path)]) -> ApiError {
    let detail = match conflicts {
        [(manager, path)] => format!("conflict with {manager}: {}", fields::display(path)),
        _ => {
            let mut managers: Vec<&String> = conflicts.iter().map(|(manager, _)| manager).collect();
            managers.sort();
            managers.dedup();
            let lines = managers.into_iter().flat_map(|manager| {
                let paths = conflicts
                    .iter()
                    .filter(move |(owner, _)| owner == manager)
                    .map(|(_, path)| format!("- {}", fields::display(path)));
                std::iter::once(format!("conflicts with {manager}:")).chain(paths)
            });
            lines.collect::<Vec<_>>().join("\n")
        }
    };
    let count = conflicts.len();
    let plural = if count == 1 { "" } else { "s" };
    let causes: Vec<Value> = conflicts
        .iter()
        .map(|(manager, path)| {
            json!({
                "type": "FieldManagerConflict",
                "message": format!("conflict with {manager}"),
                "field": fields::display(path),
            })
        })
        .collect();
    ApiError::new(
        409,
        "Conflict",
        format!("Apply failed with {count} conflict{plural}: {detail}"),
    )
    .with_details(json!({"causes": causes}))
}
