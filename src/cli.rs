//! The `appconfig-operator` command line.

use std::{net::SocketAddr, path::PathBuf};

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

fn positive_number(value: &str) -> Result<f64, String> {
    match value.parse::<f64>() {
        Ok(n) if n.is_finite() && n > 0.0 => Ok(n),
        _ => Err(format!("must be a positive number, got '{value}'")),
    }
}

fn account_id(value: &str) -> Result<String, String> {
    if value.len() == 12 && value.bytes().all(|b| b.is_ascii_digit()) {
        Ok(value.to_owned())
    } else {
        Err(format!("must be 12 digits, got '{value}'"))
    }
}
