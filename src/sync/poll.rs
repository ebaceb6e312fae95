//! One poll of one AppConfigSync: check the target, choose the session, read AppConfig, and
//! judge what it served (write the target, or stall).

use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::{ResourceExt, api::DynamicObject};
use tracing::{debug, info, warn};

use super::{
    Context,
    content::{self, Configuration},
    object_key,
    session::{Session, Verdict},
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
    tenancy::IdentityError,
};

/// What a poll leads to; its schedule is already recorded.
pub struct Step {
    pub outcome: Outcome,
    pub notices: Vec<Notice>,
    pub after: Duration,
}

impl Step {
    fn quiet(outcome: Outcome, after: Duration) -> Self {
        Self {
            outcome,
            notices: Vec::new(),
            after,
        }
    }
}

/// The first retry of a throttled poll waits up to this many poll-interval seconds (doubling
/// per attempt): throttling means AWS wants fewer calls, not the same calls a second later.
const THROTTLED_BASE_SECONDS: u32 = 5;

/// The first recheck of a missing or refused configuration waits about this many poll-interval
/// seconds, doubling per attempt up to the backoff's cap (5 minutes) and never past the spec's
/// interval: GitOps may apply the sync before the configuration exists, and IAM changes take a
/// while to propagate.
const RECHECK_BASE_SECONDS: u32 = 15;

/// How soon a target left by an earlier AppConfigSync of the same name is looked at again: the
/// garbage collector usually removes it within seconds.
const GARBAGE_COLLECTION_WAIT: Duration = Duration::from_secs(1);

/// One resource's poll: who it is, and where its next poll is recorded.
struct Poll<'a> {
    sync: &'a AppConfigSync,
    ctx: &'a Context,
    key: String,
    uid: String,
    generation: i64,
    interval: Duration,
}

impl Poll<'_> {
    /// Records when the next poll may run, and with which session.
    fn schedule(&self, session: Option<Session>, after: Duration) {
        self.ctx
            .sessions
            .schedule(&self.key, &self.uid, self.generation, session, after);
    }
}

pub async fn poll(
    sync: &AppConfigSync,
    ctx: &Context,
    previous: &AppConfigSyncStatus,
) -> Result<Step, kube::Error> {
    let this = Poll {
        sync,
        ctx,
        key: object_key(sync),
        uid: sync.uid().unwrap_or_default(),
        generation: sync.metadata.generation.unwrap_or_default(),
        interval: ctx.seconds(sync.spec.poll_interval_seconds),
    };
    let desired = Desired::of(sync);
    let targets = Targets::new(ctx.client.clone(), &sync.namespace().unwrap_or_default());
    let live = targets.get(desired.kind, &desired.name).await?;
    let session = ctx.sessions.take(&this.key, &this.uid);
    if let Some(live) = live.as_ref().filter(|l| !target::owned_by(l, sync)) {
        if target::owned_by_earlier(live, sync) {
            // Deleted and created again: the garbage collector removes the old target shortly.
            let after = GARBAGE_COLLECTION_WAIT.min(this.interval);
            this.schedule(session, after);
            let message = format!(
                "{} still belongs to an earlier AppConfigSync of this name, which is deleted; waiting for the garbage collector to remove it",
                desired.written().description
            );
            return Ok(Step::quiet(Outcome::Waiting { message }, after));
        }
        // The token was not used: it stays good for the poll after the conflict is resolved.
        this.schedule(session, this.interval);
        let message = format!(
            "{} exists and is not owned by this AppConfigSync: its controller is {}; it is left untouched. Delete it, or choose another spec.target.name",
            desired.written().description,
            target::owner_of(live)
        );
        return Ok(stalled(
            sync,
            status::TARGET_CONFLICT,
            message,
            this.interval,
        ));
    }
    let request = SessionRequest {
        application: sync.spec.application.clone(),
        environment: sync.spec.environment.clone(),
        profile: sync.spec.configuration_profile.clone(),
        minimum_poll_interval_seconds: sync.spec.poll_interval_seconds,
    };
    let access = match ctx
        .tenancy
        .access(
            &sync.namespace().unwrap_or_default(),
            sync.spec.service_account_name.as_deref(),
            sync.spec.region.as_deref(),
        )
        .await
    {
        Ok(access) => access,
        Err(e) => return Ok(identity_failed(&this, e)),
    };
    // A session belongs to the region and identity that opened it.
    let scope = access.scope().to_owned();
    let session = session.filter(|s| {
        s.request == request
            && s.scope == scope
            && still_holds(
                &s.verdict,
                this.generation,
                &desired,
                live.as_ref(),
                previous,
            )
    });
    let data = access.data();
    let (latest, verdict) = match read(&data, &request, session, &this.key).await {
        Ok(Reply::Answer { latest, verdict }) => (latest, verdict),
        Ok(Reply::TooEarly(session)) => {
            let after = this.interval.max(session.next_poll);
            debug!(resource = %this.key, retry_in = ?after, "AppConfig asked to wait longer; keeping the session");
            let outcome = repeat(&session.verdict);
            this.schedule(Some(session), after);
            return Ok(Step::quiet(outcome, after));
        }
        Err(e) => return Ok(failed(&this, e)),
    };
    ctx.backoff.reset(&this.key);
    let after = this
        .interval
        .max(ctx.seconds(latest.next_poll_interval_seconds));
    let next_session = |verdict| {
        Some(Session::new(
            scope.clone(),
            request.clone(),
            latest.next_token.clone(),
            ctx.seconds(latest.next_poll_interval_seconds),
            verdict,
        ))
    };
    if latest.content.is_empty() {
        debug!(resource = %this.key, "configuration unchanged");
        // A new session's first answer is never empty unless the configuration itself is.
        let verdict = verdict.unwrap_or(Verdict::Written);
        let outcome = repeat(&verdict);
        this.schedule(next_session(verdict), after);
        return Ok(Step::quiet(outcome, after));
    }
    let configuration = Configuration {
        content: latest.content.clone(),
        content_type: latest.content_type.clone(),
        version_label: latest.version_label.clone(),
    };
    match write(&this, &targets, &desired, &configuration, live.as_ref()).await {
        Ok(None) => {
            this.schedule(next_session(Verdict::Written), after);
            synced(&this, &targets, &desired, configuration, previous, after).await
        }
        Ok(Some(Refusal {
            reason,
            message,
            lasting,
        })) => {
            // A lasting refusal keeps the session: the next poll's empty answer repeats this
            // verdict instead of downloading the same configuration again. Otherwise the next
            // poll starts a session, to have the whole configuration to write again.
            let verdict = Verdict::Stalled {
                generation: this.generation,
                reason,
                message: message.clone(),
            };
            this.schedule(if lasting { next_session(verdict) } else { None }, after);
            Ok(stalled(sync, reason, message, after))
        }
        Err(e) => {
            // The next poll starts a session, to write the whole configuration again; a target
            // someone created meanwhile (409) is looked at again soon, through the backoff.
            let conflict = matches!(&e, kube::Error::Api(s) if s.code == 409);
            this.schedule(None, if conflict { Duration::ZERO } else { after });
            Err(e)
        }
    }
}

/// Whether a session's verdict still stands for the resource as it is now: a written
/// configuration while the target still holds it; a stall for the generation it was made at.
fn still_holds(
    verdict: &Verdict,
    generation: i64,
    desired: &Desired,
    live: Option<&DynamicObject>,
    previous: &AppConfigSyncStatus,
) -> bool {
    match verdict {
        Verdict::Written => !drifted(desired, live, previous),
        Verdict::Stalled { generation: at, .. } => *at == generation,
    }
}

/// The outcome of a poll that learnt nothing new.
fn repeat(verdict: &Verdict) -> Outcome {
    match verdict {
        Verdict::Written => Outcome::Unchanged,
        Verdict::Stalled {
            reason, message, ..
        } => Outcome::Stalled {
            reason,
            message: message.clone(),
        },
    }
}

/// A failed AppConfig read: retried with backoff when transient, or when something is missing
/// or refused (rechecked soon at first, then less often, never less often than the poll
/// interval); at the poll interval if AWS rejects the request.
fn failed(this: &Poll<'_>, e: AwsError) -> Step {
    let ctx = this.ctx;
    if e.kind != ErrorKind::Transient {
        let after = match e.kind {
            ErrorKind::NotFound | ErrorKind::AccessDenied => ctx
                .backoff
                .next(&this.key, ctx.seconds(RECHECK_BASE_SECONDS))
                .min(this.interval),
            _ => {
                ctx.backoff.reset(&this.key);
                this.interval
            }
        };
        this.schedule(None, after);
        warn!(resource = %this.key, error = %e, retry_in = ?after, "cannot read the configuration until AWS or the spec changes; create what is missing or grant access (or fix the spec), and the sync recovers on its own");
        return stalled(this.sync, status::aws_reason(&e), e.to_string(), after);
    }
    retry_soon(this, e.to_string(), e.is_throttling())
}

/// The sync cannot act as its ServiceAccount: stalled until someone fixes the ServiceAccount,
/// its annotation, RBAC or IAM, rechecked meanwhile; or retried soon after a passing failure.
fn identity_failed(this: &Poll<'_>, e: IdentityError) -> Step {
    if e.is_transient() {
        return retry_soon(this, e.to_string(), false);
    }
    let ctx = this.ctx;
    let after = ctx
        .backoff
        .next(&this.key, ctx.seconds(RECHECK_BASE_SECONDS))
        .min(this.interval);
    this.schedule(None, after);
    warn!(resource = %this.key, reason = e.reason(), error = %e, retry_in = ?after, "cannot act as the sync's ServiceAccount; fix what the message names and the sync recovers on its own");
    stalled(this.sync, e.reason(), e.to_string(), after)
}

/// A passing failure: retried with full-jitter backoff (from a few seconds when AWS asked to
/// slow down), and a new session.
fn retry_soon(this: &Poll<'_>, cause: String, throttled: bool) -> Step {
    let ctx = this.ctx;
    let base = if throttled {
        ctx.seconds(THROTTLED_BASE_SECONDS)
    } else {
        ctx.config.second
    };
    let after = ctx
        .backoff
        .next_full_jitter(&this.key, base)
        .min(this.interval);
    this.schedule(None, after);
    warn!(resource = %this.key, error = %cause, retry_in = ?after, "reading the configuration failed; retrying with backoff and a new session");
    Step::quiet(Outcome::Retrying(cause), after)
}

/// Why a configuration cannot be written.
struct Refusal {
    reason: &'static str,
    message: String,
    /// Whether the same configuration at the same generation is refused again for sure: its
    /// size, or the API server's validation of the object (400, 422). A 403 (RBAC, a quota)
    /// may be lifted by the cluster at any time.
    lasting: bool,
}

/// Writes `configuration` to the target unless it already holds it; why not, if it cannot be.
async fn write(
    this: &Poll<'_>,
    targets: &Targets,
    desired: &Desired,
    configuration: &Configuration,
    live: Option<&DynamicObject>,
) -> Result<Option<Refusal>, kube::Error> {
    let size = configuration.content.len();
    if size > content::MAX_SIZE {
        let message = format!(
            "the configuration is {size} bytes, more than a {} holds ({} bytes); {} was not written",
            desired.kind.as_str(),
            content::MAX_SIZE,
            desired.written().description
        );
        return Ok(Some(Refusal {
            reason: status::TOO_LARGE,
            message,
            lasting: true,
        }));
    }
    let sha256 = configuration.sha256();
    let key = desired.key(configuration.content_type.as_deref());
    let label = configuration.version_label.as_deref().unwrap_or_default();
    if live.is_some_and(|l| desired.held_by(l, &key, &sha256, label)) {
        return Ok(None);
    }
    match targets.apply(this.sync, desired, configuration, live).await {
        Ok(()) => {
            info!(resource = %this.key, object = %desired.written().description, version_label = %label, size, sha256 = %sha256, "target written");
            Ok(None)
        }
        Err(kube::Error::Api(refused)) if matches!(refused.code, 400 | 403 | 422) => {
            let message = format!(
                "the API server refused to write {}: {}",
                desired.written().description,
                refused.message
            );
            Ok(Some(Refusal {
                reason: status::TARGET_REJECTED,
                message,
                lasting: refused.code != 403,
            }))
        }
        Err(e) => Err(e),
    }
}

/// The step after the target holds `configuration`: the target the spec no longer names is
/// removed, and a new configuration is announced.
async fn synced(
    this: &Poll<'_>,
    targets: &Targets,
    desired: &Desired,
    configuration: Configuration,
    previous: &AppConfigSyncStatus,
    after: Duration,
) -> Result<Step, kube::Error> {
    if let Some(old) = previous
        .target
        .as_ref()
        .filter(|old| **old != desired.written())
        && targets.remove_owned(this.sync, old).await?
    {
        info!(resource = %this.key, object = %old.description, "removed the target the spec no longer names");
    }
    let sha256 = configuration.sha256();
    let size = configuration.content.len();
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

/// What a read of AppConfig Data brought.
enum Reply {
    /// The configuration, or nothing when the session's last one is still current; `verdict` is
    /// what that last one led to (`None` with a new session).
    Answer {
        latest: Latest,
        verdict: Option<Verdict>,
    },
    /// AppConfig refused to answer before NextPollIntervalInSeconds; the session is still good.
    TooEarly(Session),
}

/// Reads the configuration: with the session's token if there is one, else with a new session.
/// A token AppConfig rejects (expired, or no longer valid) is replaced by a new session at once.
async fn read(
    data: &AppConfigData,
    request: &SessionRequest,
    mut session: Option<Session>,
    key: &str,
) -> Result<Reply, AwsError> {
    loop {
        let (token, verdict) = match session.take() {
            Some(session) => (session.token().to_owned(), Some(session)),
            None => (data.start_session(request).await?, None),
        };
        match data.latest(&token).await {
            Ok(latest) => {
                return Ok(Reply::Answer {
                    latest,
                    verdict: verdict.map(|s| s.verdict),
                });
            }
            Err(PollError::TooEarly(e)) => match verdict {
                Some(session) => return Ok(Reply::TooEarly(session)),
                // A new session's first token is never early: AppConfig is not itself.
                None => return Err(e),
            },
            Err(PollError::TokenRejected(e)) if verdict.is_some() => {
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
