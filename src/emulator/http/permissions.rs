//! The IAM action and resource ARNs each emulated operation is authorized against, after AWS's
//! Service Authorization Reference for AWS AppConfig. One table for every operation.
//!
//! | operation | action | resources (in the order checked) |
//! |---|---|---|
//! | CreateApplication, ListApplications, CreateDeploymentStrategy, ListDeploymentStrategies | `appconfig:<operation>` | `*` |
//! | GetApplication, DeleteApplication, CreateEnvironment, ListEnvironments, CreateConfigurationProfile, ListConfigurationProfiles | `appconfig:<operation>` | application |
//! | GetEnvironment, DeleteEnvironment, ListDeployments | `appconfig:<operation>` | environment |
//! | GetConfigurationProfile, DeleteConfigurationProfile, CreateHostedConfigurationVersion, ListHostedConfigurationVersions | `appconfig:<operation>` | configuration profile |
//! | GetHostedConfigurationVersion, DeleteHostedConfigurationVersion | `appconfig:<operation>` | hosted configuration version |
//! | GetDeploymentStrategy | `appconfig:GetDeploymentStrategy` | deployment strategy |
//! | StartDeployment | `appconfig:StartDeployment` | configuration profile, deployment strategy, environment |
//! | GetDeployment, StopDeployment | `appconfig:<operation>` | deployment |
//! | TagResource, UntagResource, ListTagsForResource | `appconfig:<operation>` | the ARN in the path |
//! | StartConfigurationSession, GetLatestConfiguration | `appconfig:<operation>` | configuration (`.../application/<app>/environment/<env>/configuration/<profile>`) |
//!
//! Creating a hosted version is checked on its profile (the version number does not exist
//! yet). StartConfigurationSession builds the configuration ARN from the identifiers as sent
//! (names stay names), GetLatestConfiguration from the IDs its token's session resolved.

use serde::Deserialize;

use super::{aws::Query, route::Operation};
use crate::emulator::state::State;

/// An action and the resources it needs, every one allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Required {
    pub action: String,
    pub resources: Vec<String>,
}

/// What `operation` needs; `None` when there is nothing to authorize against (a data-plane
/// token that names no session: the operation refuses it as not valid).
pub fn required(
    operation: &Operation,
    query: &Query,
    body: &[u8],
    state: &State,
) -> Option<Required> {
    use Operation::*;
    let settings = state.settings();
    let arn = Arns(format!(
        "arn:aws:appconfig:{}:{}:",
        settings.region, settings.account_id
    ));
    let resources = match operation {
        CreateApplication
        | ListApplications
        | CreateDeploymentStrategy
        | ListDeploymentStrategies => {
            vec!["*".to_owned()]
        }
        GetApplication { application }
        | DeleteApplication { application }
        | CreateEnvironment { application }
        | ListEnvironments { application }
        | CreateConfigurationProfile { application }
        | ListConfigurationProfiles { application } => vec![arn.application(application)],
        GetEnvironment {
            application,
            environment,
        }
        | DeleteEnvironment {
            application,
            environment,
        }
        | ListDeployments {
            application,
            environment,
        } => vec![arn.environment(application, environment)],
        GetConfigurationProfile {
            application,
            profile,
        }
        | DeleteConfigurationProfile {
            application,
            profile,
        }
        | CreateHostedConfigurationVersion {
            application,
            profile,
        }
        | ListHostedConfigurationVersions {
            application,
            profile,
        } => vec![arn.profile(application, profile)],
        GetHostedConfigurationVersion {
            application,
            profile,
            version,
        }
        | DeleteHostedConfigurationVersion {
            application,
            profile,
            version,
        } => {
            vec![format!(
                "{}/hostedconfigurationversion/{version}",
                arn.profile(application, profile)
            )]
        }
        GetDeploymentStrategy { strategy } => vec![arn.strategy(strategy)],
        StartDeployment {
            application,
            environment,
        } => {
            let input: DeploymentTarget = serde_json::from_slice(body).unwrap_or_default();
            vec![
                arn.profile(
                    application,
                    &input.configuration_profile_id.unwrap_or_default(),
                ),
                arn.strategy(&input.deployment_strategy_id.unwrap_or_default()),
                arn.environment(application, environment),
            ]
        }
        GetDeployment {
            application,
            environment,
            deployment,
        }
        | StopDeployment {
            application,
            environment,
            deployment,
        } => vec![format!(
            "{}/deployment/{deployment}",
            arn.environment(application, environment)
        )],
        TagResource { arn } | UntagResource { arn } | ListTagsForResource { arn } => {
            vec![arn.clone()]
        }
        StartConfigurationSession => {
            let input: SessionTarget = serde_json::from_slice(body).unwrap_or_default();
            vec![arn.configuration(
                &input.application_identifier.unwrap_or_default(),
                &input.environment_identifier.unwrap_or_default(),
                &input.configuration_profile_identifier.unwrap_or_default(),
            )]
        }
        GetLatestConfiguration => {
            let (application, environment, profile) =
                state.session_target(query.first("configuration_token").unwrap_or_default())?;
            vec![arn.configuration(&application, &environment, &profile)]
        }
    };
    Some(Required {
        action: format!("appconfig:{}", operation.name()),
        resources,
    })
}

/// Builds resource ARNs under `arn:aws:appconfig:<region>:<account>:`.
struct Arns(String);

impl Arns {
    fn application(&self, application: &str) -> String {
        format!("{}application/{application}", self.0)
    }

    fn environment(&self, application: &str, environment: &str) -> String {
        format!(
            "{}/environment/{environment}",
            self.application(application)
        )
    }

    fn profile(&self, application: &str, profile: &str) -> String {
        format!(
            "{}/configurationprofile/{profile}",
            self.application(application)
        )
    }

    fn strategy(&self, strategy: &str) -> String {
        format!("{}deploymentstrategy/{strategy}", self.0)
    }

    fn configuration(&self, application: &str, environment: &str, profile: &str) -> String {
        format!(
            "{}/configuration/{profile}",
            self.environment(application, environment)
        )
    }
}

/// The members of a StartDeployment body that name resources.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DeploymentTarget {
    configuration_profile_id: Option<String>,
    deployment_strategy_id: Option<String>,
}

/// The members of a StartConfigurationSession body that name resources.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SessionTarget {
    application_identifier: Option<String>,
    environment_identifier: Option<String>,
    configuration_profile_identifier: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::{Settings, http::route::route};
    use axum::http::Method;

    fn required_for(method: Method, path: &str, body: &str) -> Required {
        let operation = route(&method, path).expect("a routed operation");
        let state = State::new(Settings::default());
        required(&operation, &Query::parse(None), body.as_bytes(), &state)
            .expect("something to authorize")
    }

    const APP: &str = "arn:aws:appconfig:us-east-1:123456789012:application/a1";

    #[test]
    fn calls_without_a_parent_resource_are_checked_on_star() {
        let required = required_for(Method::GET, "/applications", "");
        assert_eq!(required.action, "appconfig:ListApplications");
        assert_eq!(required.resources, ["*"]);
    }

    #[test]
    fn nested_resources_carry_every_parent() {
        let hosted = required_for(
            Method::GET,
            "/applications/a1/configurationprofiles/p1/hostedconfigurationversions/3",
            "",
        );
        assert_eq!(
            hosted.resources,
            [format!(
                "{APP}/configurationprofile/p1/hostedconfigurationversion/3"
            )]
        );
        let deployment = required_for(
            Method::DELETE,
            "/applications/a1/environments/e1/deployments/2",
            "",
        );
        assert_eq!(deployment.action, "appconfig:StopDeployment");
        assert_eq!(
            deployment.resources,
            [format!("{APP}/environment/e1/deployment/2")]
        );
    }

    #[test]
    fn start_deployment_needs_profile_strategy_and_environment_in_that_order() {
        let required = required_for(
            Method::POST,
            "/applications/a1/environments/e1/deployments",
            r#"{"ConfigurationProfileId": "p1", "DeploymentStrategyId": "AppConfig.AllAtOnce"}"#,
        );
        assert_eq!(
            required.resources,
            [
                format!("{APP}/configurationprofile/p1"),
                "arn:aws:appconfig:us-east-1:123456789012:deploymentstrategy/AppConfig.AllAtOnce"
                    .to_owned(),
                format!("{APP}/environment/e1"),
            ]
        );
    }

    #[test]
    fn a_data_plane_token_naming_no_session_has_nothing_to_authorize() {
        let operation = route(&Method::GET, "/configuration").unwrap();
        let state = State::new(Settings::default());
        let query = Query::parse(Some("configuration_token=forged"));
        assert_eq!(required(&operation, &query, b"", &state), None);
    }
}
