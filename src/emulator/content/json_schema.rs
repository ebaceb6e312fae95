//! A configuration profile's `JSON_SCHEMA` validators, run when a deployment starts (AWS calls
//! validators on StartDeployment; a configuration that fails one is not deployed).
//!
//! - Schemas are JSON Schema draft 4, the version AWS documents ("AWS AppConfig supports JSON
//!   Schema version 4.X for inline schema"), whatever their `$schema` says: keywords of later
//!   drafts (`const`, `if`, ...) constrain nothing, and a later draft's form of a draft-4
//!   keyword (a numeric `exclusiveMinimum`) makes the schema invalid.
//! - References to other documents are not fetched (the emulator makes no outbound calls): a
//!   schema that needs one cannot be compiled.
//! - A validator whose content is not a schema refuses the deployment with a plain
//!   `BadRequestException` naming it: whether AWS already refuses such a validator at
//!   CreateConfigurationProfile is UNCONFIRMED, so the emulator accepts it there and fails when
//!   it would have to run.
//! - Every violation of every schema is reported, one detail each: `Location` the instance
//!   path, `Constraint` the schema keyword's location, `Reason` the validator's message.

use jsonschema::{Draft, Validator};
use serde_json::Value;

use super::{Kind, Violation, invalid_configuration, parse, shown};
use crate::emulator::error::ApiError;

/// Validates `content` against every schema in `schemas`. `subject` names the configuration in
/// messages ("Configuration version 3 of configuration profile abc1234").
pub fn validate<'s>(
    subject: &str,
    schemas: impl IntoIterator<Item = &'s str>,
    content: &[u8],
) -> Result<(), ApiError> {
    let validators = schemas
        .into_iter()
        .enumerate()
        .map(|(i, schema)| {
            compile(schema).map_err(|problem| {
                ApiError::bad_request(format!(
                    "{subject} cannot be validated: JSON_SCHEMA validator {} is not a valid JSON Schema (draft 4): {problem}",
                    i + 1
                ))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    if validators.is_empty() {
        return Ok(());
    }
    let failed = |violations: &[Violation]| {
        invalid_configuration(
            &format!("{subject} failed JSON Schema validation"),
            violations,
        )
    };
    let instance = parse(content).map_err(|not_json| failed(&[not_json]))?;
    let violations: Vec<Violation> = validators
        .iter()
        .flat_map(|validator| validator.iter_errors(&instance))
        .map(|error| Violation {
            kind: Kind::Syntactic,
            location: format!("#{}", error.instance_path()),
            constraint: format!("#{}", error.schema_path()),
            reason: error.to_string(),
            value: Some(shown(error.instance())),
        })
        .collect();
    if violations.is_empty() {
        Ok(())
    } else {
        Err(failed(&violations))
    }
}

fn compile(schema: &str) -> Result<Validator, String> {
    let schema: Value =
        serde_json::from_str(schema).map_err(|error| format!("not JSON: {error}"))?;
    jsonschema::options()
        .with_draft(Draft::Draft4)
        .build(&schema)
        .map_err(|error| error.to_string())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const SCHEMA: &str = r#"{
        "$schema": "http://json-schema.org/draft-04/schema#",
        "type": "object",
        "properties": {
            "enableLimitResults": {"type": "boolean"},
            "resultLimit": {"type": "integer", "minimum": 1}
        },
        "required": ["resultLimit", "enableLimitResults"]
    }"#;

    fn details(error: &ApiError) -> Vec<Value> {
        error.members["Details"]["InvalidConfiguration"]
            .as_array()
            .unwrap()
            .clone()
    }

    #[test]
    fn valid_content_passes() {
        let content = br#"{"enableLimitResults": true, "resultLimit": 5}"#;
        assert_eq!(validate("Version 1", [SCHEMA], content), Ok(()));
    }

    #[test]
    fn without_json_schema_validators_anything_passes() {
        assert_eq!(validate("Version 1", [], b"not json at all"), Ok(()));
    }

    #[test]
    fn each_violation_is_one_detail() {
        let content = br#"{"enableLimitResults": "yes", "resultLimit": 0}"#;
        let error = validate("Version 1", [SCHEMA], content).unwrap_err();
        assert_eq!(error.kind.status(), 400);
        assert_eq!(error.members["Reason"], "InvalidConfiguration");
        assert!(
            error
                .message
                .starts_with("Version 1 failed JSON Schema validation: #/"),
            "{}",
            error.message
        );
        let mut details = details(&error);
        details.sort_by_key(|d| d["Location"].to_string());
        assert_eq!(
            details,
            vec![
                json!({
                    "Location": "#/enableLimitResults",
                    "Constraint": "#/properties/enableLimitResults/type",
                    "Reason": r#""yes" is not of type "boolean""#,
                    "Type": "Syntactic",
                    "Value": r#""yes""#,
                }),
                json!({
                    "Location": "#/resultLimit",
                    "Constraint": "#/properties/resultLimit/minimum",
                    "Reason": "0 is less than the minimum of 1",
                    "Type": "Syntactic",
                    "Value": "0",
                }),
            ]
        );
    }

    #[test]
    fn violations_of_every_validator_are_reported() {
        let error = validate(
            "Version 1",
            [SCHEMA, r#"{"maxProperties": 1}"#],
            br#"{"resultLimit": 2, "extra": 1}"#,
        )
        .unwrap_err();
        let constraints: Vec<Value> = details(&error)
            .iter()
            .map(|d| d["Constraint"].clone())
            .collect();
        assert_eq!(constraints, [json!("#/required"), json!("#/maxProperties")]);
    }

    #[test]
    fn content_that_is_not_json_fails() {
        let error = validate("Version 1", [SCHEMA], b"resultLimit: 5").unwrap_err();
        let details = details(&error);
        assert_eq!(details.len(), 1);
        assert_eq!(details[0]["Location"], "#");
        assert_eq!(details[0]["Constraint"], "JSON syntax");
    }

    #[test]
    fn schemas_are_draft_4_whatever_they_declare() {
        let later = r#"{"$schema": "http://json-schema.org/draft-07/schema#", "const": 1}"#;
        assert_eq!(validate("Version 1", [later], b"2"), Ok(()));
        let exclusive = r#"{"exclusiveMinimum": 1}"#;
        let error = validate("Version 1", [exclusive], b"2").unwrap_err();
        assert!(error.members.is_empty(), "{error:?}");
    }

    #[test]
    fn a_validator_that_is_not_a_schema_refuses_with_a_message() {
        for (schema, problem) in [
            ("{", "not JSON"),
            (r#"{"type": "text"}"#, "is not valid"),
            (
                r#"{"$ref": "https://example.com/schema.json"}"#,
                "example.com",
            ),
        ] {
            let error = validate("Version 1", [SCHEMA, schema], b"{}").unwrap_err();
            assert_eq!(error.kind.status(), 400);
            assert!(
                error.message.starts_with(
                    "Version 1 cannot be validated: JSON_SCHEMA validator 2 is not a valid JSON Schema (draft 4): "
                ),
                "{}",
                error.message
            );
            assert!(error.message.contains(problem), "{}", error.message);
            assert!(error.members.is_empty());
        }
    }
}
