//! The `appconfig-operator` command line.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

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
}

#[derive(Debug, Args)]
pub struct CrdArgs {
    /// Write one file per CRD, named `<plural>.<group>.yaml`, into DIR instead of printing them.
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
}
