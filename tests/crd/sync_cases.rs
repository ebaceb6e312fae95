//! Admission cases of AppConfigSync: what the API server must do with each object.

use serde_json::{Map, Value, json};

use crate::cases::{Case, admitted, refused, text};

/// The contract's example.
pub fn example() -> Value {
    json!({
        "apiVersion": "appconfig.operators.dev/v1alpha1",
        "kind": "AppConfigSync",
        "metadata": {"name": "checkout-flags"},
        "spec": {
            "application": "checkout",
            "environment": "production",
            "configurationProfile": "feature-flags",
        },
    })
}

fn with_spec(edit: impl FnOnce(&mut Map<String, Value>)) -> Value {
    let mut object = example();
    edit(object["spec"].as_object_mut().unwrap());
    object
}

fn with_target(target: Value) -> Value {
    with_spec(|spec| {
        spec.insert("target".into(), target);
    })
}

pub fn all() -> Vec<Case> {
    vec![
        admitted(
            "the contract's example, with defaults applied",
            example(),
            json!({"pollIntervalSeconds": 60, "target": {"kind": "ConfigMap"}}),
        ),
        admitted(
            "every field at its limit",
            with_spec(|spec| {
                spec.insert("application".into(), text(128));
                spec.insert("pollIntervalSeconds".into(), json!(86400));
                spec.insert(
                    "target".into(),
                    json!({"kind": "Secret", "name": "a.b-c", "key": "flags_v1.json", "labels": {"team": "x"}, "annotations": {"a": "b"}}),
                );
            }),
            json!({"pollIntervalSeconds": 86400, "application": text(128)}),
        ),
        refused(
            "an empty application",
            with_spec(|spec| {
                spec.insert("application".into(), json!(""));
            }),
            "spec.application",
            &["at least 1"],
        ),
        refused(
            "a profile name over 128 characters",
            with_spec(|spec| {
                spec.insert("configurationProfile".into(), text(129));
            }),
            "spec.configurationProfile",
            &["128"],
        ),
        refused(
            "a poll interval under 15 seconds",
            with_spec(|spec| {
                spec.insert("pollIntervalSeconds".into(), json!(14));
            }),
            "spec.pollIntervalSeconds",
            &["15"],
        ),
        refused(
            "a poll interval over a day",
            with_spec(|spec| {
                spec.insert("pollIntervalSeconds".into(), json!(86401));
            }),
            "spec.pollIntervalSeconds",
            &["86400"],
        ),
        admitted(
            "a target key with one leading dot and dots inside",
            with_target(json!({"key": ".env..local"})),
            json!({"target": {"key": ".env..local", "kind": "ConfigMap"}}),
        ),
        refused(
            "a target kind other than ConfigMap or Secret",
            with_target(json!({"kind": "Deployment"})),
            "spec.target.kind",
            &["ConfigMap", "Secret"],
        ),
        refused(
            "a target name that is not DNS-1123",
            with_target(json!({"name": "Flags_1"})),
            "spec.target.name",
            &["DNS-1123"],
        ),
        refused(
            "a target key with a slash",
            with_target(json!({"key": "a/b"})),
            "spec.target.key",
            &["config-map key"],
        ),
        refused(
            "a target key of two dots",
            with_target(json!({"key": ".."})),
            "spec.target.key",
            &["config-map key"],
        ),
        refused(
            "a target key starting with two dots, which the API server refuses in a ConfigMap",
            with_target(json!({"key": "..data"})),
            "spec.target.key",
            &["starting with '..'"],
        ),
    ]
}
