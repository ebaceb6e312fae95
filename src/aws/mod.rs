//! AWS access: AppConfig clients built from the standard credential chain, one per region, and
//! the calls the controller makes through them.
//!
//! - [`appconfig`]: the AppConfig operations, answering in [`model`] types;
//! - [`appconfigdata`]: the AppConfig Data operations an AppConfigSync reads with;
//! - [`sts`]: AssumeRoleWithWebIdentity, for resources that act as a ServiceAccount;
//! - [`signer`]: clients that sign as an assumed role instead of the operator;
//! - [`error`]: errors sorted by what the operator does about them.

pub mod appconfig;
pub mod appconfigdata;
pub mod arn;
pub mod caller;
pub mod error;
pub mod model;
pub mod rate_limit;
pub mod signer;
pub mod sts;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use aws_config::{
    BehaviorVersion, Region, SdkConfig, environment::EnvironmentVariableRegionProvider,
    meta::region::RegionProviderChain, profile::ProfileFileRegionProvider, retry::RetryConfig,
    timeout::TimeoutConfig,
};
use aws_sdk_appconfig::config::ProvideCredentials;

pub use appconfig::{AppConfig, StartRequest};
pub use appconfigdata::AppConfigData;
use caller::Caller;
pub use rate_limit::{Rate, RateLimit};
pub use signer::Signer;
pub use sts::Sts;

use crate::metrics::{self, Metrics};

/// Where the operator's AWS calls go.
#[derive(Debug, Clone, Default)]
pub struct AwsSettings {
    /// Region for resources that do not name one. Default: AWS_REGION, the profile, then (on
    /// AWS, without an endpoint URL) the instance metadata service.
    pub region: Option<String>,
    /// Send AppConfig calls here instead of AWS (the emulator).
    pub endpoint_url: Option<String>,
    /// The endpoint is the embedded emulator, which checks no credentials: sign with placeholder
    /// ones, so a try-out needs no AWS configuration at all. (With any endpoint URL, a missing
    /// region defaults to us-east-1, and missing credentials to placeholders, with a warning.)
    pub emulated: bool,
    /// How fast the operator may call AWS, per region, AppConfig and AppConfig Data together.
    pub rate: Rate,
}

/// Clients are cached per region and signer (`None`: the operator's own credentials).
type ClientKey = (String, Option<String>);

/// AppConfig clients, one per region and identity, sharing HTTP connections.
#[derive(Clone)]
pub struct AppConfigClients {
    base: SdkConfig,
    endpoint_url: Option<String>,
    /// Sign with placeholder credentials: an emulator checks none, and a try-out should not
    /// need AWS configuration.
    placeholder_credentials: bool,
    by_region: Arc<Mutex<HashMap<ClientKey, AppConfig>>>,
    data_by_region: Arc<Mutex<HashMap<ClientKey, AppConfigData>>>,
    sts_by_region: Arc<Mutex<HashMap<ClientKey, Sts>>>,
    rate: Rate,
    /// One rate limit per region, shared by the region's AppConfig and AppConfig Data clients.
    limits: Arc<Mutex<HashMap<ClientKey, RateLimit>>>,
    /// Where every client counts its calls.
    metrics: Metrics,
}

/// One service's client configuration from the shared one: the region asked for, the endpoint
/// override, the placeholder credentials and the signer apply alike to every service.
macro_rules! service_config {
    ($clients:expr, $sdk:ident, $region:expr, $signer:expr) => {{
        let clients = $clients;
        let mut config = $sdk::config::Builder::from(&clients.base);
        if let Some(region) = $region {
            config = config.region(Region::new(region.to_owned()));
        }
        if let Some(url) = &clients.endpoint_url {
            config = config.endpoint_url(url);
        }
        // The retry quota belongs to this client: by default the SDK keeps one per service and
        // region for the whole process, so that whatever else the process runs would spend it.
        config = config.retry_partition(
            $sdk::config::retry::RetryPartition::custom(concat!(
                "appconfig-operator-",
                stringify!($sdk)
            ))
            .build(),
        );
        if clients.placeholder_credentials {
            config = config.credentials_provider($sdk::config::Credentials::new(
                "placeholder",
                "placeholder",
                None,
                None,
                "appconfig-operator",
            ));
        }
        if let Some(signer) = $signer {
            // The signer keeps the credentials and renews them when AWS refuses them as
            // expired; a cache in front of it would keep the refused ones.
            config = config
                .credentials_provider(signer.provider.clone())
                .identity_cache($sdk::config::IdentityCache::no_cache());
        }
        config.build()
    }};
}

/// The region an emulator answers for when none is configured.
const EMULATOR_REGION: &str = "us-east-1";

impl AppConfigClients {
    /// Loads credentials from the standard chain (environment, profiles, IRSA web identity, EKS
    /// Pod Identity, IMDS) and the region as [`default_region`] finds it. Every AppConfig call
    /// is counted in `metrics`.
    pub async fn load(settings: &AwsSettings, metrics: Metrics) -> Self {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            // Retries inside a reconcile stay short; the controller requeues with its own backoff.
            // Standard, not adaptive: both back off exponentially with jitter on throttling, but
            // adaptive retry also slows every later call of the service down to as little as
            // half a call a second, recovering over minutes, so that a burst of throttling would
            // stall every resource of the region long after it ended. The operator's own rate
            // limit (`RateLimit`) bounds how fast it calls instead.
            .retry_config(RetryConfig::standard().with_max_attempts(3))
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(3))
                    .operation_attempt_timeout(Duration::from_secs(10))
                    .operation_timeout(Duration::from_secs(30))
                    .build(),
            );
        // Set even when none was found, so that the loader does not look again (noisily).
        loader = loader.region(default_region(settings).await);
        let base = loader.load().await;
        let mut placeholder_credentials = settings.emulated;
        if let Some(url) = &settings.endpoint_url
            && !settings.emulated
            && let Err(e) = credentials_available(&base).await
        {
            tracing::warn!(endpoint_url = %url, error = %e, "no AWS credentials found; signing AppConfig calls with placeholder credentials, which only an emulator accepts");
            placeholder_credentials = true;
        }
        Self {
            base,
            endpoint_url: settings.endpoint_url.clone(),
            placeholder_credentials,
            by_region: Arc::default(),
            data_by_region: Arc::default(),
            sts_by_region: Arc::default(),
            rate: settings.rate,
            limits: Arc::default(),
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

    /// The client for `region`, signing as `signer` (the operator when `None`).
    pub fn region_as(&self, region: Option<&str>, signer: Option<&Signer>) -> AppConfig {
        self.cached(&self.by_region, region, signer, || {
            let config = service_config!(self, aws_sdk_appconfig, region, signer);
            AppConfig::new(
                aws_sdk_appconfig::Client::from_conf(config),
                self.caller(metrics::APPCONFIG, region, signer),
            )
        })
    }

    /// The AppConfig Data client for `region`, signing as `signer` (the operator when `None`).
    pub fn data_as(&self, region: Option<&str>, signer: Option<&Signer>) -> AppConfigData {
        self.cached(&self.data_by_region, region, signer, || {
            let config = service_config!(self, aws_sdk_appconfigdata, region, signer);
            AppConfigData::new(
                aws_sdk_appconfigdata::Client::from_conf(config),
                self.caller(metrics::APPCONFIGDATA, region, signer),
            )
        })
    }

    /// STS in `region`, where roles are assumed for the resources of that region (regional
    /// endpoints, as AWS recommends). AssumeRoleWithWebIdentity is not signed.
    pub fn sts(&self, region: Option<&str>) -> Sts {
        self.cached(&self.sts_by_region, region, None, || {
            let config = service_config!(self, aws_sdk_sts, region, None::<&Signer>);
            Sts::new(aws_sdk_sts::Client::from_conf(config), self.metrics.clone())
        })
    }

    /// How a client of `service` in `region` calls, signing as `signer`.
    fn caller(
        &self,
        service: &'static str,
        region: Option<&str>,
        signer: Option<&Signer>,
    ) -> Caller {
        Caller::new(
            service,
            self.metrics.clone(),
            self.limit(region),
            signer.map(|s| s.renewal.clone()),
        )
    }

    /// Drops the clients of signer `key`, whose session is over.
    pub fn forget_signer(&self, key: &str) {
        let ours = |(_, signer): &ClientKey| signer.as_deref() == Some(key);
        lock(&self.by_region).retain(|k, _| !ours(k));
        lock(&self.data_by_region).retain(|k, _| !ours(k));
    }

    /// The rate limit of `region`, or of the default region when `None`: one for every
    /// identity, since AWS throttles per account and region.
    fn limit(&self, region: Option<&str>) -> RateLimit {
        self.cached(&self.limits, region, None, || RateLimit::new(self.rate))
    }

    /// The client in `clients` for `region` and `signer`, made by `make` the first time: one
    /// per region and identity, sharing its connections.
    fn cached<C: Clone>(
        &self,
        clients: &Mutex<HashMap<ClientKey, C>>,
        region: Option<&str>,
        signer: Option<&Signer>,
        make: impl FnOnce() -> C,
    ) -> C {
        lock(clients)
            .entry((self.region_name(region), signer.map(|s| s.key.clone())))
            .or_insert_with(make)
            .clone()
    }
}

fn lock<C>(
    clients: &Mutex<HashMap<ClientKey, C>>,
) -> std::sync::MutexGuard<'_, HashMap<ClientKey, C>> {
    clients.lock().expect("the client map is never poisoned")
}

/// The region for resources that name none: `--region`, else AWS_REGION or AWS_DEFAULT_REGION,
/// else the profile's. With an endpoint URL (an emulator) the instance metadata service is never
/// asked, and the emulator's region is the default; otherwise it is asked quietly, since outside
/// AWS it cannot answer (the caller says how to set a region when none is found).
async fn default_region(settings: &AwsSettings) -> Option<Region> {
    let configured = RegionProviderChain::first_try(settings.region.clone().map(Region::new))
        .or_else(EnvironmentVariableRegionProvider::new())
        .or_else(ProfileFileRegionProvider::new());
    if let Some(region) = configured.region().await {
        return Some(region);
    }
    if settings.endpoint_url.is_some() {
        return Some(Region::from_static(EMULATOR_REGION));
    }
    instance_region().await
}

/// The region of the EC2 instance (or EKS node) the operator runs on, from IMDS.
async fn instance_region() -> Option<Region> {
    if std::env::var("AWS_EC2_METADATA_DISABLED").is_ok_and(|v| v.eq_ignore_ascii_case("true")) {
        return None;
    }
    let imds = aws_config::imds::Client::builder().build();
    match imds.get("/latest/meta-data/placement/region").await {
        Ok(region) => Some(Region::new(region.as_ref().to_owned())),
        Err(e) => {
            tracing::debug!(error = %e, "the instance metadata service does not say the region");
            None
        }
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
