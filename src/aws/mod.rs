//! AWS access: AppConfig clients built from the standard credential chain, one per region, and
//! the calls the controller makes through them.
//!
//! - [`appconfig`]: the AppConfig operations, answering in [`model`] types;
//! - [`error`]: errors sorted by what the operator does about them.

pub mod appconfig;
pub mod error;
pub mod model;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use aws_config::{BehaviorVersion, Region, SdkConfig, retry::RetryConfig, timeout::TimeoutConfig};

pub use appconfig::{AppConfig, StartRequest};

/// Where the operator's AWS calls go.
#[derive(Debug, Clone, Default)]
pub struct AwsSettings {
    /// Region for resources that do not name one. Default: the standard chain (AWS_REGION,
    /// profile, IMDS).
    pub region: Option<String>,
    /// Send AppConfig calls here instead of AWS (the emulator).
    pub endpoint_url: Option<String>,
    /// The endpoint is the embedded emulator, which checks no credentials: use fixed ones and
    /// us-east-1 unless told otherwise, so a try-out needs no AWS configuration at all.
    pub emulated: bool,
}

/// AppConfig clients, one per region, sharing credentials and HTTP connections.
#[derive(Clone)]
pub struct AppConfigClients {
    base: SdkConfig,
    endpoint_url: Option<String>,
    by_region: Arc<Mutex<HashMap<String, AppConfig>>>,
}

impl AppConfigClients {
    /// Loads credentials and region from the standard chain: environment, profiles, IRSA web
    /// identity, EKS Pod Identity, IMDS.
    pub async fn load(settings: &AwsSettings) -> Self {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            // Retries inside a reconcile stay short; the controller requeues with its own backoff.
            .retry_config(RetryConfig::standard().with_max_attempts(3))
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(3))
                    .operation_attempt_timeout(Duration::from_secs(10))
                    .operation_timeout(Duration::from_secs(30))
                    .build(),
            );
        if settings.emulated {
            loader = loader.test_credentials().region(Region::new(
                settings
                    .region
                    .clone()
                    .unwrap_or_else(|| "us-east-1".to_owned()),
            ));
        } else if let Some(region) = &settings.region {
            loader = loader.region(Region::new(region.clone()));
        }
        Self {
            base: loader.load().await,
            endpoint_url: settings.endpoint_url.clone(),
            by_region: Arc::default(),
        }
    }

    /// The operator's default region, if the chain found one.
    pub fn default_region(&self) -> Option<&str> {
        self.base.region().map(Region::as_ref)
    }

    /// The client for `region`, or for the default region when `None`.
    pub fn region(&self, region: Option<&str>) -> AppConfig {
        let key = region.or(self.default_region()).unwrap_or_default();
        let mut clients = self
            .by_region
            .lock()
            .expect("the client map is never poisoned");
        clients
            .entry(key.to_owned())
            .or_insert_with(|| {
                let mut config = aws_sdk_appconfig::config::Builder::from(&self.base);
                if let Some(region) = region {
                    config = config.region(Region::new(region.to_owned()));
                }
                if let Some(url) = &self.endpoint_url {
                    config = config.endpoint_url(url);
                }
                AppConfig::new(aws_sdk_appconfig::Client::from_conf(config.build()))
            })
            .clone()
    }
}
