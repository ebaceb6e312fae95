//! `kubectl get acs` shows the contract's columns, each reading the field it names.

use serde_json::json;
use serde_json_path::JsonPath;

use crate::{appconfig_sync_crd, columns::cell_text, sync_cases};

#[test]
fn kubectl_get_acs_shows_the_contracts_columns_from_the_fields_they_name() {
    let crd = appconfig_sync_crd();
    let columns = crd.spec.versions[0]
        .additional_printer_columns
        .clone()
        .unwrap();
    let default: Vec<&str> = columns
        .iter()
        .filter(|c| c.priority.unwrap_or(0) == 0)
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(
        default,
        ["Target", "Version", "Ready", "Reason", "Last Sync", "Age"],
        "after NAME"
    );

    let mut object = sync_cases::example();
    object["metadata"]["creationTimestamp"] = json!("2026-11-21T09:00:00Z");
    object["status"] = json!({
        "observedGeneration": 1,
        "target": {"kind": "ConfigMap", "name": "checkout-flags", "description": "ConfigMap/checkout-flags"},
        "versionLabel": "v1.4.0",
        "lastSyncTime": "2026-11-21T10:02:00Z",
        "conditions": [
            {"type": "Ready", "status": "True", "reason": "Synced", "message": "ConfigMap/checkout-flags holds version v1.4.0", "lastTransitionTime": "2026-11-21T10:02:00Z"},
            {"type": "Reconciling", "status": "False", "reason": "Synced", "message": "", "lastTransitionTime": "2026-11-21T10:02:00Z"},
        ],
    });
    let expected = [
        ("Target", "ConfigMap/checkout-flags"),
        ("Version", "v1.4.0"),
        ("Ready", "True"),
        ("Reason", "Synced"),
        ("Last Sync", "2026-11-21T10:02:00Z"),
        ("Age", "2026-11-21T09:00:00Z"),
        ("Application", "checkout"),
        ("Environment", "production"),
        ("Profile", "feature-flags"),
        ("Message", "ConfigMap/checkout-flags holds version v1.4.0"),
    ];
    for column in &columns {
        let path = JsonPath::parse(&format!("${}", column.json_path)).unwrap();
        let found = path.query(&object).all();
        let [value] = found.as_slice() else {
            panic!(
                "column {} ({}) finds {found:?}",
                column.name, column.json_path
            )
        };
        let (_, wanted) = expected
            .iter()
            .find(|(name, _)| *name == column.name)
            .unwrap_or_else(|| panic!("unexpected column {}", column.name));
        assert_eq!(cell_text(value), *wanted, "column {}", column.name);
    }
}
