//! The API server's validation of ConfigMaps and Secrets that a client can run into: key format,
//! a key in both `data` and `binaryData`, base64 Secret data, and the 1 MiB size limit; and of
//! ServiceAccount names; worded as the API server words them.

use base64::{Engine, engine::general_purpose::STANDARD};
use serde_json::Value;

use super::{error::ApiError, store::ObjectKey};

/// The most a ConfigMap's or Secret's data may hold.
const MAX_SIZE: usize = 1024 * 1024;

pub(super) fn check(key: &ObjectKey, object: &Value) -> Result<(), ApiError> {
    let resource = &key.resource;
    if !resource.group().is_empty() {
        return Ok(());
    }
    match resource.plural.as_str() {
        "configmaps" => config_map(key, object),
        "secrets" => secret(key, object),
        "serviceaccounts" => subdomain_name(key, "ServiceAccount"),
        _ => Ok(()),
    }
}

/// The API server's `NameIsDNSSubdomain`: each rule broken is one field error.
fn subdomain_name(key: &ObjectKey, kind: &str) -> Result<(), ApiError> {
    const MAX_LENGTH: usize = 253;
    let name = &key.name;
    let label = |label: &str| {
        let alphanumeric =
            |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
        alphanumeric(label.chars().next())
            && alphanumeric(label.chars().last())
            && label.chars().all(|c| c == '-' || alphanumeric(Some(c)))
    };
    let mut broken = Vec::new();
    if name.len() > MAX_LENGTH {
        broken.push(format!("must be no more than {MAX_LENGTH} characters"));
    }
    if !name.split('.').all(label) {
        broken.push("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')".to_owned());
    }
    let errors: Vec<String> = broken
        .iter()
        .map(|why| format!("metadata.name: Invalid value: \"{name}\": {why}"))
        .collect();
    // The API server lists several errors in brackets.
    let detail = match errors.as_slice() {
        [] => return Ok(()),
        [one] => one.clone(),
        several => format!("[{}]", several.join(", ")),
    };
    Err(ApiError::invalid(&key.resource, kind, name, &detail))
}

fn entries<'a>(object: &'a Value, member: &str) -> impl Iterator<Item = (&'a String, &'a Value)> {
    object[member].as_object().into_iter().flatten()
}

fn config_map(key: &ObjectKey, object: &Value) -> Result<(), ApiError> {
    let invalid =
        |detail: String| ApiError::invalid(&key.resource, "ConfigMap", &key.name, &detail);
    let mut size = 0;
    for (name, value) in entries(object, "data") {
        check_key(name).map_err(|why| invalid(format!("data[{name}]: {why}")))?;
        if object["binaryData"].get(name).is_some() {
            return Err(invalid(format!(
                "data[{name}]: Invalid value: \"{name}\": duplicate of key present in binaryData"
            )));
        }
        size += value.as_str().map_or(0, str::len);
    }
    for (name, value) in entries(object, "binaryData") {
        check_key(name).map_err(|why| invalid(format!("binaryData[{name}]: {why}")))?;
        size += decode(value).map_or(0, |bytes| bytes.len());
    }
    if size > MAX_SIZE {
        return Err(invalid(format!(
            "[]: Too long: must have at most {MAX_SIZE} bytes"
        )));
    }
    Ok(())
}

fn secret(key: &ObjectKey, object: &Value) -> Result<(), ApiError> {
    let mut size = 0;
    for (name, value) in entries(object, "data") {
        let bytes = decode(value).ok_or_else(|| {
            ApiError::bad_request(format!(
                "Secret in version \"v1\" cannot be handled as a Secret: illegal base64 data at input byte 0 (data[{name}])"
            ))
        })?;
        check_key(name).map_err(|why| {
            ApiError::invalid(
                &key.resource,
                "Secret",
                &key.name,
                &format!("data[{name}]: {why}"),
            )
        })?;
        size += bytes.len();
    }
    if size > MAX_SIZE {
        let detail = format!("data: Too long: must have at most {MAX_SIZE} bytes");
        return Err(ApiError::invalid(
            &key.resource,
            "Secret",
            &key.name,
            &detail,
        ));
    }
    Ok(())
}

fn decode(value: &Value) -> Option<Vec<u8>> {
    STANDARD.decode(value.as_str()?).ok()
}

/// The API server's `IsConfigMapKey`: every rule broken is one message, joined as the API
/// server joins a field's errors.
fn check_key(name: &str) -> Result<(), String> {
    let mut broken = Vec::new();
    if name.len() > 253 {
        broken.push("must be no more than 253 characters".to_owned());
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    if name.is_empty() || !name.chars().all(allowed) {
        broken.push("a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')".to_owned());
    }
    if name == "." {
        broken.push("must not be '.'".to_owned());
    } else if name == ".." {
        broken.push("must not be '..'".to_owned());
    } else if name.starts_with("..") {
        broken.push("must not start with '..'".to_owned());
    }
    if broken.is_empty() {
        return Ok(());
    }
    Err(broken
        .iter()
        .map(|why| format!("Invalid value: \"{name}\": {why}"))
        .collect::<Vec<_>>()
        .join(", "))
}
