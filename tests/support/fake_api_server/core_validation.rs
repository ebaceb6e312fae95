//! The API server's validation of ConfigMaps and Secrets that a client can run into: key format,
//! a key in both `data` and `binaryData`, base64 Secret data, and the 1 MiB size limit, worded
//! as the API server words them.

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
        _ => Ok(()),
    }
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

fn check_key(name: &str) -> Result<(), String> {
    let valid = !name.is_empty()
        && name.len() <= 253
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if valid {
        Ok(())
    } else {
        Err(format!(
            "Invalid value: \"{name}\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"
        ))
    }
}
