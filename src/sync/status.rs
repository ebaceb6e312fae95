//! The status a poll leads to: what the target holds, and Ready/Reconciling/Stalled with a
//! reason and a message built from the status itself, so an unchanged poll rebuilds exactly the
//! stored status and nothing is written.

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use crate::{
    api::v1alpha1::{AppConfigSyncStatus, WrittenTarget},
    aws::error::AwsError,
    shared::conditions::{Summary, conditions, current_ready},
};

pub const SYNCED: &str = "Synced";
pub const RETRYING: &str = "RetryingAwsError";
pub const TARGET_CONFLICT: &str = "TargetConflict";
pub const TOO_LARGE: &str = "TooLarge";
pub const TARGET_REJECTED: &str = "TargetRejected";
pub const WAITING_FOR_GARBAGE_COLLECTION: &str = "WaitingForGarbageCollection";

/// What one poll found.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// The target holds the configuration described.
    Synced {
        target: WrittenTarget,
        version_label: Option<String>,
        content_type: Option<String>,
        sha256: String,
        size: usize,
    },
    /// AppConfig serves what the target already holds.
    Unchanged,
    /// A transient failure (AppConfig, STS, the API server's TokenRequest), by its cause:
    /// retried with backoff.
    Retrying(String),
    /// Something the cluster does by itself (the garbage collector) must happen first.
    Waiting { message: String },
    /// Nothing the operator can do until the spec, the cluster or AWS changes.
    Stalled {
        reason: &'static str,
        message: String,
    },
}

/// The status after `outcome`. lastSyncTime moves only when something else changes.
pub fn next(
    previous: &AppConfigSyncStatus,
    generation: i64,
    outcome: &Outcome,
    now: Timestamp,
) -> AppConfigSyncStatus {
    let mut status = previous.clone();
    status.observed_generation = Some(generation);
    if let Outcome::Synced {
        target,
        version_label,
        content_type,
        sha256,
        size,
    } = outcome
    {
        if previous.sha256.as_deref() != Some(sha256) {
            status.last_change_time = Some(Time(now));
        }
        status.target = Some(target.clone());
        status.version_label = version_label.clone();
        status.content_type = content_type.clone();
        status.sha256 = Some(sha256.clone());
        status.size = Some(i64::try_from(*size).unwrap_or(i64::MAX));
    }
    let previous_conditions = previous.conditions.as_deref().unwrap_or_default();
    let summary = summary(&status, previous_conditions, generation, outcome);
    status.conditions = Some(conditions(previous_conditions, &summary, generation, now));
    let polled = matches!(outcome, Outcome::Synced { .. } | Outcome::Unchanged);
    if polled && status != *previous {
        status.last_sync_time = Some(Time(now));
    }
    status
}

/// Whether `status` says the target held the served configuration at `generation`.
pub fn synced_at(status: &AppConfigSyncStatus, generation: i64) -> bool {
    let conditions = status.conditions.as_deref().unwrap_or_default();
    status.observed_generation == Some(generation)
        && current_ready(conditions, generation)
            .is_some_and(|c| c.status == "True" && c.reason == SYNCED)
}

fn summary(
    status: &AppConfigSyncStatus,
    previous: &[k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition],
    generation: i64,
    outcome: &Outcome,
) -> Summary {
    match outcome {
        Outcome::Synced { .. } | Outcome::Unchanged => Summary {
            ready: "True",
            reconciling: false,
            stalled: false,
            reason: SYNCED,
            message: synced_message(status),
        },
        Outcome::Retrying(e) => Summary {
            // The target still holds what it held: a Ready target stays Ready while AWS recovers.
            ready: current_ready(previous, generation).map_or("False", |c| {
                if c.status == "True" { "True" } else { "False" }
            }),
            reconciling: true,
            stalled: false,
            reason: RETRYING,
            message: format!("{e}; retrying with backoff"),
        },
        Outcome::Waiting { message } => Summary {
            ready: "False",
            reconciling: true,
            stalled: false,
            reason: WAITING_FOR_GARBAGE_COLLECTION,
            message: message.clone(),
        },
        Outcome::Stalled { reason, message } => Summary {
            ready: "False",
            reconciling: false,
            stalled: true,
            reason,
            message: message.clone(),
        },
    }
}

fn synced_message(status: &AppConfigSyncStatus) -> String {
    let target = status
        .target
        .as_ref()
        .map_or("the target", |t| t.description.as_str());
    let version = status.version_label.as_deref().map_or_else(
        || "the served configuration".to_owned(),
        |l| format!("version {l}"),
    );
    format!(
        "{target} holds {version} ({} bytes, sha256 {})",
        status.size.unwrap_or_default(),
        status.sha256.as_deref().unwrap_or_default()
    )
}

/// The reason a terminal AppConfig error shows as.
pub fn aws_reason(e: &AwsError) -> &'static str {
    use crate::aws::error::ErrorKind;
    match e.kind {
        ErrorKind::NotFound => "NotFound",
        ErrorKind::AccessDenied => "AccessDenied",
        ErrorKind::InvalidRequest | ErrorKind::InvalidContent | ErrorKind::Conflict => {
            "InvalidRequest"
        }
        ErrorKind::Transient => RETRYING,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::v1alpha1::TargetKind;

    fn synced(sha: &str) -> Outcome {
        Outcome::Synced {
            target: WrittenTarget::new(TargetKind::ConfigMap, "flags"),
            version_label: Some("v1".into()),
            content_type: Some("application/json".into()),
            sha256: sha.into(),
            size: 2,
        }
    }

    #[test]
    fn an_unchanged_poll_rebuilds_the_stored_status() {
        let t0: Timestamp = "2026-11-21T10:00:00Z".parse().unwrap();
        let t1: Timestamp = "2026-11-21T10:05:00Z".parse().unwrap();
        let first = next(&AppConfigSyncStatus::default(), 1, &synced("aa"), t0);
        assert_eq!(first.last_sync_time, Some(Time(t0)));
        assert_eq!(first.last_change_time, Some(Time(t0)));
        assert_eq!(next(&first, 1, &Outcome::Unchanged, t1), first);
        assert_eq!(next(&first, 1, &synced("aa"), t1), first);
        let ready = first.conditions.as_ref().unwrap();
        assert_eq!(ready[0].reason, SYNCED);
        assert_eq!(
            ready[0].message,
            "ConfigMap/flags holds version v1 (2 bytes, sha256 aa)"
        );
    }

    #[test]
    fn a_change_moves_both_times_and_a_recovery_moves_the_sync_time() {
        let t0: Timestamp = "2026-11-21T10:00:00Z".parse().unwrap();
        let t1: Timestamp = "2026-11-21T10:05:00Z".parse().unwrap();
        let t2: Timestamp = "2026-11-21T10:06:00Z".parse().unwrap();
        let first = next(&AppConfigSyncStatus::default(), 1, &synced("aa"), t0);
        let changed = next(&first, 1, &synced("bb"), t1);
        assert_eq!(changed.last_change_time, Some(Time(t1)));
        assert_eq!(changed.last_sync_time, Some(Time(t1)));
        let stalled = Outcome::Stalled {
            reason: TOO_LARGE,
            message: "too large".into(),
        };
        let failed = next(&changed, 1, &stalled, t2);
        assert_eq!(failed.last_sync_time, Some(Time(t1)), "no successful poll");
        let recovered = next(&failed, 1, &Outcome::Unchanged, t2);
        assert_eq!(recovered.last_sync_time, Some(Time(t2)));
        assert_eq!(recovered.last_change_time, Some(Time(t1)));
    }

    #[test]
    fn synced_at_is_a_ready_synced_status_of_that_generation() {
        let t0: Timestamp = "2026-11-21T10:00:00Z".parse().unwrap();
        let first = next(&AppConfigSyncStatus::default(), 1, &synced("aa"), t0);
        assert!(synced_at(&first, 1));
        assert!(!synced_at(&first, 2), "the spec changed since");
        assert!(
            !synced_at(&AppConfigSyncStatus::default(), 1),
            "never synced"
        );
        let stalled = Outcome::Stalled {
            reason: TOO_LARGE,
            message: "too large".into(),
        };
        assert!(!synced_at(&next(&first, 1, &stalled, t0), 1));
    }
}
