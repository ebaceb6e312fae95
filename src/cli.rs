//! The `appconfig-operator` command line.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::{
    emulator::{EnvironmentStateStyle, StepSchedule},
    logging::LogFormat,
};

/// Ship AWS AppConfig configuration the GitOps way: declare the version AppConfig must serve in
/// an AppConfigDeployment resource, and the operator rolls it out and reports the rollout.
#[derive(Debug, Parser)]
#[command(name = "appconfig-operator", version)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the operator: watch AppConfigDeployment resources and converge AWS AppConfig on the
    /// version each declares, and keep the ConfigMap or Secret of each AppConfigSync equal to
    /// what AppConfig serves.
    ///
    /// Every flag can also be set with an environment variable APPCONFIG_OPERATOR_<FLAG>
    /// (for example APPCONFIG_OPERATOR_POLL_INTERVAL=5s). Kubernetes access comes from the
    /// in-cluster service account or KUBECONFIG; AWS credentials, region and endpoint from the
    /// standard chain (AWS_REGION, AWS_ENDPOINT_URL_APPCONFIG, profiles, IRSA, EKS Pod Identity).
    /// Stops on SIGTERM or SIGINT after finishing the reconciles in flight (and, with
    /// --leader-elect, releasing the lease). Serves /healthz, /readyz and /metrics on --http-addr.
    Run(Box<RunArgs>),
    /// Print the operator's CustomResourceDefinitions as YAML.
    ///
    /// Install them with `appconfig-operator crd | kubectl apply --server-side -f -`.
    Crd(CrdArgs),
    /// Run a local AWS AppConfig (control plane and AppConfig Data) for tests and development.
    ///
    /// Point the AWS CLI or an SDK at it with AWS_ENDPOINT_URL_APPCONFIG and
    /// AWS_ENDPOINT_URL_APPCONFIGDATA set to http://LISTEN. Deployments progress on an emulated
    /// clock; /_emulator/ endpoints move the clock, set alarms, inject faults and count calls.
    /// Stops on SIGTERM or SIGINT.
    Emulator(EmulatorArgs),
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Watch only this namespace. Default: all namespaces.
    #[arg(long, value_name = "NAMESPACE", env = "APPCONFIG_OPERATOR_NAMESPACE")]
    pub namespace: Option<String>,

    /// Reconcile only resources matching this label selector (`shard=a`), to split resources
    /// across several operators.
    #[arg(
        long,
        value_name = "SELECTOR",
        env = "APPCONFIG_OPERATOR_LABEL_SELECTOR"
    )]
    pub label_selector: Option<String>,

    /// AWS region for resources that do not set spec.region. Default: the standard chain
    /// (AWS_REGION, profile).
    #[arg(long, value_name = "REGION", env = "APPCONFIG_OPERATOR_REGION")]
    pub region: Option<String>,

    /// Send AppConfig calls to this URL instead of AWS (for example an
    /// `appconfig-operator emulator`). AWS_ENDPOINT_URL_APPCONFIG works too.
    #[arg(long, value_name = "URL", env = "APPCONFIG_OPERATOR_AWS_ENDPOINT_URL")]
    pub aws_endpoint_url: Option<String>,

    /// Lockdown for shared clusters: a resource that sets no spec.serviceAccountName acts in
    /// AWS as this ServiceAccount of its own namespace (its eks.amazonaws.com/role-arn role), so
    /// that the operator's own credentials are never used for any resource. Default: such
    /// resources act with the operator's credentials.
    #[arg(
        long,
        value_name = "NAME",
        env = "APPCONFIG_OPERATOR_DEFAULT_SERVICE_ACCOUNT",
        value_parser = service_account_name
    )]
    pub default_service_account: Option<String>,

    /// AWS calls per second at most, per region, AppConfig and AppConfig Data together (both
    /// controllers share it): AWS throttles per account and region, and other tools share that
    /// budget. 0 turns the limit off. Throttled calls are retried with exponential backoff and
    /// jitter.
    #[arg(long, value_name = "N", default_value_t = 10.0, env = "APPCONFIG_OPERATOR_AWS_QPS", value_parser = non_negative_number)]
    pub aws_qps: f64,

    /// AWS calls that may go at once, above --aws-qps, after a quiet spell.
    #[arg(long, value_name = "N", default_value_t = 20, env = "APPCONFIG_OPERATOR_AWS_BURST", value_parser = clap::value_parser!(u32).range(1..))]
    pub aws_burst: u32,

    /// How often an in-progress deployment is read (GetDeployment).
    #[arg(long, value_name = "DURATION", default_value = "15s", env = "APPCONFIG_OPERATOR_POLL_INTERVAL", value_parser = duration)]
    pub poll_interval: Duration,

    /// How often a settled resource is checked for drift (someone deployed or reverted by hand).
    #[arg(long, value_name = "DURATION", default_value = "10m", env = "APPCONFIG_OPERATOR_RESYNC_INTERVAL", value_parser = duration)]
    pub resync_interval: Duration,

    /// AppConfig event log entries kept in each resource's status.
    #[arg(long, value_name = "N", default_value_t = 10, env = "APPCONFIG_OPERATOR_EVENT_LOG_LIMIT", value_parser = clap::value_parser!(u16).range(1..=100))]
    pub event_log_limit: u16,

    /// The largest configuration content (spec.content, spec.contentFrom) the operator sends to
    /// AppConfig's hosted configuration store; larger content is refused before any AppConfig call.
    /// AppConfig's quota is 2 MB (2097152 bytes) unless raised for the account.
    #[arg(long, value_name = "BYTES", default_value_t = 2 * 1024 * 1024, env = "APPCONFIG_OPERATOR_MAX_CONTENT_BYTES", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_content_bytes: u64,

    /// Resources reconciled at the same time.
    #[arg(long, value_name = "N", default_value_t = 16, env = "APPCONFIG_OPERATOR_CONCURRENCY", value_parser = clap::value_parser!(u16).range(1..))]
    pub concurrency: u16,

    /// Start an AppConfig emulator in this process and send every AppConfig call to it: a
    /// try-out without an AWS account. Nothing reaches AWS.
    #[arg(
        long,
        env = "APPCONFIG_OPERATOR_EMBEDDED_EMULATOR",
        conflicts_with = "aws_endpoint_url"
    )]
    pub embedded_emulator: bool,

    /// Where the embedded emulator listens, for the AWS CLI to create applications in it.
    #[arg(
        long,
        value_name = "ADDR",
        default_value = "127.0.0.1:4566",
        env = "APPCONFIG_OPERATOR_EMBEDDED_EMULATOR_LISTEN"
    )]
    pub embedded_emulator_listen: SocketAddr,

    /// Where /healthz, /readyz and /metrics (OpenMetrics) are served.
    #[arg(
        long,
        value_name = "ADDR",
        default_value = "0.0.0.0:8080",
        env = "APPCONFIG_OPERATOR_HTTP_ADDR"
    )]
    pub http_addr: SocketAddr,

    /// Reconcile only while holding a Lease, so that several replicas can run: one reconciles,
    /// the others stand by and take over when it stops.
    #[arg(long, env = "APPCONFIG_OPERATOR_LEADER_ELECT")]
    pub leader_elect: bool,

    /// Name of the leader election Lease.
    #[arg(
        long,
        value_name = "NAME",
        default_value = "appconfig-operator",
        env = "APPCONFIG_OPERATOR_LEASE_NAME"
    )]
    pub lease_name: String,

    /// Namespace of the leader election Lease. Default: the pod's namespace (the POD_NAMESPACE
    /// variable, else the service account's namespace).
    #[arg(
        long,
        value_name = "NAMESPACE",
        env = "APPCONFIG_OPERATOR_LEASE_NAMESPACE"
    )]
    pub lease_namespace: Option<String>,

    /// How long a leader that stopped renewing keeps the lease before a standby takes over
    /// (after up to about two more retry periods). At least 1s.
    #[arg(long, value_name = "DURATION", default_value = "15s", env = "APPCONFIG_OPERATOR_LEASE_DURATION", value_parser = duration)]
    pub lease_duration: Duration,

    /// How often the leader renews the lease and a standby tries to take it; also how long one
    /// lease request may take. A leader that cannot renew for two thirds of --lease-duration
    /// stops reconciling. Must be shorter than a third of --lease-duration.
    #[arg(long, value_name = "DURATION", default_value = "2s", env = "APPCONFIG_OPERATOR_LEASE_RETRY_PERIOD", value_parser = duration)]
    pub lease_retry_period: Duration,

    /// Name of this operator instance in Kubernetes Events. Its holder identity in the leader
    /// election Lease is this name, "_" and a random suffix drawn by every process, so that
    /// identities stay unique even when replicas share a name. Default: the POD_NAME variable,
    /// else HOSTNAME, else "appconfig-operator".
    #[arg(long, value_name = "NAME", env = "APPCONFIG_OPERATOR_INSTANCE")]
    pub instance: Option<String>,

    /// Log format.
    #[arg(
        long,
        value_name = "FORMAT",
        default_value = "json",
        env = "APPCONFIG_OPERATOR_LOG_FORMAT"
    )]
    pub log_format: LogFormat,

    /// Log level or filter directive (`debug`, `warn`, `appconfig_operator=debug,info`).
    #[arg(
        long,
        value_name = "LEVEL",
        default_value = "info",
        env = "APPCONFIG_OPERATOR_LOG_LEVEL"
    )]
    pub log_level: String,
}

#[derive(Debug, Args)]
pub struct CrdArgs {
    /// Write one file per CRD, named `<plural>.<group>.yaml`, into DIR instead of printing them.
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct EmulatorArgs {
    /// Address to serve both APIs on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:4566")]
    pub listen: SocketAddr,

    /// Emulated seconds per wall-clock second (60 = one AppConfig minute per second).
    #[arg(long, value_name = "F", default_value_t = 1.0, value_parser = positive_number)]
    pub time_scale: f64,

    /// How Environment.State is spelled: `camel` (ReadyForDeployment, as AWS answers) or
    /// `screaming` (READY_FOR_DEPLOYMENT, as the API model's enum says).
    #[arg(long, value_name = "STYLE", default_value = "camel")]
    pub environment_state_style: StateStyleArg,

    /// How deployment steps are spaced over the duration D with N steps: `documented` (every
    /// D/N, as AWS documents) or `observed` (every D/(N+1), as a real event log shows).
    #[arg(long, value_name = "SCHEDULE", default_value = "documented")]
    pub step_schedule: StepScheduleArg,

    /// Region the emulator answers for (resource ARNs name it).
    #[arg(long, value_name = "REGION", default_value = "us-east-1")]
    pub region: String,

    /// Account the emulator answers for (resource ARNs and rollback events name it).
    #[arg(long, value_name = "ID", default_value = "123456789012", value_parser = account_id)]
    pub account_id: String,

    /// Log format.
    #[arg(long, value_name = "FORMAT", default_value = "text")]
    pub log_format: LogFormat,

    /// Log level or filter directive (`debug`, `warn`, `appconfig_operator=debug,info`).
    #[arg(long, value_name = "LEVEL", default_value = "info")]
    pub log_level: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StateStyleArg {
    Camel,
    Screaming,
}

impl From<StateStyleArg> for EnvironmentStateStyle {
    fn from(style: StateStyleArg) -> Self {
        match style {
            StateStyleArg::Camel => Self::Camel,
            StateStyleArg::Screaming => Self::Screaming,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StepScheduleArg {
    Documented,
    Observed,
}

impl From<StepScheduleArg> for StepSchedule {
    fn from(schedule: StepScheduleArg) -> Self {
        match schedule {
            StepScheduleArg::Documented => Self::Documented,
            StepScheduleArg::Observed => Self::Observed,
        }
    }
}

/// Durations in the humantime form: `15s`, `10m`, `1h30m`, `500ms`.
fn duration(value: &str) -> Result<Duration, String> {
    match humantime::parse_duration(value) {
        Ok(d) if !d.is_zero() => Ok(d),
        Ok(_) => Err("must be longer than zero".to_owned()),
        Err(e) => Err(format!("{e} (write durations like 15s, 10m or 1h30m)")),
    }
}

fn positive_number(value: &str) -> Result<f64, String> {
    match value.parse::<f64>() {
        Ok(n) if n.is_finite() && n > 0.0 => Ok(n),
        _ => Err(format!("must be a positive number, got '{value}'")),
    }
}

fn non_negative_number(value: &str) -> Result<f64, String> {
    match value.parse::<f64>() {
        Ok(n) if n.is_finite() && n >= 0.0 => Ok(n),
        _ => Err(format!("must be a number, 0 or more, got '{value}'")),
    }
}

/// A ServiceAccount name: a DNS subdomain, as Kubernetes requires.
fn service_account_name(value: &str) -> Result<String, String> {
    let label_ok = |label: &str| {
        !label.is_empty()
            && label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    if value.len() <= 253 && value.split('.').all(label_ok) {
        Ok(value.to_owned())
    } else {
        Err(format!(
            "must be a ServiceAccount name (lowercase letters, digits, '-' and '.', at most 253 characters), got '{value}'"
        ))
    }
}

fn account_id(value: &str) -> Result<String, String> {
    if value.len() == 12 && value.bytes().all(|b| b.is_ascii_digit()) {
        Ok(value.to_owned())
    } else {
        Err(format!("must be 12 digits, got '{value}'"))
    }
}
