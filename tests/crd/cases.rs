//! Admission cases: what the API server must do with each object at `kubectl apply`.

use serde_json::{Map, Value, json};

use crate::samples::{contract_example, with_spec};

pub enum Expect {
    /// Admitted; the stored spec contains these fields with these values (defaults included).
    Admitted(Value),
    /// Refused with a message that names `field` and contains every one of `mentions`.
    Refused {
        field: String,
        mentions: &'static [&'static str],
    },
}

pub struct Case {
    pub name: String,
    pub object: Value,
    pub expect: Expect,
}

pub fn admitted(name: &str, object: Value, spec: Value) -> Case {
    Case {
        name: name.into(),
        object,
        expect: Expect::Admitted(spec),
    }
}

pub fn refused(name: &str, object: Value, field: &str, mentions: &'static [&'static str]) -> Case {
    Case {
        name: name.into(),
        object,
        expect: Expect::Refused {
            field: field.into(),
            mentions,
        },
    }
}

pub fn text(len: usize) -> Value {
    Value::String("x".repeat(len))
}

fn string_map(entries: usize, key: impl Fn(usize) -> String, value: Value) -> Value {
    Value::Object(
        (0..entries)
            .map(|i| (key(i), value.clone()))
            .collect::<Map<_, _>>(),
    )
}

pub fn all() -> Vec<Case> {
    let mut cases = vec![
        admitted(
            "the contract's example, with defaults applied",
            contract_example(),
            json!({"suspend": false, "deletionPolicy": "Retain"}),
        ),
        admitted(
            "every optional field at its limit",
            with_spec(|spec| {
                spec.insert("application".into(), text(128));
                spec.insert("configurationVersion".into(), text(1024));
                spec.insert("description".into(), text(1024));
                spec.insert("kmsKeyIdentifier".into(), text(2048));
                spec.insert(
                    "dynamicExtensionParameters".into(),
                    string_map(10, |i| format!("ext{i}#param"), text(2048)),
                );
                spec.insert(
                    "tags".into(),
                    string_map(48, |i| format!("{i:0>128}"), text(256)),
                );
                spec.insert("suspend".into(), json!(true));
                spec.insert("deletionPolicy".into(), json!("Stop"));
            }),
            json!({"suspend": true, "deletionPolicy": "Stop", "application": text(128)}),
        ),
        refused(
            "no spec",
            {
                let mut object = contract_example();
                object.as_object_mut().unwrap().remove("spec");
                object
            },
            "spec",
            &["Required value"],
        ),
        refused(
            "deletionPolicy that is neither Retain nor Stop",
            with_spec(|spec| {
                spec.insert("deletionPolicy".into(), json!("Delete"));
            }),
            "spec.deletionPolicy",
            &["Unsupported value", "Retain", "Stop"],
        ),
        refused(
            "deletionPolicy in the wrong case",
            with_spec(|spec| {
                spec.insert("deletionPolicy".into(), json!("stop"));
            }),
            "spec.deletionPolicy",
            &["Unsupported value"],
        ),
        refused(
            "description over 1024 characters",
            with_spec(|spec| {
                spec.insert("description".into(), text(1025));
            }),
            "spec.description",
            &["Too long", "1024"],
        ),
        refused(
            "application name over 128 characters",
            with_spec(|spec| {
                spec.insert("application".into(), text(129));
            }),
            "spec.application",
            &["Too long", "128"],
        ),
        refused(
            "empty environment",
            with_spec(|spec| {
                spec.insert("environment".into(), json!(""));
            }),
            "spec.environment",
            &["at least 1 chars long"],
        ),
        refused(
            "configurationVersion over 1024 characters",
            with_spec(|spec| {
                spec.insert("configurationVersion".into(), text(1025));
            }),
            "spec.configurationVersion",
            &["Too long", "1024"],
        ),
        refused(
            "empty kmsKeyIdentifier",
            with_spec(|spec| {
                spec.insert("kmsKeyIdentifier".into(), json!(""));
            }),
            "spec.kmsKeyIdentifier",
            &["at least 1 chars long"],
        ),
        refused(
            "suspend that is not a boolean",
            with_spec(|spec| {
                spec.insert("suspend".into(), json!("yes"));
            }),
            "spec.suspend",
            &["must be of type boolean"],
        ),
        refused(
            "49 tags",
            with_spec(|spec| {
                spec.insert(
                    "tags".into(),
                    string_map(49, |i| format!("tag{i}"), json!("v")),
                );
            }),
            "spec.tags",
            &["Too many", "48"],
        ),
        refused(
            "a tag value over 256 characters",
            with_spec(|spec| {
                spec.insert("tags".into(), json!({"team": text(257)}));
            }),
            "spec.tags",
            &["Too long", "256"],
        ),
        refused(
            "a tag key over 128 characters",
            with_spec(|spec| {
                spec.insert("tags".into(), json!({"x".repeat(129): "v"}));
            }),
            "spec.tags",
            &["tag keys must be 1 to 128 characters long"],
        ),
        refused(
            "a tag key with the prefix AWS reserves",
            with_spec(|spec| {
                spec.insert("tags".into(), json!({"aws:createdBy": "me"}));
            }),
            "spec.tags",
            &["tag keys must not start with 'aws:'"],
        ),
        refused(
            "a tag key with the prefix the operator reserves",
            with_spec(|spec| {
                spec.insert(
                    "tags".into(),
                    json!({"appconfig.operators.dev/resource": "shop/other"}),
                );
            }),
            "spec.tags",
            &["tag keys must not start with 'appconfig.operators.dev/'"],
        ),
        refused(
            "11 dynamic extension parameters",
            with_spec(|spec| {
                spec.insert(
                    "dynamicExtensionParameters".into(),
                    string_map(11, |i| format!("ext{i}#param"), json!("v")),
                );
            }),
            "spec.dynamicExtensionParameters",
            &["Too many", "10"],
        ),
        refused(
            "an empty dynamic extension parameter value",
            with_spec(|spec| {
                spec.insert(
                    "dynamicExtensionParameters".into(),
                    json!({"ext#param": ""}),
                );
            }),
            "spec.dynamicExtensionParameters",
            &["at least 1 chars long"],
        ),
    ];

    for field in [
        "application",
        "environment",
        "configurationProfile",
        "deploymentStrategy",
    ] {
        cases.push(refused(
            &format!("no {field}"),
            with_spec(|spec| {
                spec.remove(field);
            }),
            &format!("spec.{field}"),
            &["Required value"],
        ));
    }
    cases.extend(content_cases());
    for region in [
        "us-east-1",
        "us-gov-west-1",
        "cn-northwest-1",
        "eusc-de-east-1",
    ] {
        cases.push(admitted(
            &format!("region {region}"),
            with_spec(|spec| {
                spec.insert("region".into(), json!(region));
            }),
            json!({"region": region}),
        ));
    }
    for region in ["US-EAST-1", "us-east", "us east 1", "us-east-1 "] {
        cases.push(refused(
            &format!("region {region:?}"),
            with_spec(|spec| {
                spec.insert("region".into(), json!(region));
            }),
            "spec.region",
            &["should match"],
        ));
    }
    for name in ["appconfig", "team-a.deployer"] {
        cases.push(admitted(
            &format!("serviceAccountName {name}"),
            with_spec(|spec| {
                spec.insert("serviceAccountName".into(), json!(name));
            }),
            json!({"serviceAccountName": name}),
        ));
    }
    let patterns: [(&str, &'static [&'static str]); 3] = [
        ("Team_A", &["should match"]),
        ("-deployer", &["should match"]),
        ("", &["should be at least 1 chars long"]),
    ];
    for (name, cause) in patterns {
        cases.push(refused(
            &format!("serviceAccountName {name:?}"),
            with_spec(|spec| {
                spec.insert("serviceAccountName".into(), json!(name));
            }),
            "spec.serviceAccountName",
            cause,
        ));
    }
    cases
}

/// Exactly one of configurationVersion, content and contentFrom; contentType and versionLabel
/// with content only.
fn content_cases() -> Vec<Case> {
    const ONE_OF: &[&str] =
        &["exactly one of spec.configurationVersion, spec.content and spec.contentFrom"];
    let from = json!({"configMapKeyRef": {"name": "checkout-flags", "key": "flags.json"}});
    let mut cases = vec![
        refused(
            "none of configurationVersion, content and contentFrom",
            with_spec(|spec| {
                spec.remove("configurationVersion");
            }),
            "spec",
            ONE_OF,
        ),
        refused(
            "configurationVersion and content",
            with_spec(|spec| {
                spec.insert("content".into(), json!("{}"));
            }),
            "spec",
            ONE_OF,
        ),
        refused(
            "content and contentFrom",
            with_spec(|spec| {
                spec.remove("configurationVersion");
                spec.insert("content".into(), json!("{}"));
                spec.insert("contentFrom".into(), from.clone());
            }),
            "spec",
            ONE_OF,
        ),
        admitted(
            "content with its type and label",
            with_spec(|spec| {
                spec.remove("configurationVersion");
                spec.insert("content".into(), json!("flags: on"));
                spec.insert("contentType".into(), json!("application/x-yaml"));
                spec.insert("versionLabel".into(), json!("v1.4.0"));
            }),
            json!({"content": "flags: on", "contentType": "application/x-yaml", "versionLabel": "v1.4.0"}),
        ),
        admitted(
            "contentFrom a ConfigMap key",
            with_spec(|spec| {
                spec.remove("configurationVersion");
                spec.insert("contentFrom".into(), from.clone());
            }),
            json!({"contentFrom": from.clone()}),
        ),
        refused(
            "contentFrom without a key",
            with_spec(|spec| {
                spec.remove("configurationVersion");
                spec.insert(
                    "contentFrom".into(),
                    json!({"configMapKeyRef": {"name": "checkout-flags"}}),
                );
            }),
            "spec.contentFrom.configMapKeyRef.key",
            &["Required value"],
        ),
        refused(
            "contentFrom with a key no ConfigMap can hold",
            with_spec(|spec| {
                spec.remove("configurationVersion");
                spec.insert(
                    "contentFrom".into(),
                    json!({"configMapKeyRef": {"name": "checkout-flags", "key": "flags/json"}}),
                );
            }),
            "spec.contentFrom.configMapKeyRef.key",
            &["should match"],
        ),
        refused(
            "versionLabel with configurationVersion",
            with_spec(|spec| {
                spec.insert("versionLabel".into(), json!("v1.4.0"));
            }),
            "spec",
            &["spec.contentType and spec.versionLabel describe spec.content or spec.contentFrom"],
        ),
        refused(
            "versionLabel of digits only",
            with_spec(|spec| {
                spec.remove("configurationVersion");
                spec.insert("content".into(), json!("{}"));
                spec.insert("versionLabel".into(), json!("42"));
            }),
            "spec.versionLabel",
            &["should match"],
        ),
    ];
    cases.push(refused(
        "an empty contentType",
        with_spec(|spec| {
            spec.remove("configurationVersion");
            spec.insert("content".into(), json!("{}"));
            spec.insert("contentType".into(), json!(""));
        }),
        "spec.contentType",
        &["at least 1 chars long"],
    ));
    cases
}

/// Checks every case's admission result and fails listing every case that went wrong.
pub fn assert_all(results: Vec<(Case, Result<Value, String>)>) {
    assert!(!results.is_empty());
    let failures: Vec<String> = results
        .iter()
        .filter_map(|(case, result)| {
            mismatch(case, result).map(|why| format!("{}: {why}", case.name))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} admission cases went wrong:\n{}",
        failures.len(),
        results.len(),
        failures.join("\n")
    );
}

fn mismatch(case: &Case, result: &Result<Value, String>) -> Option<String> {
    match (&case.expect, result) {
        (Expect::Admitted(expected), Ok(stored)) => {
            let wrong: Vec<String> = expected
                .as_object()
                .expect("expected spec fields are an object")
                .iter()
                .filter(|(field, value)| stored["spec"].get(field.as_str()) != Some(value))
                .map(|(field, value)| {
                    format!(
                        "spec.{field} is {} instead of {value}",
                        stored["spec"][field]
                    )
                })
                .collect();
            (!wrong.is_empty()).then(|| wrong.join("; "))
        }
        (Expect::Admitted(_), Err(message)) => Some(format!("refused: {message}")),
        (Expect::Refused { .. }, Ok(_)) => Some("admitted".into()),
        (Expect::Refused { field, mentions }, Err(message)) => {
            let missing: Vec<&str> = std::iter::once(field.as_str())
                .chain(mentions.iter().copied())
                .filter(|needle| !message.contains(needle))
                .collect();
            (!missing.is_empty())
                .then(|| format!("message {message:?} does not mention {missing:?}"))
        }
    }
}
