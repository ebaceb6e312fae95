//! `kubectl get acd` shows the contract's columns, each reading the field it names.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    CustomResourceColumnDefinition, CustomResourceDefinition,
};
use serde_json::Value;
use serde_json_path::JsonPath;

use crate::{appconfig_deployment_crd, samples};

/// The columns `kubectl get acd` prints after NAME, and `-o wide` adds.
pub const COLUMNS: [&str; 7] = [
    "Desired", "Served", "State", "Percent", "Ready", "Reason", "Age",
];
pub const WIDE_COLUMNS: [&str; 6] = [
    "Application",
    "Environment",
    "Profile",
    "Content",
    "Deployment",
    "Message",
];

/// What each column shows for the contract's example once version 7 is served (Age aside: it
/// is relative to now).
pub fn expected_cells() -> Vec<(&'static str, &'static str)> {
    vec![
        ("Desired", "7"),
        ("Served", "7"),
        ("State", "COMPLETE"),
        ("Percent", "100"),
        ("Ready", "True"),
        ("Reason", "Deployed"),
        ("Application", "checkout"),
        ("Environment", "production"),
        ("Profile", "feature-flags"),
        // The example names a version: it has no content to hash.
        ("Content", "<none>"),
        ("Deployment", "12"),
        ("Message", "Deployment 12 of version 7 is complete"),
    ]
}

/// A cell as kubectl prints it (the API server's table has null where the field is missing).
pub fn cell_text(value: &Value) -> String {
    match value {
        Value::Null => "<none>".to_owned(),
        Value::String(text) => text.clone(),
        Value::Number(n) => n.as_f64().map_or_else(|| n.to_string(), |f| f.to_string()),
        other => other.to_string(),
    }
}

/// The columns `crd` prints after NAME, and those `-o wide` adds.
pub fn column_names(crd: &CustomResourceDefinition) -> (Vec<String>, Vec<String>) {
    let columns = crd.spec.versions[0]
        .additional_printer_columns
        .clone()
        .unwrap();
    let (default, wide): (Vec<_>, Vec<_>) = columns
        .into_iter()
        .partition(|c| c.priority.unwrap_or(0) == 0);
    let names = |columns: Vec<CustomResourceColumnDefinition>| {
        columns.into_iter().map(|c| c.name).collect::<Vec<_>>()
    };
    (names(default), names(wide))
}

/// Each of `crd`'s columns shows, for `object`, the cell `expected` gives it.
pub fn assert_cells(crd: &CustomResourceDefinition, object: &Value, expected: &[(&str, &str)]) {
    for column in crd.spec.versions[0]
        .additional_printer_columns
        .as_ref()
        .unwrap()
    {
        let path = JsonPath::parse(&format!("${}", column.json_path)).unwrap_or_else(|e| {
            panic!(
                "column {}: bad JSONPath {}: {e}",
                column.name, column.json_path
            )
        });
        let found = path.query(object).all();
        let cell = match found.as_slice() {
            [value] => cell_text(value),
            [] => cell_text(&Value::Null),
            _ => panic!(
                "column {} ({}) finds {found:?}",
                column.name, column.json_path
            ),
        };
        let (_, wanted) = expected
            .iter()
            .find(|(name, _)| *name == column.name)
            .unwrap_or_else(|| panic!("unexpected column {}", column.name));
        assert_eq!(cell, *wanted, "column {}", column.name);
    }
}

#[test]
fn kubectl_get_shows_the_contracts_columns() {
    let (default, wide) = column_names(&appconfig_deployment_crd());
    assert_eq!(default, COLUMNS);
    assert_eq!(wide, WIDE_COLUMNS);
}

#[test]
fn columns_read_the_fields_they_name() {
    let crd = appconfig_deployment_crd();
    let mut object = samples::contract_example();
    object["metadata"]["creationTimestamp"] = "2026-11-21T09:59:00Z".into();
    object["status"] = samples::deployed_status();
    let mut expected = expected_cells();
    expected.push(("Age", "2026-11-21T09:59:00Z"));
    assert_cells(&crd, &object, &expected);
}
