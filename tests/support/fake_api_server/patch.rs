//! The patch formats of a PATCH request, applied as the API server applies them.

use json_patch::PatchOperation;
use serde_json::Value;

use super::error::ApiError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum PatchType {
    Json,
    Merge,
    Strategic,
    Apply,
}

impl PatchType {
    pub fn from_content_type(content_type: &str) -> Option<Self> {
        match content_type.split(';').next().unwrap_or_default().trim() {
            "application/json-patch+json" => Some(Self::Json),
            "application/merge-patch+json" => Some(Self::Merge),
            "application/strategic-merge-patch+json" => Some(Self::Strategic),
            "application/apply-patch+yaml" => Some(Self::Apply),
            _ => None,
        }
    }
}

/// Custom resources have no Go type to drive a strategic merge, so the API server refuses it.
pub(super) fn strategic_merge_unsupported() -> ApiError {
    ApiError::new(
        415,
        "UnsupportedMediaType",
        "the body of the request was in an unknown format - accepted media types include: \
         application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml",
    )
}

/// RFC 6902, except that `test` of a missing member whose parent exists compares it with null,
/// as the API server's implementation does (and as kube's finalizer helper relies on).
pub(super) fn json_patch(document: &Value, body: &[u8]) -> Result<Value, ApiError> {
    let patch: json_patch::Patch =
        serde_json::from_slice(body).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let mut patched = document.clone();
    for operation in &patch.0 {
        if let PatchOperation::Test(test) = operation
            && test.value.is_null()
            && missing_with_parent(&patched, test.path.as_str())
        {
            continue;
        }
        json_patch::patch(&mut patched, std::slice::from_ref(operation))
            .map_err(|e| ApiError::new(422, "Invalid", e.to_string()))?;
    }
    Ok(patched)
}

fn missing_with_parent(document: &Value, pointer: &str) -> bool {
    let parent = pointer.rsplit_once('/').map_or("", |(parent, _)| parent);
    document.pointer(pointer).is_none() && document.pointer(parent).is_some()
}

/// RFC 7386. Strategic merge patches are served the same way, which replaces lists instead of
/// merging them by key.
pub(super) fn merge_patch(document: &Value, body: &[u8]) -> Result<Value, ApiError> {
    let patch: Value =
        serde_json::from_slice(body).map_err(|e| ApiError::bad_request(e.to_string()))?;
    if !patch.is_object() {
        return Err(ApiError::bad_request("a merge patch must be a JSON object"));
    }
    let mut patched = document.clone();
    json_patch::merge(&mut patched, &patch);
    Ok(patched)
}
