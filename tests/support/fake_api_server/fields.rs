//! Field ownership for server-side apply: the leaf paths an object sets, which manager owns
//! which of them, and their rendering as `metadata.managedFields`.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

/// One step into an object: a member, or the item of a keyed list whose `type` is the given value.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Segment {
    Field(String),
    Item(String),
}

pub(super) type Path = Vec<Segment>;
pub(super) type FieldSet = BTreeSet<Path>;

/// The metadata members field management tracks; the rest belong to the server.
pub(super) const TRACKED_METADATA: [&str; 4] =
    ["labels", "annotations", "finalizers", "ownerReferences"];

/// Lists whose items all carry a `type` (conditions) merge by it, like `listType: map`; every
/// other list is atomic.
pub(super) fn is_keyed_list(items: &[Value]) -> bool {
    !items.is_empty() && items.iter().all(|item| item["type"].is_string())
}

pub(super) fn is_item(path: &[Segment]) -> bool {
    matches!(path.last(), Some(Segment::Item(_)))
}

/// The paths an object sets: leaves, plus each keyed-list item itself.
pub(super) fn field_set(object: &Value) -> FieldSet {
    let mut fields = FieldSet::new();
    for (key, value) in object.as_object().into_iter().flatten() {
        match key.as_str() {
            "apiVersion" | "kind" => {}
            "metadata" => {
                for member in TRACKED_METADATA {
                    if let Some(value) = value.get(member) {
                        let path = vec![Segment::Field(key.clone()), Segment::Field(member.into())];
                        collect(value, path, &mut fields);
                    }
                }
            }
            _ => collect(value, vec![Segment::Field(key.clone())], &mut fields),
        }
    }
    fields
}

fn collect(value: &Value, path: Path, fields: &mut FieldSet) {
    match value {
        Value::Object(members) if !members.is_empty() => {
            for (key, value) in members {
                collect(value, child(&path, Segment::Field(key.clone())), fields);
            }
        }
        Value::Array(items) if is_keyed_list(items) => {
            for item in items {
                let path = child(&path, Segment::Item(item_key(item)));
                fields.insert(path.clone());
                collect(item, path, fields);
            }
        }
        _ => {
            fields.insert(path);
        }
    }
}

fn child(path: &[Segment], segment: Segment) -> Path {
    let mut child = path.to_vec();
    child.push(segment);
    child
}

fn item_key(item: &Value) -> String {
    item["type"].as_str().unwrap_or_default().to_string()
}

pub(super) fn lookup<'a>(value: &'a Value, path: &[Segment]) -> Option<&'a Value> {
    path.iter().try_fold(value, |value, segment| match segment {
        Segment::Field(name) => value.get(name),
        Segment::Item(key) => value
            .as_array()?
            .iter()
            .find(|item| item["type"] == key.as_str()),
    })
}

fn lookup_mut<'a>(value: &'a mut Value, path: &[Segment]) -> Option<&'a mut Value> {
    path.iter().try_fold(value, |value, segment| match segment {
        Segment::Field(name) => value.get_mut(name),
        Segment::Item(key) => value
            .as_array_mut()?
            .iter_mut()
            .find(|item| item["type"] == key.as_str()),
    })
}

/// Removes the member or item at `path`, and the containers that leaves empty, as server-side
/// apply prunes what a manager stopped applying.
pub(super) fn remove(value: &mut Value, path: &[Segment]) {
    let Some((last, parent)) = path.split_last() else {
        return;
    };
    let emptied = match (last, lookup_mut(value, parent)) {
        (Segment::Field(name), Some(Value::Object(members))) => {
            members.remove(name).is_some() && members.is_empty()
        }
        (Segment::Item(key), Some(Value::Array(items))) => {
            let before = items.len();
            items.retain(|item| item["type"] != key.as_str());
            items.len() < before && items.is_empty()
        }
        _ => false,
    };
    if emptied {
        remove(value, parent);
    }
}

/// A path as conflict messages print it: `.status.conditions[type="Ready"].status`.
pub(super) fn display(path: &[Segment]) -> String {
    path.iter()
        .map(|segment| match segment {
            Segment::Field(name) => format!(".{name}"),
            Segment::Item(key) => format!("[type={key:?}]"),
        })
        .collect()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Operation {
    Apply,
    Update,
}

/// Who wrote: managed-fields entries are kept per manager, operation and subresource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Manager {
    pub name: String,
    pub operation: Operation,
    pub subresource: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub(super) struct ManagedEntry {
    pub who: Manager,
    pub api_version: String,
    pub time: String,
    pub fields: FieldSet,
}

impl ManagedEntry {
    /// The manager as the API server names it in conflict messages.
    pub fn describe(&self) -> String {
        match self.who.operation {
            Operation::Apply => format!("{:?}", self.who.name),
            Operation::Update => format!("{:?} using {}", self.who.name, self.api_version),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct Managers(Vec<ManagedEntry>);

impl Managers {
    pub fn others<'a>(&'a self, who: &'a Manager) -> impl Iterator<Item = &'a ManagedEntry> {
        self.0.iter().filter(move |entry| entry.who != *who)
    }

    pub fn fields(&self, who: &Manager) -> FieldSet {
        self.0
            .iter()
            .find(|entry| entry.who == *who)
            .map(|entry| entry.fields.clone())
            .unwrap_or_default()
    }

    /// Whether a manager other than `who` owns `path` or anything under it.
    pub fn owned_by_other(&self, who: &Manager, path: &Path) -> bool {
        self.others(who).any(|entry| {
            entry
                .fields
                .range(path.clone()..)
                .next()
                .is_some_and(|owned| owned.starts_with(path))
        })
    }

    /// Makes `fields` exactly what `who` owns; the entry's time moves only when they change.
    pub fn set(&mut self, who: &Manager, api_version: &str, fields: FieldSet, now: &str) {
        match self.0.iter_mut().find(|entry| entry.who == *who) {
            Some(entry) if entry.fields != fields => {
                entry.fields = fields;
                entry.api_version = api_version.to_string();
                entry.time = now.to_string();
            }
            Some(_) => {}
            None => self.0.push(ManagedEntry {
                who: who.clone(),
                api_version: api_version.to_string(),
                time: now.to_string(),
                fields,
            }),
        }
        self.0.retain(|entry| !entry.fields.is_empty());
    }

    /// Takes `paths` away from every manager but `who`.
    pub fn release(&mut self, who: &Manager, paths: &FieldSet) {
        for entry in self.0.iter_mut().filter(|entry| entry.who != *who) {
            entry.fields.retain(|path| !paths.contains(path));
        }
        self.0.retain(|entry| !entry.fields.is_empty());
    }

    /// Ownership after a non-apply write: the writer takes every field it changed, and removed
    /// fields are owned by nobody.
    pub fn record_update(
        &mut self,
        who: &Manager,
        api_version: &str,
        old: &Value,
        new: &Value,
        now: &str,
    ) {
        let before = field_set(old);
        let after = field_set(new);
        let changed: FieldSet = after
            .iter()
            .filter(|path| {
                if is_item(path) {
                    !before.contains(*path)
                } else {
                    lookup(old, path) != lookup(new, path)
                }
            })
            .cloned()
            .collect();
        let removed: FieldSet = before.difference(&after).cloned().collect();
        self.release(who, &changed);
        self.release(who, &removed);
        let mut mine = self.fields(who);
        mine.retain(|path| !removed.contains(path));
        mine.extend(changed);
        self.set(who, api_version, mine, now);
    }

    /// `metadata.managedFields`, or `None` when nobody owns anything.
    pub fn render(&self) -> Option<Value> {
        let entries = self.0.iter().map(|entry| {
            let mut rendered = json!({
                "manager": entry.who.name,
                "operation": match entry.who.operation {
                    Operation::Apply => "Apply",
                    Operation::Update => "Update",
                },
                "apiVersion": entry.api_version,
                "time": entry.time,
                "fieldsType": "FieldsV1",
                "fieldsV1": fields_v1(&entry.fields),
            });
            if let Some(subresource) = &entry.who.subresource {
                rendered["subresource"] = json!(subresource);
            }
            rendered
        });
        (!self.0.is_empty()).then(|| entries.collect())
    }
}

/// The `FieldsV1` trie: `f:<member>`, `k:{"type":...}` for keyed items, `.` for an item itself.
fn fields_v1(fields: &FieldSet) -> Value {
    let mut root = Map::new();
    for path in fields {
        let mut node = &mut root;
        for segment in path {
            let key = match segment {
                Segment::Field(name) => format!("f:{name}"),
                Segment::Item(key) => format!("k:{}", json!({"type": key})),
            };
            node = node
                .entry(key)
                .or_insert_with(|| json!({}))
                .as_object_mut()
                .expect("trie nodes are objects");
        }
        if is_item(path) {
            node.insert(".".into(), json!({}));
        }
    }
    Value::Object(root)
}
