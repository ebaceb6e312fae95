//! AWS access: AppConfig clients built from the standard credential chain, one per region, and
//! the calls the controller makes through them.
//!
//! - [`appconfig`]: the AppConfig operations, answering in [`model`] types;
//! - [`appconfigdata`]: the AppConfig Data operations an AppConfigSync reads with;
//! - [`error`]: errors sorted by what the operator does about them.

pub mod appconfig;
pub mod appconfigdata;
pub mod error;
pub mod model;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use aws_config::{BehaviorVersion, Region, SdkConfig, retry::RetryConfig, timeout::TimeoutConfig};
use aws_sdk_appconfig::config::ProvideCredentials;

pub use appconfig::{AppConfig, StartRequest};
pub use appconfigdata::AppConfigData;

use crate::metrics::Metrics;

/// Where the operator's AWS calls go.
#[derive(Debug, Clone, Default)]
pub struct AwsSettings {
    /// Region for resources that do not name one. Default: the standard chain (AWS_REGION,
    /// profile, IMDS).
    pub region: Option<String>,
    /// Send AppConfig calls here instead of AWS (the emulator).
    pub endpoint_url: Option<String>,
    /// The endpoint is the embedded emulator, which checks no credentials: sign with placeholder
    /// ones, so a try-out needs no AWS configuration at all. (With any endpoint URL, a missing
    /// region defaults to us-east-1, and missing credentials to placeholders, with a warning.)
    pub emulated: bool,
}

/// AppConfig clients, one per region, sharing credentials and HTTP connections.
#[derive(Clone)]
pub struct AppConfigClients {
    base: SdkConfig,
    endpoint_url: Option<String>,
    /// Sign with placeholder credentials: an emulator checks none, and a try-out should not
    /// need AWS configuration.
    placeholder_credentials: bool,
    by_region: Arc<Mutex<HashMap<String, AppConfig>>>,
    data_by_region: Arc<Mutex<HashMap<String, AppConfigData>>>,
    /// Where every client counts its calls.
    metrics: Metrics,
}

/// One service's client configuration from the shared one: the region asked for, the endpoint
/// override and the placeholder credentials apply alike to AppConfig and AppConfig Data.
macro_rules! service_config {
    ($clients:expr, $sdk:ident, $region:expr) => {{
        let clients = $clients;
        let mut config = $sdk::config::Builder::from(&clients.base);
        if let Some(region) = $region {
            config = config.region(Region::new(region.to_owned()));
        }
        if let Some(url) = &clients.endpoint_url {
            config = config.endpoint_url(url);
        }
        if clients.placeholder_credentials {
            config = config.credentials_provider($sdk::config::Credentials::new(
                "placeholder",
                "placeholder",
                None,
                None,
                "appconfig-operator",
            ));
        }
        config.build()
    }};
}

/// The region an emulator answers for when none is configured.
const EMULATOR_REGION: &str = "us-east-1";

impl AppConfigClients {
    /// Loads credentials and region from the standard chain: environment, profiles, IRSA web
    /// identity, EKS Pod Identity, IMDS. Every AppConfig call is counted in `metrics`.
    pub async fn load(settings: &AwsSettings, metrics: Metrics) -> Self {
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
        if let Some(region) = &settings.region {
            loader = loader.region(Region::new(region.clone()));
        }
        let mut base = loader.load().await;
        let mut placeholder_credentials = settings.emulated;
        if let Some(url) = &settings.endpoint_url
            && !settings.emulated
            && let Err(e) = credentials_available(&base).await
        {
            tracing::warn!(endpoint_url = %url, error = %e, "no AWS credentials found; signing AppConfig calls with placeholder credentials, which only an emulator accepts");
            placeholder_credentials = true;
        }
        if base.region().is_none() && settings.endpoint_url.is_some() {
            base = base
                .into_builder()
                .region(Region::from_static(EMULATOR_REGION))
                .build();
        }
        Self {
            base,
            endpoint_url: settings.endpoint_url.clone(),
            placeholder_credentials,
            by_region: Arc::default(),
            data_by_region: Arc::default(),
            metrics,
        }
    }

    /// The operator's default region, if the chain found one.
    pub fn default_region(&self) -> Option<&str> {
        self.base.region().map(Region::as_ref)
    }

    /// The region a resource's calls go to: its own, else the default (empty when neither).
    pub fn region_name(&self, region: Option<&str>) -> String {
        region
            .or(self.default_region())
            .unwrap_or_default()
            .to_owned()
    }

    /// The client for `region`, or for the default region when `None`.
    pub fn region(&self, region: Option<&str>) -> AppConfig {
        self.cached(&self.by_region, region, || {
            let config = service_config!(self, aws_sdk_appconfig, region);
            AppConfig::new(
                aws_sdk_appconfig::Client::from_conf(config),
                self.metrics.clone(),
            )
        })
    }

    /// The AppConfig Data client for `region`, or for the default region when `None`.
    pub fn data(&self, region: Option<&str>) -> AppConfigData {
        self.cached(&self.data_by_region, region, || {
            let config = service_config!(self, aws_sdk_appconfigdata, region);
            AppConfigData::new(
                aws_sdk_appconfigdata::Client::from_conf(config),
                self.metrics.clone(),
            )
        })
    }

    /// The client in `clients` for `region`, made by `make` the first time: one per region,
    /// sharing its connections.
    fn cached<C: Clone>(
        &self,
        clients: &Mutex<HashMap<String, C>>,
        region: Option<&str>,
        make: impl FnOnce() -> C,
    ) -> C {
        clients
            .lock()
            .expect("the client map is never poisoned")
            .entry(self.region_name(region))
            .or_insert_with(make)
            .clone()
    }
}

async fn credentials_available(config: &SdkConfig) -> Result<(), String> {
    let provider = config
        .credentials_provider()
        .ok_or("no credential provider configured")?;
    provider
        .provide_credentials()
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}
