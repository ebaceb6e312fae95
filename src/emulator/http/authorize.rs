//! Authorizes an AWS call before it runs: calls signed with credentials the emulator's STS
//! issued are checked against their role's current policy; any other credentials pass, as
//! they did before IAM was emulated. Signatures themselves are not verified.

use axum::http::HeaderMap;

use super::{aws::Query, permissions, route::Operation};
use crate::emulator::{control::Shared, error::ApiError};

pub fn check(
    shared: &Shared,
    operation: &Operation,
    headers: &HeaderMap,
    query: &Query,
    body: &[u8],
) -> Result<(), ApiError> {
    let Some(access_key_id) = signing_key(headers) else {
        return Ok(());
    };
    let session_token = headers
        .get("x-amz-security-token")
        .and_then(|value| value.to_str().ok());
    let caller = shared
        .lock_iam()
        .caller(&access_key_id, session_token, shared.now())?;
    let Some(caller) = caller else {
        return Ok(());
    };
    let required = {
        let (state, _) = shared.lock_state();
        permissions::required(operation, query, body, &state)
    };
    match required {
        Some(required) => caller.authorize(&required.action, &required.resources),
        None => Ok(()),
    }
}

/// The access key ID of a SigV4 `Authorization` header:
/// `AWS4-HMAC-SHA256 Credential=<key>/<date>/<region>/<service>/aws4_request, ...`.
fn signing_key(headers: &HeaderMap) -> Option<String> {
    let authorization = headers.get("authorization")?.to_str().ok()?;
    let credential = authorization
        .strip_prefix("AWS4-HMAC-SHA256")?
        .split(',')
        .find_map(|part| part.trim().strip_prefix("Credential="))?;
    let key = credential.split('/').next()?;
    (!key.is_empty()).then(|| key.to_owned())
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn the_key_id_is_read_from_the_credential_scope() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "authorization",
            HeaderValue::from_static(
                "AWS4-HMAC-SHA256 Credential=ASIAEXAMPLE/20260101/us-east-1/appconfig/aws4_request, SignedHeaders=host, Signature=abc",
            ),
        );
        assert_eq!(signing_key(&headers).as_deref(), Some("ASIAEXAMPLE"));
        headers.insert("authorization", HeaderValue::from_static("Bearer x"));
        assert_eq!(signing_key(&headers), None);
    }
}
