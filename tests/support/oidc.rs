//! A test OIDC issuer: an RSA key that signs RS256 JWTs, and the discovery document and JWKS an
//! identity provider publishes for it (what a Kubernetes API server serves at
//! `/.well-known/openid-configuration` and `/openid/v1/jwks`).

use aws_lc_rs::{
    rand::SystemRandom,
    rsa::KeySize,
    signature::{KeyPair, RSA_PKCS1_SHA256, RsaKeyPair},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde_json::{Value, json};

/// The issuer a real API server names by default (`--service-account-issuer`).
pub const KUBERNETES_ISSUER: &str = "https://kubernetes.default.svc.cluster.local";

pub struct Issuer {
    url: String,
    key_id: String,
    key: RsaKeyPair,
}

impl Issuer {
    /// An issuer named `url` with a fresh 2048-bit key.
    pub fn new(url: &str) -> Self {
        let key = RsaKeyPair::generate(KeySize::Rsa2048).expect("an RSA key is generated");
        // Like the API server's: derived from the public key, so a rotated key has a new ID.
        let key_id = URL_SAFE_NO_PAD.encode(&key.public_key().as_ref()[..24]);
        Self {
            url: url.to_owned(),
            key_id,
            key,
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// The JSON Web Key Set that verifies this issuer's tokens.
    pub fn jwks(&self) -> Value {
        let public = self.key.public_key();
        json!({"keys": [{
            "use": "sig",
            "kty": "RSA",
            "kid": self.key_id,
            "alg": "RS256",
            "n": URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero()),
            "e": URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero()),
        }]})
    }

    /// The OpenID discovery document, pointing at `jwks_uri`.
    pub fn discovery(&self, jwks_uri: &str) -> Value {
        json!({
            "issuer": self.url,
            "jwks_uri": jwks_uri,
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
        })
    }

    /// `claims` as a JWT signed with this issuer's key (RS256), whatever they say.
    pub fn sign(&self, claims: &Value) -> String {
        let header = json!({"alg": "RS256", "kid": self.key_id});
        let signed = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut signature = vec![0; self.key.public_modulus_len()];
        self.key
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                signed.as_bytes(),
                &mut signature,
            )
            .expect("the token is signed");
        format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    /// The claims a Kubernetes API server puts in a bound service account token for
    /// `namespace/name` (`uid`), issued at `now` (Unix seconds) and valid `lifetime` seconds.
    pub fn service_account_claims(
        &self,
        namespace: &str,
        name: &str,
        uid: &str,
        audiences: &[String],
        now: i64,
        lifetime: i64,
    ) -> Value {
        json!({
            "aud": audiences,
            "exp": now + lifetime,
            "iat": now,
            "iss": self.url,
            "jti": format!("{:032x}", fastrand::u128(..)),
            "kubernetes.io": {
                "namespace": namespace,
                "serviceaccount": {"name": name, "uid": uid},
            },
            "nbf": now,
            "sub": format!("system:serviceaccount:{namespace}:{name}"),
        })
    }
}
