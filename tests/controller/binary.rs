//! The `appconfig-operator run` binary as users start it, against the fake API server served over
//! HTTP: flags are checked, a resource converges and a sync writes its target, logs are JSON
//! naming the resource, SIGTERM
//! stops it cleanly, and `--embedded-emulator` needs nothing but a cluster.

use std::{
    fs,
    io::{BufRead, BufReader},
    path::PathBuf,
    process::{Child, Command, ExitStatus, Stdio},
    sync::mpsc,
    time::Duration,
};

use serde_json::Value;
use tempfile::TempDir;

use crate::{
    cluster::{Cluster, PATIENCE},
    fake_api_server::{self, FakeApiServer},
    http_get::get,
    scenarios::{ready, spec, sync},
    world::{AppConfigUser, World},
};

const NAMESPACE: &str = "shop";

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
        (
            "APPCONFIG_OPERATOR_DEFAULT_SERVICE_ACCOUNT",
            "Team_A",
            "must be a ServiceAccount name",
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

/// The fake API server over HTTP and a kubeconfig pointing at it.
struct ServedCluster {
    cluster: Cluster,
    kubeconfig: PathBuf,
    _dir: TempDir,
}

impl ServedCluster {
    async fn start() -> Self {
        let fake = FakeApiServer::new();
        let address = fake.serve().await.expect("the fake API server listens");
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = dir.path().join("kubeconfig");
        fs::write(&kubeconfig, fake_api_server::kubeconfig(address)).unwrap();
        let cluster = Cluster {
            client: fake.client(),
            namespace: NAMESPACE.to_owned(),
            fake: Some(fake),
        };
        Self {
            cluster,
            kubeconfig,
            _dir: dir,
        }
    }

    /// `run` with no AWS configuration at all, watching the scenario namespace.
    fn operator(&self, envs: &[(&str, &str)]) -> OperatorProcess {
        let mut command = run_command();
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("KUBECONFIG", &self.kubeconfig)
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("APPCONFIG_OPERATOR_NAMESPACE", NAMESPACE)
            .env("APPCONFIG_OPERATOR_POLL_INTERVAL", "200ms")
            .env("APPCONFIG_OPERATOR_LOG_FORMAT", "json")
            .env("APPCONFIG_OPERATOR_HTTP_ADDR", "127.0.0.1:0")
            .envs(envs.iter().copied());
        OperatorProcess::spawn(command)
    }
}

/// A running operator whose JSON log lines are read as they come.
struct OperatorProcess {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<Value>,
}

impl OperatorProcess {
    fn spawn(mut command: Command) -> Self {
        let mut child = command
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        let stderr = BufReader::new(child.stderr.take().unwrap());
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// The first log line whose message is `message`, waiting for it if needed.
    fn log_line(&mut self, message: &str) -> Value {
        let found = |lines: &[Value]| lines.iter().find(|l| l["message"] == message).cloned();
        if let Some(line) = found(&self.seen) {
            return line;
        }
        tokio::task::block_in_place(|| {
            loop {
                let line = self
                    .lines
                    .recv_timeout(PATIENCE)
                    .unwrap_or_else(|_| panic!("no log line '{message}' in {:#?}", self.seen));
                let line: Value = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
                let wanted = line["message"] == message;
                self.seen.push(line.clone());
                if wanted {
                    return line;
                }
            }
        })
    }

    /// Every line logged, once the process has exited.
    fn all_lines(&mut self) -> &[Value] {
        tokio::task::block_in_place(|| {
            while let Ok(line) = self.lines.recv_timeout(PATIENCE) {
                let line = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
                self.seen.push(line);
            }
        });
        &self.seen
    }

    /// Sends SIGTERM and waits for the exit.
    fn terminate(&mut self) -> ExitStatus {
        let killed = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        tokio::task::block_in_place(|| {
            let deadline = std::time::Instant::now() + PATIENCE;
            loop {
                if let Some(status) = self.child.try_wait().unwrap() {
                    return status;
                }
                assert!(
                    std::time::Instant::now() < deadline,
                    "the operator is still running {PATIENCE:?} after SIGTERM"
                );
                std::thread::sleep(Duration::from_millis(50));
            }
        })
    }
}

impl Drop for OperatorProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_converges_a_resource_and_stops_cleanly_on_sigterm() {
    let served = ServedCluster::start().await;
    let world = World::start().await;
    let t = world.target("shop", "production", "flags", &[]).await;
    let v1 = world.version(&t, &t.profile, "{}", None).await;
    world.strategy("instant", 0, 100.0, 0).await;

    // The endpoint alone is enough for an emulator: no credentials, no region.
    let endpoint = world.emulator.endpoint_url();
    let mut operator = served.operator(&[
        ("APPCONFIG_OPERATOR_AWS_ENDPOINT_URL", &endpoint),
        ("APPCONFIG_OPERATOR_LEADER_ELECT", "true"),
        ("APPCONFIG_OPERATOR_LEASE_NAMESPACE", NAMESPACE),
        ("APPCONFIG_OPERATOR_INSTANCE", "operator-0"),
    ]);
    operator.log_line(
        "no AWS credentials found; signing AppConfig calls with placeholder credentials, which only an emulator accepts",
    );
    operator.log_line("controller started");
    served
        .cluster
        .apply("flags", &spec(&t, &v1, "instant"))
        .await;
    served
        .cluster
        .wait_for("flags", "Ready", |o| ready(o) == Some(("True", "Deployed")))
        .await;
    assert_eq!(world.calls("StartDeployment"), 1);
    let started = operator.log_line("started a deployment");
    assert_eq!(started["resource"], "shop/flags");
    assert_eq!(started["deployment"], 1);
    let listening = operator.log_line("serving /healthz, /readyz and /metrics");
    let address = listening["address"].as_str().unwrap().parse().unwrap();
    let metrics = get(address, "/metrics").await.body;
    for sample in [
        "appconfig_operator_leader 1",
        r#"appconfig_operator_deployments_started_total{controller="appconfigdeployment"} 1"#,
    ] {
        assert!(
            metrics.lines().any(|l| l == sample),
            "no {sample} in {metrics}"
        );
    }
    // The instance name, with a suffix of this process's own.
    let holder = lease_holder(&served).expect("a holder");
    assert!(holder.starts_with("operator-0_"), "{holder}");

    // The AppConfigSync controller runs in the same process.
    operator.log_line("AppConfigSync controller started");
    sync::apply(&served.cluster, "flags-sync", &sync::sync_spec(&t, 15)).await;
    let cm = sync::wait_config_map(&served.cluster, "flags-sync", "written", |cm| cm.is_some())
        .await
        .unwrap();
    assert_eq!(sync::text(&cm, "config.json").as_deref(), Some("{}"));
    let written = operator.log_line("target written");
    assert_eq!(written["resource"], "shop/flags-sync");
    assert_eq!(written["object"], "ConfigMap/flags-sync");

    assert!(operator.terminate().success(), "{:#?}", operator.seen);
    operator.log_line("controller stopped");
    operator.log_line("AppConfigSync controller stopped");
    operator.log_line("released the lease");
    assert_eq!(lease_holder(&served), None);
}

fn lease_holder(served: &ServedCluster) -> Option<String> {
    let fake = served.cluster.fake.as_ref().unwrap();
    let lease = fake
        .get(
            "apis/coordination.k8s.io/v1",
            Some(NAMESPACE),
            "leases",
            "appconfig-operator",
        )
        .expect("the lease exists");
    lease["spec"]["holderIdentity"].as_str().map(str::to_owned)
}

#[test]
fn a_taken_http_port_is_refused_naming_the_flag() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let output = run_command()
        .env_clear()
        .env("APPCONFIG_OPERATOR_HTTP_ADDR", &address)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("cannot listen on {address} (--http-addr)")),
        "{stderr}"
    );
}

#[test]
fn leader_election_outside_a_pod_needs_the_lease_namespace() {
    // Outside a pod, wherever the test runs (a CI runner may itself be a pod).
    let no_file = std::env::temp_dir().join("appconfig-operator-test-no-such-namespace-file");
    let output = run_command()
        .env_clear()
        .env("APPCONFIG_OPERATOR_HTTP_ADDR", "127.0.0.1:0")
        .env("APPCONFIG_OPERATOR_LEADER_ELECT", "true")
        .env(
            "APPCONFIG_OPERATOR_SERVICE_ACCOUNT_NAMESPACE_FILE",
            &no_file,
        )
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(
            "--leader-elect needs the lease's namespace: set --lease-namespace (or POD_NAMESPACE)"
        ),
        "{stderr}"
    );
}

#[test]
fn leader_election_in_a_pod_reads_the_lease_namespace_from_the_service_account() {
    let file = std::env::temp_dir().join(format!(
        "appconfig-operator-test-namespace-{}",
        std::process::id()
    ));
    std::fs::write(&file, "ops\n").unwrap();
    let output = run_command()
        .env_clear()
        .env("APPCONFIG_OPERATOR_HTTP_ADDR", "127.0.0.1:0")
        .env("APPCONFIG_OPERATOR_LEADER_ELECT", "true")
        .env("APPCONFIG_OPERATOR_SERVICE_ACCOUNT_NAMESPACE_FILE", &file)
        .output()
        .unwrap();
    std::fs::remove_file(&file).unwrap();
    // Past the lease's namespace, the start fails on the next thing missing: a cluster.
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("lease's namespace"), "{stderr}");
    assert!(stderr.contains("cannot reach Kubernetes"), "{stderr}");
}

#[test]
fn a_lease_retry_period_too_long_to_renew_in_time_is_refused() {
    let output = run_command()
        .env_clear()
        .env("APPCONFIG_OPERATOR_HTTP_ADDR", "127.0.0.1:0")
        .env("APPCONFIG_OPERATOR_LEADER_ELECT", "true")
        .env("APPCONFIG_OPERATOR_LEASE_NAMESPACE", "ops")
        .env("APPCONFIG_OPERATOR_LEASE_DURATION", "3s")
        .env("APPCONFIG_OPERATOR_LEASE_RETRY_PERIOD", "1s")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(
            "--lease-retry-period (1s) must be shorter than a third of --lease-duration (3s)"
        ),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_emulator_needs_nothing_but_a_cluster() {
    let served = ServedCluster::start().await;
    let mut operator = served.operator(&[
        ("APPCONFIG_OPERATOR_EMBEDDED_EMULATOR", "true"),
        ("APPCONFIG_OPERATOR_EMBEDDED_EMULATOR_LISTEN", "127.0.0.1:0"),
    ]);
    let warning = operator.log_line("EMBEDDED EMULATOR: this operator is NOT talking to AWS. Every AppConfig call goes to an in-process emulator whose state is lost when the operator stops. Create applications in it with AWS_ENDPOINT_URL_APPCONFIG set to the endpoint URL");
    assert_eq!(warning["level"], "WARN");
    let endpoint = warning["endpoint_url"].as_str().expect("the URL is logged");

    // The walkthrough, with names: what a user does with the AWS CLI.
    let user = AppConfigUser::at(endpoint);
    let t = user
        .target("checkout", "production", "feature-flags", &[])
        .await;
    user.version(&t, &t.profile, r#"{"oneClick":true}"#, None)
        .await;
    let mut by_name = spec(&t, "1", "AppConfig.AllAtOnce");
    by_name.application = "checkout".into();
    by_name.environment = "production".into();
    by_name.configuration_profile = "feature-flags".into();
    served.cluster.apply("checkout-flags", &by_name).await;
    let o = served
        .cluster
        .wait_for("checkout-flags", "baking in the embedded emulator", |o| {
            ready(o) == Some(("False", "Baking"))
        })
        .await;
    assert_eq!(o.status.unwrap().deployment_number, Some(1));
    assert!(operator.terminate().success(), "{:#?}", operator.seen);

    // A first run is quiet: the embedded emulator's request lines are at DEBUG, and nothing but
    // the emulator's own notice warns (no region lookup, no credentials lookup).
    let lines = operator.all_lines();
    let requests = lines.iter().filter(|l| l["message"] == "request").count();
    assert_eq!(requests, 0, "request lines at INFO: {lines:#?}");
    let warnings: Vec<&Value> = lines.iter().filter(|l| l["level"] == "WARN").collect();
    assert_eq!(warnings, [&warning], "{lines:#?}");
}
