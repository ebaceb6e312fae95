//! The bytes a resource declares: spec.content, or a key of a ConfigMap in its namespace.

use bytes::Bytes;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::{Api, Client};
use sha2::{Digest, Sha256};

use super::ContentError;
use crate::api::v1alpha1::{AppConfigDeploymentSpec, ConfigMapKeyRef, ContentSource};

/// Content read for a resource, with what identifies it among a profile's hosted versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Content {
    pub bytes: Bytes,
    /// SHA-256 of `bytes`, lowercase hex.
    pub sha256: String,
    pub content_type: String,
    pub label: Option<String>,
}

impl Content {
    pub fn new(bytes: Bytes, spec: &AppConfigDeploymentSpec) -> Self {
        Self {
            sha256: sha256_hex(&bytes),
            bytes,
            content_type: spec.content_type().to_owned(),
            label: spec.version_label.clone(),
        }
    }
}

/// The content of `source`, described as `spec` says, refused when it is larger than `limit`
/// bytes (the hosted store's quota) before anything is sent to AWS.
pub async fn read(
    client: &Client,
    namespace: &str,
    spec: &AppConfigDeploymentSpec,
    source: ContentSource<'_>,
    limit: usize,
) -> Result<Content, ContentError> {
    let bytes = match source {
        ContentSource::Inline(text) => Bytes::copy_from_slice(text.as_bytes()),
        ContentSource::ConfigMap(reference) => {
            from_config_map(client, namespace, reference).await?
        }
    };
    let content = Content::new(bytes, spec);
    if content.bytes.len() > limit {
        return Err(ContentError::TooLarge {
            size: content.bytes.len(),
            limit,
            sha256: content.sha256,
        });
    }
    Ok(content)
}

async fn from_config_map(
    client: &Client,
    namespace: &str,
    reference: &ConfigMapKeyRef,
) -> Result<Bytes, ContentError> {
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), namespace);
    let config_map = api
        .get_opt(&reference.name)
        .await
        .map_err(|source| ContentError::Kubernetes {
            name: reference.name.clone(),
            source,
        })?
        .ok_or_else(|| ContentError::ConfigMapNotFound {
            name: reference.name.clone(),
        })?;
    let text = config_map
        .data
        .as_ref()
        .and_then(|data| data.get(&reference.key))
        .map(|text| Bytes::copy_from_slice(text.as_bytes()));
    let binary = || {
        config_map
            .binary_data
            .as_ref()
            .and_then(|data| data.get(&reference.key))
            .map(|bytes| Bytes::copy_from_slice(&bytes.0))
    };
    text.or_else(binary)
        .ok_or_else(|| ContentError::KeyNotFound {
            name: reference.name.clone(),
            key: reference.key.clone(),
            keys: keys(&config_map),
        })
}

/// The keys a ConfigMap has, data and binaryData, sorted.
fn keys(config_map: &ConfigMap) -> Vec<String> {
    let data = config_map.data.iter().flat_map(|d| d.keys());
    let binary = config_map.binary_data.iter().flat_map(|d| d.keys());
    let mut keys: Vec<String> = data.chain(binary).cloned().collect();
    keys.sort();
    keys
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_the_sha256_of_the_bytes_in_hex() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn missing_keys_are_reported_with_the_keys_there_are() {
        let config_map: ConfigMap = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "flags"},
            "data": {"b.json": "{}"},
            "binaryData": {"a.bin": "AAE="},
        }))
        .unwrap();
        assert_eq!(keys(&config_map), ["a.bin", "b.json"]);
    }
}
