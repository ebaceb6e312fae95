//! Flag definitions: their members, their attributes and the attributes' constraints, which
//! the values are then held to.

use std::collections::BTreeMap;

use fancy_regex::Regex;
use serde_json::Value;

use super::checker::{Checker, TEXT_CHARS};
use crate::emulator::content::child;

const FLAG_MEMBERS: &[&str] = &[
    "name",
    "description",
    "_createdAt",
    "_updatedAt",
    "_deprecation",
    "attributes",
];
const DEPRECATION_MEMBERS: &[&str] = &["status", "date"];
const ATTRIBUTE_MEMBERS: &[&str] = &["description", "constraints"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ValueType {
    String,
    Number,
    Boolean,
    Array,
}

impl ValueType {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Number => "number",
            Self::Boolean => "boolean",
            Self::Array => "array",
        }
    }

    pub(super) fn describes(self, value: &Value) -> bool {
        match self {
            Self::String => value.is_string(),
            Self::Number => value.is_number(),
            Self::Boolean => value.is_boolean(),
            Self::Array => value.is_array(),
        }
    }
}

/// An attribute's (or an array attribute's elements') declared constraints.
#[derive(Debug)]
pub(super) struct Constraints<'d> {
    pub(super) value_type: ValueType,
    pub(super) required: bool,
    pub(super) pattern: Option<(&'d str, Regex)>,
    pub(super) one_of: Option<&'d [Value]>,
    pub(super) minimum: Option<f64>,
    pub(super) maximum: Option<f64>,
    pub(super) elements: Option<Box<Constraints<'d>>>,
}

/// A declared flag: its attributes that have constraints.
#[derive(Debug, Default)]
pub(super) struct Flag<'d> {
    pub(super) attributes: BTreeMap<&'d str, Constraints<'d>>,
}

impl Checker {
    /// Every flag with a valid key, declared even when its definition has violations.
    pub(super) fn flags<'d>(&mut self, flags: &'d Value) -> BTreeMap<&'d str, Flag<'d>> {
        let mut declared = BTreeMap::new();
        let Some(flags) = self.object("#/flags", flags) else {
            return declared;
        };
        for (key, definition) in flags {
            let at = child("#/flags", key);
            if self.key(&at, key) {
                declared.insert(key.as_str(), self.flag(&at, key, definition));
            }
        }
        declared
    }

    fn flag<'d>(&mut self, at: &str, key: &str, definition: &'d Value) -> Flag<'d> {
        let mut flag = Flag::default();
        let Some(definition) = self.object(at, definition) else {
            return flag;
        };
        for (member, value) in definition {
            let member_at = child(at, member);
            match member.as_str() {
                "name" => self.name(&member_at, value),
                "description" => {
                    self.text(&member_at, value, TEXT_CHARS);
                }
                "_createdAt" | "_updatedAt" => {
                    self.string(&member_at, value);
                }
                "_deprecation" => self.deprecation(&member_at, value),
                "attributes" => flag.attributes = self.attributes(&member_at, key, value),
                _ => self.unknown(at, member, value, FLAG_MEMBERS),
            }
        }
        flag
    }

    fn deprecation(&mut self, at: &str, deprecation: &Value) {
        let Some(deprecation) = self.object(at, deprecation) else {
            return;
        };
        for (member, value) in deprecation {
            let member_at = child(at, member);
            match member.as_str() {
                "status" => {
                    if self
                        .string(&member_at, value)
                        .is_some_and(|s| s != "planned")
                    {
                        self.syntactic(
                            member_at,
                            r#"enum: ["planned"]"#,
                            r#"The only deprecation status is "planned""#,
                            Some(value),
                        );
                    }
                }
                "date" => {
                    if self.string(&member_at, value).is_some_and(|date| {
                        date.len() != 10 || date.parse::<jiff::civil::Date>().is_err()
                    }) {
                        self.syntactic(
                            member_at,
                            "format: date",
                            "Expected a date as YYYY-MM-DD",
                            Some(value),
                        );
                    }
                }
                _ => self.unknown(at, member, value, DEPRECATION_MEMBERS),
            }
        }
    }

    /// The flag's attributes that have valid constraints.
    fn attributes<'d>(
        &mut self,
        at: &str,
        flag_key: &str,
        attributes: &'d Value,
    ) -> BTreeMap<&'d str, Constraints<'d>> {
        let mut constrained = BTreeMap::new();
        let Some(attributes) = self.object(at, attributes) else {
            return constrained;
        };
        self.at_most_attributes(at, attributes.len());
        for (name, definition) in attributes {
            let attribute_at = child(at, name);
            if !self.key(&attribute_at, name) {
                continue;
            }
            if name == "enabled" {
                self.semantic(
                    attribute_at,
                    "reserved: enabled",
                    format!(
                        "'enabled' is reserved and cannot name an attribute of flag '{flag_key}'"
                    ),
                    None,
                );
                continue;
            }
            let Some(definition) = self.object(&attribute_at, definition) else {
                continue;
            };
            for (member, value) in definition {
                let member_at = child(&attribute_at, member);
                match member.as_str() {
                    "description" => {
                        self.text(&member_at, value, TEXT_CHARS);
                    }
                    "constraints" => {
                        if let Some(constraints) = self.constraints(&member_at, value, false) {
                            constrained.insert(name.as_str(), constraints);
                        }
                    }
                    _ => self.unknown(&attribute_at, member, value, ATTRIBUTE_MEMBERS),
                }
            }
        }
        constrained
    }

    /// `elements` says these are an array attribute's element constraints, which can only be
    /// string or number constraints.
    fn constraints<'d>(
        &mut self,
        at: &str,
        constraints: &'d Value,
        elements: bool,
    ) -> Option<Constraints<'d>> {
        let object = self.object(at, constraints)?;
        let Some(declared_type) = object.get("type") else {
            self.missing(at, "type");
            return None;
        };
        let value_type = match declared_type.as_str() {
            Some("string") => ValueType::String,
            Some("number") => ValueType::Number,
            Some("boolean") if !elements => ValueType::Boolean,
            Some("array") if !elements => ValueType::Array,
            _ => {
                let types = if elements {
                    r#"enum: ["number", "string"]"#
                } else {
                    r#"enum: ["number", "string", "array", "boolean"]"#
                };
                self.syntactic(
                    child(at, "type"),
                    types,
                    "Not a constraint type here",
                    Some(declared_type),
                );
                return None;
            }
        };
        let allowed: &[&str] = match value_type {
            ValueType::String => &["type", "required", "pattern", "enum"],
            ValueType::Number => &["type", "required", "minimum", "maximum"],
            ValueType::Boolean => &["type", "required"],
            ValueType::Array => &["type", "required", "elements"],
        };
        let mut parsed = Constraints {
            value_type,
            required: false,
            pattern: None,
            one_of: None,
            minimum: None,
            maximum: None,
            elements: None,
        };
        for (member, value) in object {
            if !allowed.contains(&member.as_str()) {
                self.unknown(at, member, value, allowed);
                continue;
            }
            let member_at = child(at, member);
            match member.as_str() {
                "required" => parsed.required = self.boolean(&member_at, value).unwrap_or(false),
                "pattern" => parsed.pattern = self.pattern(&member_at, value),
                "enum" => parsed.one_of = self.enumeration(&member_at, value),
                "minimum" => parsed.minimum = self.integer(&member_at, value),
                "maximum" => parsed.maximum = self.integer(&member_at, value),
                "elements" => {
                    parsed.elements = self.constraints(&member_at, value, true).map(Box::new);
                }
                // `type`, read above.
                _ => {}
            }
        }
        if object.contains_key("pattern") && object.contains_key("enum") {
            self.syntactic(
                at.into(),
                r#"not: {"required": ["pattern", "enum"]}"#,
                "A string constraint has a pattern or an enum, not both",
                None,
            );
        }
        Some(parsed)
    }

    fn pattern<'d>(&mut self, at: &str, pattern: &'d Value) -> Option<(&'d str, Regex)> {
        let source = self.text(at, pattern, TEXT_CHARS)?;
        match Regex::new(source) {
            Ok(regex) => Some((source, regex)),
            Err(error) => {
                self.syntactic(
                    at.into(),
                    "format: regex",
                    format!("Not a valid regular expression: {error}"),
                    Some(pattern),
                );
                None
            }
        }
    }

    fn enumeration<'d>(&mut self, at: &str, allowed: &'d Value) -> Option<&'d [Value]> {
        let allowed = self.array(at, allowed)?;
        for (i, item) in allowed.iter().enumerate() {
            let fits = match item {
                Value::String(s) => s.chars().count() <= TEXT_CHARS,
                other => other.as_f64().is_some_and(|n| n.fract() == 0.0),
            };
            if !fits {
                self.syntactic(
                    child(at, &i.to_string()),
                    "oneOf: string (at most 1024 characters), integer",
                    "An enum item is a string of at most 1024 characters or an integer",
                    Some(item),
                );
            }
        }
        Some(allowed)
    }
}
