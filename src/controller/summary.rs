//! The conditions' reason and a message a person can act on, for each situation and error.

use crate::{
    api::v1alpha1::AppConfigDeploymentStatus,
    aws::{
        error::{AwsError, ErrorKind},
        model::DeploymentState,
    },
    controller::{content::ContentError, decide::Situation, requests, resolve::ResolveError},
    shared::conditions::{Summary, current_ready},
    tenancy::IdentityError,
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
                DeploymentState::Reverted => ("Reverted", "was reverted"),
                DeploymentState::RollingBack => ("RolledBack", "is rolling back"),
                _ => ("RolledBack", "was rolled back"),
            };
            let message = match on_request(facts.status, *number) {
                Some(request) => format!(
                    "Deployment {number} of version {v} {verb} on request ({request}); the operator does not deploy it again for this generation: set {} or change the spec to try again",
                    requests::Kind::Retry.annotation()
                ),
                None => {
                    let cause = failure_cause(facts.status)
                        .map(|c| format!(" ({c})"))
                        .unwrap_or_default();
                    format!(
                        "Deployment {number} of version {v} {verb}{cause}; the operator does not retry it: set {} or change the spec to try again",
                        requests::Kind::Retry.annotation()
                    )
                }
            };
            Summary {
                ready: "False",
                reconciling: false,
                stalled: true,
                reason,
                message,
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
                ErrorKind::InvalidContent => stalled("InvalidContent", e.to_string()),
                ErrorKind::Transient | ErrorKind::Conflict => retrying(e, previous, generation),
            }
        }
        ReconcileFailure::Content(e) => match e {
            ContentError::NothingDeclared => stalled("InvalidRequest", e.to_string()),
            ContentError::ConfigMapNotFound { .. } | ContentError::KeyNotFound { .. } => {
                stalled("NotFound", e.to_string())
            }
            ContentError::TooLarge { .. } | ContentError::Refused { .. } => {
                stalled("InvalidContent", e.to_string())
            }
            ContentError::Kubernetes { .. } if e.is_forbidden() => {
                stalled("AccessDenied", e.to_string())
            }
            ContentError::Kubernetes { .. } => retrying(e, previous, generation),
        },
        ReconcileFailure::Identity(e) if e.is_transient() => retrying(e, previous, generation),
        ReconcileFailure::Identity(e) => stalled(e.reason(), e.to_string()),
    }
}

/// A passing failure keeps a current Ready as it was, and says that the operator retries.
fn retrying(error: &dyn std::fmt::Display, previous: &[Condition], generation: i64) -> Summary {
    Summary {
        ready: current_ready(previous, generation).map_or("False", |c| {
            if c.status == "True" { "True" } else { "False" }
        }),
        reconciling: true,
        stalled: false,
        reason: "RetryingAwsError",
        message: format!("{error}; retrying with backoff"),
    }
}

/// The stop or revert request that acted on deployment `number`, as `annotation=value`.
fn on_request(status: &AppConfigDeploymentStatus, number: i32) -> Option<String> {
    let handled = status.last_handled_requests.as_ref()?;
    [
        (requests::Kind::Stop, &handled.stop),
        (requests::Kind::Revert, &handled.revert),
    ]
    .into_iter()
    .find_map(|(kind, request)| {
        let request = request.as_ref()?;
        (request.applied && request.deployment_number == Some(number))
            .then(|| format!("{}={}", kind.annotation(), request.value))
    })
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
    #[error(transparent)]
    Identity(#[from] IdentityError),
    #[error(transparent)]
    Content(#[from] ContentError),
}

/// When a reconcile that failed is tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Throttling, 5xx, a lost race: soon, with backoff.
    Soon,
    /// Something missing or refused, which comes right without a spec change (GitOps applies
    /// resources before their AWS references exist; IAM changes propagate slowly): with capped
    /// backoff, while the resource shows Stalled.
    Recheck,
    /// A request AWS rejects as invalid, a name that matches several resources, content that
    /// is missing or refused: when the spec (or the ConfigMap it reads) changes, or at the
    /// resync.
    AtResync,
}

impl ReconcileFailure {
    pub fn retry(&self) -> Retry {
        match self {
            Self::Resolve(ResolveError::NotFound { .. }) => Retry::Recheck,
            Self::Resolve(ResolveError::Ambiguous { .. }) => Retry::AtResync,
            Self::Resolve(ResolveError::Aws(e)) | Self::Aws(e) => match e.kind {
                ErrorKind::Transient | ErrorKind::Conflict => Retry::Soon,
                ErrorKind::NotFound | ErrorKind::AccessDenied => Retry::Recheck,
                ErrorKind::InvalidRequest | ErrorKind::InvalidContent => Retry::AtResync,
            },
            Self::Content(e) => match e {
                ContentError::Kubernetes { .. } if e.is_forbidden() => Retry::Recheck,
                ContentError::Kubernetes { .. } => Retry::Soon,
                // The watch of ConfigMaps brings the resource back as soon as its ConfigMap
                // changes, and the spec's watch when the spec does.
                ContentError::ConfigMapNotFound { .. }
                | ContentError::KeyNotFound { .. }
                | ContentError::NothingDeclared
                | ContentError::TooLarge { .. }
                | ContentError::Refused { .. } => Retry::AtResync,
            },
            Self::Identity(e) if e.is_transient() => Retry::Soon,
            // Someone fixes the ServiceAccount, its annotation, RBAC or IAM.
            Self::Identity(_) => Retry::Recheck,
        }
    }

    pub fn is_transient(&self) -> bool {
        self.retry() == Retry::Soon
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{api::v1alpha1::EventLogEntry, shared::conditions::conditions};

    fn facts(status: &AppConfigDeploymentStatus) -> Facts<'_> {
        Facts {
            declared_version: "7",
            environment: "production",
            status,
        }
    }

    fn aws(kind: ErrorKind, code: &str) -> ReconcileFailure {
        ReconcileFailure::Aws(AwsError {
            kind,
            operation: "ListDeployments",
            code: code.into(),
            message: "details".into(),
        })
    }

    fn flags(s: &Summary) -> (&str, bool, bool, &str) {
        (s.ready, s.reconciling, s.stalled, s.reason)
    }

    #[test]
    fn each_situation_has_the_contracts_conditions_and_reason() {
        let status = AppConfigDeploymentStatus {
            deployment_number: Some(12),
            percentage_complete: Some(50.0),
            ..Default::default()
        };
        let f = facts(&status);
        let cases = [
            (Situation::Deployed, ("True", false, false, "Deployed")),
            (
                Situation::InProgress(DeploymentState::Deploying),
                ("False", true, false, "Deploying"),
            ),
            (
                Situation::InProgress(DeploymentState::Baking),
                ("False", true, false, "Baking"),
            ),
            (
                Situation::InProgress(DeploymentState::Validating),
                ("False", true, false, "Validating"),
            ),
            (
                Situation::Superseding { number: 3 },
                ("False", true, false, "Superseding"),
            ),
            (
                Situation::WaitingForEnvironment {
                    number: 3,
                    profile_id: "p2".into(),
                },
                ("False", true, false, "WaitingForEnvironment"),
            ),
            (
                Situation::Failed {
                    number: 12,
                    state: DeploymentState::RolledBack,
                },
                ("False", false, true, "RolledBack"),
            ),
            (
                Situation::Failed {
                    number: 12,
                    state: DeploymentState::Reverted,
                },
                ("False", false, true, "Reverted"),
            ),
            (
                Situation::Suspended { served: true },
                ("True", false, false, "Suspended"),
            ),
            (
                Situation::Suspended { served: false },
                ("False", false, false, "Suspended"),
            ),
        ];
        for (situation, expected) in cases {
            let s = for_situation(&situation, &f);
            assert_eq!(flags(&s), expected, "{situation:?}");
            assert!(!s.message.is_empty());
        }
        let progress = for_situation(&Situation::InProgress(DeploymentState::Deploying), &f);
        assert_eq!(
            progress.message,
            "Deployment 12 of version 7 is at 50% (DEPLOYING)"
        );
    }

    #[test]
    fn a_rollback_message_names_its_cause() {
        let status = AppConfigDeploymentStatus {
            event_log: Some(vec![EventLogEntry {
                event_type: "ROLLBACK_STARTED".into(),
                triggered_by: "CLOUDWATCH_ALARM".into(),
                description: "Rollback initiated by alarm arn:aws:cloudwatch:x".into(),
                occurred_at: None,
            }]),
            ..Default::default()
        };
        let s = for_situation(
            &Situation::Failed {
                number: 4,
                state: DeploymentState::RolledBack,
            },
            &facts(&status),
        );
        assert_eq!(
            s.message,
            "Deployment 4 of version 7 was rolled back (CLOUDWATCH_ALARM: Rollback initiated by alarm arn:aws:cloudwatch:x); the operator does not retry it: set appconfig.operators.dev/retry-requested-at or change the spec to try again"
        );
    }

    #[test]
    fn terminal_errors_stall_with_the_aws_message() {
        let cases = [
            (ErrorKind::NotFound, "ResourceNotFoundException", "NotFound"),
            (
                ErrorKind::AccessDenied,
                "AccessDeniedException",
                "AccessDenied",
            ),
            (
                ErrorKind::InvalidRequest,
                "BadRequestException",
                "InvalidRequest",
            ),
        ];
        for (kind, code, reason) in cases {
            let s = for_error(&aws(kind, code), &[], 1);
            assert_eq!(flags(&s), ("False", false, true, reason));
            assert_eq!(
                s.message,
                format!("AppConfig ListDeployments failed: {code}: details")
            );
            assert!(!aws(kind, code).is_transient());
        }
    }

    #[test]
    fn missing_and_refused_are_rechecked_and_invalid_requests_wait_for_the_resync() {
        let cases = [
            (ErrorKind::NotFound, Retry::Recheck),
            (ErrorKind::AccessDenied, Retry::Recheck),
            (ErrorKind::InvalidRequest, Retry::AtResync),
            (ErrorKind::Transient, Retry::Soon),
            (ErrorKind::Conflict, Retry::Soon),
        ];
        for (kind, retry) in cases {
            assert_eq!(aws(kind, "Code").retry(), retry, "{kind:?}");
        }
        let missing =
            ReconcileFailure::Resolve(crate::controller::resolve::ResolveError::NotFound {
                kind: crate::controller::resolve::Kind::Application,
                value: "checkout".into(),
                parent: None,
            });
        assert_eq!(missing.retry(), Retry::Recheck);
        let ambiguous =
            ReconcileFailure::Resolve(crate::controller::resolve::ResolveError::Ambiguous {
                kind: crate::controller::resolve::Kind::Application,
                value: "checkout".into(),
                parent: None,
                ids: vec!["a".into(), "b".into()],
            });
        assert_eq!(ambiguous.retry(), Retry::AtResync);
    }

    #[test]
    fn transient_errors_keep_a_current_ready_and_retry() {
        let ready = Summary {
            ready: "True",
            reconciling: false,
            stalled: false,
            reason: "Deployed",
            message: String::new(),
        };
        let now = "2026-11-21T10:00:00Z".parse().unwrap();
        let previous = conditions(&[], &ready, 3, now);
        let throttled = aws(ErrorKind::Transient, "ThrottlingException");
        assert!(throttled.is_transient());
        let s = for_error(&throttled, &previous, 3);
        assert_eq!(flags(&s), ("True", true, false, "RetryingAwsError"));
        // Ready of an older generation says nothing about this one.
        let s = for_error(&throttled, &previous, 4);
        assert_eq!(flags(&s), ("False", true, false, "RetryingAwsError"));
    }

    #[test]
    fn resolution_errors_stall_as_not_found() {
        let missing =
            ReconcileFailure::Resolve(crate::controller::resolve::ResolveError::NotFound {
                kind: crate::controller::resolve::Kind::Environment,
                value: "staging".into(),
                parent: Some("app1".into()),
            });
        let s = for_error(&missing, &[], 1);
        assert_eq!(flags(&s), ("False", false, true, "NotFound"));
        assert!(s.message.contains("spec.environment"));
    }
}
