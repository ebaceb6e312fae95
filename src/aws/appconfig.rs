//! The AppConfig calls the operator makes, answering in [`model`](super::model) types.

use std::{collections::BTreeMap, future::Future};

use aws_sdk_appconfig::{
    Client,
    config::http::HttpResponse,
    error::{ProvideErrorMetadata, SdkError},
    primitives::DateTime,
};
use jiff::Timestamp;

use super::{
    caller::Caller,
    error::AwsError,
    model::{
        Deployment, DeploymentEvent, DeploymentState, DeploymentSummary, HostedVersionSummary,
        Named, Strategy, percentage,
    },
};

/// AppConfig's largest page.
const PAGE_SIZE: i32 = 50;

/// What StartDeployment needs besides the resolved IDs.
#[derive(Debug, Clone, Default)]
pub struct StartRequest {
    pub profile_id: String,
    pub strategy_id: String,
    pub version: String,
    pub description: Option<String>,
    pub kms_key_identifier: Option<String>,
    pub dynamic_extension_parameters: BTreeMap<String, String>,
    pub tags: BTreeMap<String, String>,
    /// The newest deployment number the caller saw (0 when none): AppConfig refuses the start
    /// with a ConflictException if another deployment appeared since.
    pub latest_deployment_number: i32,
}

/// What CreateHostedConfigurationVersion needs besides the application and profile IDs.
#[derive(Debug, Clone)]
pub struct NewHostedVersion {
    pub content: bytes::Bytes,
    pub content_type: String,
    pub description: String,
    pub label: Option<String>,
    /// The newest version number the caller saw (0 when none): AppConfig refuses the create
    /// with a ConflictException if another version appeared since.
    pub latest_version_number: i32,
}

/// AppConfig in one region, as one identity.
#[derive(Debug, Clone)]
pub struct AppConfig {
    client: Client,
    caller: Caller,
}

/// The summary fields, which the SDK's DeploymentSummary and its StartDeployment and
/// GetDeployment outputs name alike on distinct types.
macro_rules! summary_from {
    ($output:expr) => {{
        let o = $output;
        DeploymentSummary {
            number: o.deployment_number(),
            profile_id: o.configuration_profile_id().map(str::to_owned),
            version: o.configuration_version().unwrap_or_default().to_owned(),
            version_label: o.version_label().map(str::to_owned),
            state: DeploymentState::parse(o.state().map(|s| s.as_str()).unwrap_or_default()),
            percentage_complete: o.percentage_complete().map(percentage).unwrap_or(0.0),
        }
    }};
}

/// The strategy fields, which deployments and strategies name alike on distinct types.
macro_rules! strategy_from {
    ($output:expr) => {{
        let o = $output;
        Strategy {
            growth_type: o.growth_type().map(|g| g.as_str().to_owned()),
            growth_factor: o.growth_factor().map(percentage),
            deployment_duration_in_minutes: o.deployment_duration_in_minutes(),
            final_bake_time_in_minutes: o.final_bake_time_in_minutes(),
        }
    }};
}

/// A whole deployment from the StartDeployment or GetDeployment output.
macro_rules! deployment_from_output {
    ($output:expr) => {{
        let o = $output;
        Deployment {
            summary: summary_from!(o),
            started_at: o.started_at().and_then(timestamp),
            completed_at: o.completed_at().and_then(timestamp),
            strategy: strategy_from!(o),
            event_log: o
                .event_log()
                .iter()
                .map(|e| DeploymentEvent {
                    event_type: e
                        .event_type()
                        .map(|t| t.as_str())
                        .unwrap_or_default()
                        .to_owned(),
                    triggered_by: e
                        .triggered_by()
                        .map(|t| t.as_str())
                        .unwrap_or_default()
                        .to_owned(),
                    description: e.description().unwrap_or_default().to_owned(),
                    occurred_at: e.occurred_at().and_then(timestamp),
                })
                .collect(),
        }
    }};
}

/// Pages through a List call, collecting every item.
macro_rules! collect_pages {
    ($appconfig:expr, $operation:literal, $request:expr, |$page:ident| $items:expr) => {{
        let mut items = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let $page = $appconfig
                .call($operation, || {
                    $request
                        .max_results(PAGE_SIZE)
                        .set_next_token(token.clone())
                        .send()
                })
                .await?;
            items.extend($items);
            match $page.next_token() {
                Some(next) if !next.is_empty() => token = Some(next.to_owned()),
                _ => break,
            }
        }
        items
    }};
}

impl AppConfig {
    pub fn new(client: Client, caller: Caller) -> Self {
        Self { client, caller }
    }

    /// Sends one request: every SDK call passes here, through the [`Caller`].
    async fn call<T, E, Fut>(
        &self,
        operation: &'static str,
        request: impl Fn() -> Fut,
    ) -> Result<T, AwsError>
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
    {
        self.caller
            .call(operation, || async {
                request().await.map_err(|e| AwsError::new(operation, e))
            })
            .await
    }

    pub async fn list_applications(&self) -> Result<Vec<Named>, AwsError> {
        Ok(collect_pages!(
            self,
            "ListApplications",
            self.client.list_applications(),
            |page| page.items().iter().map(|a| named(a.id(), a.name()))
        ))
    }

    pub async fn list_environments(&self, application: &str) -> Result<Vec<Named>, AwsError> {
        Ok(collect_pages!(
            self,
            "ListEnvironments",
            self.client.list_environments().application_id(application),
            |page| page.items().iter().map(|e| named(e.id(), e.name()))
        ))
    }

    pub async fn list_configuration_profiles(
        &self,
        application: &str,
    ) -> Result<Vec<Named>, AwsError> {
        Ok(collect_pages!(
            self,
            "ListConfigurationProfiles",
            self.client
                .list_configuration_profiles()
                .application_id(application),
            |page| page.items().iter().map(|p| Named {
                location_uri: p.location_uri().map(str::to_owned),
                ..named(p.id(), p.name())
            })
        ))
    }

    pub async fn list_deployment_strategies(&self) -> Result<Vec<Named>, AwsError> {
        Ok(collect_pages!(
            self,
            "ListDeploymentStrategies",
            self.client.list_deployment_strategies(),
            |page| page.items().iter().map(|s| Named {
                strategy: Some(strategy_from!(s)),
                ..named(s.id(), s.name())
            })
        ))
    }

    /// The hosted version `version` names, by number or by label, as (number, label); `None`
    /// when the profile has no such version. Versions are listed newest first, so a search by
    /// number stops at the first page that goes below it.
    pub async fn hosted_version(
        &self,
        application: &str,
        profile: &str,
        version: &str,
    ) -> Result<Option<(i32, Option<String>)>, AwsError> {
        let number: Option<i32> = version.parse().ok();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .call("ListHostedConfigurationVersions", || {
                    self.client
                        .list_hosted_configuration_versions()
                        .application_id(application)
                        .configuration_profile_id(profile)
                        .set_version_label(number.is_none().then(|| version.to_owned()))
                        .max_results(PAGE_SIZE)
                        .set_next_token(token.clone())
                        .send()
                })
                .await?;
            let found = page.items().iter().find(|v| {
                number.map_or(v.version_label() == Some(version), |n| {
                    v.version_number() == n
                })
            });
            if let Some(v) = found {
                return Ok(Some((
                    v.version_number(),
                    v.version_label().map(str::to_owned),
                )));
            }
            let passed =
                number.is_some_and(|n| page.items().iter().any(|v| v.version_number() < n));
            match page.next_token() {
                Some(next) if !next.is_empty() && !passed => token = Some(next.to_owned()),
                _ => return Ok(None),
            }
        }
    }

    /// Every hosted version of a profile, without content.
    pub async fn list_hosted_versions(
        &self,
        application: &str,
        profile: &str,
    ) -> Result<Vec<HostedVersionSummary>, AwsError> {
        Ok(collect_pages!(
            self,
            "ListHostedConfigurationVersions",
            self.client
                .list_hosted_configuration_versions()
                .application_id(application)
                .configuration_profile_id(profile),
            |page| page.items().iter().map(|v| HostedVersionSummary {
                number: v.version_number(),
                description: v.description().map(str::to_owned),
                content_type: v.content_type().map(str::to_owned),
                label: v.version_label().map(str::to_owned),
            })
        ))
    }

    pub async fn create_hosted_version(
        &self,
        application: &str,
        profile: &str,
        version: &NewHostedVersion,
    ) -> Result<HostedVersionSummary, AwsError> {
        let output = self
            .call("CreateHostedConfigurationVersion", || {
                self.client
                    .create_hosted_configuration_version()
                    .application_id(application)
                    .configuration_profile_id(profile)
                    .content(version.content.to_vec().into())
                    .content_type(&version.content_type)
                    .description(&version.description)
                    .set_version_label(version.label.clone())
                    .latest_version_number(version.latest_version_number)
                    .send()
            })
            .await?;
        Ok(HostedVersionSummary {
            number: output.version_number(),
            description: output.description().map(str::to_owned),
            content_type: output.content_type().map(str::to_owned),
            label: output.version_label().map(str::to_owned),
        })
    }

    /// One page of an environment's deployments, newest first, and the token of the next.
    pub async fn list_deployments(
        &self,
        application: &str,
        environment: &str,
        next_token: Option<String>,
    ) -> Result<(Vec<DeploymentSummary>, Option<String>), AwsError> {
        let page = self
            .call("ListDeployments", || {
                self.client
                    .list_deployments()
                    .application_id(application)
                    .environment_id(environment)
                    .max_results(PAGE_SIZE)
                    .set_next_token(next_token.clone())
                    .send()
            })
            .await?;
        let items = page.items().iter().map(|d| summary_from!(d)).collect();
        let next = page
            .next_token()
            .filter(|t| !t.is_empty())
            .map(str::to_owned);
        Ok((items, next))
    }

    pub async fn get_deployment(
        &self,
        application: &str,
        environment: &str,
        number: i32,
    ) -> Result<Deployment, AwsError> {
        let output = self
            .call("GetDeployment", || {
                self.client
                    .get_deployment()
                    .application_id(application)
                    .environment_id(environment)
                    .deployment_number(number)
                    .send()
            })
            .await?;
        Ok(deployment_from_output!(&output))
    }

    pub async fn start_deployment(
        &self,
        application: &str,
        environment: &str,
        request: StartRequest,
    ) -> Result<Deployment, AwsError> {
        let dynamic = (!request.dynamic_extension_parameters.is_empty()).then(|| {
            request
                .dynamic_extension_parameters
                .clone()
                .into_iter()
                .collect()
        });
        let output = self
            .call("StartDeployment", || {
                self.client
                    .start_deployment()
                    .application_id(application)
                    .environment_id(environment)
                    .configuration_profile_id(&request.profile_id)
                    .deployment_strategy_id(&request.strategy_id)
                    .configuration_version(&request.version)
                    .set_description(request.description.clone())
                    .set_kms_key_identifier(request.kms_key_identifier.clone())
                    .set_dynamic_extension_parameters(dynamic.clone())
                    .set_tags(Some(request.tags.clone().into_iter().collect()))
                    .latest_deployment_number(request.latest_deployment_number)
                    .send()
            })
            .await?;
        Ok(deployment_from_output!(&output))
    }

    /// Stops an in-progress deployment, which rolls it back; with `allow_revert`, reverts a
    /// COMPLETE one (AppConfig serves the previous configuration again). The answer's body is
    /// not trusted (AWS has been seen answering zeroed fields): read the deployment again
    /// afterwards.
    pub async fn stop_deployment(
        &self,
        application: &str,
        environment: &str,
        number: i32,
        allow_revert: bool,
    ) -> Result<(), AwsError> {
        self.call("StopDeployment", || {
            self.client
                .stop_deployment()
                .application_id(application)
                .environment_id(environment)
                .deployment_number(number)
                .set_allow_revert(allow_revert.then_some(true))
                .send()
        })
        .await?;
        Ok(())
    }
}

fn named(id: Option<&str>, name: Option<&str>) -> Named {
    Named {
        id: id.unwrap_or_default().to_owned(),
        name: name.unwrap_or_default().to_owned(),
        location_uri: None,
        strategy: None,
    }
}

/// Whole seconds: Kubernetes stores timestamps to the second, so anything finer would make
/// every fresh read differ from the status written before it.
fn timestamp(at: &DateTime) -> Option<Timestamp> {
    Timestamp::from_second(at.secs()).ok()
}
