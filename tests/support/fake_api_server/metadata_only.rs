//! Metadata-only reads (`Accept: application/json;as=PartialObjectMetadata[List];g=meta.k8s.io;
//! v=v1`), which clients use to watch many objects without their content: the API server answers
//! with `meta.k8s.io/v1` objects that hold only `metadata`.

use serde_json::{Value, json};

/// Whether the request asks for metadata only.
pub(super) fn requested(headers: &http::HeaderMap) -> bool {
    headers
        .get_all(http::header::ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|media| {
            media
                .split(';')
                .any(|param| param.trim().starts_with("as=PartialObjectMetadata"))
        })
}

/// One object as a PartialObjectMetadata.
pub(super) fn object(object: &Value) -> Value {
    json!({
        "apiVersion": "meta.k8s.io/v1",
        "kind": "PartialObjectMetadata",
        "metadata": object["metadata"],
    })
}

/// A list as a PartialObjectMetadataList.
pub(super) fn list(list: &Value) -> Value {
    let items: Vec<Value> = list["items"]
        .as_array()
        .map(|items| items.iter().map(object).collect())
        .unwrap_or_default();
    json!({
        "apiVersion": "meta.k8s.io/v1",
        "kind": "PartialObjectMetadataList",
        "metadata": list["metadata"],
        "items": items,
    })
}
