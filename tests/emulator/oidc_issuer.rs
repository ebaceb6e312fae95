//! The test issuer's tokens verify against its own JWKS, as an identity provider's must.

use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, jwk::JwkSet};
use serde_json::Value;

use crate::oidc::{Issuer, KUBERNETES_ISSUER};

#[test]
fn a_signed_token_verifies_against_the_published_jwks_and_a_tampered_one_does_not() {
    let issuer = Issuer::new(KUBERNETES_ISSUER);
    let claims = issuer.service_account_claims(
        "team-a",
        "deployer",
        "uid-1",
        &["sts.amazonaws.com".to_owned()],
        jiff::Timestamp::now().as_second(),
        600,
    );
    let token = issuer.sign(&claims);
    let jwks: JwkSet = serde_json::from_value(issuer.jwks()).unwrap();
    let key = DecodingKey::from_jwk(&jwks.keys[0]).unwrap();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&["sts.amazonaws.com"]);
    validation.set_issuer(&[KUBERNETES_ISSUER]);
    let decoded = decode::<Value>(&token, &key, &validation).unwrap();
    assert_eq!(
        decoded.claims["sub"],
        "system:serviceaccount:team-a:deployer"
    );

    let other = Issuer::new(KUBERNETES_ISSUER).sign(&claims);
    let forged = format!(
        "{}.{}",
        token.rsplit_once('.').unwrap().0,
        other.rsplit_once('.').unwrap().1
    );
    assert!(decode::<Value>(&forged, &key, &validation).is_err());
}
