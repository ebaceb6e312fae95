use std::{
    io::{self, Write},
    process::ExitCode,
};

use appconfig_operator::{
    api::crds,
    aws::{AppConfigClients, AwsSettings, Rate},
    cli::{Cli, Command, CrdArgs, EmulatorArgs, RunArgs},
    controller,
    emulator::{Emulator, EmulatorConfig, RequestLog, Settings},
    leader::{self, LeaseSettings},
    logging,
    metrics::Metrics,
    operator,
    web::Server,
};
use clap::Parser;

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Run(args) => run(*args),
        Command::Crd(args) => crd(args),
        Command::Emulator(args) => emulator(args),
    }
}

fn run(args: RunArgs) -> ExitCode {
    if let Err(message) = logging::init(args.log_format, &args.log_level) {
        return exit(Err(message));
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => return exit(Err(format!("cannot start the async runtime: {e}"))),
    };
    exit(runtime.block_on(run_operator(args)))
}

async fn run_operator(args: RunArgs) -> Result<(), String> {
    let embedded = if args.embedded_emulator {
        let config = EmulatorConfig {
            listen: args.embedded_emulator_listen,
            request_log: RequestLog::Debug,
            ..EmulatorConfig::default()
        };
        let emulator = Emulator::start(config).await.map_err(|e| {
            format!(
                "cannot start the embedded emulator on {}: {e} (choose another address with --embedded-emulator-listen)",
                args.embedded_emulator_listen
            )
        })?;
        tracing::warn!(
            endpoint_url = emulator.endpoint_url(),
            "EMBEDDED EMULATOR: this operator is NOT talking to AWS. Every AppConfig call goes to an in-process emulator whose state is lost when the operator stops. Create applications in it with AWS_ENDPOINT_URL_APPCONFIG set to the endpoint URL"
        );
        Some(emulator)
    } else {
        None
    };
    // Bound before Kubernetes and AWS are reached: a taken port fails the start at once.
    let server = Server::bind(args.http_addr)
        .await
        .map_err(|e| e.to_string())?;
    let metrics = Metrics::default();
    let aws = AppConfigClients::load(
        &AwsSettings {
            region: args.region.clone(),
            endpoint_url: embedded
                .as_ref()
                .map(Emulator::endpoint_url)
                .or(args.aws_endpoint_url.clone()),
            emulated: embedded.is_some(),
            rate: Rate {
                per_second: args.aws_qps,
                burst: args.aws_burst,
            },
        },
        metrics.clone(),
    )
    .await;
    if aws.default_region().is_none() {
        tracing::warn!(
            "no AWS region configured and none found in instance metadata: set --region (chart value aws.region) or AWS_REGION, or spec.region on every resource"
        );
    }
    if args.aws_qps == 0.0 {
        tracing::info!("AWS calls are not rate limited (--aws-qps 0)");
    }
    let instance = args
        .instance
        .clone()
        .or_else(|| std::env::var("POD_NAME").ok())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "appconfig-operator".to_owned());
    let leader_election = if args.leader_elect {
        let settings = LeaseSettings {
            name: args.lease_name.clone(),
            namespace: lease_namespace(args.lease_namespace.clone())?,
            identity: leader::unique_identity(&instance),
            duration: args.lease_duration,
            retry_period: args.lease_retry_period,
        };
        settings.check()?;
        Some(settings)
    } else {
        None
    };
    let client = kube::Client::try_default().await.map_err(|e| {
        format!("cannot reach Kubernetes (in-cluster service account or KUBECONFIG): {e}")
    })?;
    let address = server
        .local_addr()
        .map_err(|e| format!("cannot read the address of --http-addr: {e}"))?;
    tracing::info!(%address, "serving /healthz, /readyz and /metrics");
    let mut config = operator::Config::new(
        controller::Config {
            namespace: args.namespace,
            label_selector: args.label_selector,
            poll_interval: args.poll_interval,
            resync_interval: args.resync_interval,
            event_log_limit: usize::from(args.event_log_limit),
            concurrency: args.concurrency,
            instance,
            max_content_bytes: usize::try_from(args.max_content_bytes).unwrap_or(usize::MAX),
        },
        leader_election,
    );
    config.default_service_account = args.default_service_account.clone();
    if let Some(name) = &config.default_service_account {
        tracing::info!(service_account = %name, "lockdown: resources that name no ServiceAccount act as this one of their namespace; the operator's own AWS credentials serve no resource");
    }
    operator::run(client, aws, config, server, metrics, shutdown_signal())
        .await
        .map_err(|e| e.to_string())?;
    if let Some(emulator) = embedded {
        emulator
            .shutdown()
            .await
            .map_err(|e| format!("the embedded emulator stopped with an error: {e}"))?;
    }
    Ok(())
}

/// The service account's namespace, as Kubernetes mounts it into every pod.
const SERVICE_ACCOUNT_NAMESPACE: &str = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

/// Reads the service account's namespace from this file instead (undocumented in `--help`:
/// for tests, which must not depend on whether they run inside a pod).
const SERVICE_ACCOUNT_NAMESPACE_FILE: &str = "APPCONFIG_OPERATOR_SERVICE_ACCOUNT_NAMESPACE_FILE";

/// `--lease-namespace`, else the pod's namespace.
fn lease_namespace(flag: Option<String>) -> Result<String, String> {
    let file = std::env::var(SERVICE_ACCOUNT_NAMESPACE_FILE)
        .unwrap_or_else(|_| SERVICE_ACCOUNT_NAMESPACE.to_owned());
    flag.or_else(|| std::env::var("POD_NAMESPACE").ok())
        .or_else(|| {
            std::fs::read_to_string(&file)
                .ok()
                .map(|ns| ns.trim().to_owned())
        })
        .filter(|ns| !ns.is_empty())
        .ok_or_else(|| {
            format!(
                "--leader-elect needs the lease's namespace: set --lease-namespace (or POD_NAMESPACE); outside a pod there is no {file} to read it from"
            )
        })
}

fn crd(args: CrdArgs) -> ExitCode {
    let result = match args.output_dir {
        None => io::stdout()
            .write_all(crds::all_to_yaml().as_bytes())
            .map_err(|e| format!("cannot write the CRDs to standard output: {e}")),
        Some(dir) => crds::write_all(&dir)
            .map(|paths| {
                for path in paths {
                    eprintln!("wrote {}", path.display());
                }
            })
            .map_err(|e| e.to_string()),
    };
    exit(result)
}

fn emulator(args: EmulatorArgs) -> ExitCode {
    if let Err(message) = logging::init(args.log_format, &args.log_level) {
        return exit(Err(message));
    }
    let config = EmulatorConfig {
        listen: args.listen,
        time_scale: args.time_scale,
        settings: Settings {
            region: args.region,
            account_id: args.account_id,
            environment_state_style: args.environment_state_style.into(),
            step_schedule: args.step_schedule.into(),
            ..Settings::default()
        },
        request_log: RequestLog::Info,
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => return exit(Err(format!("cannot start the async runtime: {e}"))),
    };
    exit(runtime.block_on(serve_emulator(config)))
}

async fn serve_emulator(config: EmulatorConfig) -> Result<(), String> {
    let listen = config.listen;
    let time_scale = config.time_scale;
    let emulator = Emulator::start(config)
        .await
        .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    tracing::info!(
        address = %emulator.address(),
        endpoint_url = emulator.endpoint_url(),
        time_scale,
        "AppConfig emulator listening; set AWS_ENDPOINT_URL_APPCONFIG and AWS_ENDPOINT_URL_APPCONFIGDATA to the endpoint URL"
    );
    shutdown_signal().await;
    tracing::info!("stopping: finishing requests in flight");
    emulator
        .shutdown()
        .await
        .map_err(|e| format!("the emulator stopped with an error: {e}"))?;
    tracing::info!("AppConfig emulator stopped");
    Ok(())
}

/// SIGINT (Ctrl-C) or, on Unix, SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .expect("installing a SIGTERM handler succeeds on Unix");
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}

fn exit(result: Result<(), String>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}
