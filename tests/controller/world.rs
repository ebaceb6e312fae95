//! The AppConfig side of a scenario: an emulator on a free port, an SDK client to arrange and
//! inspect it as a user with the AWS CLI would, and the operator's clients pointed at it.

use std::{ops::Deref, time::Duration};

use appconfig_operator::{
    aws::{AppConfigClients, AwsSettings, Rate},
    emulator::{AlarmState, Emulator, EmulatorConfig, Fault},
    metrics::Metrics,
};
use aws_sdk_appconfig::{
    Client,
    config::{BehaviorVersion, Credentials, Region, retry::RetryConfig},
    primitives::Blob,
    types::{DeploymentState, GrowthType, Monitor, ReplicateTo, Validator, ValidatorType},
};

/// How much faster than wall time the emulator of AppConfigSync scenarios runs.
pub const SYNC_TIME_SCALE: f64 = 20.0;

pub struct World {
    pub emulator: Emulator,
    user: AppConfigUser,
    /// How long one emulated second lasts.
    pub second: Duration,
}

/// The world's user arranges AppConfig in its emulator.
impl Deref for World {
    type Target = AppConfigUser;

    fn deref(&self) -> &AppConfigUser {
        &self.user
    }
}

/// A hosted configuration version as AppConfig stores it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredVersion {
    pub number: i32,
    pub content: Vec<u8>,
    pub content_type: String,
    pub label: Option<String>,
    pub description: Option<String>,
}

/// An application with one environment and one hosted profile, by ID.
#[derive(Debug, Clone)]
pub struct Target {
    pub application: String,
    pub environment: String,
    pub profile: String,
}

impl World {
    pub async fn start() -> Self {
        Self::start_scaled(1.0).await
    }

    /// An emulator whose clock runs [`SYNC_TIME_SCALE`] times faster than wall time, so that
    /// AppConfig Data's poll intervals (15 s at least) pass in a scenario's time; the operator
    /// under test counts its poll intervals in the same shortened seconds.
    pub async fn start_fast() -> Self {
        Self::start_scaled(SYNC_TIME_SCALE).await
    }

    async fn start_scaled(time_scale: f64) -> Self {
        let emulator = Emulator::start(EmulatorConfig {
            time_scale,
            ..EmulatorConfig::default()
        })
        .await
        .expect("the emulator starts");
        let user = AppConfigUser::at(&emulator.endpoint_url());
        Self {
            emulator,
            user,
            second: Duration::from_secs(1).div_f64(time_scale),
        }
    }

    /// The operator's AppConfig clients, counting their calls in `metrics`, calling at most at
    /// `rate` (in wall-clock seconds).
    pub async fn operator_clients(&self, metrics: Metrics, rate: Rate) -> AppConfigClients {
        AppConfigClients::load(
            &AwsSettings {
                region: None,
                endpoint_url: Some(self.emulator.endpoint_url()),
                emulated: true,
                rate,
            },
            metrics,
        )
        .await
    }

    /// Moves the emulated clock, so deployments progress without waiting.
    pub fn advance(&self, seconds: u64) {
        self.emulator
            .control()
            .advance(Duration::from_secs(seconds))
            .expect("the clock moves");
    }

    /// Sets a CloudWatch alarm's state: firing or back to OK.
    pub fn alarm(&self, arn: &str, firing: bool) {
        let state = if firing {
            AlarmState::Alarm
        } else {
            AlarmState::Ok
        };
        self.emulator.control().set_alarm(arn, state);
    }

    /// Calls of every operation the emulator received since it started.
    pub fn all_calls(&self) -> u64 {
        self.emulator.control().calls().values().sum()
    }

    /// Ends every AppConfig Data session, as if AppConfig had lost them: tokens clients hold
    /// are refused from now on.
    pub fn end_sessions(&self) {
        self.emulator.control().end_sessions();
    }

    /// Has AppConfig Data answer NextPollIntervalInSeconds of at least `seconds`.
    pub fn next_poll_interval(&self, seconds: u32) {
        self.emulator
            .control()
            .set_next_poll_interval(Some(seconds));
    }

    /// Fails a share `ratio` of the calls of `operation` with `status` and `code` until the
    /// faults are cleared.
    pub fn fail(&self, operation: &str, status: u16, code: &str, ratio: f64) {
        self.emulator
            .control()
            .inject_fault(Fault {
                operation: operation.into(),
                status,
                code: code.into(),
                count: None,
                ratio: Some(ratio),
            })
            .expect("the fault is valid");
    }

    /// Calls of `operation` the emulator received since it started.
    pub fn calls(&self, operation: &str) -> u64 {
        self.emulator
            .control()
            .calls()
            .get(operation)
            .copied()
            .unwrap_or(0)
    }
}

/// Someone using AppConfig through the AWS SDK, as a user with the AWS CLI would: arranges
/// applications and versions, and deploys or reverts by hand.
pub struct AppConfigUser {
    pub appconfig: Client,
}

impl AppConfigUser {
    /// A user of the AppConfig at `endpoint_url`, with fixed credentials and no retries, so
    /// every call reaches it exactly once.
    pub fn at(endpoint_url: &str) -> Self {
        Self {
            appconfig: Client::from_conf(
                aws_sdk_appconfig::Config::builder()
                    .behavior_version(BehaviorVersion::latest())
                    .region(Region::new("us-east-1"))
                    .endpoint_url(endpoint_url)
                    .credentials_provider(Credentials::new(
                        "AKIDEXAMPLE",
                        "secret",
                        None,
                        None,
                        "test",
                    ))
                    .retry_config(RetryConfig::disabled())
                    .build(),
            ),
        }
    }

    /// Application `app` with environment `env` (watching `monitors`) and hosted profile `profile`.
    pub async fn target(&self, app: &str, env: &str, profile: &str, monitors: &[&str]) -> Target {
        let application = self
            .appconfig
            .create_application()
            .name(app)
            .send()
            .await
            .expect("application created")
            .id
            .unwrap();
        let environment = self.environment(&application, env, monitors).await;
        let profile = self.profile(&application, profile).await;
        Target {
            application,
            environment,
            profile,
        }
    }

    pub async fn environment(&self, application: &str, name: &str, monitors: &[&str]) -> String {
        let monitors = monitors
            .iter()
            .map(|arn| Monitor::builder().alarm_arn(*arn).build().unwrap())
            .collect();
        self.appconfig
            .create_environment()
            .application_id(application)
            .name(name)
            .set_monitors(Some(monitors))
            .send()
            .await
            .expect("environment created")
            .id
            .unwrap()
    }

    pub async fn profile(&self, application: &str, name: &str) -> String {
        self.appconfig
            .create_configuration_profile()
            .application_id(application)
            .name(name)
            .location_uri("hosted")
            .send()
            .await
            .expect("profile created")
            .id
            .unwrap()
    }

    /// A hosted profile of type AWS.AppConfig.FeatureFlags, whose versions AppConfig checks
    /// against the feature-flag document format.
    pub async fn feature_flag_profile(&self, application: &str, name: &str) -> String {
        self.appconfig
            .create_configuration_profile()
            .application_id(application)
            .name(name)
            .location_uri("hosted")
            .r#type("AWS.AppConfig.FeatureFlags")
            .send()
            .await
            .expect("feature-flag profile created")
            .id
            .unwrap()
    }

    /// A hosted profile whose deployments AppConfig validates against the JSON Schema `schema`.
    pub async fn validated_profile(&self, application: &str, name: &str, schema: &str) -> String {
        self.appconfig
            .create_configuration_profile()
            .application_id(application)
            .name(name)
            .location_uri("hosted")
            .validators(
                Validator::builder()
                    .r#type(ValidatorType::JsonSchema)
                    .content(schema)
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .expect("validated profile created")
            .id
            .unwrap()
    }

    /// Every hosted version of the target's profile, oldest first, with its content.
    pub async fn hosted_versions(&self, t: &Target) -> Vec<StoredVersion> {
        let listed = self
            .appconfig
            .list_hosted_configuration_versions()
            .application_id(&t.application)
            .configuration_profile_id(&t.profile)
            .send()
            .await
            .expect("versions listed")
            .items
            .unwrap_or_default();
        let mut versions = Vec::new();
        for summary in listed {
            let version = self
                .appconfig
                .get_hosted_configuration_version()
                .application_id(&t.application)
                .configuration_profile_id(&t.profile)
                .version_number(summary.version_number)
                .send()
                .await
                .expect("version read");
            versions.push(StoredVersion {
                number: version.version_number,
                content: version.content.map(Blob::into_inner).unwrap_or_default(),
                content_type: version.content_type.unwrap_or_default(),
                label: version.version_label,
                description: version.description,
            });
        }
        versions.sort_by_key(|v| v.number);
        versions
    }

    /// A hosted version of `profile` holding `content`, optionally labelled; its number.
    pub async fn version(
        &self,
        t: &Target,
        profile: &str,
        content: &str,
        label: Option<&str>,
    ) -> String {
        let created = self
            .appconfig
            .create_hosted_configuration_version()
            .application_id(&t.application)
            .configuration_profile_id(profile)
            .content_type("application/json")
            .content(Blob::new(content.as_bytes()))
            .set_version_label(label.map(str::to_owned))
            .send()
            .await
            .expect("version created");
        created.version_number.to_string()
    }

    /// A hosted version of the target's profile holding the bytes `content` of `content_type`,
    /// optionally labelled; its number.
    pub async fn hosted(
        &self,
        t: &Target,
        content: &[u8],
        content_type: &str,
        label: Option<&str>,
    ) -> String {
        let created = self
            .appconfig
            .create_hosted_configuration_version()
            .application_id(&t.application)
            .configuration_profile_id(&t.profile)
            .content_type(content_type)
            .content(Blob::new(content))
            .set_version_label(label.map(str::to_owned))
            .send()
            .await
            .expect("version created");
        created.version_number.to_string()
    }

    /// A custom LINEAR strategy: `growth`% steps over `minutes`, then `bake` minutes of bake.
    pub async fn strategy(&self, name: &str, minutes: i32, growth: f32, bake: i32) -> String {
        self.appconfig
            .create_deployment_strategy()
            .name(name)
            .deployment_duration_in_minutes(minutes)
            .growth_factor(growth)
            .growth_type(GrowthType::Linear)
            .final_bake_time_in_minutes(bake)
            .replicate_to(ReplicateTo::None)
            .send()
            .await
            .expect("strategy created")
            .id
            .unwrap()
    }

    /// The environment's deployments, newest first, as (number, profile, version, state).
    pub async fn deployments(&self, t: &Target) -> Vec<(i32, String, String, DeploymentState)> {
        self.appconfig
            .list_deployments()
            .application_id(&t.application)
            .environment_id(&t.environment)
            .send()
            .await
            .expect("deployments listed")
            .items
            .unwrap_or_default()
            .into_iter()
            .map(|d| {
                (
                    d.deployment_number,
                    d.configuration_profile_id.unwrap_or_default(),
                    d.configuration_version.unwrap_or_default(),
                    d.state.unwrap(),
                )
            })
            .collect()
    }

    /// Starts a deployment by hand, as someone with the AWS CLI would.
    pub async fn deploy_by_hand(
        &self,
        t: &Target,
        profile: &str,
        version: &str,
        strategy: &str,
    ) -> i32 {
        self.appconfig
            .start_deployment()
            .application_id(&t.application)
            .environment_id(&t.environment)
            .configuration_profile_id(profile)
            .configuration_version(version)
            .deployment_strategy_id(strategy)
            .send()
            .await
            .expect("deployment started by hand")
            .deployment_number
    }

    /// Reverts a completed deployment by hand (StopDeployment with Allow-Revert).
    pub async fn revert_by_hand(&self, t: &Target, number: i32) {
        self.appconfig
            .stop_deployment()
            .application_id(&t.application)
            .environment_id(&t.environment)
            .deployment_number(number)
            .allow_revert(true)
            .send()
            .await
            .expect("deployment reverted by hand");
    }
}
