//! Flag values: their members, their variants, and attribute values held to their flag's
//! declared constraints.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{
    checker::{Checker, TEXT_CHARS},
    flags::{Constraints, Flag},
};
use crate::emulator::content::child;

const RULE_CHARS: usize = 16384;
const VARIANT_MEMBERS: &[&str] = &["enabled", "name", "rule", "attributeValues"];

impl Checker {
    pub(super) fn values(&mut self, values: &Value, flags: &BTreeMap<&str, Flag<'_>>) {
        let Some(values) = self.object("#/values", values) else {
            return;
        };
        for (key, value) in values {
            let at = child("#/values", key);
            if !self.key(&at, key) {
                continue;
            }
            let flag = flags.get(key.as_str());
            if flag.is_none() {
                self.semantic(
                    at.clone(),
                    "declared: #/flags",
                    format!("Flag '{key}' has a value but is not declared in flags"),
                    Some(&Value::String(key.clone())),
                );
            }
            self.value(&at, key, value, flag);
        }
    }

    fn value(&mut self, at: &str, flag_key: &str, value: &Value, flag: Option<&Flag<'_>>) {
        let Some(value) = self.object(at, value) else {
            return;
        };
        for (member, member_value) in value {
            let member_at = child(at, member);
            match member.as_str() {
                "enabled" => {
                    self.boolean(&member_at, member_value);
                }
                "_createdAt" | "_updatedAt" => {
                    self.string(&member_at, member_value);
                }
                "_variants" => self.variants(&member_at, flag_key, member_value, flag),
                name => {
                    if self.key(&member_at, name) {
                        self.attribute_value(&member_at, flag_key, name, member_value, flag);
                    }
                }
            }
        }
        let required = flag
            .into_iter()
            .flat_map(|flag| &flag.attributes)
            .filter(|(name, constraints)| constraints.required && !value.contains_key(**name));
        for (name, _) in required {
            self.semantic(
                child(at, name),
                "constraints.required: true",
                format!("Attribute '{name}' of flag '{flag_key}' is required"),
                None,
            );
        }
    }

    fn variants(&mut self, at: &str, flag_key: &str, variants: &Value, flag: Option<&Flag<'_>>) {
        let Some(variants) = self.array(at, variants) else {
            return;
        };
        for (i, variant) in variants.iter().enumerate() {
            let variant_at = child(at, &i.to_string());
            let Some(variant) = self.object(&variant_at, variant) else {
                continue;
            };
            for required in ["name", "enabled"] {
                if !variant.contains_key(required) {
                    self.missing(&variant_at, required);
                }
            }
            for (member, value) in variant {
                let member_at = child(&variant_at, member);
                match member.as_str() {
                    "name" => self.name(&member_at, value),
                    "enabled" => {
                        self.boolean(&member_at, value);
                    }
                    "rule" => {
                        self.text(&member_at, value, RULE_CHARS);
                    }
                    "attributeValues" => {
                        let Some(values) = self.object(&member_at, value) else {
                            continue;
                        };
                        self.at_most_attributes(&member_at, values.len());
                        for (name, attribute_value) in values {
                            let value_at = child(&member_at, name);
                            if self.key(&value_at, name) {
                                self.attribute_value(
                                    &value_at,
                                    flag_key,
                                    name,
                                    attribute_value,
                                    flag,
                                );
                            }
                        }
                    }
                    _ => self.unknown(&variant_at, member, value, VARIANT_MEMBERS),
                }
            }
        }
    }

    /// An attribute value's shape, then its flag's constraints for it, if any.
    fn attribute_value(
        &mut self,
        at: &str,
        flag_key: &str,
        name: &str,
        value: &Value,
        flag: Option<&Flag<'_>>,
    ) {
        let short = |s: &Value| s.as_str().is_some_and(|s| s.chars().count() <= TEXT_CHARS);
        let fits = match value {
            Value::String(_) => short(value),
            Value::Number(_) | Value::Bool(_) => true,
            Value::Array(items) => items.iter().all(short) || items.iter().all(Value::is_number),
            Value::Null | Value::Object(_) => false,
        };
        if !fits {
            self.syntactic(
                at.into(),
                "oneOf: string (at most 1024 characters), number, boolean, array of such \
                 strings or of numbers",
                "An attribute value is a string of at most 1024 characters, a number, a \
                 boolean, or an array of only such strings or only numbers",
                Some(value),
            );
            return;
        }
        if let Some(constraints) = flag.and_then(|flag| flag.attributes.get(name)) {
            let what = format!("Attribute '{name}' of flag '{flag_key}'");
            self.meets(at, &what, "constraints", value, constraints);
        }
    }

    /// `rule` names the constraints in `Constraint` (`constraints`, `constraints.elements`).
    fn meets(
        &mut self,
        at: &str,
        what: &str,
        rule: &str,
        value: &Value,
        constraints: &Constraints<'_>,
    ) {
        let value_type = constraints.value_type.as_str();
        if !constraints.value_type.describes(value) {
            self.semantic(
                at.into(),
                format!("{rule}.type: {value_type}"),
                format!("{what} must be of type {value_type}"),
                Some(value),
            );
            return;
        }
        match value {
            Value::String(text) => {
                if let Some((source, regex)) = &constraints.pattern
                    && !regex.is_match(text).unwrap_or(false)
                {
                    self.semantic(
                        at.into(),
                        format!("{rule}.pattern: {source}"),
                        format!("{what} does not match the pattern {source}"),
                        Some(value),
                    );
                }
                if let Some(allowed) = constraints.one_of
                    && !allowed.contains(value)
                {
                    let allowed = Value::from(allowed.to_vec());
                    self.semantic(
                        at.into(),
                        format!("{rule}.enum: {allowed}"),
                        format!("{what} must be one of {allowed}"),
                        Some(value),
                    );
                }
            }
            Value::Number(number) => {
                let number = number.as_f64().unwrap_or(f64::NAN);
                if let Some(minimum) = constraints.minimum
                    && number < minimum
                {
                    self.semantic(
                        at.into(),
                        format!("{rule}.minimum: {minimum}"),
                        format!("{what} must be at least {minimum}"),
                        Some(value),
                    );
                }
                if let Some(maximum) = constraints.maximum
                    && number > maximum
                {
                    self.semantic(
                        at.into(),
                        format!("{rule}.maximum: {maximum}"),
                        format!("{what} must be at most {maximum}"),
                        Some(value),
                    );
                }
            }
            Value::Array(items) => {
                if let Some(elements) = &constraints.elements {
                    let rule = format!("{rule}.elements");
                    let mut first = what.chars();
                    let of = first
                        .next()
                        .map(|c| c.to_lowercase().chain(first).collect::<String>())
                        .unwrap_or_default();
                    for (i, item) in items.iter().enumerate() {
                        let what = format!("Element {i} of {of}");
                        self.meets(&child(at, &i.to_string()), &what, &rule, item, elements);
                    }
                }
            }
            _ => {}
        }
    }
}
