//! Enough IAM to prove tenant isolation: OIDC providers, roles that trust them, the sessions
//! STS issues for those roles, and the identity-based policy that authorizes each call signed
//! with a session's credentials.
//!
//! - [`policy`]: policy documents, parsed and evaluated (pure);
//! - [`token`]: web identity token verification;
//! - [`sts`]: AssumeRoleWithWebIdentity's parameters and refusals.
//!
//! Which action and resource ARNs each operation needs is the HTTP layer's table
//! (`http/permissions.rs`), next to the routes it maps.

pub mod policy;
pub mod sts;
pub mod token;

use std::collections::HashMap;

use jiff::{SignedDuration, Timestamp};
use jsonwebtoken::jwk::JwkSet;
use serde::Deserialize;
use serde_json::Value;

use super::error::{ApiError, ErrorKind};
use policy::{Decision, Policy};
use sts::{AssumeRoleRequest, MAX_SESSION_SECONDS, StsError};

/// `POST /_emulator/iam/roles`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RoleDefinition {
    pub role_arn: String,
    pub trust: Trust,
    pub policy: Value,
}

/// Who may assume a role: tokens of `issuer` for `audience` whose subject is listed.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Trust {
    pub issuer: String,
    pub audience: String,
    pub subjects: Vec<String>,
}

#[derive(Debug, Clone)]
struct Role {
    account: String,
    name: String,
    trust: Trust,
    policy: Policy,
}

#[derive(Clone)]
struct Session {
    // No secret: signatures are not verified, so the key ID and session token identify the caller.
    session_token: String,
    role_arn: String,
    assumed_role_arn: String,
    expiration: Timestamp,
}

// By hand, so that printing the emulator's state never shows a session token.
impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("assumed_role_arn", &self.assumed_role_arn)
            .field("expiration", &self.expiration)
            .finish_non_exhaustive()
    }
}

/// Credentials STS hands out, with what the answer reports about them.
#[derive(Clone, PartialEq, Eq)]
pub struct IssuedCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
    pub expiration: Timestamp,
    pub assumed_role_arn: String,
    pub assumed_role_id: String,
    pub subject: String,
    pub audience: String,
    pub provider: String,
}

// By hand, so that the secret and the session token never reach a log or a panic message.
impl std::fmt::Debug for IssuedCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("expiration", &self.expiration)
            .field("assumed_role_arn", &self.assumed_role_arn)
            .finish_non_exhaustive()
    }
}

/// The identity a request is signed as, when the emulator's STS issued its credentials.
#[derive(Debug, Clone)]
pub struct Caller {
    pub assumed_role_arn: String,
    /// The role's policy as it is now: IAM changes apply to sessions issued before them.
    policy: Policy,
}

#[derive(Debug, Default)]
pub struct Iam {
    providers: HashMap<String, JwkSet>,
    /// By role ARN.
    roles: HashMap<String, Role>,
    /// By access key ID.
    sessions: HashMap<String, Session>,
    rng: fastrand::Rng,
}

impl Iam {
    pub fn reset(&mut self) {
        *self = Self::default();
    }

    /// Registers (or replaces) the OIDC provider for `issuer`.
    pub fn register_provider(&mut self, issuer: &str, jwks: Value) -> Result<(), String> {
        if issuer.is_empty() {
            return Err("issuer must not be empty".into());
        }
        let jwks: JwkSet = serde_json::from_value(jwks)
            .map_err(|e| format!("jwks must be a JSON Web Key Set ({{\"keys\": [...]}}): {e}"))?;
        self.providers.insert(issuer.to_owned(), jwks);
        Ok(())
    }

    /// Defines (or replaces) a role; sessions already issued for it get the new policy.
    pub fn define_role(&mut self, definition: RoleDefinition) -> Result<(), String> {
        let (account, name) = parse_role_arn(&definition.role_arn)?;
        if definition.trust.issuer.is_empty() {
            return Err("trust.issuer must not be empty".into());
        }
        if definition.trust.audience.is_empty() {
            return Err("trust.audience must not be empty".into());
        }
        if definition.trust.subjects.is_empty() {
            return Err("trust.subjects must list at least one subject".into());
        }
        let policy = Policy::parse(&definition.policy)?;
        let role = Role {
            account,
            name,
            trust: definition.trust,
            policy,
        };
        self.roles.insert(definition.role_arn, role);
        Ok(())
    }

    /// AssumeRoleWithWebIdentity: token checked at `wall_now` (Unix seconds), credentials
    /// valid for the requested duration of emulated time from `now`.
    pub fn assume_role(
        &mut self,
        request: &AssumeRoleRequest,
        wall_now: i64,
        now: Timestamp,
    ) -> Result<IssuedCredentials, StsError> {
        let claims = token::verify(&request.token, &self.providers, wall_now)?;
        let role = self
            .roles
            .get(&request.role_arn)
            .ok_or_else(StsError::not_authorized)?;
        if claims.iss != role.trust.issuer || !role.trust.subjects.contains(&claims.sub) {
            return Err(StsError::not_authorized());
        }
        if !claims.aud.contains(&role.trust.audience) {
            return Err(StsError::invalid_identity_token("Incorrect token audience"));
        }
        if request.duration_seconds > MAX_SESSION_SECONDS {
            return Err(StsError::validation(
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
            ));
        }
        let (account, name, audience) = (
            role.account.clone(),
            role.name.clone(),
            role.trust.audience.clone(),
        );
        let assumed_role_arn = format!(
            "arn:aws:sts::{account}:assumed-role/{name}/{}",
            request.session_name
        );
        let credentials = IssuedCredentials {
            access_key_id: format!("ASIA{}", self.upper_alphanumerics(16)),
            secret_access_key: (0..40).map(|_| self.rng.alphanumeric()).collect(),
            session_token: (0..64).map(|_| self.rng.alphanumeric()).collect(),
            expiration: now + SignedDuration::from_secs(request.duration_seconds),
            assumed_role_id: format!(
                "AROA{}:{}",
                self.upper_alphanumerics(17),
                request.session_name
            ),
            assumed_role_arn,
            subject: claims.sub,
            audience,
            provider: format!(
                "arn:aws:iam::{account}:oidc-provider/{}",
                provider_host(&claims.iss)
            ),
        };
        self.sessions.insert(
            credentials.access_key_id.clone(),
            Session {
                session_token: credentials.session_token.clone(),
                role_arn: request.role_arn.clone(),
                assumed_role_arn: credentials.assumed_role_arn.clone(),
                expiration: credentials.expiration,
            },
        );
        Ok(credentials)
    }

    fn upper_alphanumerics(&mut self, count: usize) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        (0..count)
            .map(|_| char::from(ALPHABET[self.rng.usize(..ALPHABET.len())]))
            .collect()
    }

    /// Who signed a request with `access_key_id` (and `session_token`) at emulated `now`.
    /// `None`: credentials this STS does not issue (`ASIA` is the prefix of temporary
    /// credentials), which are let through unchecked as before IAM was emulated.
    pub fn caller(
        &self,
        access_key_id: &str,
        session_token: Option<&str>,
        now: Timestamp,
    ) -> Result<Option<Caller>, ApiError> {
        if !access_key_id.starts_with("ASIA") {
            return Ok(None);
        }
        let invalid = || {
            ApiError::new(
                ErrorKind::UnrecognizedClient,
                "The security token included in the request is invalid.",
            )
        };
        let session = self.sessions.get(access_key_id).ok_or_else(invalid)?;
        if session_token != Some(session.session_token.as_str()) {
            return Err(invalid());
        }
        if now >= session.expiration {
            return Err(ApiError::new(
                ErrorKind::ExpiredToken,
                "The security token included in the request is expired",
            ));
        }
        // Roles are replaced, never removed, but by a reset that forgets their sessions too.
        let role = self.roles.get(&session.role_arn).ok_or_else(invalid)?;
        Ok(Some(Caller {
            assumed_role_arn: session.assumed_role_arn.clone(),
            policy: role.policy.clone(),
        }))
    }
}

impl Caller {
    /// Authorizes `action` on every one of `resources`, in order; an explicit deny on any of
    /// them is reported before a resource that is merely not allowed.
    pub fn authorize(&self, action: &str, resources: &[String]) -> Result<(), ApiError> {
        let decisions: Vec<(&String, Decision)> = resources
            .iter()
            .map(|arn| (arn, self.policy.evaluate(action, arn)))
            .collect();
        let refused = decisions
            .iter()
            .find(|(_, d)| *d == Decision::ExplicitDeny)
            .or_else(|| decisions.iter().find(|(_, d)| *d == Decision::ImplicitDeny));
        match refused {
            None => Ok(()),
            Some((arn, decision)) => {
                let reason = if *decision == Decision::ExplicitDeny {
                    "with an explicit deny in an identity-based policy".to_owned()
                } else {
                    format!("because no identity-based policy allows the {action} action")
                };
                Err(ApiError::new(
                    ErrorKind::AccessDenied,
                    format!(
                        "User: {} is not authorized to perform: {action} on resource: {arn} {reason}",
                        self.assumed_role_arn
                    ),
                ))
            }
        }
    }
}

/// `arn:aws:iam::<account>:role/[path/]<name>` into account and name.
fn parse_role_arn(arn: &str) -> Result<(String, String), String> {
    let invalid =
        || format!("roleArn must look like arn:aws:iam::123456789012:role/name, got '{arn}'");
    let fields: Vec<&str> = arn.splitn(6, ':').collect();
    let ["arn", _partition, "iam", "", account, resource] = fields.as_slice() else {
        return Err(invalid());
    };
    let name = resource
        .strip_prefix("role/")
        .and_then(|path| path.rsplit('/').next())
        .filter(|name| !name.is_empty())
        .ok_or_else(invalid)?;
    if account.len() != 12 || !account.chars().all(|c| c.is_ascii_digit()) {
        return Err(invalid());
    }
    Ok(((*account).to_owned(), name.to_owned()))
}

/// The provider's name in its IAM ARN: the issuer without its scheme.
fn provider_host(issuer: &str) -> &str {
    issuer
        .strip_prefix("https://")
        .or_else(|| issuer.strip_prefix("http://"))
        .unwrap_or(issuer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_arns_give_account_and_name() {
        assert_eq!(
            parse_role_arn("arn:aws:iam::123456789012:role/teams/team-a").unwrap(),
            ("123456789012".into(), "team-a".into())
        );
        for bad in [
            "arn:aws:iam::1234:role/a",
            "arn:aws:s3:::bucket",
            "arn:aws:iam::123456789012:user/a",
            "arn:aws:iam::123456789012:role/",
        ] {
            assert!(
                parse_role_arn(bad).unwrap_err().starts_with("roleArn"),
                "{bad}"
            );
        }
    }
}
