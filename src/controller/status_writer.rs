//! Status writes: server-side apply under the operator's field manager, only when the status
//! changes, and guarded by the resourceVersion last seen, so an operator acting on a stale copy
//! (a second replica, a cache behind the API server) is refused instead of overwriting newer
//! tracking.

use kube::{
    Api, ResourceExt,
    api::{Patch, PatchParams},
};
use serde_json::json;

use crate::api::v1alpha1::{AppConfigDeployment, AppConfigDeploymentStatus};

pub const FIELD_MANAGER: &str = "appconfig-operator";

pub struct StatusWriter<'a> {
    api: &'a Api<AppConfigDeployment>,
    name: String,
    resource_version: Option<String>,
    stored: Option<AppConfigDeploymentStatus>,
}

impl<'a> StatusWriter<'a> {
    pub fn new(api: &'a Api<AppConfigDeployment>, resource: &AppConfigDeployment) -> Self {
        Self {
            api,
            name: resource.name_any(),
            resource_version: resource.resource_version(),
            stored: resource.status.clone(),
        }
    }

    /// The object changed through another write (the finalizer).
    pub fn saw(&mut self, object: &AppConfigDeployment) {
        self.resource_version = object.resource_version();
    }

    pub fn resource_version(&self) -> Option<String> {
        self.resource_version.clone()
    }

    /// The status as last written or read.
    pub fn stored(&self) -> Option<&AppConfigDeploymentStatus> {
        self.stored.as_ref()
    }

    /// Writes `status` unless it is what the object already holds.
    pub async fn write(&mut self, status: &AppConfigDeploymentStatus) -> Result<(), kube::Error> {
        if self.stored.as_ref() == Some(status) {
            return Ok(());
        }
        self.write_always(status).await
    }

    /// Writes `status` even if unchanged, to have the API server confirm that the copy this
    /// reconcile works from is current.
    pub async fn write_always(
        &mut self,
        status: &AppConfigDeploymentStatus,
    ) -> Result<(), kube::Error> {
        let patch = json!({
            "apiVersion": "appconfig.operators.dev/v1alpha1",
            "kind": "AppConfigDeployment",
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
