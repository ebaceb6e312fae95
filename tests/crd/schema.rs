//! The CRDs' identity is the contracts', and their schemas are ones the API server accepts:
//! structural, described for `kubectl explain`, with CEL rules that compile within the cost budget.

use kube_cel::{CompiledSchema, compile_schema, estimate_rule_cost};
use serde_json::{Value, json};

use appconfig_operator::api::crds;

use crate::{appconfig_deployment_crd, appconfig_sync_crd, offline_api_server::openapi_schema};

#[test]
fn identity_is_the_contracts() {
    for (crd, kind, plural, short) in [
        (
            appconfig_deployment_crd(),
            "AppConfigDeployment",
            "appconfigdeployments",
            "acd",
        ),
        (
            appconfig_sync_crd(),
            "AppConfigSync",
            "appconfigsyncs",
            "acs",
        ),
    ] {
        check_identity(&crd, kind, plural, short);
    }
}

fn check_identity(
    crd: &k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
    kind: &str,
    plural: &str,
    short: &str,
) {
    assert_eq!(
        crd.metadata.name.as_deref(),
        Some(format!("{plural}.appconfig.operators.dev").as_str())
    );
    assert_eq!(crd.spec.group, "appconfig.operators.dev");
    assert_eq!(crd.spec.scope, "Namespaced");
    let names = &crd.spec.names;
    assert_eq!(names.kind, kind);
    assert_eq!(names.plural, plural);
    assert_eq!(names.short_names.as_deref(), Some(&[short.to_string()][..]));
    assert_eq!(
        names.categories.as_deref(),
        Some(&["appconfig".to_string()][..])
    );
    let [version] = crd.spec.versions.as_slice() else {
        panic!("one version")
    };
    assert_eq!(version.name, "v1alpha1");
    assert!(version.served && version.storage);
    let subresources = version.subresources.as_ref().expect("subresources");
    assert!(
        subresources.status.is_some(),
        "the status subresource is on"
    );
}

/// Where a schema breaks the API server's structural-schema rules, one line per violation.
fn structural_violations(schema: &Value) -> Vec<String> {
    let mut violations = Vec::new();
    check_node(schema, "", &mut violations);
    violations
}

fn check_node(node: &Value, path: &str, violations: &mut Vec<String>) {
    let mut violation = |what: &str| {
        violations.push(format!(
            "{}: {what}",
            if path.is_empty() { "<root>" } else { path }
        ))
    };
    let preserves = node.get("x-kubernetes-preserve-unknown-fields") == Some(&json!(true))
        || node.get("x-kubernetes-int-or-string") == Some(&json!(true));
    match node.get("type").and_then(Value::as_str) {
        Some("object" | "array" | "string" | "integer" | "number" | "boolean") => {}
        Some(other) => violation(&format!("unknown type {other:?}")),
        None if preserves => {}
        None => violation("no type"),
    }
    for keyword in [
        "$ref",
        "definitions",
        "allOf",
        "anyOf",
        "oneOf",
        "not",
        "uniqueItems",
    ] {
        if node.get(keyword).is_some() {
            violation(&format!("{keyword} is not allowed here"));
        }
    }
    if node.get("properties").is_some() && node.get("additionalProperties").is_some() {
        violation("properties and additionalProperties together");
    }
    if let Some(properties) = node.get("properties").and_then(Value::as_object) {
        for (name, child) in properties {
            check_node(child, &join(path, name), violations);
        }
    }
    match node.get("additionalProperties") {
        None => {}
        Some(child @ Value::Object(_)) => check_node(child, &join(path, "*"), violations),
        Some(other) => violations.push(format!(
            "{path}: additionalProperties is {other}, not a schema"
        )),
    }
    match node.get("items") {
        None => {}
        Some(child @ Value::Object(_)) => check_node(child, &format!("{path}[]"), violations),
        Some(_) => violations.push(format!("{path}: items is not a single schema")),
    }
    if node.get("x-kubernetes-list-type") == Some(&json!("map")) {
        let keys = node["x-kubernetes-list-map-keys"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if keys.is_empty() {
            violations.push(format!(
                "{path}: a map list without x-kubernetes-list-map-keys"
            ));
        }
        let required = node["items"]["required"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for key in keys {
            if !required.contains(&key) {
                violations.push(format!(
                    "{path}: map list key {key} is not required in its items"
                ));
            }
        }
    }
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.into()
    } else {
        format!("{path}.{name}")
    }
}

#[test]
fn schema_is_structural() {
    for crd in crds::all() {
        let violations = structural_violations(&openapi_schema(&crd));
        assert!(
            violations.is_empty(),
            "{}: not a structural schema:\n{}",
            crd.spec.names.kind,
            violations.join("\n")
        );
    }
}

#[test]
fn structural_check_catches_what_the_api_server_rejects() {
    let schema = json!({
        "type": "object",
        "properties": {
            "free": {},
            "both": {"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": {"type": "string"}},
            "closed": {"type": "object", "additionalProperties": false},
            "list": {
                "type": "array",
                "x-kubernetes-list-type": "map",
                "x-kubernetes-list-map-keys": ["type"],
                "items": {"type": "object", "properties": {"type": {"type": "string"}}},
            },
            "choice": {"type": "string", "anyOf": [{"enum": ["a"]}]},
            "opaque": {"x-kubernetes-preserve-unknown-fields": true},
        },
    });
    let violations = structural_violations(&schema);
    for expected in [
        "free: no type",
        "both: properties and additionalProperties together",
        "closed: additionalProperties is false, not a schema",
        "list: map list key \"type\" is not required in its items",
        "choice: anyOf is not allowed here",
    ] {
        assert!(
            violations.iter().any(|v| v == expected),
            "{expected:?} not in {violations:#?}"
        );
    }
    assert_eq!(violations.len(), 5, "{violations:#?}");
}

#[test]
fn conditions_merge_by_type() {
    for crd in crds::all() {
        let schema = openapi_schema(&crd);
        let conditions = &schema["properties"]["status"]["properties"]["conditions"];
        assert_eq!(conditions["x-kubernetes-list-type"], "map");
        assert_eq!(conditions["x-kubernetes-list-map-keys"], json!(["type"]));
    }
}

#[test]
fn every_field_is_described_for_kubectl_explain() {
    fn undescribed(node: &Value, path: &str, out: &mut Vec<String>) {
        if !path.is_empty() && node["description"].as_str().is_none_or(str::is_empty) {
            out.push(path.to_string());
        }
        if let Some(properties) = node["properties"].as_object() {
            for (name, child) in properties {
                undescribed(child, &join(path, name), out);
            }
        }
        if node["items"].is_object() {
            undescribed(&node["items"], &format!("{path}[]"), out);
        }
    }
    let mut missing = Vec::new();
    for crd in crds::all() {
        undescribed(&openapi_schema(&crd), &crd.spec.names.kind, &mut missing);
    }
    assert!(
        missing.is_empty(),
        "fields without a description: {missing:?}"
    );
}

#[test]
fn cel_rules_compile_within_the_cost_budget() {
    fn visit(
        node: &CompiledSchema,
        schema: &Value,
        path: &str,
        rules: &mut usize,
        problems: &mut Vec<String>,
    ) {
        for compiled in &node.validations {
            if let Err(e) = compiled {
                problems.push(format!("{path}: {e}"));
            }
        }
        for rule in schema["x-kubernetes-validations"]
            .as_array()
            .into_iter()
            .flatten()
        {
            *rules += 1;
            let text = rule["rule"].as_str().expect("a rule has a CEL expression");
            // Cost only: kube-cel's scope check mistakes comprehension variables for free ones.
            for warning in estimate_rule_cost(text, node) {
                problems.push(format!("{path}: {text}: {}", warning.message));
            }
        }
        for (name, child) in &node.properties {
            visit(
                child,
                &schema["properties"][name],
                &join(path, name),
                rules,
                problems,
            );
        }
        if let Some(child) = &node.items {
            visit(
                child,
                &schema["items"],
                &format!("{path}[]"),
                rules,
                problems,
            );
        }
        if let Some(child) = &node.additional_properties {
            visit(
                child,
                &schema["additionalProperties"],
                &join(path, "*"),
                rules,
                problems,
            );
        }
    }
    for (crd, expected, what) in [
        (
            appconfig_deployment_crd(),
            5,
            "the tag key rules and the content choice rules",
        ),
        (appconfig_sync_crd(), 2, "the target name and key rules"),
    ] {
        let schema = openapi_schema(&crd);
        let (mut rules, mut problems) = (0, Vec::new());
        visit(
            &compile_schema(&schema),
            &schema,
            &crd.spec.names.kind,
            &mut rules,
            &mut problems,
        );
        assert!(problems.is_empty(), "{problems:#?}");
        assert_eq!(rules, expected, "{what}");
    }
}
