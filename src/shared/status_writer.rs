//! Status writes: server-side apply under the operator's field manager, only when the status
//! changes, and guarded by the resourceVersion last seen, so an operator acting on a stale copy
//! (a second replica, a cache behind the API server) is refused instead of overwriting newer
//! status.

use std::{fmt::Debug, time::Duration};

use kube::{
    Api, Resource, ResourceExt,
    api::{Patch, PatchParams},
};
use serde::{Serialize, de::DeserializeOwned};
use serde_json::json;

pub const FIELD_MANAGER: &str = "appconfig-operator";

/// How soon a reconcile whose write met a newer copy of its object runs again: the watch
/// delivers the current copy within moments.
pub const STALE_RETRY: Duration = Duration::from_millis(250);

/// A custom resource with a status subresource.
pub trait WithStatus: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug {
    type Status: Serialize + Clone + PartialEq;

    fn status(&self) -> Option<&Self::Status>;
}

pub struct StatusWriter<'a, K: WithStatus> {
    api: &'a Api<K>,
    name: String,
    resource_version: Option<String>,
    stored: Option<K::Status>,
}

impl<'a, K: WithStatus> StatusWriter<'a, K> {
    pub fn new(api: &'a Api<K>, resource: &K) -> Self {
        Self {
            api,
            name: resource.name_any(),
            resource_version: resource.resource_version(),
            stored: resource.status().cloned(),
        }
    }

    /// The object changed through another write (the finalizer).
    pub fn saw(&mut self, object: &K) {
        self.resource_version = object.resource_version();
    }

    pub fn resource_version(&self) -> Option<String> {
        self.resource_version.clone()
    }

    /// The status as last written or read.
    pub fn stored(&self) -> Option<&K::Status> {
        self.stored.as_ref()
    }

    /// Writes `status` unless it is what the object already holds; whether it wrote.
    pub async fn write(&mut self, status: &K::Status) -> Result<bool, kube::Error> {
        if self.stored.as_ref() == Some(status) {
            return Ok(false);
        }
        self.write_always(status).await.map(|()| true)
    }

    /// Writes `status` even if unchanged, to have the API server confirm that the copy this
    /// reconcile works from is current.
    pub async fn write_always(&mut self, status: &K::Status) -> Result<(), kube::Error> {
        let patch = json!({
            "apiVersion": K::api_version(&()),
            "kind": K::kind(&()),
            "metadata": {"resourceVersion": self.resource_version},
            "status": status,
        });
        let written = self
            .api
            .patch_status(
                &self.name,
                &PatchParams::apply(FIELD_MANAGER).force(),
                &Patch::Apply(patch),
            )
            .await?;
        self.resource_version = written.resource_version();
        self.stored = Some(status.clone());
        Ok(())
    }
}
