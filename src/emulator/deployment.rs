//! One deployment and its state machine, evaluated lazily against the emulated clock: every read
//! first calls [`Deployment::advance`] with the current time, which replays the transitions that
//! fell due since the last read, at the exact times they were due.

use std::{collections::BTreeMap, sync::Arc};

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use super::{
    clock::format_timestamp,
    error::ApiError,
    schedule::{GrowthType, Timetable},
    state::HostedVersion,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeploymentState {
    Deploying,
    Baking,
    Complete,
    RolledBack,
    Reverted,
}

impl DeploymentState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Deploying => "DEPLOYING",
            Self::Baking => "BAKING",
            Self::Complete => "COMPLETE",
            Self::RolledBack => "ROLLED_BACK",
            Self::Reverted => "REVERTED",
        }
    }

    /// Holds the environment: no other deployment may start until it ends.
    pub fn in_progress(self) -> bool {
        matches!(self, Self::Deploying | Self::Baking)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    DeploymentStarted,
    PercentageUpdated,
    BakeTimeStarted,
    DeploymentCompleted,
    RollbackStarted,
    RollbackCompleted,
    RevertCompleted,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DeploymentStarted => "DEPLOYMENT_STARTED",
            Self::PercentageUpdated => "PERCENTAGE_UPDATED",
            Self::BakeTimeStarted => "BAKE_TIME_STARTED",
            Self::DeploymentCompleted => "DEPLOYMENT_COMPLETED",
            Self::RollbackStarted => "ROLLBACK_STARTED",
            Self::RollbackCompleted => "ROLLBACK_COMPLETED",
            Self::RevertCompleted => "REVERT_COMPLETED",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TriggeredBy {
    User,
    AppConfig,
    CloudWatchAlarm,
}

impl TriggeredBy {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "USER",
            Self::AppConfig => "APPCONFIG",
            Self::CloudWatchAlarm => "CLOUDWATCH_ALARM",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub event_type: EventType,
    pub triggered_by: TriggeredBy,
    pub description: String,
    pub occurred_at: Timestamp,
}

/// How long after completion a deployment can still be reverted (user guide, "Reverting a
/// configuration").
pub const REVERT_WINDOW: SignedDuration = SignedDuration::from_hours(72);

/// What a deployment copies from its strategy, profile and version when it starts.
#[derive(Debug, Clone)]
pub struct DeploymentPlan {
    pub application_id: String,
    pub environment_id: String,
    pub strategy_id: String,
    pub profile_id: String,
    pub configuration_name: String,
    pub location_uri: String,
    pub configuration_version: String,
    pub description: Option<String>,
    pub duration_minutes: u32,
    pub growth_type: GrowthType,
    pub growth_factor: f64,
    pub bake_minutes: u32,
    pub kms_key_identifier: Option<String>,
    pub tags: BTreeMap<String, String>,
    pub timetable: Timetable,
    /// The version being rolled out.
    pub content: Arc<HostedVersion>,
    /// What every client was served before; what a rollback or revert returns to.
    pub previous: Option<Arc<HostedVersion>>,
}

#[derive(Debug, Clone)]
pub struct Deployment {
    pub number: i32,
    pub plan: DeploymentPlan,
    pub state: DeploymentState,
    pub percentage: f64,
    pub started_at: Timestamp,
    pub completed_at: Option<Timestamp>,
    /// Oldest first; rendered newest first.
    events: Vec<Event>,
    next_step: usize,
}

/// The alarm that rolls a deployment back: its ARN and when it entered the ALARM state.
#[derive(Debug, Clone, Copy)]
pub struct FiringAlarm<'a> {
    pub arn: &'a str,
    pub since: Timestamp,
}

impl Deployment {
    pub fn start(number: i32, plan: DeploymentPlan, at: Timestamp) -> Self {
        let mut deployment = Self {
            number,
            plan,
            state: DeploymentState::Deploying,
            percentage: 0.0,
            started_at: at,
            completed_at: None,
            events: Vec::new(),
            next_step: 0,
        };
        deployment.emit(
            EventType::DeploymentStarted,
            TriggeredBy::User,
            "Deployment started".into(),
            at,
        );
        deployment
    }

    pub fn events(&self) -> &[Event] {
        &self.events
    }

    fn emit(
        &mut self,
        event_type: EventType,
        triggered_by: TriggeredBy,
        description: String,
        at: Timestamp,
    ) {
        self.events.push(Event {
            event_type,
            triggered_by,
            description,
            occurred_at: at,
        });
    }

    /// Applies every transition due at or before `now`, in time order. An alarm that fired
    /// before a transition was due rolls the deployment back instead.
    pub fn advance(&mut self, now: Timestamp, alarm: Option<FiringAlarm<'_>>) {
        loop {
            let timetable = &self.plan.timetable;
            let (offset, completes) = match self.state {
                DeploymentState::Deploying => match timetable.steps.get(self.next_step) {
                    Some((offset, _)) => (*offset, false),
                    None => (timetable.bake_starts, false),
                },
                DeploymentState::Baking => (timetable.completes, true),
                _ => return,
            };
            let due = self.started_at + offset;
            if let Some(alarm) = alarm {
                let fired = alarm.since.max(self.started_at);
                // Alarms stop mattering once the deployment is complete.
                if fired <= now && (fired < due || (fired == due && !completes)) {
                    self.roll_back(
                        fired,
                        TriggeredBy::CloudWatchAlarm,
                        format!(
                            "Rollback initiated by Amazon CloudWatch alarm {}",
                            alarm.arn
                        ),
                    );
                    return;
                }
            }
            if due > now {
                return;
            }
            self.apply_due_transition(due);
        }
    }

    fn apply_due_transition(&mut self, at: Timestamp) {
        match self.state {
            DeploymentState::Deploying => {
                if let Some((_, percent)) = self.plan.timetable.steps.get(self.next_step) {
                    let percent = *percent;
                    self.percentage = percent;
                    self.next_step += 1;
                    self.emit(
                        EventType::PercentageUpdated,
                        TriggeredBy::AppConfig,
                        format!("Configuration available to {percent:.2}% of clients"),
                        at,
                    );
                } else {
                    self.state = DeploymentState::Baking;
                    self.percentage = 100.0;
                    self.emit(
                        EventType::BakeTimeStarted,
                        TriggeredBy::AppConfig,
                        "Deployment bake time started".into(),
                        at,
                    );
                }
            }
            DeploymentState::Baking => {
                self.state = DeploymentState::Complete;
                self.completed_at = Some(at);
                self.emit(
                    EventType::DeploymentCompleted,
                    TriggeredBy::AppConfig,
                    "Deployment completed".into(),
                    at,
                );
            }
            _ => {}
        }
    }

    /// Rolls back at `at`. The rollback itself is instantaneous: AWS publishes no duration for
    /// ROLLING_BACK (UNCONFIRMED), so ROLLBACK_STARTED and ROLLBACK_COMPLETED share a timestamp.
    /// PercentageComplete keeps its last value and CompletedAt stays unset (both UNCONFIRMED).
    fn roll_back(&mut self, at: Timestamp, by: TriggeredBy, description: String) {
        self.emit(EventType::RollbackStarted, by, description, at);
        self.state = DeploymentState::RolledBack;
        // UNCONFIRMED text and TriggeredBy for the completion event.
        self.emit(
            EventType::RollbackCompleted,
            TriggeredBy::AppConfig,
            "Deployment rolled back".into(),
            at,
        );
    }

    /// StopDeployment, after `advance(now)`. `latest_for_profile` says whether this is the newest
    /// deployment of its configuration profile in the environment, the only one that may be
    /// reverted (UNCONFIRMED: AWS documents no rule; reverting an older one would be ambiguous).
    pub fn stop(
        &mut self,
        now: Timestamp,
        allow_revert: bool,
        account_id: &str,
        latest_for_profile: bool,
    ) -> Result<(), ApiError> {
        let number = self.number;
        match self.state {
            // BAKING counts as in progress (UNCONFIRMED: the API reference mentions DEPLOYING only).
            DeploymentState::Deploying | DeploymentState::Baking => {
                self.roll_back(
                    now,
                    TriggeredBy::User,
                    format!("Rollback initiated by account {account_id}"),
                );
                Ok(())
            }
            DeploymentState::Complete if !allow_revert => Err(ApiError::bad_request(format!(
                "Deployment number {number} has already completed. To revert it, call StopDeployment with AllowRevert set to true"
            ))),
            DeploymentState::Complete => {
                let completed_at = self.completed_at.unwrap_or(self.started_at);
                if now.duration_since(completed_at) > REVERT_WINDOW {
                    return Err(ApiError::bad_request(format!(
                        "Deployment number {number} completed more than 72 hours ago and can no longer be reverted"
                    )));
                }
                if !latest_for_profile {
                    return Err(ApiError::bad_request(format!(
                        "Deployment number {number} is not the latest deployment of its configuration profile in this environment and cannot be reverted"
                    )));
                }
                self.state = DeploymentState::Reverted;
                // UNCONFIRMED text and TriggeredBy.
                self.emit(
                    EventType::RevertCompleted,
                    TriggeredBy::User,
                    format!("Deployment reverted by account {account_id}"),
                    now,
                );
                Ok(())
            }
            DeploymentState::RolledBack | DeploymentState::Reverted => {
                Err(ApiError::bad_request(format!(
                    "Deployment number {number} is already {} and cannot be stopped",
                    self.state.as_str()
                )))
            }
        }
    }

    /// The version a client in rollout `bucket` (0..=99) receives while this is the newest
    /// deployment of its profile; `None` for buckets means "everyone" (the settled view).
    pub fn served(&self, bucket: Option<u8>) -> Option<&Arc<HostedVersion>> {
        let new = Some(&self.plan.content);
        match self.state {
            DeploymentState::Deploying => match bucket {
                Some(bucket) if f64::from(bucket) < self.percentage => new,
                _ => self.plan.previous.as_ref(),
            },
            DeploymentState::Baking | DeploymentState::Complete => new,
            DeploymentState::RolledBack | DeploymentState::Reverted => self.plan.previous.as_ref(),
        }
    }

    pub fn body(&self) -> DeploymentBody<'_> {
        let plan = &self.plan;
        DeploymentBody {
            application_id: &plan.application_id,
            environment_id: &plan.environment_id,
            deployment_strategy_id: &plan.strategy_id,
            configuration_profile_id: &plan.profile_id,
            deployment_number: self.number,
            configuration_name: &plan.configuration_name,
            configuration_location_uri: &plan.location_uri,
            configuration_version: &plan.configuration_version,
            description: plan.description.as_deref(),
            deployment_duration_in_minutes: plan.duration_minutes,
            growth_type: plan.growth_type.as_str(),
            growth_factor: plan.growth_factor,
            final_bake_time_in_minutes: plan.bake_minutes,
            state: self.state.as_str(),
            event_log: self.events.iter().rev().map(EventBody::from).collect(),
            percentage_complete: self.percentage,
            started_at: format_timestamp(self.started_at),
            completed_at: self.completed_at.map(format_timestamp),
            kms_key_identifier: plan.kms_key_identifier.as_deref(),
            kms_key_arn: plan
                .kms_key_identifier
                .as_deref()
                .filter(|id| id.starts_with("arn:")),
            version_label: plan.content.label.as_deref(),
        }
    }

    pub fn summary(&self) -> DeploymentSummary<'_> {
        let plan = &self.plan;
        DeploymentSummary {
            deployment_number: self.number,
            configuration_name: &plan.configuration_name,
            configuration_version: &plan.configuration_version,
            configuration_profile_id: &plan.profile_id,
            deployment_duration_in_minutes: plan.duration_minutes,
            growth_type: plan.growth_type.as_str(),
            growth_factor: plan.growth_factor,
            final_bake_time_in_minutes: plan.bake_minutes,
            state: self.state.as_str(),
            percentage_complete: self.percentage,
            started_at: format_timestamp(self.started_at),
            completed_at: self.completed_at.map(format_timestamp),
            version_label: plan.content.label.as_deref(),
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EventBody<'a> {
    event_type: &'static str,
    triggered_by: &'static str,
    description: &'a str,
    occurred_at: String,
}

impl<'a> From<&'a Event> for EventBody<'a> {
    fn from(event: &'a Event) -> Self {
        Self {
            event_type: event.event_type.as_str(),
            triggered_by: event.triggered_by.as_str(),
            description: &event.description,
            occurred_at: format_timestamp(event.occurred_at),
        }
    }
}

/// The `Deployment` shape of StartDeployment, GetDeployment and StopDeployment.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeploymentBody<'a> {
    application_id: &'a str,
    environment_id: &'a str,
    deployment_strategy_id: &'a str,
    configuration_profile_id: &'a str,
    deployment_number: i32,
    configuration_name: &'a str,
    configuration_location_uri: &'a str,
    configuration_version: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    deployment_duration_in_minutes: u32,
    growth_type: &'static str,
    growth_factor: f64,
    final_bake_time_in_minutes: u32,
    state: &'static str,
    event_log: Vec<EventBody<'a>>,
    percentage_complete: f64,
    started_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    completed_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kms_key_identifier: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kms_key_arn: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    version_label: Option<&'a str>,
}

/// The `DeploymentSummary` shape of ListDeployments.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeploymentSummary<'a> {
    deployment_number: i32,
    configuration_name: &'a str,
    configuration_version: &'a str,
    configuration_profile_id: &'a str,
    deployment_duration_in_minutes: u32,
    growth_type: &'static str,
    growth_factor: f64,
    final_bake_time_in_minutes: u32,
    state: &'static str,
    percentage_complete: f64,
    started_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    completed_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    version_label: Option<&'a str>,
}
