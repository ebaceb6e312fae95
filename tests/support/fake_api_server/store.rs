//! The stored objects, the resourceVersion counter, and the change history that watches replay.

use std::{
    collections::{BTreeMap, HashMap, VecDeque},
    sync::Arc,
};

use serde_json::{Value, json};
use tokio::sync::broadcast;

use super::{error::ApiError, fields::Managers, resource::ResourceType};

/// Changes kept for watches to resume from; older resourceVersions answer 410 Gone.
const HISTORY_LIMIT: usize = 10_000;

/// How far a watch may fall behind before it is closed, as the API server closes slow watchers.
pub(super) const WATCH_BUFFER: usize = 1_024;

/// Where an object lives; `namespace` is empty for cluster-scoped objects. The ordering (resource,
/// namespace, name) is the order lists return objects in, as etcd keys sort.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct ObjectKey {
    pub resource: ResourceType,
    pub namespace: String,
    pub name: String,
}

#[derive(Clone)]
pub(super) struct Stored {
    pub object: Value,
    pub managers: Managers,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum ChangeKind {
    Added,
    Modified,
    Deleted,
}

pub(super) struct Change {
    pub resource_version: u64,
    pub kind: ChangeKind,
    pub key: ObjectKey,
    pub object: Value,
    /// The object before the change, so that selector watches can see it enter or leave.
    pub previous: Option<Value>,
    /// When the change was made, which a watch delivers some time after.
    pub at: tokio::time::Instant,
}

/// The changes a new watch replays, and the receiver of those that follow.
pub(super) type Subscription = (Vec<Arc<Change>>, broadcast::Receiver<Arc<Change>>);

pub(super) struct Store {
    objects: BTreeMap<ObjectKey, Stored>,
    /// The kind of each resource, learnt from the objects written, for lists and bookmarks.
    kinds: HashMap<ResourceType, String>,
    resource_version: u64,
    history: VecDeque<Arc<Change>>,
    /// Watches must start at or after this resourceVersion: later changes are all in `history`.
    watchable_from: u64,
    changes: broadcast::Sender<Arc<Change>>,
    pages: HashMap<String, (u64, Vec<Value>)>,
    next_page: u64,
    /// Objects gone whose dependents the garbage collector has not looked at yet.
    collectable: Vec<Value>,
}

impl Default for Store {
    fn default() -> Self {
        Self {
            objects: BTreeMap::new(),
            kinds: HashMap::new(),
            resource_version: 0,
            history: VecDeque::new(),
            watchable_from: 0,
            changes: broadcast::channel(WATCH_BUFFER).0,
            pages: HashMap::new(),
            next_page: 0,
            collectable: Vec::new(),
        }
    }
}

impl Store {
    pub fn resource_version(&self) -> u64 {
        self.resource_version
    }

    pub fn get(&self, key: &ObjectKey) -> Option<&Stored> {
        self.objects.get(key)
    }

    pub fn kind(&self, resource: &ResourceType) -> Option<&str> {
        self.kinds.get(resource).map(String::as_str)
    }

    /// The objects of a resource, in one namespace or in all of them.
    pub fn list<'a>(
        &'a self,
        resource: &'a ResourceType,
        namespace: Option<&'a str>,
    ) -> impl Iterator<Item = &'a Value> + 'a {
        self.objects
            .iter()
            .filter(move |(key, _)| {
                key.resource == *resource && namespace.is_none_or(|ns| key.namespace == ns)
            })
            .map(|(_, stored)| &stored.object)
    }

    /// The key of the object with this uid, if it exists.
    pub fn find_by_uid(&self, uid: &str) -> Option<&ObjectKey> {
        self.objects
            .iter()
            .find(|(_, stored)| stored.object["metadata"]["uid"] == uid)
            .map(|(key, _)| key)
    }

    /// Every object's key, in every namespace and at cluster scope.
    pub fn keys(&self) -> Vec<ObjectKey> {
        self.objects.keys().cloned().collect()
    }

    /// `removed` left the store; the garbage collector will look for its dependents.
    pub fn queue_for_collection(&mut self, removed: Value) {
        self.collectable.push(removed);
    }

    pub fn has_collectable(&self) -> bool {
        !self.collectable.is_empty()
    }

    pub fn take_collectable(&mut self) -> Vec<Value> {
        std::mem::take(&mut self.collectable)
    }

    pub fn keys_in_namespace(&self, namespace: &str) -> Vec<ObjectKey> {
        self.objects
            .keys()
            .filter(|key| key.namespace == namespace)
            .cloned()
            .collect()
    }

    /// Commits one change under a new resourceVersion and tells the watches; returns the object
    /// as stored (or, for a deletion, as last seen).
    pub fn write(
        &mut self,
        key: ObjectKey,
        kind: ChangeKind,
        mut object: Value,
        managers: Managers,
    ) -> Value {
        self.resource_version += 1;
        let metadata = object["metadata"]
            .as_object_mut()
            .expect("stored objects have metadata");
        metadata.insert(
            "resourceVersion".into(),
            json!(self.resource_version.to_string()),
        );
        match managers.render() {
            Some(managed_fields) => metadata.insert("managedFields".into(), managed_fields),
            None => metadata.remove("managedFields"),
        };
        if let Some(name) = object["kind"].as_str() {
            self.kinds
                .entry(key.resource.clone())
                .or_insert_with(|| name.to_string());
        }
        let previous = match kind {
            ChangeKind::Deleted => self.objects.remove(&key),
            ChangeKind::Added | ChangeKind::Modified => {
                let stored = Stored {
                    object: object.clone(),
                    managers,
                };
                self.objects.insert(key.clone(), stored)
            }
        };
        let change = Arc::new(Change {
            resource_version: self.resource_version,
            kind,
            key,
            object: object.clone(),
            previous: previous.map(|stored| stored.object),
            at: tokio::time::Instant::now(),
        });
        if self.history.len() == HISTORY_LIMIT
            && let Some(evicted) = self.history.pop_front()
        {
            self.watchable_from = evicted.resource_version;
        }
        self.history.push_back(change.clone());
        // Nobody watching is fine; a watch that lags too far is closed by its receiver.
        let _ = self.changes.send(change);
        object
    }

    /// The changes after `from` and a receiver for the ones to come, or 410 Gone when `from` is
    /// older than the history.
    pub fn watch_from(&self, from: u64) -> Result<Subscription, ApiError> {
        if from < self.watchable_from {
            return Err(ApiError::expired(format!(
                "too old resource version: {from} ({})",
                self.watchable_from
            )));
        }
        let replay = self
            .history
            .iter()
            .filter(|change| change.resource_version > from)
            .cloned()
            .collect();
        Ok((replay, self.changes.subscribe()))
    }

    /// Forgets the watch history and ends every watch, as an API server restart does.
    pub fn restart(&mut self) {
        self.history.clear();
        self.watchable_from = self.resource_version;
        self.changes = broadcast::channel(WATCH_BUFFER).0;
    }

    /// Keeps the rest of a paginated list for the continue token returned.
    pub fn save_page(&mut self, resource_version: u64, items: Vec<Value>) -> String {
        self.next_page += 1;
        let token = format!("page-{}", self.next_page);
        self.pages.insert(token.clone(), (resource_version, items));
        token
    }

    pub fn take_page(&mut self, token: &str) -> Option<(u64, Vec<Value>)> {
        self.pages.remove(token)
    }
}
