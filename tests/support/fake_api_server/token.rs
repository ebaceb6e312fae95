//! The TokenRequest API (`POST .../serviceaccounts/<name>/token`): a service account token signed
//! by the server's issuer, with the checks, defaults and errors of the API server's `TokenREST`.

use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    error::ApiError, oidc::Issuer, resource::ResourceType, route::Route, store::Store, write,
};

/// The API server's limits (`ValidateTokenRequest`): at least 10 minutes, at most 2^32 seconds.
const MIN_EXPIRATION_SECONDS: i64 = 10 * 60;
const MAX_EXPIRATION_SECONDS: i64 = 1 << 32;
/// The v1 API's default for a request that names no expiration.
const DEFAULT_EXPIRATION_SECONDS: i64 = 60 * 60;

/// One token the server issued.
// Each test crate reads the fields it needs.
#[allow(dead_code)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuedToken {
    pub namespace: String,
    pub service_account: String,
    pub audiences: Vec<String>,
    pub expiration_seconds: i64,
    /// The signed JWT, as the client received it.
    pub token: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Spec {
    /// Null as an empty list, as Go decodes it.
    audiences: Option<Vec<String>>,
    expiration_seconds: Option<i64>,
    bound_object_ref: Option<Value>,
}

/// The answered TokenRequest for the service account `name` in the URL's namespace.
pub(super) fn create(
    store: &Store,
    issuer: &Issuer,
    route: &Route,
    name: &str,
    body: Value,
) -> Result<(Value, IssuedToken), ApiError> {
    if !body.is_object() {
        return Err(undecodable("the body is not a JSON object"));
    }
    let spec = match &body["spec"] {
        Value::Null => Spec::default(),
        spec => Spec::deserialize(spec).map_err(|e| undecodable(&e.to_string()))?,
    };
    let namespace = route.namespace.as_deref().unwrap_or_default();
    let mut metadata = body["metadata"].as_object().cloned().unwrap_or_default();
    for (member, wanted) in [("name", name), ("namespace", namespace)] {
        if let Some(given) = metadata.get(member).and_then(Value::as_str)
            && !given.is_empty()
            && given != wanted
        {
            let detail = format!(
                "metadata.{member}: Invalid value: \"{given}\": must match the service account {member} if specified"
            );
            return Err(ApiError::invalid(&token_requests(), KIND, name, &detail));
        }
    }
    let account = store
        .get(&route.key(name))
        .ok_or_else(|| ApiError::not_found(&route.resource, name))?;
    let uid = account.object["metadata"]["uid"]
        .as_str()
        .unwrap_or_default();
    if let Some(given) = metadata.get("uid").and_then(Value::as_str)
        && !given.is_empty()
        && given != uid
    {
        let why = format!(
            "the UID in the token request ({given}) does not match the UID of the service account ({uid})"
        );
        return Err(ApiError::conflict(&token_requests(), name, &why));
    }
    let audiences = match spec.audiences {
        Some(audiences) if !audiences.is_empty() => audiences,
        // The API server's own audiences (`--api-audiences`), which default to its issuer.
        _ => vec![issuer.url().to_owned()],
    };
    let lifetime = spec
        .expiration_seconds
        .unwrap_or(DEFAULT_EXPIRATION_SECONDS);
    validate_expiration(lifetime)?;
    if spec.bound_object_ref.is_some() {
        return Err(ApiError::bad_request(
            "the fake API server does not implement tokens bound to an object",
        ));
    }

    let now = jiff::Timestamp::now().as_second();
    let claims = issuer.service_account_claims(namespace, name, uid, &audiences, now, lifetime);
    let token = issuer.sign(&claims);
    metadata.insert("name".into(), json!(name));
    metadata.insert("namespace".into(), json!(namespace));
    metadata.insert("creationTimestamp".into(), json!(write::timestamp(now)));
    let answer = json!({
        "kind": KIND,
        "apiVersion": "authentication.k8s.io/v1",
        "metadata": metadata,
        "spec": {
            "audiences": audiences,
            "expirationSeconds": lifetime,
            "boundObjectRef": null,
        },
        "status": {
            "token": token,
            "expirationTimestamp": write::timestamp(now + lifetime),
        },
    });
    let issued = IssuedToken {
        namespace: namespace.to_owned(),
        service_account: name.to_owned(),
        audiences,
        expiration_seconds: lifetime,
        token,
    };
    Ok((answer, issued))
}

const KIND: &str = "TokenRequest";

/// How the API server names TokenRequests in its errors: by kind, in their own group, not as
/// the service accounts their URL is under.
fn token_requests() -> ResourceType {
    ResourceType::new("apis/authentication.k8s.io/v1", KIND)
}

/// The API server validates after defaulting and names no object in the error.
fn validate_expiration(lifetime: i64) -> Result<(), ApiError> {
    let why = if lifetime < MIN_EXPIRATION_SECONDS {
        "may not specify a duration less than 10 minutes"
    } else if lifetime > MAX_EXPIRATION_SECONDS {
        "may not specify a duration larger than 2^32 seconds"
    } else {
        return Ok(());
    };
    let detail = format!("spec.expirationSeconds: Invalid value: {lifetime}: {why}");
    Err(ApiError::invalid(&token_requests(), KIND, "", &detail))
}

fn undecodable(why: &str) -> ApiError {
    ApiError::bad_request(format!(
        "TokenRequest in version \"v1\" cannot be handled as a TokenRequest: {why}"
    ))
}
