//! An emulator on a free port with official SDK clients pointed at it, plus helpers to build
//! the resources most tests need.

use std::time::Duration;

use appconfig_operator::emulator::{Emulator, EmulatorConfig};
use aws_sdk_appconfig::primitives::Blob;
use http_body_util::{BodyExt, Full};
use hyper_util::{client::legacy::Client, rt::TokioExecutor};
use serde_json::Value;

use crate::clients;

pub struct Harness {
    pub emulator: Emulator,
    pub appconfig: aws_sdk_appconfig::Client,
    pub data: aws_sdk_appconfigdata::Client,
}

/// The IDs of an application with one environment, one hosted profile and its version 1.
#[derive(Debug, Clone)]
pub struct Fixture {
    pub application: String,
    pub environment: String,
    pub profile: String,
}

impl Harness {
    pub async fn start() -> Self {
        Self::with(EmulatorConfig::default()).await
    }

    pub async fn with(config: EmulatorConfig) -> Self {
        let emulator = Emulator::start(config).await.expect("the emulator starts");
        let url = emulator.endpoint_url();
        Self {
            appconfig: clients::appconfig(&url),
            data: clients::data(&url),
            emulator,
        }
    }

    /// Moves the emulated clock forward.
    pub fn advance(&self, by: Duration) {
        self.emulator
            .control()
            .advance(by)
            .expect("the clock moves");
    }

    /// Calls an `/_emulator/` endpoint over HTTP; `body` is sent as JSON when given.
    pub async fn admin(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let client = Client::builder(TokioExecutor::new()).build_http::<Full<bytes::Bytes>>();
        let request = http::Request::builder()
            .method(method)
            .uri(format!("{}/_emulator/{path}", self.emulator.endpoint_url()))
            .header("content-type", "application/json")
            .body(Full::new(bytes::Bytes::from(
                body.map(|b| b.to_string()).unwrap_or_default(),
            )))
            .unwrap();
        let response = client.request(request).await.expect("the emulator answers");
        let status = response.status().as_u16();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let json = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).expect("admin answers are JSON")
        };
        (status, json)
    }

    /// An application, an environment (watching `monitors` alarm ARNs), a hosted freeform
    /// profile, and version 1 of it with `content`.
    pub async fn fixture(&self, monitors: &[&str], content: &str) -> Fixture {
        let application = self
            .appconfig
            .create_application()
            .name("app")
            .send()
            .await
            .unwrap()
            .id
            .unwrap();
        let mut environment = self
            .appconfig
            .create_environment()
            .application_id(&application)
            .name("env");
        for arn in monitors {
            environment = environment.monitors(
                aws_sdk_appconfig::types::Monitor::builder()
                    .alarm_arn(*arn)
                    .build()
                    .unwrap(),
            );
        }
        let environment = environment.send().await.unwrap().id.unwrap();
        let profile = self
            .appconfig
            .create_configuration_profile()
            .application_id(&application)
            .name("profile")
            .location_uri("hosted")
            .send()
            .await
            .unwrap()
            .id
            .unwrap();
        let fixture = Fixture {
            application,
            environment,
            profile,
        };
        self.version(&fixture, content, None).await;
        fixture
    }

    /// Creates the next hosted version of the fixture's profile; returns its number.
    pub async fn version(&self, fixture: &Fixture, content: &str, label: Option<&str>) -> i32 {
        self.appconfig
            .create_hosted_configuration_version()
            .application_id(&fixture.application)
            .configuration_profile_id(&fixture.profile)
            .content_type("application/json")
            .set_version_label(label.map(str::to_owned))
            .content(Blob::new(content.as_bytes()))
            .send()
            .await
            .unwrap()
            .version_number
    }

    /// Starts a deployment of `version` with `strategy`; returns its number.
    pub async fn deploy(&self, fixture: &Fixture, version: &str, strategy: &str) -> i32 {
        self.appconfig
            .start_deployment()
            .application_id(&fixture.application)
            .environment_id(&fixture.environment)
            .configuration_profile_id(&fixture.profile)
            .configuration_version(version)
            .deployment_strategy_id(strategy)
            .send()
            .await
            .unwrap()
            .deployment_number
    }

    pub async fn deployment(
        &self,
        fixture: &Fixture,
        number: i32,
    ) -> aws_sdk_appconfig::operation::get_deployment::GetDeploymentOutput {
        self.appconfig
            .get_deployment()
            .application_id(&fixture.application)
            .environment_id(&fixture.environment)
            .deployment_number(number)
            .send()
            .await
            .unwrap()
    }
}
