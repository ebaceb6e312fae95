use std::{
    io::{self, Write},
    process::ExitCode,
};

use appconfig_operator::{
    api::crds,
    aws::{AppConfigClients, AwsSettings},
    cli::{Cli, Command, CrdArgs, EmulatorArgs, RunArgs},
    controller,
    emulator::{Emulator, EmulatorConfig, Settings},
    logging, sync,
};
use clap::Parser;
use futures::FutureExt;

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Run(args) => run(args),
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
    let aws = AppConfigClients::load(&AwsSettings {
        region: args.region.clone(),
        endpoint_url: embedded
            .as_ref()
            .map(Emulator::endpoint_url)
            .or(args.aws_endpoint_url.clone()),
        emulated: embedded.is_some(),
    })
    .await;
    if aws.default_region().is_none() {
        tracing::warn!(
            "no AWS region configured: set --region or AWS_REGION, or spec.region on every resource"
        );
    }
    let client = kube::Client::try_default().await.map_err(|e| {
        format!("cannot reach Kubernetes (in-cluster service account or KUBECONFIG): {e}")
    })?;
    let instance = args
        .instance
        .or_else(|| std::env::var("POD_NAME").ok())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "appconfig-operator".to_owned());
    let sync_config = sync::Config {
        namespace: args.namespace.clone(),
        label_selector: args.label_selector.clone(),
        concurrency: args.concurrency,
        instance: instance.clone(),
        ..sync::Config::default()
    };
    let config = controller::Config {
        namespace: args.namespace,
        label_selector: args.label_selector,
        poll_interval: args.poll_interval,
        resync_interval: args.resync_interval,
        event_log_limit: usize::from(args.event_log_limit),
        concurrency: args.concurrency,
        instance,
    };
    // Both controllers stop on the same signal, each finishing its reconciles in flight.
    let shutdown = shutdown_signal().boxed().shared();
    tokio::try_join!(
        async {
            controller::run(client.clone(), aws.clone(), config, shutdown.clone())
                .await
                .map_err(|e| e.to_string())
        },
        async {
            sync::run(client.clone(), aws.clone(), sync_config, shutdown.clone())
                .await
                .map_err(|e| e.to_string())
        },
    )?;
    if let Some(emulator) = embedded {
        emulator
            .shutdown()
            .await
            .map_err(|e| format!("the embedded emulator stopped with an error: {e}"))?;
    }
    Ok(())
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
