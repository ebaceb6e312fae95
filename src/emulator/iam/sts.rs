//! STS AssumeRoleWithWebIdentity: the parameters, their validation and the refusals, with
//! AWS's error codes and messages.

use std::collections::HashMap;

/// A refused STS call: the query protocol's `<ErrorResponse>` with its HTTP status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StsError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
}

impl StsError {
    pub fn validation(message: impl Into<String>) -> Self {
        Self {
            status: 400,
            code: "ValidationError",
            message: message.into(),
        }
    }

    pub fn invalid_identity_token(message: impl Into<String>) -> Self {
        Self {
            status: 400,
            code: "InvalidIdentityToken",
            message: message.into(),
        }
    }

    /// The message the STS API reference gives for InvalidIdentityToken.
    pub fn invalid_token() -> Self {
        Self::invalid_identity_token(
            "The web identity token that was passed could not be validated by AWS. Get a new identity token from the identity provider and then retry the request.",
        )
    }

    pub fn expired_token(message: String) -> Self {
        Self {
            status: 400,
            code: "ExpiredTokenException",
            message,
        }
    }

    /// Unknown role and untrusted subject alike: STS does not say which.
    pub fn not_authorized() -> Self {
        Self {
            status: 403,
            code: "AccessDenied",
            message: "Not authorized to perform sts:AssumeRoleWithWebIdentity".into(),
        }
    }
}

/// The role's maximum session duration (IAM's default; roles cannot change it here).
pub const MAX_SESSION_SECONDS: i64 = 3600;
const MIN_SESSION_SECONDS: i64 = 900;
/// The API's own ceiling for DurationSeconds, whatever the role allows.
const API_MAX_SESSION_SECONDS: i64 = 43200;

/// The call's parameters, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssumeRoleRequest {
    pub role_arn: String,
    pub session_name: String,
    pub token: String,
    pub duration_seconds: i64,
}

impl AssumeRoleRequest {
    /// From the form parameters; messages follow STS's `1 validation error detected: ...`.
    pub fn parse(params: &HashMap<String, String>) -> Result<Self, StsError> {
        let required = |name: &str, member: &str| {
            params.get(name).cloned().ok_or_else(|| {
                StsError::validation(format!(
                    "1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
                ))
            })
        };
        let role_arn = required("RoleArn", "roleArn")?;
        let session_name = required("RoleSessionName", "roleSessionName")?;
        let token = required("WebIdentityToken", "webIdentityToken")?;
        check_session_name(&session_name)?;
        let duration_seconds = match params.get("DurationSeconds") {
            None => MAX_SESSION_SECONDS,
            Some(value) => parse_duration(value)?,
        };
        Ok(Self {
            role_arn,
            session_name,
            token,
            duration_seconds,
        })
    }
}

fn constraint(value: &str, member: &str, constraint: &str) -> StsError {
    StsError::validation(format!(
        "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {constraint}"
    ))
}

/// `[\w+=,.@-]{2,64}`, as the API reference gives it.
fn check_session_name(name: &str) -> Result<(), StsError> {
    let length = name.chars().count();
    if length < 2 {
        return Err(constraint(
            name,
            "roleSessionName",
            "Member must have length greater than or equal to 2",
        ));
    }
    if length > 64 {
        return Err(constraint(
            name,
            "roleSessionName",
            "Member must have length less than or equal to 64",
        ));
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c);
    if !name.chars().all(allowed) {
        return Err(constraint(
            name,
            "roleSessionName",
            r"Member must satisfy regular expression pattern: [\w+=,.@-]*",
        ));
    }
    Ok(())
}

fn parse_duration(value: &str) -> Result<i64, StsError> {
    let seconds: i64 = value.parse().map_err(|_| {
        StsError::validation(format!(
            "Value '{value}' for parameter DurationSeconds is not a valid integer"
        ))
    })?;
    if seconds < MIN_SESSION_SECONDS {
        return Err(constraint(
            value,
            "durationSeconds",
            "Member must have value greater than or equal to 900",
        ));
    }
    if seconds > API_MAX_SESSION_SECONDS {
        return Err(constraint(
            value,
            "durationSeconds",
            "Member must have value less than or equal to 43200",
        ));
    }
    Ok(seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    const BASE: [(&str, &str); 3] = [
        ("RoleArn", "arn:aws:iam::123456789012:role/team-a"),
        ("RoleSessionName", "deployer"),
        ("WebIdentityToken", "t"),
    ];

    #[test]
    fn duration_defaults_to_an_hour() {
        assert_eq!(
            AssumeRoleRequest::parse(&params(&BASE))
                .unwrap()
                .duration_seconds,
            3600
        );
    }

    #[test]
    fn session_names_follow_the_documented_pattern() {
        for (name, ok) in [
            ("a", false),
            ("ab", true),
            ("a.b@c=d,e+f-g_h", true),
            ("a/b", false),
            ("a b", false),
            (&*"x".repeat(64), true),
            (&*"x".repeat(65), false),
        ] {
            let mut pairs = BASE.to_vec();
            pairs[1].1 = name;
            let result = AssumeRoleRequest::parse(&params(&pairs));
            assert_eq!(result.is_ok(), ok, "{name}: {result:?}");
        }
    }

    #[test]
    fn missing_parameters_are_named() {
        let error = AssumeRoleRequest::parse(&params(&BASE[..2])).unwrap_err();
        assert_eq!(error.code, "ValidationError");
        assert!(
            error.message.contains("'webIdentityToken'"),
            "{}",
            error.message
        );
    }

    #[test]
    fn durations_outside_the_api_range_are_refused() {
        for value in ["899", "43201", "ten"] {
            let mut pairs = BASE.to_vec();
            pairs.push(("DurationSeconds", value));
            let error = AssumeRoleRequest::parse(&params(&pairs)).unwrap_err();
            assert_eq!(error.code, "ValidationError", "{value}");
            assert!(error.message.contains(value), "{}", error.message);
        }
    }
}
