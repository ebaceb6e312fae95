//! The feature-flag checker, one rule at a time.

use serde_json::{Map, Value, json};

use super::{
    MALFORMED, check,
    checker::{KEY_PATTERN, NAME_PATTERN},
    violations,
};
use crate::emulator::content::{Kind, child};

/// The violations of `document` as (location, constraint, kind).
fn found(document: Value) -> Vec<(String, String, Kind)> {
    violations(&document)
        .into_iter()
        .map(|v| (v.location, v.constraint, v.kind))
        .collect()
}

/// Asserts that `document` breaks exactly one rule, `constraint` at `location`.
#[track_caller]
fn breaks(document: Value, location: &str, constraint: &str, kind: Kind) {
    assert_eq!(
        found(document),
        vec![(location.to_owned(), constraint.to_owned(), kind)]
    );
}

/// A document with one flag `beta` of `attributes` and its value `value`.
fn with_flag(attributes: Value, value: Value) -> Value {
    json!({
        "version": "1",
        "flags": {"beta": {"name": "Beta", "attributes": attributes}},
        "values": {"beta": value},
    })
}

fn full() -> Value {
    json!({
        "version": "1",
        "flags": {
            "checkout-v2": {
                "name": "Checkout v2",
                "description": "The new checkout",
                "_createdAt": "2024-01-01T00:00:00Z",
                "_updatedAt": "2024-02-01T00:00:00Z",
                "_deprecation": {"status": "planned", "date": "2025-06-30"},
                "attributes": {
                    "color": {
                        "description": "Button color",
                        "constraints": {"type": "string", "enum": ["red", "blue", 7]}
                    },
                    "region": {"constraints": {"type": "string", "pattern": "^[a-z]{2}-", "required": true}},
                    "limit": {"constraints": {"type": "number", "minimum": 1, "maximum": 10}},
                    "strict": {"constraints": {"type": "boolean"}},
                    "tags": {"constraints": {"type": "array", "elements": {"type": "string", "pattern": "^t"}}},
                    "weights": {"constraints": {"type": "array", "elements": {"type": "number", "maximum": 100}}},
                    "free": {"description": "no constraints"}
                }
            },
            "dark_mode": {"name": "Dark mode"}
        },
        "values": {
            "checkout-v2": {
                "enabled": true,
                "color": "blue",
                "region": "eu-west-1",
                "limit": 10,
                "strict": false,
                "tags": ["t1", "t2"],
                "weights": [],
                "free": ["anything"],
                "undeclared": 3.5,
                "_createdAt": "2024-01-01T00:00:00Z",
                "_variants": [
                    {"name": "Internal", "enabled": true, "rule": "(ends_with $email \"@example.com\")",
                     "attributeValues": {"color": "red", "limit": 1}},
                    {"name": "Default", "enabled": false}
                ]
            },
            "dark_mode": {"enabled": false}
        }
    })
}

#[test]
fn minimal_documents_are_valid() {
    assert!(found(json!({"version": "1"})).is_empty());
    assert!(found(json!({"version": "1", "flags": {}, "values": {}})).is_empty());
    assert!(
        check(br#"{"flags":{"a":{"name":"A"}},"values":{"a":{"enabled":true}},"version":"1"}"#)
            .is_ok()
    );
}

#[test]
fn a_document_with_attributes_constraints_and_variants_is_valid() {
    assert_eq!(found(full()), vec![]);
}

#[test]
fn content_that_is_not_json_is_refused_with_aws_message() {
    let error = check(b"enabled: true").unwrap_err();
    assert!(error.message.starts_with(MALFORMED), "{}", error.message);
    assert_eq!(error.members["Reason"], "InvalidConfiguration");
    let detail = &error.members["Details"]["InvalidConfiguration"][0];
    assert_eq!(detail["Location"], "#");
    assert_eq!(detail["Type"], "Syntactic");
    assert_eq!(detail["Value"], "enabled: true");
}

#[test]
fn the_error_lists_every_violation() {
    let error = check(br#"{"flags": {"Bad": {}}, "extra": 1}"#).unwrap_err();
    assert!(
        error.message.starts_with(
            "The content is not a valid AWS.AppConfig.FeatureFlags document: #/extra: "
        )
    );
    let details = error.members["Details"]["InvalidConfiguration"]
        .as_array()
        .unwrap();
    let locations: Vec<&str> = details
        .iter()
        .map(|d| d["Location"].as_str().unwrap())
        .collect();
    assert_eq!(locations, ["#/extra", "#/version", "#/flags/Bad"]);
    assert_eq!(details[1]["Constraint"], "required: version");
    assert!(details[1].get("Value").is_none());
    assert_eq!(details[2]["Value"], r#""Bad""#);
}

#[test]
fn the_document_needs_version_one_and_nothing_else() {
    use Kind::Syntactic as S;
    breaks(json!([]), "#", "type: object", S);
    breaks(json!({"flags": {}}), "#/version", "required: version", S);
    breaks(json!({"version": 1}), "#/version", r#"enum: ["1"]"#, S);
    breaks(json!({"version": "2"}), "#/version", r#"enum: ["1"]"#, S);
    breaks(
        json!({"version": "1", "flag": {}}),
        "#/flag",
        "additionalProperties: false",
        S,
    );
    breaks(
        json!({"version": "1", "flags": []}),
        "#/flags",
        "type: object",
        S,
    );
    breaks(
        json!({"version": "1", "values": 1}),
        "#/values",
        "type: object",
        S,
    );
}

#[test]
fn flag_and_attribute_keys_follow_the_pattern() {
    let key = format!("pattern: {KEY_PATTERN}");
    let long = "b".repeat(65);
    for bad in ["Beta", "1beta", "_beta", "be ta", "bêta", &long] {
        let document = json!({"version": "1", "flags": {bad: {"name": "x"}}});
        breaks(document, &child("#/flags", bad), &key, Kind::Syntactic);
    }
    assert!(found(json!({"version": "1", "flags": {&"b".repeat(64): {}}})).is_empty());
    breaks(
        with_flag(json!({"Big": {}}), json!({})),
        "#/flags/beta/attributes/Big",
        &key,
        Kind::Syntactic,
    );
    breaks(
        with_flag(json!({}), json!({"Big": 1})),
        "#/values/beta/Big",
        &key,
        Kind::Syntactic,
    );
}

#[test]
fn flag_definitions_have_only_documented_members() {
    use Kind::Syntactic as S;
    let flag = |definition: Value| json!({"version": "1", "flags": {"beta": definition}});
    breaks(flag(json!("Beta")), "#/flags/beta", "type: object", S);
    let name = format!("pattern: {NAME_PATTERN}");
    breaks(flag(json!({"name": ""})), "#/flags/beta/name", &name, S);
    breaks(flag(json!({"name": "a\nb"})), "#/flags/beta/name", &name, S);
    breaks(
        flag(json!({"name": "n".repeat(65)})),
        "#/flags/beta/name",
        &name,
        S,
    );
    breaks(
        flag(json!({"name": 1})),
        "#/flags/beta/name",
        "type: string",
        S,
    );
    breaks(
        flag(json!({"description": "d".repeat(1025)})),
        "#/flags/beta/description",
        "maxLength: 1024",
        S,
    );
    breaks(
        flag(json!({"_createdAt": 5})),
        "#/flags/beta/_createdAt",
        "type: string",
        S,
    );
    breaks(
        flag(json!({"enabled": true})),
        "#/flags/beta/enabled",
        "additionalProperties: false",
        S,
    );
    breaks(
        flag(json!({"_deprecation": {"status": "done"}})),
        "#/flags/beta/_deprecation/status",
        r#"enum: ["planned"]"#,
        S,
    );
    breaks(
        flag(json!({"_deprecation": {"date": "2025-13-01"}})),
        "#/flags/beta/_deprecation/date",
        "format: date",
        S,
    );
    breaks(
        flag(json!({"_deprecation": {"when": "soon"}})),
        "#/flags/beta/_deprecation/when",
        "additionalProperties: false",
        S,
    );
    breaks(
        flag(json!({"attributes": []})),
        "#/flags/beta/attributes",
        "type: object",
        S,
    );
}

#[test]
fn attribute_definitions_are_checked() {
    use Kind::{Semantic as M, Syntactic as S};
    let attribute = |definition: Value| with_flag(json!({"a": definition}), json!({}));
    let many: Map<String, Value> = (0..26).map(|i| (format!("a{i}"), json!({}))).collect();
    breaks(
        with_flag(Value::Object(many), json!({})),
        "#/flags/beta/attributes",
        "maxProperties: 25",
        S,
    );
    breaks(
        with_flag(json!({"enabled": {}}), json!({})),
        "#/flags/beta/attributes/enabled",
        "reserved: enabled",
        M,
    );
    breaks(
        attribute(json!(1)),
        "#/flags/beta/attributes/a",
        "type: object",
        S,
    );
    breaks(
        attribute(json!({"kind": "string"})),
        "#/flags/beta/attributes/a/kind",
        "additionalProperties: false",
        S,
    );
    let at = "#/flags/beta/attributes/a/constraints";
    let constraints = |c: Value| attribute(json!({"constraints": c}));
    breaks(
        constraints(json!({})),
        &format!("{at}/type"),
        "required: type",
        S,
    );
    breaks(
        constraints(json!({"type": "integer"})),
        &format!("{at}/type"),
        r#"enum: ["number", "string", "array", "boolean"]"#,
        S,
    );
    breaks(
        constraints(json!({"type": "boolean", "pattern": "x"})),
        &format!("{at}/pattern"),
        "additionalProperties: false",
        S,
    );
    breaks(
        constraints(json!({"type": "string", "minimum": 1})),
        &format!("{at}/minimum"),
        "additionalProperties: false",
        S,
    );
    breaks(
        constraints(json!({"type": "string", "pattern": "a", "enum": ["a"]})),
        at,
        r#"not: {"required": ["pattern", "enum"]}"#,
        S,
    );
    breaks(
        constraints(json!({"type": "string", "pattern": "("})),
        &format!("{at}/pattern"),
        "format: regex",
        S,
    );
    breaks(
        constraints(json!({"type": "string", "enum": ["a", 1.5]})),
        &format!("{at}/enum/1"),
        "oneOf: string (at most 1024 characters), integer",
        S,
    );
    breaks(
        constraints(json!({"type": "number", "minimum": 0.5})),
        &format!("{at}/minimum"),
        "type: integer",
        S,
    );
    breaks(
        constraints(json!({"type": "number", "required": "yes"})),
        &format!("{at}/required"),
        "type: boolean",
        S,
    );
    breaks(
        constraints(json!({"type": "array", "elements": {"type": "boolean"}})),
        &format!("{at}/elements/type"),
        r#"enum: ["number", "string"]"#,
        S,
    );
}

#[test]
fn values_name_declared_flags() {
    breaks(
        json!({"version": "1", "values": {"ghost": {"enabled": true}}}),
        "#/values/ghost",
        "declared: #/flags",
        Kind::Semantic,
    );
    breaks(
        json!({"version": "1", "flags": {"a": {}}, "values": {"b": {"enabled": true}}}),
        "#/values/b",
        "declared: #/flags",
        Kind::Semantic,
    );
}

#[test]
fn flag_values_have_a_documented_shape() {
    use Kind::Syntactic as S;
    let value = |v: Value| with_flag(json!({}), v);
    breaks(value(json!(true)), "#/values/beta", "type: object", S);
    breaks(
        value(json!({"enabled": "yes"})),
        "#/values/beta/enabled",
        "type: boolean",
        S,
    );
    breaks(
        value(json!({"_updatedAt": 1})),
        "#/values/beta/_updatedAt",
        "type: string",
        S,
    );
    let shape = "oneOf: string (at most 1024 characters), number, boolean, array of such \
                 strings or of numbers";
    for bad in [
        json!(null),
        json!({"x": 1}),
        json!(["a", 1]),
        json!([true]),
        json!("s".repeat(1025)),
        json!(["s".repeat(1025)]),
    ] {
        breaks(value(json!({"attr": bad})), "#/values/beta/attr", shape, S);
    }
}

#[test]
fn variants_are_checked() {
    use Kind::Syntactic as S;
    let variants = |v: Value| with_flag(json!({}), json!({"enabled": true, "_variants": v}));
    breaks(
        variants(json!({})),
        "#/values/beta/_variants",
        "type: array",
        S,
    );
    breaks(
        variants(json!([1])),
        "#/values/beta/_variants/0",
        "type: object",
        S,
    );
    assert_eq!(
        found(variants(json!([{}]))),
        vec![
            (
                "#/values/beta/_variants/0/name".into(),
                "required: name".into(),
                S
            ),
            (
                "#/values/beta/_variants/0/enabled".into(),
                "required: enabled".into(),
                S
            ),
        ]
    );
    let variant = |extra: Value| {
        let mut v = json!({"name": "V", "enabled": true});
        v.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        variants(json!([v]))
    };
    breaks(
        variant(json!({"rule": "r".repeat(16385)})),
        "#/values/beta/_variants/0/rule",
        "maxLength: 16384",
        S,
    );
    breaks(
        variant(json!({"weight": 1})),
        "#/values/beta/_variants/0/weight",
        "additionalProperties: false",
        S,
    );
    let many: Map<String, Value> = (0..26).map(|i| (format!("a{i}"), json!(1))).collect();
    breaks(
        variant(json!({"attributeValues": many})),
        "#/values/beta/_variants/0/attributeValues",
        "maxProperties: 25",
        S,
    );
}

#[test]
fn attribute_values_meet_their_constraints() {
    use Kind::Semantic as M;
    let constrained = |constraints: Value, value: Value| {
        with_flag(
            json!({"a": {"constraints": constraints}}),
            json!({"a": value}),
        )
    };
    let at = "#/values/beta/a";
    breaks(
        constrained(json!({"type": "string"}), json!(1)),
        at,
        "constraints.type: string",
        M,
    );
    breaks(
        constrained(json!({"type": "number"}), json!("1")),
        at,
        "constraints.type: number",
        M,
    );
    breaks(
        constrained(json!({"type": "boolean"}), json!(0)),
        at,
        "constraints.type: boolean",
        M,
    );
    breaks(
        constrained(json!({"type": "array"}), json!("a")),
        at,
        "constraints.type: array",
        M,
    );
    breaks(
        constrained(
            json!({"type": "string", "pattern": "^[a-z]+$"}),
            json!("ABC"),
        ),
        at,
        "constraints.pattern: ^[a-z]+$",
        M,
    );
    assert!(
        found(constrained(
            json!({"type": "string", "pattern": "b"}),
            json!("abc")
        ))
        .is_empty()
    );
    breaks(
        constrained(json!({"type": "string", "enum": ["a", "b"]}), json!("c")),
        at,
        r#"constraints.enum: ["a","b"]"#,
        M,
    );
    breaks(
        constrained(json!({"type": "number", "minimum": 5}), json!(4.5)),
        at,
        "constraints.minimum: 5",
        M,
    );
    breaks(
        constrained(json!({"type": "number", "maximum": 5}), json!(6)),
        at,
        "constraints.maximum: 5",
        M,
    );
    breaks(
        constrained(
            json!({"type": "array", "elements": {"type": "number", "minimum": 0}}),
            json!([1, -1]),
        ),
        "#/values/beta/a/1",
        "constraints.elements.minimum: 0",
        M,
    );
    breaks(
        constrained(
            json!({"type": "array", "elements": {"type": "string", "enum": ["x"]}}),
            json!([1]),
        ),
        "#/values/beta/a/0",
        "constraints.elements.type: string",
        M,
    );
    let error = violations(&constrained(
        json!({"type": "number", "maximum": 5}),
        json!(6),
    ));
    assert_eq!(
        error[0].reason,
        "Attribute 'a' of flag 'beta' must be at most 5"
    );
    assert_eq!(error[0].value.as_deref(), Some("6"));
    let element = json!({"type": "array", "elements": {"type": "number", "minimum": 0}});
    let error = violations(&constrained(element, json!([-1])));
    assert_eq!(
        error[0].reason,
        "Element 0 of attribute 'a' of flag 'beta' must be at least 0"
    );
}

#[test]
fn required_attributes_are_present_in_the_flag_value() {
    let required = json!({"a": {"constraints": {"type": "string", "required": true}}});
    breaks(
        with_flag(required.clone(), json!({"enabled": false})),
        "#/values/beta/a",
        "constraints.required: true",
        Kind::Semantic,
    );
    // A flag without a value has nothing to be missing from.
    let no_value = json!({"version": "1", "flags": {"beta": {"attributes": required}}});
    assert!(found(no_value).is_empty());
}

#[test]
fn variant_attribute_values_meet_their_constraints() {
    let document = with_flag(
        json!({"a": {"constraints": {"type": "number", "maximum": 3}}}),
        json!({"enabled": true, "a": 1, "_variants": [
            {"name": "V", "enabled": true, "attributeValues": {"a": 4}}
        ]}),
    );
    breaks(
        document,
        "#/values/beta/_variants/0/attributeValues/a",
        "constraints.maximum: 3",
        Kind::Semantic,
    );
}
