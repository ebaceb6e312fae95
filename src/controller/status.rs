//! The status a reconcile writes, built from the previous one and what it observed. Anything not
//! observed this time is carried over, so the status changes only when AWS or the spec did.

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use crate::{
    api::v1alpha1::{AppConfigDeploymentSpec, AppConfigDeploymentStatus, Declared, EventLogEntry},
    aws::model::{Deployment, DeploymentEvent, Strategy},
    controller::{decide::Tracked, resolve::Ids, summary::ReconcileFailure},
    shared::conditions::{Summary, conditions},
};

/// What a reconcile learned; `None` fields keep their previous values.
#[derive(Debug, Default)]
pub struct Observed<'a> {
    pub ids: Option<&'a Ids>,
    pub tracked: Option<Tracked>,
    /// Fresh detail of the tracked deployment.
    pub deployment: Option<&'a Deployment>,
    /// Some(None) means AWS serves nothing for the profile yet.
    pub served_version: Option<Option<String>>,
}

/// The previous status updated with what was observed; conditions are set separately, by
/// [`set_conditions`], because their message names what this status shows.
pub fn next_status(
    previous: &AppConfigDeploymentStatus,
    generation: i64,
    observed: &Observed<'_>,
    event_log_limit: usize,
) -> AppConfigDeploymentStatus {
    let mut status = previous.clone();
    status.observed_generation = Some(generation);
    if let Some(ids) = observed.ids {
        status.application_id = Some(ids.application.clone());
        status.environment_id = Some(ids.environment.clone());
        status.configuration_profile_id = Some(ids.profile.clone());
        status.deployment_strategy_id = Some(ids.strategy.clone());
        status.desired_version = Some(ids.declared().to_owned());
        status.content_sha256 = ids.content_sha256.clone();
    }
    if let Some(t) = observed.tracked {
        status.deployment_number = Some(t.number);
        status.deployment_generation = Some(t.generation);
    }
    if let Some(d) = observed.deployment {
        describe_deployment(&mut status, d, event_log_limit);
    }
    if let Some(served) = &observed.served_version {
        status.served_version = served.clone();
    }
    status
}

/// What status says the spec declares when the reconcile stopped before its version was known.
/// A version the spec names is known anyway. For content, `content_sha256` is the hash of what
/// was read, if it was: a passing failure that learned nothing new keeps what was shown; any
/// other shows the hash read (or none) and no version, since none is known for it.
pub fn declare_unresolved(
    status: &mut AppConfigDeploymentStatus,
    spec: &AppConfigDeploymentSpec,
    failure: &ReconcileFailure,
    content_sha256: Option<&str>,
) {
    if let Some(Declared::Version(version)) = spec.declared() {
        status.desired_version = Some(version.to_owned());
        status.content_sha256 = None;
        return;
    }
    let nothing_new =
        content_sha256.is_none_or(|sha| status.content_sha256.as_deref() == Some(sha));
    if failure.is_transient() && nothing_new {
        return;
    }
    status.desired_version = None;
    status.content_sha256 = content_sha256.map(str::to_owned);
}

/// Ready, Reconciling and Stalled for `summary`; `status.conditions` still holds the previous
/// ones, whose transition times carry over.
pub fn set_conditions(
    status: &mut AppConfigDeploymentStatus,
    summary: &Summary,
    generation: i64,
    now: Timestamp,
) {
    let previous = status.conditions.take().unwrap_or_default();
    status.conditions = Some(conditions(&previous, summary, generation, now));
}

/// Clears the tracked deployment's details, before a new one is known.
pub fn forget_deployment(status: &mut AppConfigDeploymentStatus) {
    status.configuration_version = None;
    status.version_label = None;
    status.state = None;
    status.percentage_complete = None;
    status.started_at = None;
    status.completed_at = None;
    status.growth_type = None;
    status.growth_factor = None;
    status.deployment_duration_in_minutes = None;
    status.final_bake_time_in_minutes = None;
    status.event_log = None;
}

fn describe_deployment(status: &mut AppConfigDeploymentStatus, d: &Deployment, limit: usize) {
    let s = &d.summary;
    status.configuration_version = Some(s.version.clone());
    status.version_label = s.version_label.clone();
    status.state = Some(s.state.as_str().to_owned());
    status.percentage_complete = Some(s.percentage_complete);
    status.started_at = d.started_at.map(Time);
    status.completed_at = d.completed_at.map(Time);
    describe_strategy(status, &d.strategy);
    status.event_log = Some(d.event_log.iter().take(limit).map(entry).collect());
}

/// The strategy a deployment applies (or, before it starts, will apply).
pub fn describe_strategy(status: &mut AppConfigDeploymentStatus, strategy: &Strategy) {
    status.growth_type = strategy.growth_type.clone();
    status.growth_factor = strategy.growth_factor;
    status.deployment_duration_in_minutes = Some(strategy.deployment_duration_in_minutes);
    status.final_bake_time_in_minutes = Some(strategy.final_bake_time_in_minutes);
}

pub fn entry(e: &DeploymentEvent) -> EventLogEntry {
    EventLogEntry {
        event_type: e.event_type.clone(),
        triggered_by: e.triggered_by.clone(),
        description: e.description.clone(),
        occurred_at: e.occurred_at.map(Time),
    }
}

/// The entries of `log` (newest first) that `recorded` (the status's log of the same
/// deployment, newest first) does not hold yet: those newer than its newest entry.
pub fn new_entries<'a>(
    log: &'a [DeploymentEvent],
    recorded: &[EventLogEntry],
) -> &'a [DeploymentEvent] {
    let Some(newest) = recorded.first() else {
        return log;
    };
    let known = log.iter().position(|e| &entry(e) == newest);
    &log[..known.unwrap_or(log.len())]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: &str, at: &str) -> DeploymentEvent {
        DeploymentEvent {
            event_type: kind.into(),
            triggered_by: "APPCONFIG".into(),
            description: kind.to_lowercase(),
            occurred_at: Some(at.parse().unwrap()),
        }
    }

    #[test]
    fn a_content_resource_that_stops_short_shows_what_it_knows() {
        use crate::{
            aws::error::{AwsError, ErrorKind},
            controller::content::ContentError,
        };
        let aws = |kind| {
            ReconcileFailure::Aws(AwsError {
                kind,
                operation: "CreateHostedConfigurationVersion",
                code: "X".into(),
                message: "x".into(),
            })
        };
        let mut content: AppConfigDeploymentSpec = serde_json::from_value(serde_json::json!({
            "application": "a", "environment": "e", "configurationProfile": "p",
            "deploymentStrategy": "s", "content": "{}",
        }))
        .unwrap();
        let shown = AppConfigDeploymentStatus {
            desired_version: Some("3".into()),
            content_sha256: Some("old".into()),
            ..AppConfigDeploymentStatus::default()
        };
        let after =
            |failure: &ReconcileFailure, sha: Option<&str>, spec: &AppConfigDeploymentSpec| {
                let mut status = shown.clone();
                declare_unresolved(&mut status, spec, failure, sha);
                (status.desired_version, status.content_sha256)
            };
        // A passing failure that read nothing new keeps what was shown.
        let throttled = aws(ErrorKind::Transient);
        assert_eq!(
            after(&throttled, Some("old"), &content),
            (Some("3".into()), Some("old".into()))
        );
        assert_eq!(
            after(&throttled, None, &content),
            (Some("3".into()), Some("old".into()))
        );
        // New content, or a stall: the hash read, and no version.
        assert_eq!(
            after(&throttled, Some("new"), &content),
            (None, Some("new".into()))
        );
        let denied = aws(ErrorKind::AccessDenied);
        assert_eq!(
            after(&denied, Some("new"), &content),
            (None, Some("new".into()))
        );
        let missing =
            ReconcileFailure::Content(ContentError::ConfigMapNotFound { name: "c".into() });
        assert_eq!(after(&missing, None, &content), (None, None));
        // A resource that names a version shows it, whatever failed.
        content.content = None;
        content.configuration_version = Some("7".into());
        assert_eq!(after(&denied, None, &content), (Some("7".into()), None));
    }

    #[test]
    fn only_entries_newer_than_the_recorded_ones_are_new() {
        let log = vec![
            event("BAKE_TIME_STARTED", "2026-11-21T10:01:00Z"),
            event("PERCENTAGE_UPDATED", "2026-11-21T10:00:30Z"),
            event("DEPLOYMENT_STARTED", "2026-11-21T10:00:00Z"),
        ];
        let recorded = vec![entry(&log[1]), entry(&log[2])];
        assert_eq!(new_entries(&log, &recorded), &log[..1]);
        assert_eq!(new_entries(&log, &[]), &log[..]);
        assert!(new_entries(&log, &[entry(&log[0])]).is_empty());
    }
}
