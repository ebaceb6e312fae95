//! Checks AWS AppConfig makes of configuration content, and the answer when content fails them:
//! 400 `BadRequestException` with `Reason: "InvalidConfiguration"` and one
//! `InvalidConfigurationDetail` per violation under `Details.InvalidConfiguration`, which
//! `aws-sdk-appconfig` parses into `BadRequestException::details()`.
//!
//! - [`feature_flags`]: the `AWS.AppConfig.FeatureFlags` document format, checked when a hosted
//!   version of a feature-flag profile is created;
//! - [`json_schema`]: a profile's `JSON_SCHEMA` validators, run when a deployment starts.
//!
//! AWS documents what each detail member means, not how it is written, so the format is the
//! emulator's (UNCONFIRMED):
//! - `Location`: where in the configuration, a JSON Pointer in URI-fragment form
//!   (`#/flags/beta/name`; `#` is the whole document);
//! - `Constraint`: the rule broken, as `keyword: value` (`maxLength: 1024`) or, for a JSON
//!   Schema validator, the keyword's location in the schema (`#/properties/limit/type`);
//! - `Reason`: a sentence, at most 1024 characters;
//! - `Type`: `Syntactic` when the content does not have the required shape (not JSON, against the
//!   format or the schema), `Semantic` when well-formed content contradicts itself (a value for
//!   an undeclared flag, an attribute value outside its declared constraints);
//! - `Value`: the offending JSON value, at most 64 characters; absent when a member is missing.

pub mod feature_flags;
pub mod json_schema;

use serde_json::{Value, json};

use super::{error::ApiError, validate::shorten};

/// Details beyond this many are counted in the message but not listed, so a large document
/// with a systematic mistake does not produce an answer larger than itself.
const MAX_DETAILS: usize = 100;

/// Violations the message spells out; the details list them all.
const SUMMARIZED: usize = 3;

const REASON_CHARS: usize = 1024;
const VALUE_CHARS: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Syntactic,
    Semantic,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Syntactic => "Syntactic",
            Self::Semantic => "Semantic",
        }
    }
}

/// One broken rule: an `InvalidConfigurationDetail`.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    pub kind: Kind,
    pub location: String,
    pub constraint: String,
    pub reason: String,
    pub value: Option<String>,
}

impl Violation {
    fn detail(&self) -> Value {
        let mut detail = json!({
            "Constraint": self.constraint,
            "Location": self.location,
            "Reason": shorten(&self.reason, REASON_CHARS),
            "Type": self.kind.as_str(),
        });
        if let Some(value) = &self.value {
            detail["Value"] = shorten(value, VALUE_CHARS).into();
        }
        detail
    }
}

/// `value` as compact JSON, the form `Value` shows it in.
fn shown(value: &Value) -> String {
    shorten(&value.to_string(), VALUE_CHARS)
}

/// `base` extended by one member name or array index, escaped as RFC 6901 requires.
fn child(base: &str, segment: &str) -> String {
    format!("{base}/{}", segment.replace('~', "~0").replace('/', "~1"))
}

/// The content as JSON, or the violation that it is not.
fn parse(content: &[u8]) -> Result<Value, Violation> {
    serde_json::from_slice(content).map_err(|error| Violation {
        kind: Kind::Syntactic,
        location: "#".into(),
        constraint: "JSON syntax".into(),
        reason: format!("The content is not valid JSON: {error}"),
        value: Some(shorten(&String::from_utf8_lossy(content), VALUE_CHARS)),
    })
}

/// The `BadRequestException` for content that broke `violations` (never empty); `message`
/// introduces the first few of them.
fn invalid_configuration(message: &str, violations: &[Violation]) -> ApiError {
    let listed: Vec<String> = violations
        .iter()
        .take(SUMMARIZED)
        .map(|v| format!("{}: {}", v.location, v.reason))
        .collect();
    let more = violations.len().saturating_sub(SUMMARIZED);
    let tail = if more > 0 {
        format!(" (and {more} more)")
    } else {
        String::new()
    };
    let details: Vec<Value> = violations
        .iter()
        .take(MAX_DETAILS)
        .map(Violation::detail)
        .collect();
    ApiError::bad_request(format!("{message}: {}{tail}", listed.join("; ")))
        .with("Reason", "InvalidConfiguration")
        .with("Details", json!({ "InvalidConfiguration": details }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn violation(location: &str) -> Violation {
        Violation {
            kind: Kind::Semantic,
            location: location.into(),
            constraint: "constraints.minimum: 1".into(),
            reason: "too small".into(),
            value: None,
        }
    }

    #[test]
    fn the_error_has_aws_shape_and_summarizes_the_first_violations() {
        let violations: Vec<Violation> = (0..5).map(|i| violation(&format!("#/{i}"))).collect();
        let error = invalid_configuration("Invalid", &violations);
        assert_eq!(error.kind.status(), 400);
        assert_eq!(
            error.message,
            "Invalid: #/0: too small; #/1: too small; #/2: too small (and 2 more)"
        );
        assert_eq!(error.members["Reason"], "InvalidConfiguration");
        let details = error.members["Details"]["InvalidConfiguration"]
            .as_array()
            .unwrap();
        assert_eq!(details.len(), 5);
        assert_eq!(
            details[0],
            json!({
                "Constraint": "constraints.minimum: 1",
                "Location": "#/0",
                "Reason": "too small",
                "Type": "Semantic",
            })
        );
    }

    #[test]
    fn details_are_capped() {
        let violations = vec![violation("#"); MAX_DETAILS + 10];
        let error = invalid_configuration("Invalid", &violations);
        assert!(
            error
                .message
                .ends_with(&format!("(and {} more)", MAX_DETAILS + 7))
        );
        let details = &error.members["Details"]["InvalidConfiguration"];
        assert_eq!(details.as_array().unwrap().len(), MAX_DETAILS);
    }

    #[test]
    fn long_values_and_reasons_are_shortened() {
        let mut long = violation("#");
        long.value = Some("v".repeat(500));
        long.reason = "r".repeat(5000);
        let detail = long.detail();
        assert_eq!(detail["Value"], format!("{}...", "v".repeat(VALUE_CHARS)));
        assert_eq!(
            detail["Reason"].as_str().unwrap().len(),
            REASON_CHARS + "...".len()
        );
    }

    #[test]
    fn content_that_is_not_json_is_one_syntactic_violation() {
        let violation = parse(b"flags: {}").unwrap_err();
        assert_eq!(violation.kind, Kind::Syntactic);
        assert_eq!(violation.location, "#");
        assert_eq!(violation.value.as_deref(), Some("flags: {}"));
        assert!(
            violation
                .reason
                .starts_with("The content is not valid JSON")
        );
    }

    #[test]
    fn locations_escape_member_names() {
        assert_eq!(child("#/flags", "a/b~c"), "#/flags/a~1b~0c");
    }
}
