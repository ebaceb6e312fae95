//! One poll of one AppConfigSync: check the target, read AppConfig with the session's token
//! (or a new session), and write the target when the configuration changed.

use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::{ResourceExt, api::DynamicObject};
use tracing::{debug, info, warn};

use super::{
    Context,
    content::{self, Configuration},
    reconcile::object_key,
    session::Session,
    status::{self, Outcome},
    target::{self, Desired, Targets},
};
use crate::{
    api::v1alpha1::{AppConfigSync, AppConfigSyncStatus},
    aws::{
        AppConfigData,
        appconfigdata::{Latest, PollError, SessionRequest},
        error::{AwsError, ErrorKind},
    },
    shared::events::{Notice, Severity},
};

/// What a poll leads to; its schedule is already recorded.
pub struct Step {
    pub outcome: Outcome,
    pub notices: Vec<Notice>,
    pub after: Duration,
}

pub async fn poll(
    sync: &AppConfigSync,
    ctx: &Context,
    previous: &AppConfigSyncStatus,
    spec_changed: bool,
) -> Result<Step, kube::Error> {
    let key = object_key(sync);
    let uid = sync.uid().unwrap_or_default();
    let generation = sync.metadata.generation.unwrap_or_default();
    let interval = ctx.seconds(sync.spec.poll_interval_seconds);
    let schedule = |session: Option<Session>, after: Duration| {
        ctx.sessions
            .schedule(&key, &uid, generation, session, after);
    };

    let desired = Desired::of(sync);
    let targets = Targets::new(ctx.client.clone(), &sync.namespace().unwrap_or_default());
    let live = targets.get(desired.kind, &desired.name).await?;
    let mut session = ctx.sessions.take(&key, &uid);
    if let Some(live) = live.as_ref().filter(|l| !target::owned_by(l, sync)) {
        schedule(None, interval);
        let message = format!(
            "{} exists and is not owned by this AppConfigSync: its controller is {}; it is left untouched. Delete it, or choose another spec.target.name",
            desired.written().description,
            target::owner_of(live)
        );
        return Ok(stalled(sync, status::TARGET_CONFLICT, message, interval));
    }
    let request = SessionRequest {
        application: sync.spec.application.clone(),
        environment: sync.spec.environment.clone(),
        profile: sync.spec.configuration_profile.clone(),
        minimum_poll_interval_seconds: sync.spec.poll_interval_seconds,
    };
    let region = ctx.aws.region_name(sync.spec.region.as_deref());
    let current = session
        .as_ref()
        .is_some_and(|s| s.request == request && s.region == region);
    // A new session answers with the whole configuration, which a changed spec or a target
    // that no longer holds it needs; the old session's token is simply never used.
    if !current || spec_changed || drifted(&desired, live.as_ref(), previous) {
        session = None;
    }

    let data = ctx.aws.data(sync.spec.region.as_deref());
    let latest = match read(&data, &request, session, &key).await {
        Ok(latest) => latest,
        Err(e) if e.kind == ErrorKind::Transient => {
            let after = ctx.backoff.next(&key, ctx.config.second).min(interval);
            schedule(None, after);
            warn!(resource = %key, error = %e, retry_in = ?after, "AppConfig Data call failed; retrying with backoff and a new session");
            return Ok(Step {
                outcome: Outcome::Retrying(e),
                notices: Vec::new(),
                after,
            });
        }
        Err(e) => {
            schedule(None, interval);
            ctx.backoff.reset(&key);
            warn!(resource = %key, error = %e, "cannot read the configuration until the spec or AWS changes; retrying at the poll interval");
            return Ok(stalled(
                sync,
                status::aws_reason(&e),
                e.to_string(),
                interval,
            ));
        }
    };
    ctx.backoff.reset(&key);
    let after = interval.max(ctx.seconds(latest.next_poll_interval_seconds));
    if latest.content.is_empty() {
        debug!(resource = %key, "configuration unchanged");
        schedule(
            Some(Session::new(region, request, latest.next_token)),
            after,
        );
        return Ok(Step {
            outcome: Outcome::Unchanged,
            notices: Vec::new(),
            after,
        });
    }
    let configuration = Configuration {
        content: latest.content,
        content_type: latest.content_type,
        version_label: latest.version_label,
    };
    let size = configuration.content.len();
    if size > content::MAX_SIZE {
        // Without the session, the next poll gets the whole configuration again to judge.
        schedule(None, after);
        let message = format!(
            "the configuration is {size} bytes, more than a {} holds ({} bytes); {} was not written",
            desired.kind.as_str(),
            content::MAX_SIZE,
            desired.written().description
        );
        return Ok(stalled(sync, status::TOO_LARGE, message, after));
    }
    schedule(
        Some(Session::new(region, request, latest.next_token)),
        after,
    );
    let sha256 = configuration.sha256();
    let content_key = desired.key(configuration.content_type.as_deref());
    let label = configuration.version_label.clone().unwrap_or_default();
    let held = live
        .as_ref()
        .is_some_and(|l| !spec_changed && desired.held_by(l, &content_key, &sha256, &label));
    if !held {
        match targets
            .apply(sync, &desired, &configuration, live.as_ref())
            .await
        {
            Ok(()) => {}
            Err(kube::Error::Api(refused)) if matches!(refused.code, 400 | 403 | 422) => {
                ctx.sessions.schedule(&key, &uid, generation, None, after);
                let message = format!(
                    "the API server refused to write {}: {}",
                    desired.written().description,
                    refused.message
                );
                return Ok(stalled(sync, status::TARGET_REJECTED, message, after));
            }
            Err(e) => {
                // The next poll starts a session, to write the whole configuration again.
                ctx.sessions.schedule(&key, &uid, generation, None, after);
                return Err(e);
            }
        }
        info!(resource = %key, object = %desired.written().description, version_label = %label, size, sha256 = %sha256, "target written");
    }
    if let Some(old) = previous
        .target
        .as_ref()
        .filter(|old| **old != desired.written())
        && targets.remove_owned(sync, old).await?
    {
        info!(resource = %key, object = %old.description, "removed the target the spec no longer names");
    }
    let mut notices = Vec::new();
    if previous.sha256.as_deref() != Some(sha256.as_str()) {
        notices.push(Notice {
            severity: Severity::Normal,
            reason: "ConfigurationUpdated".into(),
            action: "Sync",
            note: format!(
                "{} holds {} ({size} bytes, sha256 {sha256})",
                desired.written().description,
                configuration.version_label.as_deref().map_or_else(
                    || "a new configuration".to_owned(),
                    |l| format!("version {l}")
                )
            ),
            // The previous change's time tells a return to earlier content (a rollback) from a
            // repeat of this one (after a restart, or a status write that failed).
            identity: format!(
                "updated/{}/{sha256}/{}",
                desired.written().description,
                time_text(previous.last_change_time.as_ref())
            ),
        });
    }
    Ok(Step {
        outcome: Outcome::Synced {
            target: desired.written(),
            version_label: configuration.version_label,
            content_type: configuration.content_type,
            sha256,
            size,
        },
        notices,
        after,
    })
}

/// Reads the configuration: with the session's token if there is one, else with a new session.
/// A token AppConfig rejects (expired, or no longer valid) is replaced by a new session at once.
async fn read(
    data: &AppConfigData,
    request: &SessionRequest,
    mut session: Option<Session>,
    key: &str,
) -> Result<Latest, AwsError> {
    loop {
        let reused = session.is_some();
        let token = match session.take() {
            Some(session) => session.take_token(),
            None => data.start_session(request).await?,
        };
        match data.latest(&token).await {
            Ok(latest) => return Ok(latest),
            Err(PollError::TokenRejected(e)) if reused => {
                info!(resource = %key, error = %e, "AppConfig rejected the session's token; starting a new session");
            }
            Err(PollError::TokenRejected(mut e)) => {
                // Even a new session's token was refused: AppConfig is not itself; retry later.
                e.kind = ErrorKind::Transient;
                return Err(e);
            }
            Err(PollError::Failed(e)) => return Err(e),
        }
    }
}

/// Whether the target no longer holds what the status says was written: missing, edited, or
/// without the spec's labels and annotations.
fn drifted(
    desired: &Desired,
    live: Option<&DynamicObject>,
    previous: &AppConfigSyncStatus,
) -> bool {
    let (Some(live), Some(sha256)) = (live, previous.sha256.as_deref()) else {
        return true;
    };
    let key = desired.key(previous.content_type.as_deref());
    let label = previous.version_label.as_deref().unwrap_or_default();
    !desired.held_by(live, &key, sha256, label)
}

/// A Stalled step with its SyncFailed Event, published once per failure: the same failure again
/// (same generation, no successful poll since) is the same Event.
fn stalled(sync: &AppConfigSync, reason: &'static str, message: String, after: Duration) -> Step {
    let generation = sync.metadata.generation.unwrap_or_default();
    let last_sync = time_text(sync.status.as_ref().and_then(|s| s.last_sync_time.as_ref()));
    Step {
        notices: vec![Notice {
            severity: Severity::Warning,
            reason: "SyncFailed".into(),
            action: "Sync",
            note: format!("{reason}: {message}"),
            identity: format!("failed/{generation}/{last_sync}/{reason}/{message}"),
        }],
        outcome: Outcome::Stalled { reason, message },
        after,
    }
}

fn time_text(time: Option<&Time>) -> String {
    time.map(|t| t.0.to_string()).unwrap_or_default()
}
