//! AppConfig errors, sorted by what the operator does about them.

use aws_sdk_appconfig::{
    config::http::HttpResponse,
    error::{ProvideErrorMetadata, SdkError},
};

/// What an AppConfig error means for the resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Throttling, 5xx, timeouts, connection failures: retry with backoff.
    Transient,
    /// The named application, environment, profile, strategy or version does not exist.
    NotFound,
    AccessDenied,
    /// AWS rejected the request as invalid.
    InvalidRequest,
    /// AWS refused the configuration content itself: over the size limit, not a valid
    /// feature-flag document, or failing one of the profile's validators.
    InvalidContent,
    /// Another deployment holds the environment, or another start won the race.
    Conflict,
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("{} {operation} failed: {code}: {message}", service_of(operation))]
pub struct AwsError {
    pub kind: ErrorKind,
    pub operation: &'static str,
    pub code: String,
    pub message: String,
}

/// The service an operation belongs to, as the messages name it.
fn service_of(operation: &str) -> &'static str {
    match operation {
        "AssumeRoleWithWebIdentity" => "STS",
        _ => "AppConfig",
    }
}

/// The codes by which AWS asks a caller to slow down.
const THROTTLING: [&str; 4] = [
    "ThrottlingException",
    "Throttling",
    "TooManyRequestsException",
    "RequestLimitExceeded",
];

impl AwsError {
    /// Whether AWS refused the call to slow its callers down: retrying soon makes it worse.
    pub fn is_throttling(&self) -> bool {
        THROTTLING.contains(&self.code.as_str())
    }

    pub fn new<E>(operation: &'static str, error: SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        match &error {
            SdkError::ServiceError(service) => {
                let status = Some(service.raw().status().as_u16());
                let code = service.err().code().unwrap_or("UnknownError").to_owned();
                let mut message = service.err().message().unwrap_or("no message").to_owned();
                let mut kind = classify(&code, status);
                let details = service.raw().body().bytes().and_then(invalid_configuration);
                if let Some(details) = details {
                    kind = ErrorKind::InvalidContent;
                    message = format!("{message} ({details})");
                }
                Self {
                    kind,
                    operation,
                    code,
                    message,
                }
            }
            // Timeouts, DNS, refused connections, unreadable answers: the request may not
            // have reached AWS or its answer was lost; asking again is the only remedy.
            _ => Self {
                kind: ErrorKind::Transient,
                operation,
                code: "RequestFailed".to_owned(),
                message: describe_chain(&error),
            },
        }
    }
}

impl AwsError {
    /// An answer that lacks a member the operator needs: AWS answers so only by mistake, and
    /// asking again is the remedy.
    pub fn incomplete(operation: &'static str, member: &str) -> Self {
        Self {
            kind: ErrorKind::Transient,
            operation,
            code: "IncompleteResponse".to_owned(),
            message: format!("the response has no {member}"),
        }
    }
}

/// AWS's findings about refused content (`Details.InvalidConfiguration` of a
/// BadRequestException: the place, the rule and why), as one clause a person can act on.
fn invalid_configuration(body: &[u8]) -> Option<String> {
    let body: serde_json::Value = serde_json::from_slice(body).ok()?;
    let findings = body.pointer("/Details/InvalidConfiguration")?.as_array()?;
    let text = |finding: &serde_json::Value, member: &str| {
        finding
            .get(member)
            .and_then(serde_json::Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let described: Vec<String> = findings
        .iter()
        .map(|f| {
            let place = text(f, "Location").unwrap_or_else(|| "the document".into());
            let reason = text(f, "Reason").unwrap_or_else(|| "invalid".into());
            match text(f, "Constraint") {
                Some(rule) => format!("at {place}: {reason} [{rule}]"),
                None => format!("at {place}: {reason}"),
            }
        })
        .collect();
    (!described.is_empty()).then(|| described.join("; "))
}

/// The SDK's error wrappers say little at the top ("dispatch failure"); the cause is deeper.
fn describe_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn classify(code: &str, status: Option<u16>) -> ErrorKind {
    match code {
        "ResourceNotFoundException" => ErrorKind::NotFound,
        "AccessDeniedException"
        | "UnauthorizedException"
        | "UnrecognizedClientException"
        | "InvalidClientTokenId" => ErrorKind::AccessDenied,
        "ConflictException" => ErrorKind::Conflict,
        "PayloadTooLargeException" => ErrorKind::InvalidContent,
        // An expired token is refreshed by the credential chain; asking again is the remedy.
        "ExpiredTokenException" | "RequestTimeout" | "RequestTimeoutException" => {
            ErrorKind::Transient
        }
        code if THROTTLING.contains(&code) => ErrorKind::Transient,
        "InternalServerException" | "ServiceUnavailable" | "ServiceUnavailableException" => {
            ErrorKind::Transient
        }
        _ => match status {
            Some(403) => ErrorKind::AccessDenied,
            Some(404) => ErrorKind::NotFound,
            Some(409) => ErrorKind::Conflict,
            Some(408) | Some(429) | Some(500..) | None => ErrorKind::Transient,
            Some(_) => ErrorKind::InvalidRequest,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_decide_before_statuses() {
        assert_eq!(
            classify("ResourceNotFoundException", Some(404)),
            ErrorKind::NotFound
        );
        assert_eq!(
            classify("ConflictException", Some(409)),
            ErrorKind::Conflict
        );
        assert_eq!(
            classify("ThrottlingException", Some(429)),
            ErrorKind::Transient
        );
        assert_eq!(
            classify("InternalServerException", Some(500)),
            ErrorKind::Transient
        );
        assert_eq!(
            classify("AccessDeniedException", Some(403)),
            ErrorKind::AccessDenied
        );
        assert_eq!(
            classify("BadRequestException", Some(400)),
            ErrorKind::InvalidRequest
        );
    }

    #[test]
    fn findings_about_content_are_named_with_their_place_and_rule() {
        let body = br#"{"Message":"Invalid configuration","Reason":"InvalidConfiguration","Details":{"InvalidConfiguration":[
            {"Location":"/values/dark","Reason":"enabled is required","Constraint":"required","Type":"Syntactic"},
            {"Location":"","Reason":"not JSON"}]}}"#;
        assert_eq!(
            invalid_configuration(body).unwrap(),
            "at /values/dark: enabled is required [required]; at the document: not JSON"
        );
        assert_eq!(invalid_configuration(br#"{"Message":"x"}"#), None);
        assert_eq!(invalid_configuration(b"not json"), None);
        assert_eq!(
            classify("PayloadTooLargeException", Some(413)),
            ErrorKind::InvalidContent
        );
    }

    #[test]
    fn unknown_codes_fall_back_to_the_status() {
        assert_eq!(classify("Weird", Some(503)), ErrorKind::Transient);
        assert_eq!(classify("Weird", Some(403)), ErrorKind::AccessDenied);
        assert_eq!(classify("Weird", Some(422)), ErrorKind::InvalidRequest);
        assert_eq!(classify("Weird", None), ErrorKind::Transient);
        assert_eq!(classify("Weird", Some(408)), ErrorKind::Transient);
        assert_eq!(
            classify("ExpiredTokenException", Some(400)),
            ErrorKind::Transient
        );
    }
}
