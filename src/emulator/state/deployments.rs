//! StartDeployment, GetDeployment, ListDeployments, StopDeployment, and the lazy evaluation of
//! deployments against the clock and the alarms.

use std::{collections::BTreeMap, sync::Arc};

use jiff::Timestamp;
use serde::Deserialize;
use serde_json::Value;

use super::{AlarmState, State, environments::Environment, not_found, profiles::HostedVersion};
use crate::emulator::{
    deployment::{Deployment, DeploymentPlan, FiringAlarm},
    error::ApiError,
    page::PageRequest,
    schedule::timetable,
    validate::{self, Checks},
};

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StartDeploymentInput {
    pub deployment_strategy_id: Option<String>,
    pub configuration_profile_id: Option<String>,
    pub configuration_version: Option<String>,
    pub description: Option<String>,
    pub tags: Option<BTreeMap<String, String>>,
    pub kms_key_identifier: Option<String>,
    pub dynamic_extension_parameters: Option<BTreeMap<String, String>>,
    /// Optimistic lock: the deployment number the caller believes is the environment's latest.
    pub latest_deployment_number: Option<i32>,
}

impl StartDeploymentInput {
    fn validate(&self) -> Result<(), ApiError> {
        let mut checks = Checks::new();
        if let Some(id) = checks.required("deploymentStrategyId", &self.deployment_strategy_id) {
            checks.pattern(
                "deploymentStrategyId",
                id,
                validate::is_strategy_id(id),
                validate::STRATEGY_ID_PATTERN,
            );
        }
        if let Some(id) = checks.required("configurationProfileId", &self.configuration_profile_id)
        {
            checks.pattern(
                "configurationProfileId",
                id,
                validate::is_id(id),
                validate::ID_PATTERN,
            );
        }
        if let Some(version) = checks.required("configurationVersion", &self.configuration_version)
        {
            checks.length("configurationVersion", version, 1, 1024);
        }
        checks.optional_length("description", &self.description, 0, 1024);
        checks.optional_length("kmsKeyIdentifier", &self.kms_key_identifier, 1, 2048);
        if let Some(tags) = &self.tags {
            checks.tags("tags", tags);
        }
        if let Some(parameters) = &self.dynamic_extension_parameters {
            checks.count("dynamicExtensionParameters", parameters.len(), 1, 10);
            for (key, value) in parameters {
                checks.pattern(
                    "dynamicExtensionParameters.key",
                    key,
                    validate::is_dynamic_parameter_key(key),
                    validate::DYNAMIC_PARAMETER_KEY_PATTERN,
                );
                checks.length(&format!("dynamicExtensionParameters.{key}"), value, 1, 2048);
            }
        }
        checks.finish()
    }
}

impl State {
    /// Brings the environment's deployments up to `now` (only the newest can still be moving).
    pub(super) fn advance_environment(
        &mut self,
        application_id: &str,
        environment_id: &str,
        now: Timestamp,
    ) -> Result<(), ApiError> {
        let alarms = &self.alarms;
        let environment = self
            .applications
            .get_mut(application_id)
            .ok_or_else(|| not_found("Application", application_id))?
            .environments
            .get_mut(environment_id)
            .ok_or_else(|| not_found("Environment", environment_id))?;
        let firing = environment
            .monitors
            .iter()
            .filter_map(|m| m.alarm_arn.as_deref())
            .filter_map(|arn| {
                alarms
                    .get(arn)
                    .map(|since| FiringAlarm { arn, since: *since })
            })
            .min_by_key(|alarm| alarm.since);
        if let Some(deployment) = environment.deployments.last_mut() {
            deployment.advance(now, firing);
        }
        Ok(())
    }

    pub(super) fn advanced_environment(
        &mut self,
        application_id: &str,
        environment_id: &str,
        now: Timestamp,
    ) -> Result<&Environment, ApiError> {
        self.advance_environment(application_id, environment_id, now)?;
        self.environment(application_id, environment_id)
    }

    pub fn start_deployment(
        &mut self,
        application_id: &str,
        environment_id: &str,
        input: StartDeploymentInput,
        now: Timestamp,
    ) -> Result<Value, ApiError> {
        input.validate()?;
        let strategy_id = input.deployment_strategy_id.unwrap_or_default();
        let profile_id = input.configuration_profile_id.unwrap_or_default();
        let version = input.configuration_version.unwrap_or_default();

        let environment = self.advanced_environment(application_id, environment_id, now)?;
        let latest_number = environment.deployments.last().map_or(0, |d| d.number);
        let previous = served_to_everyone(environment, &profile_id);
        let in_progress = environment.deployment_in_progress().map(|d| d.number);
        let profile = self.profile(application_id, &profile_id)?;
        let content = profile.resolve_version(&version)?;
        let strategy = self.strategy(&strategy_id)?;

        if let Some(number) = in_progress {
            return Err(ApiError::conflict(format!(
                "Deployment number {number} is currently in progress in environment {environment_id}. \
                 Wait for it to finish or stop it before starting another deployment"
            )));
        }
        if let Some(expected) = input.latest_deployment_number
            && expected != latest_number
        {
            // UNCONFIRMED semantics: the lock fails when the environment moved on since the
            // caller looked. For a stale caller the message matches what AWS answers racing
            // starts with.
            return Err(ApiError::conflict(if expected < latest_number {
                format!("Deployment number {} already exists", expected + 1)
            } else {
                format!(
                    "LatestDeploymentNumber {expected} does not match the latest deployment number {latest_number} of environment {environment_id}"
                )
            }));
        }

        // Validators run once every other check has passed (AWS's order is UNCONFIRMED), so
        // content is the only reason left to refuse; a refused start creates no deployment.
        profile.validate(&content)?;

        let plan = DeploymentPlan {
            application_id: application_id.to_owned(),
            environment_id: environment_id.to_owned(),
            strategy_id: strategy.id.clone(),
            profile_id: profile_id.clone(),
            configuration_name: profile.name.clone(),
            location_uri: profile.location_uri.clone(),
            configuration_version: version,
            description: input.description,
            duration_minutes: strategy.duration_minutes,
            growth_type: strategy.growth_type,
            growth_factor: strategy.growth_factor,
            bake_minutes: strategy.bake_minutes,
            kms_key_identifier: input.kms_key_identifier,
            tags: input.tags.unwrap_or_default(),
            timetable: timetable(
                strategy.duration_minutes,
                strategy.growth_type,
                strategy.growth_factor,
                strategy.bake_minutes,
                self.settings.step_schedule,
            ),
            content,
            previous,
        };
        let deployment = Deployment::start(latest_number + 1, plan, now);
        // The answer shows the deployment as it starts, before any step is applied, even when
        // the first step is due at once: AWS processes deployments asynchronously.
        let body = serde_json::to_value(deployment.body()).expect("a deployment serializes");
        self.environment_mut(application_id, environment_id)?
            .deployments
            .push(deployment);
        Ok(body)
    }

    pub fn get_deployment(
        &mut self,
        application_id: &str,
        environment_id: &str,
        number: &str,
        now: Timestamp,
    ) -> Result<Value, ApiError> {
        let environment = self.advanced_environment(application_id, environment_id, now)?;
        let deployment = find_deployment(environment, number)?;
        Ok(serde_json::to_value(deployment.body()).expect("a deployment serializes"))
    }

    /// Newest first, as the API reference documents.
    pub fn list_deployments(
        &mut self,
        application_id: &str,
        environment_id: &str,
        page: &PageRequest,
        now: Timestamp,
    ) -> Result<Value, ApiError> {
        let environment = self.advanced_environment(application_id, environment_id, now)?;
        let items = environment
            .deployments
            .iter()
            .rev()
            .map(|d| (u64::from(i32::MAX.abs_diff(d.number)), d.summary()));
        page.json(items)
    }

    pub fn stop_deployment(
        &mut self,
        application_id: &str,
        environment_id: &str,
        number: &str,
        allow_revert: bool,
        now: Timestamp,
    ) -> Result<Value, ApiError> {
        let account_id = self.settings.account_id.clone();
        self.advance_environment(application_id, environment_id, now)?;
        let environment = self.environment_mut(application_id, environment_id)?;
        let number = find_deployment(environment, number)?.number;
        let index = usize::try_from(number - 1).expect("deployment numbers start at 1");
        let profile_id = &environment.deployments[index].plan.profile_id;
        let latest_for_profile = environment.deployments[index + 1..]
            .iter()
            .all(|later| &later.plan.profile_id != profile_id);
        let deployment = &mut environment.deployments[index];
        deployment.stop(now, allow_revert, &account_id, latest_for_profile)?;
        Ok(serde_json::to_value(deployment.body()).expect("a deployment serializes"))
    }

    /// Sets a CloudWatch alarm's state. Deployments watching it are first brought up to `now`
    /// under the old state, so an ALARM rolls back exactly what is in progress from now on.
    pub fn set_alarm(&mut self, alarm_arn: &str, state: AlarmState, now: Timestamp) {
        let watching: Vec<(String, String)> = self
            .applications
            .values()
            .flat_map(|a| a.environments.values())
            .filter(|e| {
                e.monitors
                    .iter()
                    .any(|m| m.alarm_arn.as_deref() == Some(alarm_arn))
            })
            .map(|e| (e.application_id.clone(), e.id.clone()))
            .collect();
        for (application_id, environment_id) in &watching {
            self.advance_environment(application_id, environment_id, now)
                .expect("the environment was just found");
        }
        match state {
            AlarmState::Alarm => {
                self.alarms.entry(alarm_arn.to_owned()).or_insert(now);
            }
            AlarmState::Ok => {
                self.alarms.remove(alarm_arn);
            }
        }
        for (application_id, environment_id) in &watching {
            self.advance_environment(application_id, environment_id, now)
                .expect("the environment was just found");
        }
    }
}

/// What every client of (environment, profile) receives once no rollout is in flight.
pub(super) fn served_to_everyone(
    environment: &Environment,
    profile_id: &str,
) -> Option<Arc<HostedVersion>> {
    newest_for_profile(environment, profile_id)?
        .served(None)
        .cloned()
}

pub(super) fn newest_for_profile<'a>(
    environment: &'a Environment,
    profile_id: &str,
) -> Option<&'a Deployment> {
    environment
        .deployments
        .iter()
        .rev()
        .find(|d| d.plan.profile_id == profile_id)
}

fn find_deployment<'a>(
    environment: &'a Environment,
    number: &str,
) -> Result<&'a Deployment, ApiError> {
    let missing = || {
        ApiError::not_found(
            "Deployment",
            format!(
                "Deployment number {number} could not be found in environment {}.",
                environment.id
            ),
        )
    };
    let number: i32 = number.parse().map_err(|_| {
        ApiError::bad_request(format!("Deployment number '{number}' is not an integer"))
    })?;
    let index =
        usize::try_from(number.checked_sub(1).ok_or_else(missing)?).map_err(|_| missing())?;
    environment.deployments.get(index).ok_or_else(missing)
}
