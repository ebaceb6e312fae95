//! The service account issuer's OpenID discovery document and JWKS, at the paths the API server
//! serves them at, for whoever verifies its tokens without calling the TokenReview API.

use http::{HeaderMap, Uri, header};
use serde_json::Value;

use super::oidc::Issuer;

const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";
const JWKS_PATH: &str = "/openid/v1/jwks";

/// The document at `path` and its content type, or `None` for any other path.
pub(super) fn document(
    issuer: &Issuer,
    uri: &Uri,
    headers: &HeaderMap,
) -> Option<(&'static str, Value)> {
    match uri.path() {
        DISCOVERY_PATH => {
            // With no `--service-account-jwks-uri`, the API server points at itself over
            // HTTPS (its external address), whatever scheme it was reached with.
            let jwks_uri = format!("https://{}{JWKS_PATH}", address(issuer, uri, headers));
            Some(("application/json", issuer.discovery(&jwks_uri)))
        }
        // RFC 7517's media type for a key set, as the API server answers it.
        JWKS_PATH => Some(("application/jwk-set+json", issuer.jwks())),
        _ => None,
    }
}

/// The address the client reached the server at; an in-process client reaches no address, so
/// the issuer's host stands in: the name in-cluster clients reach the API server by.
fn address(issuer: &Issuer, uri: &Uri, headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|host| host.to_str().ok())
        .map(str::to_owned);
    uri.authority()
        .map(ToString::to_string)
        .or(host)
        .unwrap_or_else(|| {
            let url = issuer.url();
            url.split_once("://")
                .map_or(url, |(_, host)| host)
                .to_owned()
        })
}
