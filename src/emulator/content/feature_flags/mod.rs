//! The `AWS.AppConfig.FeatureFlags` document format, checked when a hosted version of a
//! feature-flag profile is created. AWS "verifies that your data conforms to the
//! AWS.AppConfig.FeatureFlags JSON schema" and "additionally validates that each feature flag
//! attribute in your data satisfies the constraints you defined for those attributes" (user
//! guide); the schema is the one of the user guide's "Type reference for
//! AWS.AppConfig.FeatureFlags".
//!
//! Checked as the schema says (`Syntactic` violations):
//! - the document: an object of `version` (required, the string `"1"`), `flags` and `values`;
//! - flag and attribute keys: `^[a-z][a-zA-Z\d_-]{0,63}$`;
//! - a flag: `name` (1 to 64 characters, no line feed), `description` (at most 1024
//!   characters), `_createdAt` and `_updatedAt` (strings), `_deprecation` (`status: "planned"`,
//!   `date` as `YYYY-MM-DD`), `attributes` (at most 25);
//! - an attribute: `description` and `constraints`, whose `type` picks the shape: `string`
//!   (`required`, and `pattern` or `enum` of strings and integers, not both), `number`
//!   (`required`, integer `minimum` and `maximum`), `boolean` (`required`), `array`
//!   (`required`, `elements` as string or number constraints);
//! - a flag's value: `enabled` (boolean), `_createdAt`, `_updatedAt`, `_variants` (each with
//!   `name` and `enabled` required, `rule` of at most 16384 characters, at most 25
//!   `attributeValues`), and attribute values: a string of at most 1024 characters, a number, a
//!   boolean, or an array of only such strings or only numbers;
//! - no other member anywhere.
//!
//! Checked across the document (`Semantic` violations):
//! - `values` name declared flags only;
//! - no attribute is called `enabled` (reserved, user guide);
//! - an attribute value, in a flag's value or a variant's `attributeValues`, has its declared
//!   constraints' type and meets their `pattern`, `enum`, `minimum` and `maximum` (for arrays,
//!   each element meets `elements`); a `required` attribute is present in its flag's value.
//!
//! Not checked, or checked differently:
//! - The current schema requires neither a flag's `name` nor a value's `enabled` (older
//!   versions of the reference required `enabled`), so neither does the emulator.
//! - The schema's keywords that constrain nothing (`maxLength` on the `enum` and `_variants`
//!   arrays, `maxProperties` on an attribute value) constrain nothing here either.
//! - An empty array is a valid attribute value: read literally, the schema's `oneOf` would
//!   refuse `[]` (it matches both array shapes), but AWS's `AttributeValue` model allows arrays
//!   of 0 items.
//! - A `pattern` constraint is a `fancy-regex` expression (ECMAScript-like, with lookaround)
//!   that must match somewhere in the value, as JSON Schema's `pattern` does; AWS's regex
//!   dialect and anchoring are UNCONFIRMED. A pattern that does not compile is a violation.
//! - Attribute values for attributes the flag does not declare are accepted (the schema allows
//!   them); variant `rule` expressions are not parsed.
//!
//! The checker reads the document top down: `flags` (definitions) first, then `values`, which
//! are held to the definitions; `checker` holds what both share.

mod checker;
mod flags;
#[cfg(test)]
mod tests;
mod values;

use std::collections::BTreeMap;

use serde_json::Value;

use super::{Violation, child, invalid_configuration, parse};
use crate::emulator::error::ApiError;
use checker::Checker;

/// AWS's message for feature-flag content that is not JSON, as an SDK user reported it
/// (aws/aws-sdk-java#3137).
const MALFORMED: &str =
    "Error invoking extension AppConfig Feature Flags Helper: Malformed 'Content' provided";

const DOCUMENT_MEMBERS: &[&str] = &["version", "flags", "values"];

/// Refuses `content` that is not a feature-flag document, with every violation found.
pub fn check(content: &[u8]) -> Result<(), ApiError> {
    let document =
        parse(content).map_err(|not_json| invalid_configuration(MALFORMED, &[not_json]))?;
    let violations = violations(&document);
    if violations.is_empty() {
        Ok(())
    } else {
        Err(invalid_configuration(
            "The content is not a valid AWS.AppConfig.FeatureFlags document",
            &violations,
        ))
    }
}

fn violations(document: &Value) -> Vec<Violation> {
    let mut checker = Checker::default();
    checker.document(document);
    checker.violations
}

impl Checker {
    fn document(&mut self, document: &Value) {
        let Some(document) = self.object("#", document) else {
            return;
        };
        for (member, value) in document {
            if !DOCUMENT_MEMBERS.contains(&member.as_str()) {
                self.unknown("#", member, value, DOCUMENT_MEMBERS);
            }
        }
        match document.get("version") {
            None => self.missing("#", "version"),
            Some(version) if *version != "1" => self.syntactic(
                child("#", "version"),
                r#"enum: ["1"]"#,
                r#"The format version must be the string "1""#,
                Some(version),
            ),
            Some(_) => {}
        }
        let flags = match document.get("flags") {
            Some(flags) => self.flags(flags),
            None => BTreeMap::new(),
        };
        if let Some(values) = document.get("values") {
            self.values(values, &flags);
        }
    }
}
