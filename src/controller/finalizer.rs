//! The finalizer `appconfig.operators.dev/finalizer`, present exactly while deleting the resource
//! has something to do in AWS (`deletionPolicy: Stop`).

use kube::{
    Api, ResourceExt,
    api::{Patch, PatchParams},
};
use serde_json::json;

use super::Error;
use crate::api::{OPERATOR_PREFIX, v1alpha1::AppConfigDeployment};

pub fn name() -> String {
    format!("{OPERATOR_PREFIX}finalizer")
}

/// Adds or removes the finalizer so that its presence matches `wanted`; the object as patched,
/// when it had to change. The JSON patch tests the list it read, so a concurrent change by
/// someone else fails the patch instead of being lost.
pub async fn sync(
    api: &Api<AppConfigDeployment>,
    resource: &AppConfigDeployment,
    wanted: bool,
) -> Result<Option<AppConfigDeployment>, Error> {
    let finalizer = name();
    let current = resource.finalizers();
    let position = current.iter().position(|f| *f == finalizer);
    let operations = match (wanted, position) {
        (true, None) if current.is_empty() => json!([
            {"op": "test", "path": "/metadata/finalizers", "value": null},
            {"op": "add", "path": "/metadata/finalizers", "value": [finalizer]},
        ]),
        (true, None) => json!([
            {"op": "test", "path": "/metadata/finalizers", "value": current},
            {"op": "add", "path": "/metadata/finalizers/-", "value": finalizer},
        ]),
        (false, Some(i)) => json!([
            {"op": "test", "path": format!("/metadata/finalizers/{i}"), "value": finalizer},
            {"op": "remove", "path": format!("/metadata/finalizers/{i}")},
        ]),
        _ => return Ok(None),
    };
    let patch: json_patch::Patch =
        serde_json::from_value(operations).expect("the finalizer patch is well-formed");
    api.patch(
        &resource.name_any(),
        &PatchParams::default(),
        &Patch::Json::<()>(patch),
    )
    .await
    .map(Some)
    .map_err(Error::Finalizer)
}
