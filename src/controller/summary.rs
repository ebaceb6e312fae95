//! The conditions' reason and a message a person can act on, for each situation and error.

use crate::{
    api::v1alpha1::AppConfigDeploymentStatus,
    aws::{
        error::{AwsError, ErrorKind},
        model::DeploymentState,
    },
    controller::{
        conditions::{Summary, current_ready},
        decide::Situation,
        resolve::ResolveError,
    },
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;

/// Facts the messages name. They come from the status being written, so the same facts give
/// the same message and an unchanged resource is not rewritten.
pub struct Facts<'a> {
    pub declared_version: &'a str,
    pub environment: &'a str,
    pub status: &'a AppConfigDeploymentStatus,
}

pub fn for_situation(situation: &Situation, facts: &Facts<'_>) -> Summary {
    let v = facts.declared_version;
    let progressing = |reason, message| Summary {
        ready: "False",
        reconciling: true,
        stalled: false,
        reason,
        message,
    };
    match situation {
        Situation::Deployed => Summary {
            ready: "True",
            reconciling: false,
            stalled: false,
            reason: "Deployed",
            message: match facts.status.deployment_number {
                Some(n) => format!("Version {v} is served: deployment {n} completed"),
                None => format!("Version {v} is served"),
            },
        },
        Situation::InProgress(state) => {
            let reason = match state {
                DeploymentState::Validating => "Validating",
                DeploymentState::Baking => "Baking",
                DeploymentState::RollingBack => "RollingBack",
                _ => "Deploying",
            };
            let s = facts.status;
            let message = match (s.deployment_number, s.percentage_complete) {
                (Some(n), Some(p)) => format!("Deployment {n} of version {v} is at {p}% ({state})"),
                _ => format!("A deployment of version {v} is in progress ({state})"),
            };
            progressing(reason, message)
        }
        Situation::Superseding { number } => progressing(
            "Superseding",
            format!(
                "Stopping deployment {number}, which carries another version than {v}; AppConfig rolls it back, then version {v} starts"
            ),
        ),
        Situation::WaitingForEnvironment { number, profile_id } => {
            let holder = if profile_id.is_empty() {
                "Another deployment started first".to_owned()
            } else {
                format!("Deployment {number} of configuration profile {profile_id} is in progress")
            };
            progressing(
                "WaitingForEnvironment",
                format!(
                    "{holder} in environment {}; AppConfig runs one deployment per environment at a time, so version {v} starts when it ends",
                    facts.environment
                ),
            )
        }
        Situation::Starting => {
            progressing("Deploying", format!("Starting a deployment of version {v}"))
        }
        Situation::Failed { number, state } => {
            let (reason, verb) = match state {
                DeploymentState::Reverted => ("Reverted", "reverted"),
                _ => ("RolledBack", "rolled back"),
            };
            let cause = failure_cause(facts.status)
                .map(|c| format!(" ({c})"))
                .unwrap_or_default();
            Summary {
                ready: "False",
                reconciling: false,
                stalled: true,
                reason,
                message: format!(
                    "Deployment {number} of version {v} was {verb}{cause}; the operator does not retry it: change the spec to try again"
                ),
            }
        }
        Situation::Suspended { served } => Summary {
            ready: if *served { "True" } else { "False" },
            reconciling: false,
            stalled: false,
            reason: "Suspended",
            message: match (served, facts.status.served_version.as_deref()) {
                (true, _) => format!("Suspended; version {v} is served"),
                (false, Some(s)) => {
                    format!("Suspended; version {s} is served, not the declared version {v}")
                }
                (false, None) => format!("Suspended; version {v} is not served"),
            },
        },
    }
}

/// Terminal errors stall the resource until its spec changes or a resync finds them fixed;
/// transient ones keep a current Ready as it was and say that the operator retries.
pub fn for_error(error: &ReconcileFailure, previous: &[Condition], generation: i64) -> Summary {
    let stalled = |reason, message: String| Summary {
        ready: "False",
        reconciling: false,
        stalled: true,
        reason,
        message,
    };
    match error {
        ReconcileFailure::Resolve(ResolveError::NotFound { .. })
        | ReconcileFailure::Resolve(ResolveError::Ambiguous { .. }) => {
            stalled("NotFound", error.to_string())
        }
        ReconcileFailure::Resolve(ResolveError::Aws(e)) | ReconcileFailure::Aws(e) => {
            match e.kind {
                ErrorKind::NotFound => stalled("NotFound", e.to_string()),
                ErrorKind::AccessDenied => stalled("AccessDenied", e.to_string()),
                ErrorKind::InvalidRequest => stalled("InvalidRequest", e.to_string()),
                ErrorKind::Transient | ErrorKind::Conflict => Summary {
                    ready: current_ready(previous, generation).map_or("False", |c| {
                        if c.status == "True" { "True" } else { "False" }
                    }),
                    reconciling: true,
                    stalled: false,
                    reason: "RetryingAwsError",
                    message: format!("{e}; retrying with backoff"),
                },
            }
        }
    }
}

/// Why a deployment rolled back or was reverted, from its event log: who triggered it and
/// AppConfig's description (the alarm ARN or the account).
pub fn failure_cause(status: &AppConfigDeploymentStatus) -> Option<String> {
    status
        .event_log
        .as_deref()?
        .iter()
        .find(|e| {
            matches!(
                e.event_type.as_str(),
                "ROLLBACK_STARTED" | "REVERT_COMPLETED"
            )
        })
        .map(|e| format!("{}: {}", e.triggered_by, e.description))
}

/// What stopped a reconcile short of a decision.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileFailure {
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    #[error(transparent)]
    Aws(#[from] AwsError),
}

impl ReconcileFailure {
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::Resolve(ResolveError::Aws(AwsError {
                kind: ErrorKind::Transient | ErrorKind::Conflict,
                ..
            })) | Self::Aws(AwsError {
                kind: ErrorKind::Transient | ErrorKind::Conflict,
                ..
            })
        )
    }
}
