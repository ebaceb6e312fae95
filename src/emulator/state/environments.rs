//! CreateEnvironment, GetEnvironment, ListEnvironments, DeleteEnvironment.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{EnvironmentStateStyle, State, new_id, not_found};
use crate::emulator::{
    deployment::{Deployment, DeploymentState},
    error::ApiError,
    page::PageRequest,
    validate::{self, Checks},
};

/// A CloudWatch alarm watched during deployments to this environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Monitor {
    pub alarm_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alarm_role_arn: Option<String>,
}

#[derive(Debug)]
pub(super) struct Environment {
    pub id: String,
    pub application_id: String,
    pub name: String,
    pub description: Option<String>,
    pub monitors: Vec<Monitor>,
    pub tags: BTreeMap<String, String>,
    pub sequence: u64,
    /// Deployment number `n` is at index `n - 1`.
    pub deployments: Vec<Deployment>,
}

impl Environment {
    /// Environment.State follows the newest deployment, whatever its profile.
    fn state(&self, style: EnvironmentStateStyle) -> &'static str {
        let state = self.deployments.last().map(|d| d.state);
        let (camel, screaming) = match state {
            None | Some(DeploymentState::Complete) => {
                ("ReadyForDeployment", "READY_FOR_DEPLOYMENT")
            }
            Some(DeploymentState::Deploying | DeploymentState::Baking) => {
                ("Deploying", "DEPLOYING")
            }
            Some(DeploymentState::RolledBack) => ("RolledBack", "ROLLED_BACK"),
            Some(DeploymentState::Reverted) => ("Reverted", "REVERTED"),
        };
        match style {
            EnvironmentStateStyle::Camel => camel,
            EnvironmentStateStyle::Screaming => screaming,
        }
    }

    fn body(&self, style: EnvironmentStateStyle) -> Value {
        json!({
            "ApplicationId": self.application_id,
            "Id": self.id,
            "Name": self.name,
            "Description": self.description,
            "State": self.state(style),
            "Monitors": self.monitors,
        })
    }

    pub fn deployment_in_progress(&self) -> Option<&Deployment> {
        self.deployments.last().filter(|d| d.state.in_progress())
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateEnvironmentInput {
    pub name: Option<String>,
    pub description: Option<String>,
    pub monitors: Option<Vec<Monitor>>,
    pub tags: Option<BTreeMap<String, String>>,
}

impl State {
    pub fn create_environment(
        &mut self,
        application_id: &str,
        input: CreateEnvironmentInput,
    ) -> Result<Value, ApiError> {
        let mut checks = Checks::new();
        if let Some(name) = checks.required("name", &input.name) {
            checks.length("name", name, 1, 64);
        }
        checks.optional_length("description", &input.description, 0, 1024);
        let monitors = input.monitors.unwrap_or_default();
        checks.count("monitors", monitors.len(), 0, 5);
        for (i, monitor) in monitors.iter().enumerate() {
            let field = format!("monitors.{}.member.alarmArn", i + 1);
            if let Some(arn) = checks.required(&field, &monitor.alarm_arn) {
                checks.length(&field, arn, 1, 2048);
            }
            if let Some(role) = &monitor.alarm_role_arn {
                let field = format!("monitors.{}.member.alarmRoleArn", i + 1);
                checks.length(&field, role, 20, 2048);
                checks.pattern(
                    &field,
                    role,
                    validate::is_role_arn(role),
                    validate::ROLE_ARN_PATTERN,
                );
            }
        }
        let tags = input.tags.unwrap_or_default();
        checks.tags("tags", &tags);
        checks.finish()?;

        let limit = self.settings.quotas.environments_per_application;
        let sequence = self.next_sequence();
        self.application(application_id)?;
        let id = new_id(&mut self.rng, |id| {
            self.applications
                .values()
                .any(|a| a.environments.contains_key(id))
        });
        let style = self.settings.environment_state_style;
        let application = self.application_mut(application_id)?;
        if application.environments.len() >= limit {
            return Err(ApiError::quota_exceeded(format!(
                "The number of environments per application is limited to {limit}"
            )));
        }
        let environment = Environment {
            id: id.clone(),
            application_id: application_id.to_owned(),
            name: input.name.unwrap_or_default(),
            description: input.description,
            monitors,
            tags,
            sequence,
            deployments: Vec::new(),
        };
        let body = environment.body(style);
        application.environments.insert(id, environment);
        Ok(body)
    }

    pub fn get_environment(
        &mut self,
        application_id: &str,
        environment_id: &str,
        now: Timestamp,
    ) -> Result<Value, ApiError> {
        let style = self.settings.environment_state_style;
        Ok(self
            .advanced_environment(application_id, environment_id, now)?
            .body(style))
    }

    pub fn list_environments(
        &mut self,
        application_id: &str,
        page: &PageRequest,
        now: Timestamp,
    ) -> Result<Value, ApiError> {
        let ids: Vec<String> = self
            .application(application_id)?
            .environments
            .keys()
            .cloned()
            .collect();
        for id in &ids {
            self.advance_environment(application_id, id, now)?;
        }
        let style = self.settings.environment_state_style;
        let application = self.application(application_id)?;
        page.json(
            application
                .environments
                .values()
                .map(|e| (e.sequence, e.body(style))),
        )
    }

    /// Refused while a deployment is in progress there. Deletion protection is not emulated
    /// (the account default is off), so `x-amzn-deletion-protection-check` changes nothing.
    pub fn delete_environment(
        &mut self,
        application_id: &str,
        environment_id: &str,
        now: Timestamp,
    ) -> Result<(), ApiError> {
        if let Some(deployment) = self
            .advanced_environment(application_id, environment_id, now)?
            .deployment_in_progress()
        {
            return Err(ApiError::conflict(format!(
                "Environment {environment_id} cannot be deleted while deployment number {} is in progress",
                deployment.number
            )));
        }
        self.application_mut(application_id)?
            .environments
            .shift_remove(environment_id);
        self.sessions
            .retain(|_, session| session.environment_id != environment_id);
        Ok(())
    }

    pub(super) fn environment(
        &self,
        application_id: &str,
        environment_id: &str,
    ) -> Result<&Environment, ApiError> {
        self.application(application_id)?
            .environments
            .get(environment_id)
            .ok_or_else(|| not_found("Environment", environment_id))
    }

    pub(super) fn environment_mut(
        &mut self,
        application_id: &str,
        environment_id: &str,
    ) -> Result<&mut Environment, ApiError> {
        self.application_mut(application_id)?
            .environments
            .get_mut(environment_id)
            .ok_or_else(|| not_found("Environment", environment_id))
    }
}
