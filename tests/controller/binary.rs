//! The `appconfig-operator run` binary, configured through its environment variables, against
//! the fake API server served over HTTP and the emulator: flags are checked, a resource
//! converges, logs are JSON naming the resource, and SIGTERM stops it cleanly.

use std::{
    fs,
    io::Read,
    process::{Command, Stdio},
    time::Duration,
};

use serde_json::Value;

use crate::{
    cluster::{Cluster, PATIENCE},
    fake_api_server::{self, FakeApiServer},
    scenarios::{ready, spec},
    world::World,
};

fn run_command() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_appconfig-operator"));
    command.arg("run");
    command
}

#[test]
fn bad_flags_are_refused_naming_the_flag() {
    for (variable, value, expected) in [
        (
            "APPCONFIG_OPERATOR_POLL_INTERVAL",
            "0s",
            "must be longer than zero",
        ),
        (
            "APPCONFIG_OPERATOR_RESYNC_INTERVAL",
            "ten minutes",
            "write durations like 15s",
        ),
        (
            "APPCONFIG_OPERATOR_EVENT_LOG_LIMIT",
            "0",
            "0 is not in 1..=100",
        ),
        (
            "APPCONFIG_OPERATOR_LOG_FORMAT",
            "xml",
            "possible values: text, json",
        ),
    ] {
        let output = run_command().env(variable, value).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{variable}={value}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        let flag = variable
            .trim_start_matches("APPCONFIG_OPERATOR_")
            .to_lowercase()
            .replace('_', "-");
        assert!(
            stderr.contains(&format!("--{flag}")) && stderr.contains(expected),
            "{variable}: {stderr}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_converges_a_resource_and_stops_cleanly_on_sigterm() {
    let fake = FakeApiServer::new();
    let address = fake.serve().await.expect("the fake API server listens");
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    fs::write(&kubeconfig, fake_api_server::kubeconfig(address)).unwrap();
    let world = World::start().await;
    let t = world.target("shop", "production", "flags", &[]).await;
    let v1 = world.version(&t, &t.profile, "{}", None).await;
    world.strategy("instant", 0, 100.0, 0).await;

    // No AWS configuration at all: the endpoint alone is enough for an emulator.
    let mut child = run_command()
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("KUBECONFIG", &kubeconfig)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env(
            "APPCONFIG_OPERATOR_AWS_ENDPOINT_URL",
            world.emulator.endpoint_url(),
        )
        .env("APPCONFIG_OPERATOR_NAMESPACE", "shop")
        .env("APPCONFIG_OPERATOR_POLL_INTERVAL", "200ms")
        .env("APPCONFIG_OPERATOR_LOG_FORMAT", "json")
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let cluster = Cluster {
        client: fake.client(),
        namespace: "shop".to_owned(),
        fake: Some(fake),
    };
    cluster.apply("flags", &spec(&t, &v1, "instant")).await;
    cluster
        .wait_for("flags", "Ready", |o| ready(o) == Some(("True", "Deployed")))
        .await;
    assert_eq!(world.calls("StartDeployment"), 1);

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let exited = tokio::time::timeout(PATIENCE, async {
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("the operator stops after SIGTERM");
    let mut log = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    assert!(exited.success(), "exit {exited}: {log}");

    let lines: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let message = |text: &str| lines.iter().find(|l| l["message"] == text);
    let started = message("started a deployment").unwrap_or_else(|| panic!("{log}"));
    assert_eq!(started["resource"], "shop/flags");
    assert_eq!(started["deployment"], 1);
    assert!(message("no AWS credentials found; signing AppConfig calls with placeholder credentials, which only an emulator accepts").is_some(), "{log}");
    assert!(message("controller started").is_some(), "{log}");
    assert!(message("controller stopped").is_some(), "{log}");
}
