//! Day-2 requests by annotation, as Flux's `reconcile.fluxcd.io/requestedAt`: an on-call
//! engineer stops a rollout, reverts a completed one, or retries after a rollback from `kubectl
//! annotate` (or an Argo CD action), without a commit. Each annotation value is handled once:
//! `status.lastHandledRequests` records the last value of each, so a restart or a second replica
//! never acts twice.
//!
//! [`pending`] and [`verdict`] are pure; [`handle`] carries a verdict out.

use std::collections::BTreeMap;

use kube::ResourceExt;
use tracing::{info, warn};

use super::{
    Context, converge::ConvergeError, decide::Tracked, environments::EnvironmentKey,
    reconcile::object_key, resolve::Ids,
};
use crate::{
    api::{
        OPERATOR_PREFIX,
        v1alpha1::{AppConfigDeployment, AppConfigDeploymentStatus, HandledRequest},
    },
    aws::{
        AppConfig,
        error::ErrorKind,
        model::{DeploymentState, DeploymentSummary, served},
    },
    metrics,
    shared::{
        conditions::current_ready,
        events::{Notice, Severity},
        status_writer::StatusWriter,
    },
};

/// What an on-call engineer can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Stop,
    Revert,
    Retry,
}

impl Kind {
    /// In the order they are handled when several are new at once.
    pub const ALL: [Kind; 3] = [Kind::Stop, Kind::Revert, Kind::Retry];

    pub fn name(self) -> &'static str {
        match self {
            Self::Stop => "stop",
            Self::Revert => "revert",
            Self::Retry => "retry",
        }
    }

    /// `appconfig.operators.dev/<name>-requested-at`.
    pub fn annotation(self) -> String {
        format!("{OPERATOR_PREFIX}{}-requested-at", self.name())
    }
}

/// A request whose value the status has not recorded as handled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub kind: Kind,
    pub value: String,
}

impl Request {
    fn describe(&self) -> String {
        format!("{}={}", self.kind.annotation(), self.value)
    }
}

/// The requests in `annotations` that `status` has not recorded as handled, in [`Kind::ALL`]
/// order. An empty value is no request.
pub fn pending(
    annotations: &BTreeMap<String, String>,
    status: &AppConfigDeploymentStatus,
) -> Vec<Request> {
    Kind::ALL
        .into_iter()
        .filter_map(|kind| {
            let value = annotations.get(&kind.annotation())?.trim();
            let handled = handled(status, kind).map(|h| h.value.as_str());
            (!value.is_empty() && handled != Some(value)).then(|| Request {
                kind,
                value: value.to_owned(),
            })
        })
        .collect()
}

fn handled(status: &AppConfigDeploymentStatus, kind: Kind) -> Option<&HandledRequest> {
    let requests = status.last_handled_requests.as_ref()?;
    match kind {
        Kind::Stop => requests.stop.as_ref(),
        Kind::Revert => requests.revert.as_ref(),
        Kind::Retry => requests.retry.as_ref(),
    }
}

fn record(status: &mut AppConfigDeploymentStatus, kind: Kind, entry: HandledRequest) {
    let requests = status
        .last_handled_requests
        .get_or_insert_with(Default::default);
    let slot = match kind {
        Kind::Stop => &mut requests.stop,
        Kind::Revert => &mut requests.revert,
        Kind::Retry => &mut requests.retry,
    };
    *slot = Some(entry);
}

/// What the resource looks like to a request.
#[derive(Debug, Clone, Copy)]
pub struct Scene<'a> {
    pub generation: i64,
    pub suspend: bool,
    pub profile_id: &'a str,
    /// The environment's deployments, newest first.
    pub deployments: &'a [DeploymentSummary],
    pub tracked: Option<Tracked>,
    /// The Ready reason the status shows for the current generation, if any.
    pub ready_reason: Option<&'a str>,
}

/// What a request comes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// StopDeployment of the tracked in-progress deployment.
    Stop { number: i32 },
    /// StopDeployment with AllowRevert of the tracked deployment, which AppConfig serves.
    Revert { number: i32 },
    /// A new attempt of the declared version: the failed attempt is no longer tracked.
    Retry { number: i32 },
    /// Nothing to do, and why.
    NotApplicable(String),
}

pub fn verdict(kind: Kind, scene: &Scene<'_>) -> Verdict {
    if scene.suspend {
        return Verdict::NotApplicable(
            "the resource is suspended (spec.suspend): it changes nothing in AppConfig".into(),
        );
    }
    let tracked = scene.tracked.and_then(|t| {
        scene
            .deployments
            .iter()
            .find(|d| d.number == t.number && d.profile_id.as_deref() == Some(scene.profile_id))
    });
    let none = || "the resource tracks no deployment".to_owned();
    match kind {
        Kind::Stop => match tracked {
            Some(d) if d.state.is_in_progress() && d.state != DeploymentState::RollingBack => {
                Verdict::Stop { number: d.number }
            }
            Some(d) => Verdict::NotApplicable(format!(
                "nothing is in progress to stop: deployment {} is {}",
                d.number, d.state
            )),
            None => Verdict::NotApplicable(format!("nothing is in progress to stop: {}", none())),
        },
        Kind::Revert => {
            let served = served(scene.deployments, scene.profile_id);
            match tracked {
                Some(d)
                    if d.state == DeploymentState::Complete
                        && served.is_some_and(|s| s.number == d.number) =>
                {
                    Verdict::Revert { number: d.number }
                }
                Some(d) => Verdict::NotApplicable(format!(
                    "only a COMPLETE deployment that AppConfig serves can be reverted: deployment {} is {}{}",
                    d.number,
                    d.state,
                    match served {
                        Some(s) if s.number != d.number && d.state == DeploymentState::Complete =>
                            format!(", and AppConfig serves deployment {}", s.number),
                        _ => String::new(),
                    }
                )),
                None => Verdict::NotApplicable(format!("nothing to revert: {}", none())),
            }
        }
        Kind::Retry => {
            let failed = matches!(scene.ready_reason, Some("RolledBack" | "Reverted"));
            match (failed, scene.tracked) {
                (true, Some(t)) if t.generation == scene.generation => {
                    Verdict::Retry { number: t.number }
                }
                _ => Verdict::NotApplicable(format!(
                    "nothing to retry: the resource is not stalled after a rollback or revert of generation {}",
                    scene.generation
                )),
            }
        }
    }
}

/// Handles the new requests of `resource`: each is recorded as handled (a guarded status write,
/// so that no other replica or restart handles it again) before it is carried out, and answered
/// with an Event. Returns the status the rest of the reconcile starts from; an error comes
/// before anything was recorded, or is the refusal of a record.
pub async fn handle(
    resource: &AppConfigDeployment,
    ctx: &Context,
    aws: &AppConfig,
    env: &EnvironmentKey,
    ids: &Ids,
    previous: &AppConfigDeploymentStatus,
    writer: &mut StatusWriter<'_, AppConfigDeployment>,
) -> Result<AppConfigDeploymentStatus, ConvergeError> {
    let requests = pending(resource.annotations(), previous);
    let mut status = previous.clone();
    if requests.is_empty() {
        return Ok(status);
    }
    let key = object_key(resource);
    let generation = resource.metadata.generation.unwrap_or_default();
    // One fresh look for all of them, before anything is recorded: requests new at once are
    // judged by the same state (a stop and a retry together: the stop applies, the retry not).
    let deployments = ctx
        .environments
        .deployments(aws, env, &ids.profile, None)
        .await?;
    for request in requests {
        let conditions = status.conditions.as_deref().unwrap_or_default();
        let ready_reason = current_ready(conditions, generation).map(|c| c.reason.clone());
        let scene = Scene {
            generation,
            suspend: resource.spec.suspend,
            profile_id: &ids.profile,
            deployments: &deployments,
            tracked: status
                .deployment_number
                .zip(status.deployment_generation)
                .map(|(number, generation)| Tracked { number, generation }),
            ready_reason: ready_reason.as_deref(),
        };
        let verdict = verdict(request.kind, &scene);
        let (entry, notice) = answer(&request, &verdict);
        record(&mut status, request.kind, entry);
        if let Verdict::Retry { .. } = verdict {
            // The failed attempt is no longer this generation's: the declared version starts
            // again, with every rule as before.
            status.deployment_number = None;
            status.deployment_generation = None;
        }
        writer.write_always(&status).await?;
        let notice = match carry_out(ctx, aws, env, ids, &verdict).await {
            Ok(()) => notice,
            Err(why) => {
                // AppConfig refused (the revert window passed, say): the request was handled,
                // and the answer says why it did nothing.
                let verdict = Verdict::NotApplicable(why);
                let (entry, notice) = answer(&request, &verdict);
                record(&mut status, request.kind, entry);
                notice
            }
        };
        match notice.severity {
            Severity::Warning => {
                warn!(resource = %key, request = %request.describe(), "{}", notice.note)
            }
            Severity::Normal => {
                info!(resource = %key, request = %request.describe(), "{}", notice.note)
            }
        }
        ctx.publish(resource, &notice).await;
    }
    Ok(status)
}

/// StopDeployment for a stop or a revert; a refusal of AppConfig is the reason it did nothing.
async fn carry_out(
    ctx: &Context,
    aws: &AppConfig,
    env: &EnvironmentKey,
    ids: &Ids,
    verdict: &Verdict,
) -> Result<(), String> {
    let (number, allow_revert) = match verdict {
        Verdict::Stop { number } => (*number, false),
        Verdict::Revert { number } => (*number, true),
        Verdict::Retry { .. } | Verdict::NotApplicable(_) => return Ok(()),
    };
    let stopped = aws
        .stop_deployment(&ids.application, &ids.environment, number, allow_revert)
        .await;
    ctx.environments.invalidate(env);
    match stopped {
        Ok(()) => {
            ctx.metrics.deployment_stopped(metrics::APPCONFIGDEPLOYMENT);
            Ok(())
        }
        Err(e) if matches!(e.kind, ErrorKind::InvalidRequest | ErrorKind::NotFound) => {
            Err(format!("AppConfig refused: {e}"))
        }
        Err(e) => Err(format!("{e}; annotate again to ask again")),
    }
}

/// The status entry and the Event that answer `request` with `verdict`.
fn answer(request: &Request, verdict: &Verdict) -> (HandledRequest, Notice) {
    let (applied, deployment_number, reason, note) = match verdict {
        Verdict::Stop { number } => (
            true,
            Some(*number),
            "StoppedOnRequest",
            format!(
                "Stopped deployment {number} on request; AppConfig rolls it back, and the operator does not start it again for this generation"
            ),
        ),
        Verdict::Revert { number } => (
            true,
            Some(*number),
            "RevertedOnRequest",
            format!(
                "Reverted deployment {number} on request; AppConfig serves the previous configuration again, and the operator does not deploy it again for this generation"
            ),
        ),
        Verdict::Retry { number } => (
            true,
            Some(*number),
            "RetryingOnRequest",
            format!(
                "Retrying on request after deployment {number}: the declared version is deployed again"
            ),
        ),
        Verdict::NotApplicable(why) => (
            false,
            None,
            "RequestNotApplicable",
            format!("The {} request cannot apply: {why}", request.kind.name()),
        ),
    };
    let entry = HandledRequest {
        value: request.value.clone(),
        applied,
        deployment_number,
        message: note.clone(),
    };
    let notice = Notice {
        severity: if applied {
            Severity::Normal
        } else {
            Severity::Warning
        },
        reason: reason.into(),
        action: "Request",
        note: format!("{note} ({})", request.describe()),
        identity: format!("request/{}/{}", request.kind.name(), request.value),
    };
    (entry, notice)
}

#[cfg(test)]
mod tests {
    use super::*;
    use DeploymentState::*;

    const OURS: &str = "prof1";

    fn dep(number: i32, state: DeploymentState) -> DeploymentSummary {
        DeploymentSummary {
            number,
            profile_id: Some(OURS.into()),
            version: "2".into(),
            version_label: None,
            state,
            percentage_complete: 0.0,
        }
    }

    fn scene<'a>(
        deployments: &'a [DeploymentSummary],
        tracked: Option<i32>,
        ready_reason: Option<&'a str>,
    ) -> Scene<'a> {
        Scene {
            generation: 3,
            suspend: false,
            profile_id: OURS,
            deployments,
            tracked: tracked.map(|number| Tracked {
                number,
                generation: 3,
            }),
            ready_reason,
        }
    }

    fn not_applicable(v: Verdict) -> String {
        match v {
            Verdict::NotApplicable(why) => why,
            other => panic!("expected NotApplicable, got {other:?}"),
        }
    }

    #[test]
    fn only_new_non_empty_values_are_pending() {
        let annotations = BTreeMap::from([
            (Kind::Stop.annotation(), "t1".to_owned()),
            (Kind::Revert.annotation(), " ".to_owned()),
            (Kind::Retry.annotation(), "t2".to_owned()),
            ("other".to_owned(), "x".to_owned()),
        ]);
        let mut status = AppConfigDeploymentStatus::default();
        let kinds = |status: &AppConfigDeploymentStatus| {
            pending(&annotations, status)
                .into_iter()
                .map(|r| (r.kind, r.value))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            kinds(&status),
            [(Kind::Stop, "t1".into()), (Kind::Retry, "t2".into())]
        );
        record(
            &mut status,
            Kind::Stop,
            HandledRequest {
                value: "t1".into(),
                ..HandledRequest::default()
            },
        );
        assert_eq!(
            kinds(&status),
            [(Kind::Retry, "t2".into())],
            "t1 was handled"
        );
        assert_eq!(
            Kind::Stop.annotation(),
            "appconfig.operators.dev/stop-requested-at"
        );
    }

    #[test]
    fn a_stop_applies_to_the_tracked_deployment_while_it_moves_forward() {
        for state in [Validating, Deploying, Baking] {
            let deps = [dep(4, state)];
            assert_eq!(
                verdict(Kind::Stop, &scene(&deps, Some(4), None)),
                Verdict::Stop { number: 4 }
            );
        }
        let rolling_back = [dep(4, RollingBack)];
        let why = not_applicable(verdict(Kind::Stop, &scene(&rolling_back, Some(4), None)));
        assert_eq!(
            why,
            "nothing is in progress to stop: deployment 4 is ROLLING_BACK"
        );
        // Another deployment (another profile's, or one the resource does not track) is not its
        // to stop.
        let other = [dep(5, Deploying), dep(4, Complete)];
        let why = not_applicable(verdict(Kind::Stop, &scene(&other, Some(4), None)));
        assert_eq!(
            why,
            "nothing is in progress to stop: deployment 4 is COMPLETE"
        );
        let why = not_applicable(verdict(Kind::Stop, &scene(&other, None, None)));
        assert_eq!(
            why,
            "nothing is in progress to stop: the resource tracks no deployment"
        );
    }

    #[test]
    fn a_revert_applies_to_the_tracked_deployment_only_while_it_is_served() {
        let deps = [dep(4, Complete), dep(3, Complete)];
        assert_eq!(
            verdict(Kind::Revert, &scene(&deps, Some(4), Some("Deployed"))),
            Verdict::Revert { number: 4 }
        );
        let why = not_applicable(verdict(Kind::Revert, &scene(&deps, Some(3), None)));
        assert_eq!(
            why,
            "only a COMPLETE deployment that AppConfig serves can be reverted: deployment 3 is COMPLETE, and AppConfig serves deployment 4"
        );
        let moving = [dep(4, Deploying)];
        let why = not_applicable(verdict(Kind::Revert, &scene(&moving, Some(4), None)));
        assert_eq!(
            why,
            "only a COMPLETE deployment that AppConfig serves can be reverted: deployment 4 is DEPLOYING"
        );
    }

    #[test]
    fn a_retry_applies_after_a_rollback_or_revert_of_this_generation() {
        let deps = [dep(4, RolledBack)];
        for reason in ["RolledBack", "Reverted"] {
            assert_eq!(
                verdict(Kind::Retry, &scene(&deps, Some(4), Some(reason))),
                Verdict::Retry { number: 4 }
            );
        }
        let why = not_applicable(verdict(
            Kind::Retry,
            &scene(&deps, Some(4), Some("Deployed")),
        ));
        assert_eq!(
            why,
            "nothing to retry: the resource is not stalled after a rollback or revert of generation 3"
        );
        let mut older = scene(&deps, Some(4), Some("RolledBack"));
        older.tracked = Some(Tracked {
            number: 4,
            generation: 2,
        });
        assert!(matches!(
            verdict(Kind::Retry, &older),
            Verdict::NotApplicable(_)
        ));
    }

    #[test]
    fn a_suspended_resource_answers_every_request_with_why() {
        let deps = [dep(4, Deploying)];
        for kind in Kind::ALL {
            let mut suspended = scene(&deps, Some(4), Some("RolledBack"));
            suspended.suspend = true;
            let why = not_applicable(verdict(kind, &suspended));
            assert!(why.contains("suspended"), "{why}");
        }
    }

    #[test]
    fn answers_are_recorded_and_told_once_per_value() {
        let request = Request {
            kind: Kind::Stop,
            value: "2026-12-02T10:00:00Z".into(),
        };
        let (entry, notice) = answer(&request, &Verdict::Stop { number: 4 });
        assert!(entry.applied);
        assert_eq!(entry.deployment_number, Some(4));
        assert_eq!(notice.severity, Severity::Normal);
        assert_eq!(notice.reason, "StoppedOnRequest");
        assert_eq!(notice.identity, "request/stop/2026-12-02T10:00:00Z");
        let (entry, notice) = answer(&request, &Verdict::NotApplicable("why".into()));
        assert!(!entry.applied);
        assert_eq!(entry.message, "The stop request cannot apply: why");
        assert_eq!(notice.severity, Severity::Warning);
        assert_eq!(notice.reason, "RequestNotApplicable");
    }
}
