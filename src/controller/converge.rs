//! The observe → decide → act rounds of one reconcile, and the status, Events and requeue they
//! lead to. The decision itself is [`decide`](super::decide).

use std::{collections::BTreeMap, sync::Arc};

use jiff::Timestamp;
use kube::ResourceExt;
use tracing::info;

use super::{
    Context,
    decide::{Act, Decision, Observation, Situation, Tracked, decide},
    environments::EnvironmentKey,
    events,
    reconcile::object_key,
    resolve::Ids,
    status::{self, Observed},
    summary::{self, Facts, ReconcileFailure},
};
use crate::{
    api::{
        OPERATOR_PREFIX,
        v1alpha1::{AppConfigDeployment, AppConfigDeploymentStatus},
    },
    aws::{
        AppConfig, StartRequest,
        error::ErrorKind,
        model::{Deployment, DeploymentState, DeploymentSummary, served},
    },
    metrics,
    shared::{
        conditions::{READY, RECONCILING, Summary, current_ready},
        events::{Notice, Severity},
        status_writer::StatusWriter,
    },
};

/// Observe → decide → act rounds per reconcile: a stop is followed by a fresh look and, usually,
/// a start; a lost start race by a fresh look and a wait.
const MAX_ROUNDS: usize = 3;

/// Why converging stopped short: AppConfig (reported in status) or Kubernetes (retried).
#[derive(Debug, thiserror::Error)]
pub enum ConvergeError {
    #[error(transparent)]
    Failure(ReconcileFailure),
    /// Recording an attempt in status before making it failed.
    #[error("cannot write status: {0}")]
    Kubernetes(#[from] kube::Error),
}

impl<E: Into<ReconcileFailure>> From<E> for ConvergeError {
    fn from(e: E) -> Self {
        Self::Failure(e.into())
    }
}

pub enum Requeue {
    Poll,
    Backoff,
    Resync,
}

pub struct Outcome {
    pub status: AppConfigDeploymentStatus,
    pub notices: Vec<Notice>,
    pub requeue: Requeue,
}

pub async fn converge(
    resource: &AppConfigDeployment,
    ctx: &Context,
    aws: &AppConfig,
    env: &EnvironmentKey,
    ids: &Ids,
    previous: &AppConfigDeploymentStatus,
    writer: &mut StatusWriter<'_, AppConfigDeployment>,
) -> Result<Outcome, ConvergeError> {
    let spec = &resource.spec;
    let generation = resource.metadata.generation.unwrap_or_default();
    let key = object_key(resource);
    let conditions = previous.conditions.as_deref().unwrap_or_default();
    let ready = current_ready(conditions, generation);
    let reconciling = conditions
        .iter()
        .any(|c| c.type_ == RECONCILING && c.status == "True");
    let moving = previous
        .state
        .as_deref()
        .is_some_and(|s| DeploymentState::parse(s).is_in_progress());
    // A settled resource may reuse a recent listing of its environment.
    let settled = ready.is_some() && !reconciling && !moving;
    let mut notices = Vec::new();
    let mut tracked = previous
        .deployment_number
        .zip(previous.deployment_generation)
        .map(|(number, generation)| Tracked { number, generation });
    let mut max_age = settled.then_some(ctx.config.resync_interval);
    let mut started: Option<Deployment> = None;
    let mut decision = None;
    let mut deployments = Arc::new(Vec::new());

    for _ in 0..MAX_ROUNDS {
        deployments = ctx
            .environments
            .deployments(aws, env, &ids.profile, max_age)
            .await?;
        // A number recorded for an attempt that never started may name another profile's
        // deployment: that one is not tracked.
        tracked = tracked.filter(|t| {
            deployments
                .iter()
                .find(|d| d.number == t.number)
                .is_none_or(|d| d.profile_id.as_deref() == Some(ids.profile.as_str()))
        });
        let d = decide(&Observation {
            generation,
            suspend: spec.suspend,
            versions: &ids.versions,
            profile_id: &ids.profile,
            deployments: &deployments,
            tracked,
        });
        tracked = d.tracked;
        max_age = None;
        match d.act {
            Act::Nothing => {
                decision = Some(d);
                break;
            }
            Act::Stop { number } => {
                info!(resource = %key, deployment = number, "stopping a deployment of another version; AppConfig rolls it back");
                let stopped = aws
                    .stop_deployment(&ids.application, &ids.environment, number, false)
                    .await;
                ctx.environments.invalidate(env);
                match stopped {
                    Ok(()) => ctx.metrics.deployment_stopped(metrics::APPCONFIGDEPLOYMENT),
                    // It completed or began rolling back between the read and the stop.
                    Err(e) if e.kind == ErrorKind::InvalidRequest => {
                        decision = Some(d);
                        continue;
                    }
                    Err(e) => return Err(e.into()),
                }
                ctx.publish(
                    resource,
                    &Notice {
                        severity: Severity::Normal,
                        reason: "StoppingSupersededDeployment".into(),
                        action: "Stop",
                        note: format!(
                            "Stopped deployment {number}, which does not carry version {}",
                            ids.declared()
                        ),
                        identity: format!("stop/{number}"),
                    },
                )
                .await;
                decision = Some(d);
            }
            Act::Start {
                latest_deployment_number,
            } => {
                // The attempt is recorded before it is made: if the operator dies between
                // StartDeployment and the status describing it, the next reconcile still knows
                // which deployment belongs to this generation, so a rollback of it is not retried
                // and a deletion with deletionPolicy Stop stops it.
                let intent = Tracked {
                    number: latest_deployment_number + 1,
                    generation,
                };
                // Always sent, even when a stale copy already shows it: the write is the check
                // (by resourceVersion) that this copy is current, before anything is started.
                writer
                    .write_always(&pending(resource, ctx, previous, ids, intent))
                    .await?;
                let request = start_request(resource, ids, latest_deployment_number);
                match aws
                    .start_deployment(&ids.application, &ids.environment, request)
                    .await
                {
                    Ok(deployment) => {
                        ctx.metrics.deployment_started(metrics::APPCONFIGDEPLOYMENT);
                        ctx.environments.invalidate(env);
                        let number = deployment.summary.number;
                        info!(resource = %key, deployment = number, version = %ids.declared(), "started a deployment");
                        ctx.publish(
                            resource,
                            &Notice {
                                severity: Severity::Normal,
                                reason: "StartingDeployment".into(),
                                action: "Start",
                                note: format!(
                                    "Started deployment {number} of version {} with strategy {}",
                                    ids.declared(),
                                    spec.deployment_strategy
                                ),
                                identity: format!("start/{number}"),
                            },
                        )
                        .await;
                        tracked = Some(Tracked { number, generation });
                        decision = Some(Decision {
                            act: Act::Nothing,
                            situation: Situation::InProgress(deployment.summary.state.clone()),
                            tracked,
                        });
                        started = Some(deployment);
                        break;
                    }
                    // Someone started a deployment since we listed: look again.
                    Err(e) if e.kind == ErrorKind::Conflict => {
                        ctx.environments.invalidate(env);
                        decision = Some(d);
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        }
    }
    let decision = decision.expect("at least one round runs");

    let detail = match (started, tracked) {
        (Some(d), _) => Some(d),
        (None, Some(t)) if needs_detail(previous, t, &deployments) => Some(
            aws.get_deployment(&ids.application, &ids.environment, t.number)
                .await?,
        ),
        _ => None,
    };
    if let Some(d) = &detail {
        notices.extend(log_notices(previous, d, ctx.config.event_log_limit));
    }
    let served_version = served_name(&deployments, ids);

    let observed = Observed {
        ids: Some(ids),
        tracked,
        deployment: detail.as_ref(),
        served_version: Some(served_version),
    };
    let situation = match decision.situation {
        // Every start lost a race (ConflictException): another deployment holds the environment.
        Situation::Starting => Situation::WaitingForEnvironment {
            number: 0,
            profile_id: String::new(),
        },
        s => s,
    };
    let (next, summary) = report(resource, ctx, previous, &observed, &situation);
    notices.extend(transition_notices(
        previous, &situation, &summary, generation,
    ));
    let requeue = match &situation {
        Situation::InProgress(_) | Situation::Superseding { .. } => Requeue::Poll,
        Situation::WaitingForEnvironment { .. } | Situation::Starting => Requeue::Backoff,
        Situation::Suspended { .. } if deployments.iter().any(|d| d.state.is_in_progress()) => {
            Requeue::Poll
        }
        Situation::Failed {
            state: DeploymentState::RollingBack,
            ..
        } => Requeue::Poll,
        Situation::Deployed | Situation::Failed { .. } | Situation::Suspended { .. } => {
            Requeue::Resync
        }
    };
    Ok(Outcome {
        status: next,
        notices,
        requeue,
    })
}

/// The version AppConfig serves for the profile, named as the spec names it when it is the
/// declared one (so that DESIRED and SERVED read alike), else by its label or number.
fn served_name(deployments: &[DeploymentSummary], ids: &Ids) -> Option<String> {
    served(deployments, &ids.profile).map(|d| {
        // The declared version comes first in `versions`.
        match ids.versions.first() {
            Some(declared) if d.carries(&ids.versions) => declared.clone(),
            _ => d.version_name().to_owned(),
        }
    })
}

/// GetDeployment only when the tracked deployment is new to the status, still moving, or
/// changed since the status was written; a settled resource costs no call.
fn needs_detail(
    previous: &AppConfigDeploymentStatus,
    tracked: Tracked,
    deployments: &[DeploymentSummary],
) -> bool {
    let Some(summary) = deployments.iter().find(|d| d.number == tracked.number) else {
        return previous.deployment_number != Some(tracked.number);
    };
    previous.deployment_number != Some(tracked.number)
        || previous.event_log.is_none()
        || summary.state.is_in_progress()
        || previous.state.as_deref() != Some(summary.state.as_str())
        || previous.percentage_complete != Some(summary.percentage_complete)
}

/// One Event per event log entry the status has not recorded yet, oldest first.
fn log_notices(previous: &AppConfigDeploymentStatus, d: &Deployment, limit: usize) -> Vec<Notice> {
    let recorded = match previous.deployment_number {
        Some(n) if n == d.summary.number => previous.event_log.as_deref().unwrap_or_default(),
        _ => &[],
    };
    let mut new = status::new_entries(&d.event_log, recorded);
    // A deployment adopted long after it started reports its recent history only.
    if recorded.is_empty() {
        new = &new[..new.len().min(limit)];
    }
    new.iter()
        .rev()
        .map(|e| events::for_log_entry(d.summary.number, e))
        .collect()
}

/// Events for the operator's own findings, once per transition into them.
fn transition_notices(
    previous: &AppConfigDeploymentStatus,
    situation: &Situation,
    summary: &Summary,
    generation: i64,
) -> Vec<Notice> {
    let was = previous
        .conditions
        .as_deref()
        .unwrap_or_default()
        .iter()
        .find(|c| c.type_ == READY)
        .map(|c| (c.reason.as_str(), c.observed_generation));
    if was == Some((summary.reason, Some(generation))) {
        return Vec::new();
    }
    match situation {
        Situation::WaitingForEnvironment { number, .. } => vec![Notice {
            severity: Severity::Normal,
            reason: "WaitingForEnvironment".into(),
            action: "Wait",
            note: summary.message.clone(),
            identity: format!("wait/{generation}/{number}"),
        }],
        Situation::Failed { number, .. } => vec![Notice {
            severity: Severity::Warning,
            reason: "DeploymentFailed".into(),
            action: "Observe",
            note: summary.message.clone(),
            identity: format!("failed/{generation}/{number}"),
        }],
        _ => Vec::new(),
    }
}

fn start_request(resource: &AppConfigDeployment, ids: &Ids, latest: i32) -> StartRequest {
    let spec = &resource.spec;
    let mut tags: BTreeMap<String, String> = spec.tags.clone().unwrap_or_default();
    tags.insert(
        format!("{OPERATOR_PREFIX}resource"),
        format!(
            "{}/{}",
            resource.namespace().unwrap_or_default(),
            resource.name_any()
        ),
    );
    tags.insert(
        format!("{OPERATOR_PREFIX}generation"),
        resource.metadata.generation.unwrap_or_default().to_string(),
    );
    StartRequest {
        profile_id: ids.profile.clone(),
        strategy_id: ids.strategy.clone(),
        version: ids.declared().to_owned(),
        description: spec.description.clone(),
        kms_key_identifier: spec.kms_key_identifier.clone(),
        dynamic_extension_parameters: spec
            .dynamic_extension_parameters
            .clone()
            .unwrap_or_default(),
        tags,
        latest_deployment_number: latest,
    }
}

/// The status recording an attempt about to start: deployment `intent`, nothing known of it yet.
fn pending(
    resource: &AppConfigDeployment,
    ctx: &Context,
    previous: &AppConfigDeploymentStatus,
    ids: &Ids,
    intent: Tracked,
) -> AppConfigDeploymentStatus {
    let observed = Observed {
        ids: Some(ids),
        tracked: Some(intent),
        ..Observed::default()
    };
    let (mut status, _) = report(resource, ctx, previous, &observed, &Situation::Starting);
    // The new deployment has no state, progress or log yet; what it will deploy, and how, is
    // known already.
    status::forget_deployment(&mut status);
    status.configuration_version = Some(
        ids.hosted
            .as_ref()
            .map_or_else(|| ids.declared().to_owned(), |h| h.number.to_string()),
    );
    status.version_label = ids.hosted.as_ref().and_then(|h| h.label.clone());
    if let Some(strategy) = &ids.strategy_shape {
        status::describe_strategy(&mut status, strategy);
    }
    status
}

/// The status for what was observed, with the conditions of `situation`, whose message names
/// what that status shows.
fn report(
    resource: &AppConfigDeployment,
    ctx: &Context,
    previous: &AppConfigDeploymentStatus,
    observed: &Observed<'_>,
    situation: &Situation,
) -> (AppConfigDeploymentStatus, Summary) {
    let declared = observed
        .ids
        .map_or_else(String::new, |ids| ids.declared().to_owned());
    let generation = resource.metadata.generation.unwrap_or_default();
    let mut status =
        status::next_status(previous, generation, observed, ctx.config.event_log_limit);
    let summary = summary::for_situation(
        situation,
        &Facts {
            declared_version: &declared,
            environment: &resource.spec.environment,
            status: &status,
        },
    );
    status::set_conditions(&mut status, &summary, generation, Timestamp::now());
    (status, summary)
}
