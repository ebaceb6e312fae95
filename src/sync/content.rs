//! The configuration as the target holds it: the key it is stored under, `data` or `binaryData`,
//! its SHA-256, and the size limit of ConfigMaps and Secrets.

use base64::{Engine, engine::general_purpose::STANDARD};
use bytes::Bytes;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::api::v1alpha1::TargetKind;

/// The most a ConfigMap's or Secret's data may hold, as the API server enforces it.
pub const MAX_SIZE: usize = 1024 * 1024;

/// Served configuration bytes with what AppConfig said about them.
#[derive(Debug, Clone, PartialEq)]
pub struct Configuration {
    pub content: Bytes,
    pub content_type: Option<String>,
    pub version_label: Option<String>,
}

impl Configuration {
    pub fn sha256(&self) -> String {
        sha256_hex(&self.content)
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The key a configuration is stored under when the spec names none.
pub fn default_key(content_type: Option<&str>) -> &'static str {
    let media_type = content_type
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    match media_type.as_str() {
        "application/json" => "config.json",
        "application/x-yaml" | "application/yaml" | "text/yaml" => "config.yaml",
        "text/plain" => "config.txt",
        _ => "config",
    }
}

/// The `data` and `binaryData` members of the target holding `content` under `key`: text in
/// a ConfigMap's `data`, other bytes in its `binaryData`; a Secret's `data`, base64 as always.
pub fn data_members(kind: TargetKind, key: &str, content: &[u8]) -> Map<String, Value> {
    let mut members = Map::new();
    match (kind, std::str::from_utf8(content)) {
        (TargetKind::ConfigMap, Ok(text)) => {
            members.insert("data".into(), json!({ key: text }));
        }
        (TargetKind::ConfigMap, Err(_)) => {
            members.insert(
                "binaryData".into(),
                json!({ key: STANDARD.encode(content) }),
            );
        }
        (TargetKind::Secret, _) => {
            members.insert("data".into(), json!({ key: STANDARD.encode(content) }));
        }
    }
    members
}

/// The bytes a live target holds under `key`, whichever member they are in.
pub fn stored_bytes(kind: TargetKind, object: &Value, key: &str) -> Option<Vec<u8>> {
    match kind {
        TargetKind::ConfigMap => object["data"][key]
            .as_str()
            .map(|text| text.as_bytes().to_vec())
            .or_else(|| decode(&object["binaryData"][key])),
        TargetKind::Secret => decode(&object["data"][key]),
    }
}

fn decode(value: &Value) -> Option<Vec<u8>> {
    STANDARD.decode(value.as_str()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_the_media_type() {
        assert_eq!(default_key(Some("application/json")), "config.json");
        assert_eq!(
            default_key(Some("application/json; charset=utf-8")),
            "config.json"
        );
        for yaml in ["application/x-yaml", "application/yaml", "Text/YAML"] {
            assert_eq!(default_key(Some(yaml)), "config.yaml");
        }
        assert_eq!(default_key(Some("text/plain")), "config.txt");
        assert_eq!(default_key(Some("application/octet-stream")), "config");
        assert_eq!(default_key(None), "config");
    }

    #[test]
    fn text_goes_to_data_and_other_bytes_to_binary_data() {
        let text = data_members(TargetKind::ConfigMap, "k", b"{\"a\":1}");
        assert_eq!(
            Value::Object(text.clone()),
            json!({"data": {"k": "{\"a\":1}"}})
        );
        let binary = data_members(TargetKind::ConfigMap, "k", &[0xff, 0x00]);
        assert_eq!(
            Value::Object(binary.clone()),
            json!({"binaryData": {"k": "/wA="}})
        );
        let secret = data_members(TargetKind::Secret, "k", b"hi");
        assert_eq!(
            Value::Object(secret.clone()),
            json!({"data": {"k": "aGk="}})
        );
        for (kind, members, bytes) in [
            (TargetKind::ConfigMap, text, b"{\"a\":1}".to_vec()),
            (TargetKind::ConfigMap, binary, vec![0xff, 0x00]),
            (TargetKind::Secret, secret, b"hi".to_vec()),
        ] {
            assert_eq!(
                stored_bytes(kind, &Value::Object(members), "k"),
                Some(bytes)
            );
        }
    }

    #[test]
    fn sha256_is_lowercase_hex() {
        assert_eq!(
            sha256_hex(b"test"),
            "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
        );
    }
}
