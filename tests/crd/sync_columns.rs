//! `kubectl get acs` shows the contract's columns, each reading the field it names.

use serde_json::json;

use crate::{
    appconfig_sync_crd,
    columns::{assert_cells, column_names},
    sync_cases,
};

#[test]
fn kubectl_get_acs_shows_the_contracts_columns_from_the_fields_they_name() {
    let crd = appconfig_sync_crd();
    let (default, wide) = column_names(&crd);
    assert_eq!(
        default,
        ["Target", "Version", "Ready", "Reason", "Last Sync", "Age"],
        "after NAME"
    );
    assert_eq!(wide, ["Application", "Environment", "Profile", "Message"]);

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
    assert_cells(&crd, &object, &expected);
}
