//! Input validation with AWS's wording: every violation is collected and reported in one
//! `BadRequestException`, naming the member and the constraint it breaks.

use std::collections::BTreeMap;

use super::error::ApiError;

/// Collects constraint violations of one request.
#[derive(Debug, Default)]
pub struct Checks {
    violations: Vec<String>,
}

impl Checks {
    pub fn new() -> Self {
        Self::default()
    }

    fn fail(&mut self, field: &str, value: Option<&str>, constraint: &str) {
        let value = match value {
            Some(v) => format!("'{}'", shorten(v, SHOWN)),
            None => "null".to_owned(),
        };
        self.violations.push(format!(
            "Value {value} at '{field}' failed to satisfy constraint: {constraint}"
        ));
    }

    /// Returns the value when present, records a violation when not.
    pub fn required<'a, T>(&mut self, field: &str, value: &'a Option<T>) -> Option<&'a T> {
        if value.is_none() {
            self.fail(field, None, "Member must not be null");
        }
        value.as_ref()
    }

    pub fn length(&mut self, field: &str, value: &str, min: usize, max: usize) {
        let len = value.chars().count();
        if len < min {
            self.fail(
                field,
                Some(value),
                &format!("Member must have length greater than or equal to {min}"),
            );
        } else if len > max {
            self.fail(
                field,
                Some(value),
                &format!("Member must have length less than or equal to {max}"),
            );
        }
    }

    pub fn optional_length(&mut self, field: &str, value: &Option<String>, min: usize, max: usize) {
        if let Some(value) = value {
            self.length(field, value, min, max);
        }
    }

    pub fn range(&mut self, field: &str, value: f64, min: f64, max: f64) {
        let shown = value.to_string();
        if value < min {
            self.fail(
                field,
                Some(&shown),
                &format!("Member must have value greater than or equal to {min}"),
            );
        } else if value > max {
            self.fail(
                field,
                Some(&shown),
                &format!("Member must have value less than or equal to {max}"),
            );
        }
    }

    /// `matches` is the result of checking `value` against `pattern`.
    pub fn pattern(&mut self, field: &str, value: &str, matches: bool, pattern: &str) {
        if !matches {
            self.fail(
                field,
                Some(value),
                &format!("Member must satisfy regular expression pattern: {pattern}"),
            );
        }
    }

    pub fn one_of(&mut self, field: &str, value: &str, allowed: &[&str]) {
        if !allowed.contains(&value) {
            self.fail(
                field,
                Some(value),
                &format!(
                    "Member must satisfy enum value set: [{}]",
                    allowed.join(", ")
                ),
            );
        }
    }

    pub fn count(&mut self, field: &str, count: usize, min: usize, max: usize) {
        if count < min || count > max {
            self.violations.push(format!(
                "Value at '{field}' failed to satisfy constraint: Member must have between {min} and {max} items, but has {count}"
            ));
        }
    }

    /// The `TagMap` rules shared by every taggable resource.
    pub fn tags(&mut self, field: &str, tags: &BTreeMap<String, String>) {
        self.count(field, tags.len(), 0, 50);
        for (key, value) in tags {
            self.length(&format!("{field}.key"), key, 1, 128);
            self.length(&format!("{field}.{key}"), value, 0, 256);
        }
    }

    pub fn finish(self) -> Result<(), ApiError> {
        match self.violations.len() {
            0 => Ok(()),
            n => Err(ApiError::bad_request(format!(
                "{n} validation error{} detected: {}",
                if n == 1 { "" } else { "s" },
                self.violations.join("; ")
            ))),
        }
    }
}

/// Characters of a value a violation message shows.
const SHOWN: usize = 64;

/// `value` cut to `max` characters, marked with `...` when cut.
pub fn shorten(value: &str, max: usize) -> String {
    if value.chars().count() <= max {
        value.to_owned()
    } else {
        format!("{}...", value.chars().take(max).collect::<String>())
    }
}

/// `[a-z0-9]{4,7}`: application, environment, profile and custom strategy IDs.
pub const ID_PATTERN: &str = "[a-z0-9]{4,7}";

pub fn is_id(value: &str) -> bool {
    (4..=7).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

pub const STRATEGY_ID_PATTERN: &str = r"(^[a-z0-9]{4,7}$|^AppConfig\.[A-Za-z0-9]{9,40}$)";

pub fn is_strategy_id(value: &str) -> bool {
    is_id(value)
        || value.strip_prefix("AppConfig.").is_some_and(|name| {
            (9..=40).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric())
        })
}

/// Labels must contain a non-digit so they never collide with version numbers.
pub const VERSION_LABEL_PATTERN: &str = ".*[^0-9].*";

pub fn is_version_label(value: &str) -> bool {
    value.chars().any(|c| !c.is_ascii_digit())
}

// The operator checks ServiceAccounts' role annotations by the same rule AWS applies here.
pub use crate::aws::arn::{ROLE_ARN_PATTERN, is_role_arn};

pub const PROFILE_TYPE_PATTERN: &str = r"^[a-zA-Z\.]+";

pub fn is_profile_type(value: &str) -> bool {
    value
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'.')
}

pub const DYNAMIC_PARAMETER_KEY_PATTERN: &str = r"^([^#\n]{1,96})#([^\/#\n]{1,64})$";

pub fn is_dynamic_parameter_key(value: &str) -> bool {
    let Some((action, parameter)) = value.split_once('#') else {
        return false;
    };
    let action_len = action.chars().count();
    let parameter_len = parameter.chars().count();
    (1..=96).contains(&action_len)
        && (1..=64).contains(&parameter_len)
        && !action.contains('\n')
        && !parameter.contains(['#', '/', '\n'])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn violations_name_field_and_constraint() {
        let mut checks = Checks::new();
        checks.length("name", "", 1, 64);
        checks.range("deploymentDurationInMinutes", 2000.0, 0.0, 1440.0);
        let error = checks.finish().unwrap_err();
        assert_eq!(
            error.message,
            "2 validation errors detected: \
             Value '' at 'name' failed to satisfy constraint: Member must have length greater than or equal to 1; \
             Value '2000' at 'deploymentDurationInMinutes' failed to satisfy constraint: Member must have value less than or equal to 1440"
        );
    }

    #[test]
    fn required_reports_null() {
        let mut checks = Checks::new();
        let missing: Option<String> = None;
        assert!(checks.required("name", &missing).is_none());
        assert_eq!(
            checks.finish().unwrap_err().message,
            "1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null"
        );
    }

    #[test]
    fn long_values_are_shortened_in_messages() {
        let mut checks = Checks::new();
        checks.length("description", &"x".repeat(2000), 0, 1024);
        let message = checks.finish().unwrap_err().message;
        assert!(
            message.contains(&format!("'{}...'", "x".repeat(64))),
            "{message}"
        );
    }

    #[test]
    fn patterns() {
        assert!(is_id("abc1234") && is_id("abcd") && !is_id("abc") && !is_id("ABC1234"));
        assert!(!is_id("abc12345"));
        assert!(is_strategy_id("AppConfig.AllAtOnce") && is_strategy_id("x1y2z3q"));
        assert!(!is_strategy_id("AppConfig.Short") && !is_strategy_id("Other.AllAtOnce"));
        assert!(is_version_label("v1") && !is_version_label("123"));
        assert!(is_profile_type("AWS.Freeform") && !is_profile_type("1AWS"));
        assert!(is_dynamic_parameter_key("MyExtension#param"));
        assert!(!is_dynamic_parameter_key("noseparator") && !is_dynamic_parameter_key("a#b/c"));
    }
}
