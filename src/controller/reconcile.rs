//! One reconcile: observe AppConfig, decide, act, then write status and Events. The decision
//! itself is [`decide`](super::decide); this module does the I/O around it.

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use jiff::Timestamp;
use kube::{
    Api, ResourceExt,
    api::{Patch, PatchParams},
    runtime::controller::Action,
};
use serde_json::json;
use tracing::{info, warn};

use super::{
    Context, Error,
    decide::{Act, Decision, Observation, Situation, Tracked, decide},
    environments::EnvironmentKey,
    events::{self, Notice, Severity},
    finalizer,
    resolve::{Ids, ResolveError},
    status::{self, Observed},
    summary::{self, Facts, ReconcileFailure},
};
use crate::{
    api::{
        OPERATOR_PREFIX,
        v1alpha1::{AppConfigDeployment, AppConfigDeploymentStatus, DeletionPolicy},
    },
    aws::{
        AppConfig, StartRequest,
        error::ErrorKind,
        model::{Deployment, DeploymentSummary},
    },
};

pub const FIELD_MANAGER: &str = "appconfig-operator";

/// Observe → decide → act rounds per reconcile: a stop is followed by a fresh look and, usually,
/// a start; a lost start race by a fresh look and a wait.
const MAX_ROUNDS: usize = 3;

pub async fn reconcile(
    resource: Arc<AppConfigDeployment>,
    ctx: Arc<Context>,
) -> Result<Action, Error> {
    let api: Api<AppConfigDeployment> = Api::namespaced(
        ctx.client.clone(),
        &resource.namespace().unwrap_or_default(),
    );
    let key = object_key(&resource);
    if resource.metadata.deletion_timestamp.is_some() {
        return super::cleanup::cleanup(&api, &resource, &ctx).await;
    }
    if let Some(wait) = ctx
        .schedule
        .wait(&key, resource.resource_version().as_deref())
    {
        return Ok(Action::requeue(wait));
    }
    let mut resource_version = resource.resource_version();
    let wants_finalizer = resource.spec.deletion_policy == DeletionPolicy::Stop;
    if let Some(patched) = finalizer::sync(&api, &resource, wants_finalizer).await? {
        resource_version = patched.resource_version();
    }

    let region = resource
        .spec
        .region
        .clone()
        .or_else(|| ctx.aws.default_region().map(str::to_owned))
        .unwrap_or_default();
    let aws = ctx.aws.region(resource.spec.region.as_deref());
    let previous = resource.status.clone().unwrap_or_default();
    let generation = resource.metadata.generation.unwrap_or_default();

    let (next, notices, requeue) = match converge(&resource, &ctx, &aws, &region, &previous).await {
        Ok(outcome) => {
            let requeue = match &outcome.requeue {
                Requeue::Poll => ctx.config.poll_interval,
                Requeue::Backoff => ctx.backoff.next(&key, ctx.config.poll_interval),
                Requeue::Resync => resync_delay(ctx.config.resync_interval),
            };
            if !matches!(outcome.requeue, Requeue::Backoff) {
                ctx.backoff.reset(&key);
            }
            (outcome.status, outcome.notices, requeue)
        }
        Err(failure) => {
            if matches!(
                &failure,
                ReconcileFailure::Aws(e) | ReconcileFailure::Resolve(ResolveError::Aws(e))
                    if e.kind == ErrorKind::NotFound
            ) {
                ctx.resolver.forget(&region, &resource.spec);
            }
            let conditions = previous.conditions.as_deref().unwrap_or_default();
            let summary = summary::for_error(&failure, conditions, generation);
            let mut status = status::next_status(
                &previous,
                generation,
                &Observed::default(),
                ctx.config.event_log_limit,
            );
            status::set_conditions(&mut status, &summary, generation, Timestamp::now());
            let requeue = if failure.is_transient() {
                warn!(resource = %key, error = %failure, "AppConfig call failed; retrying with backoff");
                ctx.backoff.next(&key, ctx.config.poll_interval)
            } else {
                warn!(resource = %key, error = %failure, "cannot converge until the spec changes or AWS changes; fix the cause named in the Stalled condition");
                resync_delay(ctx.config.resync_interval)
            };
            (status, Vec::new(), requeue)
        }
    };

    if Some(&next) != resource.status.as_ref() {
        let patch = json!({
            "apiVersion": "appconfig.operators.dev/v1alpha1",
            "kind": "AppConfigDeployment",
            "status": next,
        });
        let written = api
            .patch_status(
                &resource.name_any(),
                &PatchParams::apply(FIELD_MANAGER).force(),
                &Patch::Apply(patch),
            )
            .await
            .map_err(Error::WriteStatus)?;
        resource_version = written.resource_version();
    }
    ctx.schedule.set(&key, resource_version, requeue);
    // After the status that records them: a crash in between loses Events rather than
    // repeating them, and their names make a repeat impossible anyway.
    for notice in &notices {
        if let Err(e) = ctx.publisher.publish(&resource, notice).await {
            warn!(resource = %key, reason = %notice.reason, error = %e, "cannot publish a Kubernetes Event; check the operator's RBAC for events.k8s.io events");
        }
    }
    Ok(Action::requeue(requeue))
}

enum Requeue {
    Poll,
    Backoff,
    Resync,
}

struct Outcome {
    status: AppConfigDeploymentStatus,
    notices: Vec<Notice>,
    requeue: Requeue,
}

async fn converge(
    resource: &AppConfigDeployment,
    ctx: &Context,
    aws: &AppConfig,
    region: &str,
    previous: &AppConfigDeploymentStatus,
) -> Result<Outcome, ReconcileFailure> {
    let spec = &resource.spec;
    let generation = resource.metadata.generation.unwrap_or_default();
    let key = object_key(resource);
    let settled = previous.observed_generation == Some(generation)
        && previous
            .conditions
            .as_deref()
            .unwrap_or_default()
            .iter()
            .any(|c| c.type_ == super::conditions::RECONCILING && c.status == "False");
    if settled
        && let (Some(a), Some(e), Some(p), Some(s)) = (
            previous.application_id.as_deref(),
            previous.environment_id.as_deref(),
            previous.configuration_profile_id.as_deref(),
            previous.deployment_strategy_id.as_deref(),
        )
    {
        ctx.resolver.remember(region, spec, [a, e, p, s]);
    }
    let ids = ctx.resolver.resolve(aws, region, spec).await?;
    let env = EnvironmentKey {
        region: region.to_owned(),
        application: ids.application.clone(),
        environment: ids.environment.clone(),
    };
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
            .deployments(aws, &env, &ids.profile, max_age)
            .await?;
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
                aws.stop_deployment(&ids.application, &ids.environment, number)
                    .await?;
                ctx.environments.invalidate(&env);
                notices.push(Notice {
                    severity: Severity::Normal,
                    reason: "StoppingSupersededDeployment".into(),
                    action: "Stop",
                    note: format!(
                        "Stopped deployment {number}, which does not carry version {}",
                        spec.configuration_version
                    ),
                    identity: format!("stop/{number}"),
                });
                decision = Some(d);
            }
            Act::Start {
                latest_deployment_number,
            } => {
                let request = start_request(resource, &ids, latest_deployment_number);
                match aws
                    .start_deployment(&ids.application, &ids.environment, request)
                    .await
                {
                    Ok(deployment) => {
                        ctx.environments.invalidate(&env);
                        let number = deployment.summary.number;
                        info!(resource = %key, deployment = number, version = %spec.configuration_version, "started a deployment");
                        notices.push(Notice {
                            severity: Severity::Normal,
                            reason: "StartingDeployment".into(),
                            action: "Start",
                            note: format!(
                                "Started deployment {number} of version {} with strategy {}",
                                spec.configuration_version, spec.deployment_strategy
                            ),
                            identity: format!("start/{number}"),
                        });
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
                        ctx.environments.invalidate(&env);
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
    let served_version = deployments
        .iter()
        .filter(|d| d.profile_id.as_deref() == Some(ids.profile.as_str()))
        .find(|d| d.state == crate::aws::model::DeploymentState::Complete)
        .map(|d| d.version_name().to_owned());

    let observed = Observed {
        ids: Some(&ids),
        tracked,
        deployment: detail.as_ref(),
        served_version: Some(served_version),
    };
    let mut next = status::next_status(previous, generation, &observed, ctx.config.event_log_limit);
    let situation = match decision.situation {
        // Every start lost a race (ConflictException): another deployment holds the environment.
        Situation::Starting => Situation::WaitingForEnvironment {
            number: 0,
            profile_id: String::new(),
        },
        s => s,
    };
    let summary = summary::for_situation(
        &situation,
        &Facts {
            declared_version: &spec.configuration_version,
            environment: &spec.environment,
            status: &next,
        },
    );
    status::set_conditions(&mut next, &summary, generation, Timestamp::now());
    notices.extend(transition_notices(
        previous, &situation, &summary, generation,
    ));
    let requeue = match &situation {
        Situation::InProgress(_) | Situation::Superseding { .. } | Situation::Starting => {
            Requeue::Poll
        }
        Situation::WaitingForEnvironment { .. } => Requeue::Backoff,
        Situation::Suspended { .. } if deployments.iter().any(|d| d.state.is_in_progress()) => {
            Requeue::Poll
        }
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
    let new = status::new_entries(&d.event_log, recorded);
    // A deployment adopted long after it started reports its recent history only.
    let new = &new[..new.len().min(limit)];
    new.iter()
        .rev()
        .map(|e| events::for_log_entry(d.summary.number, e))
        .collect()
}

/// Events for the operator's own findings, once per transition into them.
fn transition_notices(
    previous: &AppConfigDeploymentStatus,
    situation: &Situation,
    summary: &super::conditions::Summary,
    generation: i64,
) -> Vec<Notice> {
    let was = previous
        .conditions
        .as_deref()
        .unwrap_or_default()
        .iter()
        .find(|c| c.type_ == super::conditions::READY)
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
        version: spec.configuration_version.clone(),
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

/// Settled resources come back a little after the resync interval, spread so that they do not
/// all come back at once.
fn resync_delay(interval: Duration) -> Duration {
    interval.mul_f64(1.0 + fastrand::f64() * 0.1)
}

pub fn object_key(resource: &AppConfigDeployment) -> String {
    format!(
        "{}/{}",
        resource.namespace().unwrap_or_default(),
        resource.name_any()
    )
}
