//! The feature-flag checker's record of violations, and the checks of a single JSON value's
//! shape that every part of the document uses.

use serde_json::{Map, Value};

use crate::emulator::content::{Kind, Violation, child, shown};

pub(super) const KEY_PATTERN: &str = r"^[a-z][a-zA-Z\d_-]{0,63}$";
pub(super) const NAME_PATTERN: &str = r"^[^\n]{1,64}$";
pub(super) const TEXT_CHARS: usize = 1024;
const MAX_ATTRIBUTES: usize = 25;

#[derive(Debug, Default)]
pub(super) struct Checker {
    pub(super) violations: Vec<Violation>,
}

impl Checker {
    fn violation(
        &mut self,
        kind: Kind,
        location: String,
        constraint: impl Into<String>,
        reason: impl Into<String>,
        value: Option<&Value>,
    ) {
        self.violations.push(Violation {
            kind,
            location,
            constraint: constraint.into(),
            reason: reason.into(),
            value: value.map(shown),
        });
    }

    pub(super) fn syntactic(
        &mut self,
        location: String,
        constraint: impl Into<String>,
        reason: impl Into<String>,
        value: Option<&Value>,
    ) {
        self.violation(Kind::Syntactic, location, constraint, reason, value);
    }

    pub(super) fn semantic(
        &mut self,
        location: String,
        constraint: impl Into<String>,
        reason: impl Into<String>,
        value: Option<&Value>,
    ) {
        self.violation(Kind::Semantic, location, constraint, reason, value);
    }

    pub(super) fn object<'v>(
        &mut self,
        at: &str,
        value: &'v Value,
    ) -> Option<&'v Map<String, Value>> {
        let object = value.as_object();
        if object.is_none() {
            self.syntactic(
                at.into(),
                "type: object",
                "Expected a JSON object",
                Some(value),
            );
        }
        object
    }

    pub(super) fn array<'v>(&mut self, at: &str, value: &'v Value) -> Option<&'v [Value]> {
        let array = value.as_array().map(Vec::as_slice);
        if array.is_none() {
            self.syntactic(at.into(), "type: array", "Expected an array", Some(value));
        }
        array
    }

    pub(super) fn string<'v>(&mut self, at: &str, value: &'v Value) -> Option<&'v str> {
        let string = value.as_str();
        if string.is_none() {
            self.syntactic(at.into(), "type: string", "Expected a string", Some(value));
        }
        string
    }

    pub(super) fn boolean(&mut self, at: &str, value: &Value) -> Option<bool> {
        let boolean = value.as_bool();
        if boolean.is_none() {
            self.syntactic(
                at.into(),
                "type: boolean",
                "Expected a boolean",
                Some(value),
            );
        }
        boolean
    }

    pub(super) fn integer(&mut self, at: &str, value: &Value) -> Option<f64> {
        let integer = value.as_f64().filter(|n| n.fract() == 0.0);
        if integer.is_none() {
            self.syntactic(
                at.into(),
                "type: integer",
                "Expected an integer",
                Some(value),
            );
        }
        integer
    }

    /// A string of at most `max` characters.
    pub(super) fn text<'v>(&mut self, at: &str, value: &'v Value, max: usize) -> Option<&'v str> {
        let text = self.string(at, value)?;
        let length = text.chars().count();
        if length > max {
            self.syntactic(
                at.into(),
                format!("maxLength: {max}"),
                format!("At most {max} characters are allowed, not {length}"),
                Some(value),
            );
            return None;
        }
        Some(text)
    }

    /// `customerDefinedName`: a flag's or a variant's name.
    pub(super) fn name(&mut self, at: &str, value: &Value) {
        if let Some(name) = self.string(at, value)
            && (!(1..=64).contains(&name.chars().count()) || name.contains('\n'))
        {
            self.syntactic(
                at.into(),
                format!("pattern: {NAME_PATTERN}"),
                "A name has 1 to 64 characters and no line feed",
                Some(value),
            );
        }
    }

    pub(super) fn missing(&mut self, at: &str, member: &str) {
        self.syntactic(
            child(at, member),
            format!("required: {member}"),
            format!("'{member}' is required"),
            None,
        );
    }

    pub(super) fn unknown(&mut self, at: &str, member: &str, value: &Value, allowed: &[&str]) {
        self.syntactic(
            child(at, member),
            "additionalProperties: false",
            format!(
                "'{member}' is not allowed here (allowed: {})",
                allowed.join(", ")
            ),
            Some(value),
        );
    }

    /// Whether `key` is a valid flag or attribute key; records the violation when not.
    pub(super) fn key(&mut self, at: &str, key: &str) -> bool {
        let mut chars = key.chars();
        let valid = chars.next().is_some_and(|c| c.is_ascii_lowercase())
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            && key.len() <= 64;
        if !valid {
            self.syntactic(
                at.into(),
                format!("pattern: {KEY_PATTERN}"),
                format!(
                    "'{key}' is not a valid key: a lowercase letter, then at most 63 letters, \
                     digits, '_' or '-'"
                ),
                Some(&Value::String(key.to_owned())),
            );
        }
        valid
    }

    pub(super) fn at_most_attributes(&mut self, at: &str, count: usize) {
        if count > MAX_ATTRIBUTES {
            self.syntactic(
                at.into(),
                format!("maxProperties: {MAX_ATTRIBUTES}"),
                format!("At most {MAX_ATTRIBUTES} attributes are allowed, not {count}"),
                None,
            );
        }
    }
}
