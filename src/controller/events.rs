//! The Events of an AppConfigDeployment's AppConfig event log.

use crate::{
    aws::model::DeploymentEvent,
    shared::events::{Notice, Severity},
};

/// The Event for one AppConfig event log entry of deployment `number`.
pub fn for_log_entry(number: i32, e: &DeploymentEvent) -> Notice {
    let warning = matches!(
        e.event_type.as_str(),
        "ROLLBACK_STARTED" | "ROLLBACK_COMPLETED" | "REVERT_COMPLETED"
    );
    Notice {
        severity: if warning {
            Severity::Warning
        } else {
            Severity::Normal
        },
        reason: camel_case(&e.event_type),
        action: "Observe",
        note: format!(
            "Deployment {number}: {} (triggered by {})",
            e.description, e.triggered_by
        ),
        identity: format!(
            "log/{number}/{}/{}/{}",
            e.occurred_at.map(|t| t.to_string()).unwrap_or_default(),
            e.event_type,
            e.description
        ),
    }
}

/// `PERCENTAGE_UPDATED` → `PercentageUpdated`.
fn camel_case(screaming: &str) -> String {
    screaming
        .split('_')
        .filter(|w| !w.is_empty())
        .map(|w| {
            let lower = w.to_ascii_lowercase();
            let mut chars = lower.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_entries_become_camel_case_reasons_and_rollbacks_warn() {
        let e = DeploymentEvent {
            event_type: "ROLLBACK_STARTED".into(),
            triggered_by: "CLOUDWATCH_ALARM".into(),
            description: "alarm arn:aws:cloudwatch:us-east-1:1:alarm:x".into(),
            occurred_at: Some("2026-11-21T10:00:00Z".parse().unwrap()),
        };
        let notice = for_log_entry(3, &e);
        assert_eq!(notice.reason, "RollbackStarted");
        assert_eq!(notice.severity, Severity::Warning);
        assert!(notice.note.starts_with("Deployment 3: alarm arn:"));
        assert_eq!(camel_case("PERCENTAGE_UPDATED"), "PercentageUpdated");
        assert_eq!(camel_case("BAKE_TIME_STARTED"), "BakeTimeStarted");
    }
}
