//! The controller at scale: 1,000 AppConfigDeployments, each with an AppConfig environment of its
//! own, reconciled by the release binary running as its own process against the in-process
//! AppConfig emulator and the fake Kubernetes API server served over HTTP. Prints the time until
//! all are Ready, change → StartDeployment latency, the controller's peak RSS, and the AppConfig
//! calls a settled controller makes, each next to its target (PASS/MISS).
//!
//! What the resources declare is `BENCH_MODE`:
//! - `content` (the default): each resource deploys a key of a ConfigMap of its own
//!   (`spec.contentFrom`), every one different, so the operator creates one hosted version per
//!   resource (20 per profile with the defaults: 1,000 over 50 profiles). The bench prints the
//!   AppConfig calls per resource by operation until all are Ready (one
//!   CreateHostedConfigurationVersion and one StartDeployment each, at most one
//!   ListHostedConfigurationVersions per profile and identity), the ConfigMap GETs each
//!   reconcile costs the API server, and the latency from a ConfigMap edit to its
//!   StartDeployment;
//! - `version`: each resource names version 1 of its profile (`spec.configurationVersion`), and
//!   a change patches it to 2.
//!
//! Before the operator starts, `BENCH_UNRELATED_CONFIG_MAPS` ConfigMaps that no resource reads,
//! 2 KiB of data each, are stored in the resources' namespace and four others, and the operator
//! watches all namespaces: its watch of ConfigMap metadata lists them all, and its peak RSS shows
//! whether it keeps their data.
//!
//! Then the operator is restarted over the settled resources, and the bench prints the AppConfig
//! calls of its first 5 seconds and how long until it has looked at every environment again:
//! the cost that `--aws-qps` bounds.
//!
//! By default the resources act in AWS as 10 ServiceAccounts of their namespace, round-robin
//! (`spec.serviceAccountName`), each annotated with a role that trusts only it and may do
//! anything in AppConfig: the fake API server's issuer is registered with the emulator's IAM,
//! and the operator gets each ServiceAccount's token with the TokenRequest API and exchanges it
//! with STS AssumeRoleWithWebIdentity. The bench prints the TokenRequests and STS calls until
//! all are Ready, in the settled window, and per credential lifetime: the emulator's clock is
//! moved past the credentials' 3,600 s, so that each ServiceAccount's next call is refused with
//! ExpiredTokenException and renews its session, and every resource resyncs once more. The
//! claim: 1,000 resources sharing 10 ServiceAccounts cost at most 10 of each per hour. The
//! restarted operator's new sessions are counted too.
//!
//! `cargo bench --bench controller`. Environment overrides for quick runs:
//! - `BENCH_MODE`: `content` (the default) or `version`, as above;
//! - `BENCH_RESOURCES`: resources and environments, default 1000 (at most 2000, the emulator's
//!   quotas: 100 applications of 20 environments);
//! - `BENCH_PROFILES`: applications, each with one hosted profile, the resources spread evenly
//!   over them; default 50, and at least one per 20 resources (the environments an application
//!   may have), at most one per resource and 100;
//! - `BENCH_UNRELATED_CONFIG_MAPS`: the ConfigMaps no resource reads, default 10000 (0: none);
//! - `BENCH_CHANGES`: resources changed one at a time (their version, or their ConfigMap's
//!   content), default 200;
//! - `BENCH_RESYNC_SECONDS`: the operator's `--resync-interval`, default 10;
//! - `BENCH_WINDOW_SECONDS`: how long the settled controller's calls are counted, default 60;
//! - `BENCH_AWS_QPS`: the operator's `--aws-qps`, default 10 as the operator's (0: no limit).
//!   The settled resources' resyncs must fit in it: 1,000 resources resynced every 10 s need 100
//!   calls a second, so a limited run wants `BENCH_RESYNC_SECONDS=600` (the operator's default);
//! - `BENCH_LOG_LEVEL`: the operator's `--log-level`, default `warn`;
//! - `BENCH_SERVICE_ACCOUNTS`: the ServiceAccounts the resources act as, default 10 (at most
//!   one a resource); 0: every resource acts as the operator itself, as before tenancy.

#[path = "../tests/support/fake_api_server/mod.rs"]
mod fake_api_server;
#[allow(dead_code)] // The benchmark arranges AppConfig with part of the scenarios' world.
#[path = "../tests/controller/world.rs"]
mod world;

#[path = "support/report.rs"]
mod report;

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    env,
    fmt::Write as _,
    fs,
    net::{SocketAddr, TcpListener},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use appconfig_operator::{
    api::v1alpha1::{AppConfigDeployment, AppConfigDeploymentSpec, ConfigMapKeyRef, ContentFrom},
    emulator::{Quotas, iam::RoleDefinition},
    tenancy::session::RENEW_BEFORE,
};
use bytes::Bytes;
use fake_api_server::FakeApiServer;
use futures::{StreamExt, future::join_all, stream};
use http_body_util::{BodyExt, Empty};
use hyper_util::{client::legacy::Client as HttpClient, rt::TokioExecutor};
use k8s_openapi::api::core::v1::{ConfigMap, ServiceAccount};
use kube::{
    Api,
    api::{ObjectMeta, Patch, PatchParams, PostParams},
};
use report::{note, row};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use world::{Target, World};

const NAMESPACE: &str = "bench";
const PROFILE: &str = "flags";
const STRATEGY: &str = "bench-instant";
const ACD_PREFIX: &str = "apis/appconfig.operators.dev/v1alpha1";
const ACD_PLURAL: &str = "appconfigdeployments";
/// The operator's default `--resync-interval`, which the settled call rate is scaled to.
const DEFAULT_RESYNC: Duration = Duration::from_secs(600);

/// The operator's `--aws-qps` and `--aws-burst` defaults.
const DEFAULT_AWS_QPS: f64 = 10.0;
const AWS_BURST: u64 = 20;
/// How long the restarted operator's first calls are counted.
const RESTART_WINDOW: Duration = Duration::from_secs(5);

/// Without a rate limit; with one, the calls needed at that rate take longer.
const READY_TARGET: Duration = Duration::from_secs(60);
const P99_TARGET: Duration = Duration::from_millis(250);
const RSS_TARGET_KIB: u64 = 64 * 1024;

/// The key of each resource's ConfigMap that holds its content.
const CONTENT_KEY: &str = "flags.json";
/// The namespaces the unrelated ConfigMaps are spread over, round-robin: the resources' and
/// four others.
const UNRELATED_NAMESPACES: [&str; 5] = [NAMESPACE, "team-a", "team-b", "team-c", "team-d"];
/// The data of each unrelated ConfigMap, about: an application's properties file.
const UNRELATED_BYTES: usize = 2 * 1024;
/// ConfigMap creates in flight at once while they are stored before the operator starts.
const SEEDING_CONCURRENCY: usize = 64;

/// The emulator's STS operation, counted apart from the AppConfig calls.
const STS_OPERATION: &str = "AssumeRoleWithWebIdentity";
/// The account the emulator's ARNs name.
const ACCOUNT: &str = "123456789012";
/// How long the emulator's STS credentials last, in emulated time (its most and default).
const CREDENTIAL_LIFETIME: Duration = Duration::from_secs(3600);

/// What the resources declare, and so what a change is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// `spec.contentFrom`, a ConfigMap of its own for each resource; a change edits it.
    Content,
    /// `spec.configurationVersion` 1; a change patches it to 2.
    Version,
}

impl Mode {
    fn from_env() -> Self {
        match env::var("BENCH_MODE").as_deref() {
            Err(_) | Ok("content") => Self::Content,
            Ok("version") => Self::Version,
            Ok(other) => panic!("BENCH_MODE must be content or version, not {other:?}"),
        }
    }

    /// What a change is, in the figures' names.
    fn change(self) -> &'static str {
        match self {
            Self::Content => "ConfigMap edit",
            Self::Version => "spec change",
        }
    }
}

struct Settings {
    mode: Mode,
    resources: usize,
    /// Applications, each with one hosted profile.
    profiles: usize,
    /// ConfigMaps that no resource reads, stored before the operator starts.
    unrelated_config_maps: usize,
    changes: usize,
    resync: Duration,
    window: Duration,
    /// The operator's `--aws-qps`; 0 is no limit.
    aws_qps: f64,
    /// The ServiceAccounts the resources act as, round-robin; 0: the operator's own identity.
    service_accounts: usize,
}

impl Settings {
    fn from_env() -> Self {
        let resources = env_number("BENCH_RESOURCES", 1_000);
        let q = Quotas::default();
        let most = q.applications * q.environments_per_application;
        assert!(
            (1..=most).contains(&resources),
            "BENCH_RESOURCES must be 1..={most}: the emulator's quotas allow {} applications of {} environments",
            q.applications,
            q.environments_per_application
        );
        let fewest = resources.div_ceil(q.environments_per_application);
        let most = resources.min(q.applications);
        let profiles = env_number("BENCH_PROFILES", 50.clamp(fewest, most));
        assert!(
            (fewest..=most).contains(&profiles),
            "BENCH_PROFILES must be {fewest}..={most} for {resources} resources: one profile to an application of at most {} environments",
            q.environments_per_application
        );
        Self {
            mode: Mode::from_env(),
            resources,
            profiles,
            unrelated_config_maps: env_number("BENCH_UNRELATED_CONFIG_MAPS", 10_000),
            // Each resource changes at most once, so every change starts exactly one deployment.
            changes: env_number("BENCH_CHANGES", 200).clamp(1, resources),
            resync: Duration::from_secs(env_number("BENCH_RESYNC_SECONDS", 10) as u64),
            window: Duration::from_secs(env_number("BENCH_WINDOW_SECONDS", 60) as u64),
            aws_qps: env::var("BENCH_AWS_QPS")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(DEFAULT_AWS_QPS),
            service_accounts: env_number("BENCH_SERVICE_ACCOUNTS", 10).min(resources),
        }
    }

    /// The application (and profile) of resource `index`: as many resources to each as evenly
    /// as can be, in order.
    fn application_of(&self, index: usize) -> usize {
        index * self.profiles / self.resources
    }

    /// The resources of `application`.
    fn resources_of(&self, application: usize) -> std::ops::Range<usize> {
        let first = |application: usize| (application * self.resources).div_ceil(self.profiles);
        first(application)..first(application + 1)
    }

    /// The ServiceAccount resource `index` acts as, round-robin; none: the operator's own identity.
    fn service_account_of(&self, index: usize) -> Option<usize> {
        (self.service_accounts > 0).then(|| index % self.service_accounts)
    }

    /// The profiles as many times as identities read them: what the operator lists a profile's
    /// hosted versions for, since what an identity learnt from AWS serves only that identity.
    fn profile_readers(&self) -> usize {
        (0..self.resources)
            .map(|index| (self.application_of(index), self.service_account_of(index)))
            .collect::<HashSet<_>>()
            .len()
    }
}

fn env_number(name: &str, default: usize) -> usize {
    env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() {
    let settings = Settings::from_env();
    let world = World::start().await;
    world.strategy(STRATEGY, 0, 100.0, 0).await;
    let targets = arrange(&world, &settings).await;
    let fake = FakeApiServer::new();
    let api_server = fake.serve().await.expect("the fake API server listens");
    arrange_tenancy(&world, &fake, settings.service_accounts).await;
    let seeded = seed_config_maps(&fake, &settings).await;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let endpoint = world.emulator.endpoint_url();
    let launch = Launch {
        dir: dir.path(),
        api_server,
        aws_endpoint: &endpoint,
        settings: &settings,
    };
    let operator = launch.spawn("operator").await;
    print_header(&settings, &seeded);

    let names: Vec<String> = (0..settings.resources).map(resource_name).collect();
    if !create_and_wait(&world, &fake, &operator, &names, &settings).await {
        report_rss(&operator, &fake, &seeded);
        operator.stop();
        return;
    }
    measure_changes(&world, &fake, &operator, &targets, &settings).await;
    measure_settled(&world, &fake, &operator, &names, &settings).await;
    measure_credential_lifetime(&world, &fake, &names, &settings).await;
    report_rss(&operator, &fake, &seeded);
    operator.stop();
    measure_restart(&world, &fake, &launch).await;
    world.emulator.shutdown().await.expect("the emulator stops");
}

fn application_name(application: usize) -> String {
    format!("bench-app-{application:03}")
}

fn environment_name(index: usize) -> String {
    format!("env-{index:04}")
}

fn resource_name(index: usize) -> String {
    format!("acd-{index:04}")
}

/// The ConfigMap resource `index` reads in the content mode.
fn content_name(index: usize) -> String {
    format!("content-{index:04}")
}

fn service_account_name(index: usize) -> String {
    format!("bench-sa-{index}")
}

fn role_arn(service_account: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:role/{service_account}")
}

/// IAM as a platform team sets it up for `service_accounts` tenants: the cluster's issuer
/// registered as an OIDC provider from what the API server publishes (as `eksctl utils
/// associate-iam-oidc-provider` does), and for each ServiceAccount `bench-sa-<i>` a role
/// trusting only its tokens, allowed all of AppConfig (the figures are call counts, not
/// refusals), named by the ServiceAccount's `eks.amazonaws.com/role-arn`.
async fn arrange_tenancy(world: &World, fake: &FakeApiServer, service_accounts: usize) {
    if service_accounts == 0 {
        return;
    }
    let client = fake.client();
    let discovery = read_json(&client, "/.well-known/openid-configuration").await;
    let jwks = read_json(&client, "/openid/v1/jwks").await;
    let issuer = discovery["issuer"]
        .as_str()
        .expect("the discovery document names the issuer");
    let control = world.emulator.control();
    control
        .register_oidc_provider(issuer, jwks)
        .expect("the emulator registers the issuer");
    let accounts: Api<ServiceAccount> = Api::namespaced(client, NAMESPACE);
    for index in 0..service_accounts {
        let name = service_account_name(index);
        let role: RoleDefinition = serde_json::from_value(json!({
            "roleArn": role_arn(&name),
            "trust": {
                "issuer": issuer,
                "audience": "sts.amazonaws.com",
                "subjects": [format!("system:serviceaccount:{NAMESPACE}:{name}")],
            },
            "policy": {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "appconfig:*", "Resource": "*"}],
            },
        }))
        .expect("a role definition");
        control
            .define_role(role)
            .expect("the emulator defines the role");
        let account = ServiceAccount {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                namespace: Some(NAMESPACE.into()),
                annotations: Some(
                    [("eks.amazonaws.com/role-arn".to_owned(), role_arn(&name))].into(),
                ),
                ..ObjectMeta::default()
            },
            ..ServiceAccount::default()
        };
        accounts
            .create(&PostParams::default(), &account)
            .await
            .expect("the ServiceAccount is created");
    }
}

async fn read_json(client: &kube::Client, path: &str) -> Value {
    let request = http::Request::get(path)
        .body(Vec::new())
        .expect("a request");
    let text = client
        .request_text(request)
        .await
        .unwrap_or_else(|e| panic!("the API server serves {path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path} is JSON: {e}: {text}"))
}

/// What the resources have cost so far besides AppConfig calls: for their identities,
/// TokenRequests the API server answered and AssumeRoleWithWebIdentity calls STS received
/// (refused ones included); for their content, the ConfigMap GETs the API server received; and
/// the reconciles `operator` ran (0 without one: one about to start).
#[derive(Clone, Copy)]
struct Cost {
    tokens: usize,
    sts: u64,
    config_map_gets: usize,
    reconciles: u64,
}

impl Cost {
    async fn now(world: &World, fake: &FakeApiServer, operator: Option<&Operator>) -> Self {
        Self {
            tokens: fake.token_requests().len(),
            sts: world.calls(STS_OPERATION),
            config_map_gets: fake.count_reads("get", "configmaps"),
            reconciles: match operator {
                Some(operator) => operator.reconciles().await,
                None => 0,
            },
        }
    }

    async fn since(self, world: &World, fake: &FakeApiServer, operator: Option<&Operator>) -> Self {
        let now = Self::now(world, fake, operator).await;
        Self {
            tokens: now.tokens - self.tokens,
            sts: now.sts - self.sts,
            config_map_gets: now.config_map_gets - self.config_map_gets,
            reconciles: now.reconciles - self.reconciles,
        }
    }

    /// One row, `figure` naming the reconciles: in the content mode each reads its resource's
    /// ConfigMap once, in the version mode none.
    fn report_reads(self, figure: &str, mode: Mode) {
        let per_reconcile = self.config_map_gets as f64 / self.reconciles.max(1) as f64;
        // The two counts are read one after the other, while reconciles run: a window edge
        // may split a reconcile from its read, at most once per reconcile in flight.
        let in_flight = u64::from(appconfig_operator::controller::Config::default().concurrency);
        let (target, pass) = match mode {
            Mode::Content => (
                "≤ 1.00",
                self.config_map_gets as u64 <= self.reconciles + in_flight,
            ),
            Mode::Version => ("0", self.config_map_gets == 0),
        };
        row(
            &format!("{figure}: ConfigMap GETs / reconcile"),
            &format!("{per_reconcile:.2}"),
            target,
            Some(pass),
        );
        note(&format!(
            "{} ConfigMap GETs over {} reconciles (the operator's reconciles_total; up to {in_flight} in flight at the window's edges)",
            self.config_map_gets, self.reconciles
        ));
    }

    /// Two rows, `figure` naming the calls: each at most `most`.
    fn report_identities(self, figure: &str, most: usize) {
        let target = if most == 0 {
            "0".to_owned()
        } else {
            format!("≤ {most}")
        };
        row(
            &format!("{figure}: TokenRequests"),
            &self.tokens.to_string(),
            &target,
            Some(self.tokens <= most),
        );
        row(
            &format!("{figure}: AssumeRoleWithWebIdentity"),
            &self.sts.to_string(),
            &target,
            Some(self.sts <= most as u64),
        );
    }
}

/// The AppConfig (and AppConfig Data) calls the emulator received so far, by operation: STS's
/// are the identities' cost, counted apart.
fn appconfig_calls(world: &World) -> BTreeMap<String, u64> {
    let mut calls = world.emulator.control().calls();
    calls.remove(STS_OPERATION);
    calls
}

/// One environment per resource, spread evenly over `settings.profiles` applications, and in
/// each application one hosted profile; in the version mode, with versions 1 and 2 (in the
/// content mode the operator creates them).
async fn arrange(world: &World, settings: &Settings) -> Vec<Target> {
    let arranged = join_all(
        (0..settings.profiles)
            .map(|a| arrange_application(world, a, settings.resources_of(a), settings.mode)),
    )
    .await;
    arranged.into_iter().flatten().collect()
}

async fn arrange_application(
    world: &World,
    number: usize,
    indexes: std::ops::Range<usize>,
    mode: Mode,
) -> Vec<Target> {
    let application = world
        .appconfig
        .create_application()
        .name(application_name(number))
        .send()
        .await
        .expect("application created")
        .id
        .expect("an application ID");
    let profile = world.profile(&application, PROFILE).await;
    let mut targets = Vec::new();
    for index in indexes {
        targets.push(Target {
            application: application.clone(),
            environment: world
                .environment(&application, &environment_name(index), &[])
                .await,
            profile: profile.clone(),
        });
    }
    if mode == Mode::Version {
        for version in ["1", "2"] {
            let content = format!(r#"{{"version":{version}}}"#);
            world.version(&targets[0], &profile, &content, None).await;
        }
    }
    targets
}

/// What was stored before the operator started, besides the resources' ServiceAccounts.
struct Seeded {
    /// ConfigMaps no resource reads, and the bytes of their data.
    unrelated: usize,
    unrelated_bytes: usize,
    /// The resources' own ConfigMaps (content mode).
    content: usize,
    took: Duration,
}

/// The resources' ConfigMaps (content mode) and the unrelated ones, created concurrently
/// through the API as any client creates them.
async fn seed_config_maps(fake: &FakeApiServer, settings: &Settings) -> Seeded {
    let started = Instant::now();
    let content: Vec<ConfigMap> = match settings.mode {
        Mode::Content => (0..settings.resources)
            .map(|index| content_config_map(index, 1))
            .collect(),
        Mode::Version => Vec::new(),
    };
    let unrelated: Vec<ConfigMap> = (0..settings.unrelated_config_maps)
        .map(unrelated_config_map)
        .collect();
    let unrelated_bytes = unrelated
        .iter()
        .flat_map(|config_map| config_map.data.iter().flat_map(|data| data.values()))
        .map(String::len)
        .sum();
    let (unrelated_count, content_count) = (unrelated.len(), content.len());
    let client = fake.client();
    stream::iter(content.into_iter().chain(unrelated))
        .for_each_concurrent(SEEDING_CONCURRENCY, |config_map| {
            let namespace = config_map.metadata.namespace.as_deref().unwrap_or_default();
            let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), namespace);
            async move {
                config_maps
                    .create(&PostParams::default(), &config_map)
                    .await
                    .expect("the ConfigMap is created");
            }
        })
        .await;
    Seeded {
        unrelated: unrelated_count,
        unrelated_bytes,
        content: content_count,
        took: started.elapsed(),
    }
}

/// Resource `index`'s ConfigMap at `revision`: feature flags, different for every resource
/// and revision, so that each is a hosted version of its own.
fn content_config_map(index: usize, revision: usize) -> ConfigMap {
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(content_name(index)),
            namespace: Some(NAMESPACE.into()),
            ..ObjectMeta::default()
        },
        data: Some([(CONTENT_KEY.to_owned(), content(index, revision))].into()),
        ..ConfigMap::default()
    }
}

fn content(index: usize, revision: usize) -> String {
    let flags: serde_json::Map<String, Value> = (0..16)
        .map(|flag| {
            let state = json!({
                "enabled": (index + revision + flag).is_multiple_of(3),
                "rolloutPercent": (index * 7 + flag * 13) % 101,
            });
            (format!("flag-{flag:02}"), state)
        })
        .collect();
    json!({"resource": resource_name(index), "revision": revision, "flags": flags}).to_string()
}

/// SHA-256 of `text`, in lowercase hex, as the operator writes it to status.contentSha256.
fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The `number`th ConfigMap no resource reads: an application's properties, about
/// `UNRELATED_BYTES` of them, with labels as a chart sets them.
fn unrelated_config_map(number: usize) -> ConfigMap {
    let service = format!("service-{:03}", number % 500);
    let mut properties = String::with_capacity(UNRELATED_BYTES + 64);
    let mut line = 0;
    while properties.len() < UNRELATED_BYTES {
        writeln!(
            properties,
            "{service}.setting-{line:03}=value-{:08x}",
            number.wrapping_mul(2_654_435_761) ^ line
        )
        .expect("writing to a String");
        line += 1;
    }
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(format!("{service}-config-{number:05}")),
            namespace: Some(UNRELATED_NAMESPACES[number % UNRELATED_NAMESPACES.len()].into()),
            labels: Some(
                [
                    ("app.kubernetes.io/name".to_owned(), service),
                    ("app.kubernetes.io/managed-by".to_owned(), "Helm".to_owned()),
                ]
                .into(),
            ),
            ..ObjectMeta::default()
        },
        data: Some([("application.properties".to_owned(), properties)].into()),
        ..ConfigMap::default()
    }
}

/// How to start the operator under test.
struct Launch<'a> {
    dir: &'a Path,
    api_server: SocketAddr,
    aws_endpoint: &'a str,
    settings: &'a Settings,
}

impl Launch<'_> {
    /// The release binary, running `run` against the emulator and the served fake, logging to
    /// `<name>.log`.
    async fn spawn(&self, name: &str) -> Operator {
        let dir = self.dir;
        let kubeconfig = dir.join("kubeconfig");
        fs::write(&kubeconfig, fake_api_server::kubeconfig(self.api_server))
            .expect("the kubeconfig is written");
        let log_path = dir.join(format!("{name}.log"));
        let log = fs::File::create(&log_path).expect("the log file is created");
        // Any free port for its metrics, which count its reconciles: the bench must not depend
        // on 8080 being free.
        let http_addr = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port");
        let mut child = Command::new(env!("CARGO_BIN_EXE_appconfig-operator"))
            .arg("run")
            .args(["--aws-endpoint-url", self.aws_endpoint])
            .args(["--region", "us-east-1", "--poll-interval", "1s"])
            .args([
                "--resync-interval",
                &format!("{}s", self.settings.resync.as_secs()),
            ])
            .args(["--aws-qps", &self.settings.aws_qps.to_string()])
            // All namespaces: the ConfigMap watch sees every ConfigMap of the cluster.
            .args(["--log-format", "json"])
            .args([
                "--log-level",
                &env::var("BENCH_LOG_LEVEL").unwrap_or_else(|_| "warn".into()),
            ])
            .args(["--http-addr", &http_addr.to_string()])
            .env("KUBECONFIG", &kubeconfig)
            .env("AWS_ACCESS_KEY_ID", "bench")
            .env("AWS_SECRET_ACCESS_KEY", "bench")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("the operator starts");
        // Its watch is open well within a second; creating resources before would measure its
        // start-up, which is not what the Ready figure is about.
        tokio::time::sleep(Duration::from_secs(1)).await;
        if let Some(status) = child.try_wait().expect("the operator's status") {
            let log = fs::read_to_string(&log_path).unwrap_or_default();
            panic!("the operator exited at start-up ({status}):\n{log}");
        }
        Operator {
            child,
            log: log_path,
            http_addr,
        }
    }
}

/// The operator process under test.
struct Operator {
    child: Child,
    log: PathBuf,
    /// Where it serves /metrics.
    http_addr: SocketAddr,
}

impl Operator {
    /// VmHWM: the most resident memory the process ever had.
    fn peak_rss_kib(&self) -> Option<u64> {
        let status = fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }

    /// The reconciles of AppConfigDeployments it has run, as its metrics count them.
    async fn reconciles(&self) -> u64 {
        let client = HttpClient::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
        let uri = format!("http://{}/metrics", self.http_addr)
            .parse()
            .expect("a metrics URI");
        let response = client.get(uri).await.expect("the operator serves /metrics");
        let body = response
            .into_body()
            .collect()
            .await
            .expect("the metrics are read")
            .to_bytes();
        String::from_utf8_lossy(&body)
            .lines()
            .filter(|line| {
                line.starts_with("appconfig_operator_reconciles_total{")
                    && line.contains(r#"controller="appconfigdeployment""#)
            })
            .filter_map(|line| line.rsplit_once(' ')?.1.parse::<f64>().ok())
            .sum::<f64>() as u64
    }

    /// SIGTERM, as Kubernetes stops a pod, then its log's warnings for the record.
    fn stop(mut self) {
        let terminated = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .is_ok_and(|s| s.success());
        let deadline = Instant::now() + Duration::from_secs(10);
        while terminated && Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        report_log(&fs::read_to_string(&self.log).unwrap_or_default());
    }
}

impl Drop for Operator {
    /// Never leaves the operator running after the benchmark, even when it panics.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn resource(index: usize, settings: &Settings) -> AppConfigDeployment {
    let mut spec = AppConfigDeploymentSpec::new(
        application_name(settings.application_of(index)),
        environment_name(index),
        PROFILE,
        "1",
        STRATEGY,
    );
    if settings.mode == Mode::Content {
        spec.configuration_version = None;
        spec.content_from = Some(ContentFrom {
            config_map_key_ref: ConfigMapKeyRef {
                name: content_name(index),
                key: CONTENT_KEY.into(),
            },
        });
    }
    spec.service_account_name = settings.service_account_of(index).map(service_account_name);
    let mut resource = AppConfigDeployment::new(&resource_name(index), spec);
    resource.metadata.namespace = Some(NAMESPACE.into());
    resource
}

/// Figure 1. False when not all became Ready, which leaves nothing settled to measure.
async fn create_and_wait(
    world: &World,
    fake: &FakeApiServer,
    operator: &Operator,
    names: &[String],
    settings: &Settings,
) -> bool {
    let resources: Api<AppConfigDeployment> = Api::namespaced(fake.client(), NAMESPACE);
    let calls_before = appconfig_calls(world);
    let cost = Cost::now(world, fake, Some(operator)).await;
    let started = Instant::now();
    for index in 0..names.len() {
        resources
            .create(&PostParams::default(), &resource(index, settings))
            .await
            .expect("the resource is created");
    }
    let created = started.elapsed();
    // A rate limit makes the calls each resource needs (about 5) take their time: wait as long
    // as 10 calls a resource take at the limit.
    let limit = match settings.aws_qps {
        qps if qps > 0.0 => {
            READY_TARGET * 2 + Duration::from_secs_f64(names.len() as f64 * 10.0 / qps)
        }
        _ => READY_TARGET * 2,
    };
    let outcome = wait_ready(fake, names, started, limit).await;
    let calls = difference(&appconfig_calls(world), &calls_before);
    let cost = cost.since(world, fake, Some(operator)).await;
    let total: u64 = calls.values().sum();
    // With a limit, nothing but the limit may slow them down: the calls made, at the limit,
    // within the same margin as without one.
    let target = match settings.aws_qps {
        qps if qps > 0.0 => READY_TARGET + Duration::from_secs_f64(total as f64 / qps),
        _ => READY_TARGET,
    };
    let figure = format!("all {} Ready after the first create", names.len());
    match outcome {
        Ok(took) => row(
            &figure,
            &format!("{:.2} s", took.as_secs_f64()),
            &format!("< {} s", target.as_secs()),
            Some(took < target),
        ),
        Err(pending) => row(
            &figure,
            &format!("{pending} not Ready"),
            &format!("< {} s", target.as_secs()),
            Some(false),
        ),
    }
    if let Ok(took) = outcome {
        note(&format!(
            "{total} AppConfig calls, {:.1} a second",
            total as f64 / took.as_secs_f64()
        ));
    }
    note(&format!(
        "creating them took {:.2} s; AppConfig calls until all Ready: {}",
        created.as_secs_f64(),
        format_calls(&calls)
    ));
    report_calls_per_resource(&calls, settings);
    cost.report_reads("until all Ready", settings.mode);
    cost.report_identities("until all Ready", settings.service_accounts);
    note(&identity_note(settings));
    outcome.is_ok()
}

/// The AppConfig calls that bringing each resource to Ready cost: one StartDeployment each, in
/// the content mode one CreateHostedConfigurationVersion each (every content is different),
/// and one ListHostedConfigurationVersions per profile for each identity that reads it (what
/// an identity learnt from AWS serves only that identity).
fn report_calls_per_resource(calls: &BTreeMap<String, u64>, settings: &Settings) {
    let count = |operation: &str| calls.get(operation).copied().unwrap_or(0);
    let per_resource = |count: u64| count as f64 / settings.resources as f64;
    let mut exactly_one = vec!["StartDeployment"];
    if settings.mode == Mode::Content {
        exactly_one.insert(0, "CreateHostedConfigurationVersion");
    }
    for operation in exactly_one {
        row(
            &format!("calls / resource: {operation}"),
            &format!("{:.2}", per_resource(count(operation))),
            "1.00",
            Some(count(operation) == settings.resources as u64),
        );
    }
    let lists = count("ListHostedConfigurationVersions");
    let readers = settings.profile_readers();
    row(
        "calls / resource: ListHostedConfigurationVersions",
        &format!("{:.3}", per_resource(lists)),
        &format!("≤ {:.3}", per_resource(readers as u64)),
        Some(lists <= readers as u64),
    );
    note(&format!(
        "until all Ready; listings: one per profile and identity reading it, {readers} for {} profiles{}",
        settings.profiles,
        match settings.service_accounts {
            0 => String::new(),
            n => format!(" read by up to {n} ServiceAccounts each"),
        }
    ));
    note(&format!(
        "per resource: {}",
        format_calls_as(calls, |count| format!("{:.2}", per_resource(count)))
    ));
}

/// Waits until every resource is Ready for its current generation; how long since `since`, or
/// how many were not Ready when `limit` passed.
async fn wait_ready(
    fake: &FakeApiServer,
    names: &[String],
    since: Instant,
    limit: Duration,
) -> Result<Duration, usize> {
    wait_ready_and(fake, names, since, limit, |_, _| true).await
}

/// As `wait_ready`, each resource also satisfying `also` (given its name and the object).
async fn wait_ready_and(
    fake: &FakeApiServer,
    names: &[String],
    since: Instant,
    limit: Duration,
    also: impl Fn(&str, &Value) -> bool,
) -> Result<Duration, usize> {
    let mut pending: Vec<&String> = names.iter().collect();
    loop {
        // A resource once done stays so until it is changed, so only the rest are read.
        pending.retain(|name| {
            let object = fake.get(ACD_PREFIX, Some(NAMESPACE), ACD_PLURAL, name);
            !object
                .as_ref()
                .is_some_and(|object| is_ready(object) && also(name, object))
        });
        if pending.is_empty() {
            return Ok(since.elapsed());
        }
        if since.elapsed() > limit {
            return Err(pending.len());
        }
        // Coarse enough to leave the CPUs to the operator, fine enough for a figure in seconds.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn is_ready(object: &Value) -> bool {
    let generation = &object["metadata"]["generation"];
    let status = &object["status"];
    status["observedGeneration"] == *generation
        && status["conditions"].as_array().is_some_and(|conditions| {
            conditions.iter().any(|c| {
                c["type"] == "Ready"
                    && c["status"] == "True"
                    && c["observedGeneration"] == *generation
            })
        })
}

/// Figure 2: with every resource present, one change at a time (a new version in the spec, or
/// new content in the ConfigMap), spread over the applications.
async fn measure_changes(
    world: &World,
    fake: &FakeApiServer,
    operator: &Operator,
    targets: &[Target],
    settings: &Settings,
) {
    let calls_before = appconfig_calls(world);
    let cost = Cost::now(world, fake, Some(operator)).await;
    let mut latencies = Vec::with_capacity(settings.changes);
    let mut changed = Vec::with_capacity(settings.changes);
    // In the content mode, Ready again means Ready with the new content.
    let mut new_content = HashMap::new();
    for k in 0..settings.changes {
        let index = k * settings.resources / settings.changes;
        latencies.push(change(world, fake, &targets[index], index, settings.mode).await);
        changed.push(resource_name(index));
        if settings.mode == Mode::Content {
            new_content.insert(resource_name(index), sha256_hex(&content(index, 2)));
        }
    }
    let calls = difference(&appconfig_calls(world), &calls_before);
    latencies.sort_unstable();
    let percentile = |p: f64| latencies[((latencies.len() - 1) as f64 * p) as usize];
    let p99 = percentile(0.99);
    let change = settings.mode.change();
    row(
        &format!(
            "{change} → StartDeployment p50 ({} changes)",
            latencies.len()
        ),
        &format!("{:.2?}", percentile(0.50)),
        "",
        None,
    );
    row(
        &format!("{change} → StartDeployment p99"),
        &format!("{p99:.2?}"),
        &format!("< {} ms", P99_TARGET.as_millis()),
        Some(p99 < P99_TARGET),
    );
    note(&format!(
        "max {:.2?}; timed from the patch's response to the emulator receiving StartDeployment (its call count, read every 1 ms), each then confirmed with ListDeployments",
        latencies[latencies.len() - 1]
    ));
    note(&format!(
        "AppConfig calls during the changes, the bench's confirming ListDeployments included: {}",
        format_calls(&calls)
    ));
    let since = Instant::now();
    let ready_again = wait_ready_and(fake, &changed, since, READY_TARGET, |name, object| {
        new_content
            .get(name)
            .is_none_or(|sha256| object["status"]["contentSha256"] == sha256.as_str())
    });
    if let Err(pending) = ready_again.await {
        panic!("{pending} changed resources were not Ready again within {READY_TARGET:?}");
    }
    cost.since(world, fake, Some(operator))
        .await
        .report_reads("changes", settings.mode);
}

/// Changes one resource: its version to 2, or its ConfigMap to revision 2; the time until the
/// emulator receives its StartDeployment.
async fn change(
    world: &World,
    fake: &FakeApiServer,
    target: &Target,
    index: usize,
    mode: Mode,
) -> Duration {
    let before = fake
        .get(
            ACD_PREFIX,
            Some(NAMESPACE),
            ACD_PLURAL,
            &resource_name(index),
        )
        .and_then(|object| {
            object["status"]["desiredVersion"]
                .as_str()
                .map(str::to_owned)
        })
        .unwrap_or_default();
    let starts = world.calls("StartDeployment");
    let params = PatchParams::default();
    match mode {
        Mode::Version => {
            let patch = Patch::Merge(json!({"spec": {"configurationVersion": "2"}}));
            Api::<AppConfigDeployment>::namespaced(fake.client(), NAMESPACE)
                .patch(&resource_name(index), &params, &patch)
                .await
                .expect("the spec is patched");
        }
        Mode::Content => {
            let patch = Patch::Merge(json!({"data": {CONTENT_KEY: content(index, 2)}}));
            Api::<ConfigMap>::namespaced(fake.client(), NAMESPACE)
                .patch(&content_name(index), &params, &patch)
                .await
                .expect("the ConfigMap is patched");
        }
    }
    let patched = Instant::now();
    let limit = Duration::from_secs(10);
    while world.calls("StartDeployment") == starts {
        assert!(
            patched.elapsed() < limit,
            "no StartDeployment within {limit:?} of changing {}",
            resource_name(index)
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let latency = patched.elapsed();
    confirm_redeployed(world, target, index, &before).await;
    latency
}

/// The StartDeployment counted was this environment's, of another version than `before`:
/// nothing else deploys while the others are settled, but a figure should not rest on that.
async fn confirm_redeployed(world: &World, target: &Target, index: usize, before: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let newest = world.deployments(target).await.into_iter().next();
        if newest.is_some_and(|(_, _, version, _)| version != before) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the deployment started after changing {} is not of a new version of its environment",
            resource_name(index)
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Figure 4: with every resource Ready, the AppConfig calls over a window of several resync
/// intervals, and the same rate at the default interval.
async fn measure_settled(
    world: &World,
    fake: &FakeApiServer,
    operator: &Operator,
    names: &[String],
    settings: &Settings,
) {
    if let Err(pending) = wait_ready(fake, names, Instant::now(), READY_TARGET).await {
        panic!("{pending} resources were not Ready before the settled window");
    }
    // The last status writes bring their resources back once more; let those pass.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let calls_before = appconfig_calls(world);
    let cost = Cost::now(world, fake, Some(operator)).await;
    let writes_before = fake.writes().len();
    tokio::time::sleep(settings.window).await;
    let calls = difference(&appconfig_calls(world), &calls_before);
    let writes = fake.writes().len() - writes_before;
    let cost = cost.since(world, fake, Some(operator)).await;

    let resources = settings.resources as f64;
    let intervals = settings.window.as_secs_f64() / settings.resync.as_secs_f64();
    let lists = calls.get("ListDeployments").copied().unwrap_or(0);
    let others: u64 = calls
        .iter()
        .filter(|(operation, _)| *operation != "ListDeployments")
        .map(|(_, count)| count)
        .sum();
    let total = lists + others;
    let per_interval = lists as f64 / resources / intervals;
    let per_hour_intervals = Duration::from_secs(3600).as_secs_f64() / DEFAULT_RESYNC.as_secs_f64();
    let per_resource_hour = total as f64 / resources / intervals * per_hour_intervals;
    row(
        "settled: ListDeployments / environment / resync",
        &format!("{per_interval:.3}"),
        "≤ 1",
        Some(per_interval <= 1.0),
    );
    row(
        "settled: other AppConfig calls",
        &others.to_string(),
        "0",
        Some(others == 0),
    );
    row(
        "settled: calls / resource / hour at 10m resync",
        &format!("{per_resource_hour:.2}"),
        "",
        None,
    );
    note(&format!(
        "window {} s at --resync-interval {} s ({intervals:.1} intervals), one resource per environment: {}; Kubernetes writes {writes}",
        settings.window.as_secs(),
        settings.resync.as_secs(),
        format_calls(&calls)
    ));
    note(&format!(
        "per hour: {total} calls / {} resources / {intervals:.1} intervals = {:.3} calls per resource per resync, × {per_hour_intervals:.0} resyncs an hour at the default {} min = {per_resource_hour:.2}",
        settings.resources,
        total as f64 / resources / intervals,
        DEFAULT_RESYNC.as_secs() / 60,
    ));
    cost.report_reads("settled", settings.mode);
    cost.report_identities("settled", 0);
}

/// Figure 5, with tenancy: what a credential lifetime costs at steady state. The emulator's
/// clock moves past the sessions' 3,600 s (only STS's credentials and the completed deployments
/// notice), so each ServiceAccount's next call is refused with ExpiredTokenException and its
/// session renews at once; every resource then resyncs at least once more. The claim: at most
/// one TokenRequest and one AssumeRoleWithWebIdentity per ServiceAccount per lifetime, and no
/// resource notices.
async fn measure_credential_lifetime(
    world: &World,
    fake: &FakeApiServer,
    names: &[String],
    settings: &Settings,
) {
    if settings.service_accounts == 0 {
        note("credential lifetime: not measured, the resources act as the operator itself");
        return;
    }
    if let Err(pending) = wait_ready(fake, names, Instant::now(), READY_TARGET).await {
        panic!("{pending} resources were not Ready before the credential lifetime");
    }
    let calls_before = appconfig_calls(world);
    let identities = Cost::now(world, fake, None).await;
    let advance = CREDENTIAL_LIFETIME + Duration::from_secs(60);
    world.advance(advance.as_secs());
    let started = Instant::now();
    // Every environment listed once more since the clock moved, then one more resync interval:
    // each resource's periodic resync has come round at least once.
    let limit = match settings.aws_qps {
        qps if qps > 0.0 => {
            Duration::from_secs(600).max(Duration::from_secs_f64(names.len() as f64 * 3.0 / qps))
        }
        _ => Duration::from_secs(600),
    };
    let listed = loop {
        let calls = difference(&appconfig_calls(world), &calls_before);
        if calls.get("ListDeployments").copied().unwrap_or(0) >= names.len() as u64 {
            break true;
        }
        if started.elapsed() > limit {
            break false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    tokio::time::sleep(settings.resync + Duration::from_secs(2)).await;
    let took = started.elapsed();
    let calls = difference(&appconfig_calls(world), &calls_before);
    let identities = identities.since(world, fake, None).await;
    let lists = calls.get("ListDeployments").copied().unwrap_or(0);
    identities.report_identities("per credential hour", settings.service_accounts);
    let (mut unready, mut stalled) = (0, 0);
    for name in names {
        let object = fake.get(ACD_PREFIX, Some(NAMESPACE), ACD_PLURAL, name);
        unready += usize::from(!object.as_ref().is_some_and(is_ready));
        stalled += usize::from(object.as_ref().is_some_and(is_stalled));
    }
    row(
        "per credential hour: resources not Ready / Stalled",
        &format!("{unready} / {stalled}"),
        "0 / 0",
        Some(listed && unready == 0 && stalled == 0),
    );
    note(&format!(
        "clock moved {} s forward, past every session's 3,600 s; counted over {:.1} s of wall time in which every environment was listed {}: {lists} ListDeployments{}; AppConfig calls: {}",
        advance.as_secs(),
        took.as_secs_f64(),
        if listed {
            "at least once"
        } else {
            "NOT once (limit reached)"
        },
        if listed { "" } else { " only" },
        format_calls(&calls)
    ));
    let lasts = 3600.0 - RENEW_BEFORE.as_secs_f64();
    note(&format!(
        "renewed on ExpiredTokenException; at the operator's own renewal, {} s before the stated expiry, a session lasts {lasts} s: {:.2} TokenRequests and AssumeRoleWithWebIdentity calls an hour for {} ServiceAccounts",
        RENEW_BEFORE.as_secs(),
        settings.service_accounts as f64 * 3600.0 / lasts,
        settings.service_accounts
    ));
}

fn is_stalled(object: &Value) -> bool {
    object["status"]["conditions"]
        .as_array()
        .is_some_and(|conditions| {
            conditions
                .iter()
                .any(|c| c["type"] == "Stalled" && c["status"] == "True")
        })
}

fn identity_note(settings: &Settings) -> String {
    match settings.service_accounts {
        0 => "identity: the operator's own credentials for every resource".to_owned(),
        n => format!(
            "identity: {} resources round-robin over {n} ServiceAccounts, one role and session each",
            settings.resources
        ),
    }
}

/// Figure 5: the operator restarted over settled resources, as in a rolling update. It has
/// every resource's IDs from its status, so it lists each environment once to check for drift;
/// a rate limit spreads those calls out.
async fn measure_restart(world: &World, fake: &FakeApiServer, launch: &Launch<'_>) {
    let settings = launch.settings;
    let before = appconfig_calls(world);
    let cost = Cost::now(world, fake, None).await;
    let started = Instant::now();
    let operator = launch.spawn("restarted-operator").await;
    tokio::time::sleep(RESTART_WINDOW.saturating_sub(started.elapsed())).await;
    let first = difference(&appconfig_calls(world), &before);
    let total: u64 = first.values().sum();
    let (target, pass) = if settings.aws_qps > 0.0 {
        let most = AWS_BURST + (settings.aws_qps * RESTART_WINDOW.as_secs_f64()).ceil() as u64;
        (format!("≤ {most}"), Some(total <= most))
    } else {
        (String::new(), None)
    };
    row(
        &format!(
            "restart: AppConfig calls in the first {} s",
            RESTART_WINDOW.as_secs()
        ),
        &format!(
            "{total} ({:.0}/s)",
            total as f64 / RESTART_WINDOW.as_secs_f64()
        ),
        &target,
        pass,
    );
    note(&format_calls(&first));
    // Every environment listed once more: the restarted operator has checked them all.
    let limit = Duration::from_secs(600);
    let listed = loop {
        let calls = difference(&appconfig_calls(world), &before);
        if calls.get("ListDeployments").copied().unwrap_or(0) >= settings.resources as u64 {
            break Some(started.elapsed());
        }
        if started.elapsed() > limit {
            break None;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let calls = difference(&appconfig_calls(world), &before);
    let total: u64 = calls.values().sum();
    match listed {
        Some(took) => row(
            "restart: every environment listed again after",
            &format!("{:.1} s", took.as_secs_f64()),
            "",
            None,
        ),
        None => row(
            "restart: every environment listed again after",
            &format!("> {} s", limit.as_secs()),
            "",
            Some(false),
        ),
    }
    note(&format!(
        "{total} AppConfig calls until then: {}",
        format_calls(&calls)
    ));
    let cost = cost.since(world, fake, Some(&operator)).await;
    cost.report_reads("restart", settings.mode);
    // The restarted operator has no sessions: one new one a ServiceAccount.
    cost.report_identities("restart: new sessions", settings.service_accounts);
    operator.stop();
}

fn difference(
    after: &BTreeMap<String, u64>,
    before: &BTreeMap<String, u64>,
) -> BTreeMap<String, u64> {
    after
        .iter()
        .map(|(operation, count)| {
            let earlier = before.get(operation).copied().unwrap_or(0);
            (operation.clone(), count - earlier)
        })
        .filter(|(_, count)| *count > 0)
        .collect()
}

fn format_calls(calls: &BTreeMap<String, u64>) -> String {
    format_calls_as(calls, |count| count.to_string())
}

/// Each operation with what `figure` makes of its count.
fn format_calls_as(calls: &BTreeMap<String, u64>, figure: impl Fn(u64) -> String) -> String {
    if calls.is_empty() {
        return "none".to_owned();
    }
    calls
        .iter()
        .map(|(operation, count)| format!("{operation} {}", figure(*count)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Figure 3, with what the operator's ConfigMap watch had to go through.
fn report_rss(operator: &Operator, fake: &FakeApiServer, seeded: &Seeded) {
    let target = format!("< {} MiB", RSS_TARGET_KIB / 1024);
    match operator.peak_rss_kib() {
        Some(kib) => row(
            "controller peak RSS (VmHWM)",
            &format!("{:.1} MiB", kib as f64 / 1024.0),
            &target,
            Some(kib < RSS_TARGET_KIB),
        ),
        None => row("controller peak RSS (VmHWM)", "n/a", &target, None),
    }
    note(&format!(
        "watching all namespaces, with {} unrelated ConfigMaps ({:.1} MiB of data) in {} namespaces and {} read by the resources; the operator listed ConfigMaps {} times (metadata only, in pages) and watched them {} times",
        seeded.unrelated,
        seeded.unrelated_bytes as f64 / (1024.0 * 1024.0),
        UNRELATED_NAMESPACES.len(),
        seeded.content,
        fake.count_reads("list", "configmaps"),
        fake.count_reads("watch", "configmaps"),
    ));
}

/// Warnings explain a MISS, so the run shows how many there were and the first.
fn report_log(log: &str) {
    let lines: Vec<&str> = log.lines().filter(|l| !l.trim().is_empty()).collect();
    let first: String = lines.first().map_or("", |l| l).chars().take(300).collect();
    match lines.len() {
        0 => note("operator log: no warnings or errors"),
        n => note(&format!(
            "operator log: {n} lines at warn or above; first: {first}"
        )),
    }
}

fn print_header(settings: &Settings, seeded: &Seeded) {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "controller: {} AppConfigDeployments {}, one environment each in {} applications of one hosted profile, acting as {}; {} unrelated ConfigMaps in {} namespaces (stored in {:.1} s); operator process watching all namespaces with --poll-interval 1s --resync-interval {}s --aws-qps {}; emulator and fake API server in the bench process; {cpus} CPUs ({})",
        settings.resources,
        match settings.mode {
            Mode::Content => "deploying a ConfigMap each (spec.contentFrom)",
            Mode::Version => "naming a version (spec.configurationVersion)",
        },
        settings.profiles,
        match settings.service_accounts {
            0 => "the operator itself".to_owned(),
            n => format!("{n} ServiceAccounts"),
        },
        seeded.unrelated,
        UNRELATED_NAMESPACES.len(),
        seeded.took.as_secs_f64(),
        settings.resync.as_secs(),
        settings.aws_qps,
        cpu_model().unwrap_or_else(|| "model unknown".to_owned())
    );
    println!("{:<52} {:>12} {:>10}  result", "figure", "value", "target");
}

fn cpu_model() -> Option<String> {
    let cpuinfo = fs::read_to_string("/proc/cpuinfo").ok()?;
    let line = cpuinfo.lines().find(|l| l.starts_with("model name"))?;
    Some(line.split_once(':')?.1.trim().to_owned())
}
