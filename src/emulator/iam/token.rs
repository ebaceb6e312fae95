//! Verifies a web identity token as STS does: RS256 signature against the key its header names
//! in the issuer's registered JWKS, then its validity window against the wall clock (tokens
//! come from real identity providers, stamped with real time, whatever the emulated clock says).

use std::collections::{HashMap, HashSet};

use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header, jwk::JwkSet};
use serde::Deserialize;

use super::sts::StsError;

/// The claims STS reads.
#[derive(Debug, Clone, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub sub: String,
    #[serde(deserialize_with = "one_or_many")]
    pub aud: Vec<String>,
    pub exp: i64,
    pub nbf: Option<i64>,
}

#[derive(Deserialize)]
struct Issuer {
    iss: String,
}

/// `aud` is a string or a list of strings (RFC 7519 §4.1.3).
fn one_or_many<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(deserializer)? {
        OneOrMany::One(one) => vec![one],
        OneOrMany::Many(many) => many,
    })
}

/// Verifies `token` against the provider registered for its issuer; `now` is wall-clock Unix
/// seconds.
pub fn verify(
    token: &str,
    providers: &HashMap<String, JwkSet>,
    now: i64,
) -> Result<Claims, StsError> {
    // The issuer picks the keys, so it is read before the signature can be checked.
    let unverified: Issuer = jsonwebtoken::dangerous::insecure_decode_claims(token)
        .map_err(|_| StsError::invalid_token())?;
    let jwks = providers.get(&unverified.iss).ok_or_else(|| {
        StsError::invalid_identity_token(format!(
            "No OpenIDConnect provider found in your account for {}",
            unverified.iss
        ))
    })?;
    let header = decode_header(token).map_err(|_| StsError::invalid_token())?;
    let key = header
        .kid
        .as_deref()
        .and_then(|kid| jwks.find(kid))
        .and_then(|jwk| DecodingKey::from_jwk(jwk).ok())
        .ok_or_else(StsError::invalid_token)?;
    let claims = decode::<Claims>(token, &key, &signature_only())
        .map_err(|_| StsError::invalid_token())?
        .claims;
    check_window(&claims, now)?;
    Ok(claims)
}

/// The crate's own time checks read the system clock and word their own errors; STS's checks
/// and messages are applied after the signature instead.
fn signature_only() -> Validation {
    let mut validation = Validation::new(Algorithm::RS256);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims = HashSet::new();
    validation
}

fn check_window(claims: &Claims, now: i64) -> Result<(), StsError> {
    if now >= claims.exp {
        // STS's own wording, as it reports it (Unix seconds on both sides).
        return Err(StsError::expired_token(format!(
            "Token expired: current date/time {now} must be before the expiration date/time {}",
            claims.exp
        )));
    }
    if claims.nbf.is_some_and(|nbf| now < nbf) {
        // UNCONFIRMED: no published STS answer for a token not yet valid; it is not a valid
        // token, so it gets InvalidIdentityToken's documented message.
        return Err(StsError::invalid_token());
    }
    Ok(())
}
