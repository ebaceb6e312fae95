//! The API server's admission of a custom resource, reproduced from its CRD: schema defaults,
//! OpenAPI validation and CEL rules, with errors worded as the API server words them, so the
//! same cases hold offline and against a real cluster.

use jsonschema::{
    JsonType, ValidationError,
    error::{TypeKind, ValidationErrorKind},
};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use serde_json::Value;

pub struct OfflineApiServer {
    schema: Value,
    openapi: jsonschema::Validator,
    resource: String,
}

/// The `openAPIV3Schema` of a CRD's single version, as JSON.
pub fn openapi_schema(crd: &CustomResourceDefinition) -> Value {
    let [version] = crd.spec.versions.as_slice() else {
        panic!("{} serves more than one version", crd.spec.names.kind);
    };
    let schema = version
        .schema
        .as_ref()
        .and_then(|s| s.open_api_v3_schema.as_ref());
    serde_json::to_value(schema.expect("the version has a schema")).unwrap()
}

impl OfflineApiServer {
    pub fn new(crd: &CustomResourceDefinition) -> Self {
        let schema = openapi_schema(crd);
        let openapi = jsonschema::draft4::new(&as_json_schema(&schema))
            .expect("an OpenAPI v3 schema is a valid JSON schema once nullable is spelled out");
        Self {
            schema,
            openapi,
            resource: format!("{}.{}", crd.spec.names.kind, crd.spec.group),
        }
    }

    /// Admits a create: the object as it would be stored, or the API server's error message.
    pub fn create(&self, object: &Value) -> Result<Value, String> {
        let defaulted = kube_cel::apply_defaults(&self.schema, object);
        let mut errors: Vec<String> = self
            .openapi
            .iter_errors(&defaulted)
            .map(|e| describe(&e))
            .collect();
        if let Err(failed) = kube_cel::Validator::new().validate(&self.schema, &defaulted, None) {
            errors.extend(
                failed
                    .iter()
                    .map(|e| format!("{}: Invalid value: \"object\": {}", e.field_path, e.message)),
            );
        }
        if errors.is_empty() {
            return Ok(defaulted);
        }
        let name = object["metadata"]["name"].as_str().unwrap_or_default();
        Err(format!(
            "{} \"{name}\" is invalid: [{}]",
            self.resource,
            errors.join(", ")
        ))
    }
}

/// OpenAPI's `nullable: true` is JSON Schema's `"type": [t, "null"]`.
fn as_json_schema(schema: &Value) -> Value {
    match schema {
        Value::Object(fields) => {
            let mut converted: serde_json::Map<String, Value> = fields
                .iter()
                .map(|(k, v)| (k.clone(), as_json_schema(v)))
                .collect();
            if converted.remove("nullable") == Some(Value::Bool(true))
                && let Some(t) = converted.get("type").cloned()
            {
                converted.insert("type".into(), serde_json::json!([t, "null"]));
            }
            Value::Object(converted)
        }
        Value::Array(items) => Value::Array(items.iter().map(as_json_schema).collect()),
        other => other.clone(),
    }
}

fn describe(error: &ValidationError) -> String {
    let path = field_path(&error.instance_path().to_string());
    let value = error.instance();
    match error.kind() {
        ValidationErrorKind::Required { property } => {
            let field = property.as_str().unwrap_or_default();
            let path = if path.is_empty() {
                field.to_string()
            } else {
                format!("{path}.{field}")
            };
            format!("{path}: Required value")
        }
        ValidationErrorKind::Enum { options } => {
            let supported: Vec<String> = options
                .as_array()
                .into_iter()
                .flatten()
                .map(Value::to_string)
                .collect();
            format!(
                "{path}: Unsupported value: {value}: supported values: {}",
                supported.join(", ")
            )
        }
        ValidationErrorKind::MaxLength { limit } => {
            format!("{path}: Too long: may not be more than {limit} bytes")
        }
        ValidationErrorKind::MinLength { limit } => {
            format!(
                "{path}: Invalid value: {value}: {path} in body should be at least {limit} chars long"
            )
        }
        ValidationErrorKind::Pattern { pattern } => {
            format!("{path}: Invalid value: {value}: {path} in body should match '{pattern}'")
        }
        ValidationErrorKind::MaxProperties { limit } => {
            let count = value.as_object().map_or(0, |o| o.len());
            format!("{path}: Too many: {count}: must have at most {limit} items")
        }
        ValidationErrorKind::Type { kind } => {
            let expected = match kind {
                TypeKind::Single(t) => *t,
                TypeKind::Multiple(set) => set
                    .iter()
                    .find(|t| *t != JsonType::Null)
                    .unwrap_or(JsonType::Null),
            };
            let actual = json_type(value);
            format!(
                "{path}: Invalid value: \"{actual}\": {path} in body must be of type {expected}: \"{actual}\""
            )
        }
        _ => format!("{path}: Invalid value: {error}"),
    }
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// `/spec/tags/team` → `spec.tags.team`.
fn field_path(pointer: &str) -> String {
    pointer
        .split('/')
        .skip(1)
        .map(|segment| segment.replace("~1", "/").replace("~0", "~"))
        .collect::<Vec<_>>()
        .join(".")
}
