//! AppConfigDeployment objects as users write them.

use serde_json::{Value, json};

/// The spec from the API contract's example.
pub fn contract_example() -> Value {
    json!({
        "apiVersion": "appconfig.operators.dev/v1alpha1",
        "kind": "AppConfigDeployment",
        "metadata": {"name": "checkout-flags"},
        "spec": {
            "application": "checkout",
            "environment": "production",
            "configurationProfile": "feature-flags",
            "configurationVersion": "7",
            "deploymentStrategy": "AppConfig.Linear50PercentEvery30Seconds",
            "description": "Enable one-click checkout",
        },
    })
}

/// The contract example with `edit` applied to its spec.
pub fn with_spec(edit: impl FnOnce(&mut serde_json::Map<String, Value>)) -> Value {
    let mut object = contract_example();
    edit(object["spec"].as_object_mut().expect("spec is an object"));
    object
}

/// A status as the operator writes it once version 7 is served.
pub fn deployed_status() -> Value {
    json!({
        "observedGeneration": 1,
        "applicationId": "abc1234",
        "environmentId": "env1234",
        "configurationProfileId": "prf1234",
        "deploymentStrategyId": "AppConfig.Linear50PercentEvery30Seconds",
        "deploymentNumber": 12,
        "deploymentGeneration": 1,
        "configurationVersion": "7",
        "desiredVersion": "7",
        "state": "COMPLETE",
        "percentageComplete": 100.0,
        "startedAt": "2026-11-21T10:00:00Z",
        "completedAt": "2026-11-21T10:01:30Z",
        "growthType": "LINEAR",
        "growthFactor": 50.0,
        "deploymentDurationInMinutes": 1,
        "finalBakeTimeInMinutes": 0,
        "eventLog": [
            {
                "eventType": "DEPLOYMENT_COMPLETED",
                "triggeredBy": "APPCONFIG",
                "description": "Deployment completed",
                "occurredAt": "2026-11-21T10:01:30Z",
            },
            {
                "eventType": "DEPLOYMENT_STARTED",
                "triggeredBy": "USER",
                "description": "Deployment started",
                "occurredAt": "2026-11-21T10:00:00Z",
            },
        ],
        "servedVersion": "7",
        "conditions": [
            {
                "type": "Ready",
                "status": "True",
                "reason": "Deployed",
                "message": "Deployment 12 of version 7 is complete",
                "observedGeneration": 1,
                "lastTransitionTime": "2026-11-21T10:01:30Z",
            },
            {
                "type": "Reconciling",
                "status": "False",
                "reason": "Deployed",
                "message": "",
                "observedGeneration": 1,
                "lastTransitionTime": "2026-11-21T10:01:30Z",
            },
            {
                "type": "Stalled",
                "status": "False",
                "reason": "Deployed",
                "message": "",
                "observedGeneration": 1,
                "lastTransitionTime": "2026-11-21T10:00:00Z",
            },
        ],
    })
}
